"""Insights (docs/insights.md): a curator picks a wall and a range and reads its volume, sentiment, share of
voice, top hashtags and authors, spikes with their posts and what the screens showed; every table comes
as CSV, the whole as a PDF."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.helpers import ARTIFACTS
from wall.insights import Insights, csv_bytes, gather, render_pdf
from wall.insights.model import PostLine, Shown, Spike
from wall.insights.timefmt import resolve
from wall.store import Store, connect

HOUR = 3600.0
DAY = 86400.0


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with connect(f"sqlite+aiosqlite:///{tmp_path}/wall.db") as s:
        yield s


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


async def test_a_store_without_roll_ups_or_display_log_still_answers_and_says_what_is_missing(
        store: Store) -> None:
    now = time.time()
    insights = await gather(store, "lobby", now - DAY, now, tz="Europe/Helsinki")
    if not hasattr(store, "rollups"):
        assert "roll-ups" in insights.missing
        assert insights.posts == 0 and insights.volume == [] and insights.spikes == []
    if not hasattr(store, "display_log"):
        assert "display log" in insights.missing and insights.shown == []
    assert insights.grain == "hour" and insights.tz == "Europe/Helsinki"


async def test_a_bad_time_zone_is_refused_before_any_work(store: Store) -> None:
    with pytest.raises(ValueError, match="tz: 'Mars/Olympus' is not a time zone"):
        await gather(store, "lobby", 0, 1, tz="Mars/Olympus")


def test_every_table_downloads_as_csv_with_formulas_defused() -> None:
    insights = week(time.time())
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
