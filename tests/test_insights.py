"""Insights (docs/insights.md): a curator picks a wall and a range and reads its volume, sentiment, share of
voice, top hashtags and authors, spikes with their posts and what the screens showed; every table comes
as CSV, the whole as a PDF."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers import ARTIFACTS

# the session's PostgreSQL, and a fresh store on SQLite then on PostgreSQL
from tests.test_store_contract import empty_database, fresh_store, postgres  # noqa: F401
from wall.insights import Insights, csv_bytes, gather, render_pdf
from wall.insights.model import TABLES, PostLine, Shown, Spike, tables
from wall.insights.timefmt import resolve
from wall.store import Store

HOUR = 3600.0
DAY = 86400.0


def week(now: float) -> Insights:
    """A week's insights as gather makes them, with text a spreadsheet or a page must not run."""
    start = now - 7 * DAY
    return Insights(
        wall="lobby", start=start, end=now, tz="Europe/Helsinki", grain="hour", posts=420,
        volume=[(start + HOUR * k, (k * 7) % 13) for k in range(168)],
        sentiment={"positive": 200, "neutral": 120, "negative": 80, "unscored": 20},
        mood=[(start + DAY * k, 0.1 * k - 0.3) for k in range(7)], voice_names=["", "Rival"],
        voice=[(start + HOUR * k, [k % 5 + 1, k % 3]) for k in range(168)],
        topics=[("coffee", 40)], hashtags=[("launch", 90)], authors=[("mastodon:aino", 12)],
        sources=[("mastodon", 400)], statuses=[("approved", 390), ("rejected", 30)],
        spikes=[Spike(start + 2 * HOUR, "minute", 31, 1.5,
                      [PostLine("p1", "mastodon:mallory", "=HYPERLINK(\"http://evil\") <b>launch</b>",
                                "approved")])],
        shown=[Shown(PostLine("p2", "mastodon:aino", "Lovely keynote"), start + 3 * HOUR, 42.5, 3)])


async def seed(store: Store, wall: str, minutes: dict[int, dict[str, int]]) -> None:
    """Roll-ups as the curation writer leaves them: minutes (keyed by their start), then their hours and
    days derived."""
    await store.rollups.replace(wall, 1, {at // 60: counters for at, counters in minutes.items()})
    for grain, bucket in await store.rollups.marked(wall):
        await store.rollups.derive(wall, 1, grain, bucket)


def quiet(minute: int) -> dict[str, int]:
    """A quiet minute: one positive post about the brand, one hashtag, from aino."""
    return {"posts": 1, "sent:positive": 1, "scored": 1, "sentsum": 600, "voice:\x00brand": 1,
            "tag:coffee": 1, "author:aino": 1, "source:mastodon": 1, "status:approved": 1,
            **({"voice:Rival": 1} if minute % 3 == 0 else {})}


async def test_two_quiet_hours_and_a_burst_give_volume_sentiment_voice_tops_and_one_spike(
        store: Store) -> None:
    now = 1_765_000_000.0 - 1_765_000_000.0 % 3600 + 1800  # half past an hour
    first = int(now - 3 * HOUR)
    minutes = {t: quiet(t // 60) for t in range(first, int(now - 600), 60)}
    burst = int(now - 900)  # 15 minutes ago: 30 posts, mostly negative, about the rival
    minutes[burst] = {"posts": 30, "sent:negative": 20, "sent:neutral": 8, "sent:unscored": 2, "scored": 28,
                      "sentsum": -14_000, "voice:Rival": 25, "voice:\x00brand": 5, "tag:outage": 30,
                      "author:mallory": 3, "source:bluesky": 30, "status:approved": 26, "status:rejected": 4}
    await seed(store, "lobby", minutes)
    await store.decisions.decide("lobby", "burst-1", "rejected", "ana", None, now=burst + 20)

    insights = await gather(store, "lobby", now - 2 * HOUR, now, tz="UTC", now=now)
    assert insights.grain == "minute"
    quiet_minutes = (2 * 3600 - 600) // 60 - 1  # the burst replaced one of them
    assert insights.posts == quiet_minutes + 30
    assert len(insights.volume) == 120 and dict(insights.volume)[burst] == 30
    assert dict(insights.volume)[now - 300] == 0  # the last ten minutes were empty: zeros, not gaps
    assert insights.sentiment == {"positive": quiet_minutes, "neutral": 8, "negative": 20, "unscored": 2}
    assert insights.voice_names[:2] == ["", "Rival"]
    assert dict(insights.voice)[burst] == [5, 25]
    assert insights.hashtags[0] == ("coffee", quiet_minutes) and ("outage", 30) in insights.hashtags
    assert insights.authors[0] == ("aino", quiet_minutes)
    assert insights.sources == [("mastodon", quiet_minutes), ("bluesky", 30)]
    hour_of_burst = burst - burst % 3600
    mood = dict(insights.mood)
    assert mood[hour_of_burst] < 0.6 and mood[hour_of_burst - 3600] == 0.6  # hourly means
    [spike] = insights.spikes
    assert (spike.at, spike.posts, spike.grain) == (burst, 30, "minute")
    assert spike.baseline == 1.0
    assert [(p.post_id, p.status) for p in spike.examples] == [("burst-1", "rejected")]

    week = await gather(store, "lobby", now - 7 * 86400, now, tz="Europe/Helsinki", now=now)
    assert week.grain == "hour" and week.posts == insights.posts + 60  # the first hour too


async def test_a_fresh_walls_first_busy_minute_is_not_a_spike(store: Store) -> None:
    now = 1_765_000_000.0
    start = int(now - now % 60 - 600)
    await seed(store, "lobby", {start: {"posts": 40}, start + 60: {"posts": 1}})
    insights = await gather(store, "lobby", now - HOUR, now, now=now)
    assert insights.posts == 41 and insights.spikes == []  # no hour of history before it to compare with


async def test_a_wall_with_nothing_yet_answers_with_empty_sections(store: Store) -> None:
    now = time.time()
    insights = await gather(store, "lobby", now - 86400, now, tz="Europe/Helsinki")
    assert insights.posts == 0 and insights.spikes == [] and insights.shown == []
    assert insights.grain == "hour" and sum(n for _, n in insights.volume) == 0


async def test_a_bad_time_zone_is_refused_before_any_work(store: Store) -> None:
    with pytest.raises(ValueError, match="tz: 'Mars/Olympus' is not a time zone"):
        await gather(store, "lobby", 0, 1, tz="Mars/Olympus")


def test_every_table_downloads_as_csv_with_formulas_defused() -> None:
    insights = week(time.time())
    assert [t.name for t in tables(insights)] == list(TABLES)  # the names the download route takes
    spikes = list(csv.reader(io.StringIO(csv_bytes(insights.table("spikes")).decode())))
    assert spikes[0] == ["time", "posts", "usually", "post id", "author", "text"]
    assert spikes[1][1:5] == ["31", "1.5", "p1", "mastodon:mallory"]
    assert spikes[1][5] == "'=HYPERLINK(\"http://evil\") <b>launch</b>"  # a text, never a formula
    voice = list(csv.reader(io.StringIO(csv_bytes(insights.table("voice")).decode())))
    assert voice[0] == ["time", "brand", "Rival"] and len(voice) == 169
    shown = list(csv.reader(io.StringIO(csv_bytes(insights.table("shown")).decode())))
    assert shown[1][0] == "p2" and shown[1][2:5] == ["42.5", "3", "mastodon:aino"]
    mood = list(csv.reader(io.StringIO(csv_bytes(insights.table("mood")).decode())))
    assert mood[1][1] == "-0.3"  # a negative number stays a number: only text cells are defused


def test_time_ranges_are_local_days_and_a_wrong_one_is_named() -> None:
    now = 1_765_000_000.0  # 2025-12-06 05:46 UTC, 07:46 in Helsinki
    start, end = resolve("today", "", "", "Europe/Helsinki", now)
    assert end == now and start == 1_764_972_000.0  # Helsinki's midnight, 22:00 UTC the day before
    assert resolve("yesterday", "", "", "Europe/Helsinki", now) == (start - DAY, start)
    assert resolve("custom", "2025-12-01", "2025-12-01", "UTC", now) == (1_764_547_200.0, 1_764_633_600.0)
    assert resolve("custom", "2025-12-01T09:00", "2025-12-01T17:30", "UTC", now)[1] == 1_764_610_200.0
    with pytest.raises(ValueError, match="to: must be after from"):
        resolve("custom", "2025-12-02", "2025-12-01T00:00", "UTC", now)
    with pytest.raises(ValueError, match="from: a date"):
        resolve("custom", "yesterday-ish", "2025-12-01", "UTC", now)
    with pytest.raises(ValueError, match="range: one of"):
        resolve("fortnight", "", "", "UTC", now)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (scripts/test installs it)")
def test_the_pdf_reads_back_with_its_figures_and_a_page_image_is_kept(tmp_path: Path) -> None:
    insights = week(time.time())
    pdf = render_pdf(insights, "Lobby: last week")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout
    for expected in ("Lobby: last week", "420 posts", "Share of voice", "#launch", "mastodon:aino",
                     "Lovely keynote", "=HYPERLINK", "<b>launch</b>", "positive 48%"):
        assert expected in text, expected
    ARTIFACTS.mkdir(exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(path),
                    str(ARTIFACTS / "insights-report")], check=True)
    assert (ARTIFACTS / "insights-report.png").stat().st_size > 10_000
