"""Trends on the wall (docs/page.md "Trends"): a wall's figures against its own past, read from the store's
roll-ups by the web node and drawn by the page. A comparison shows only where the history covers it: a new
wall shows no trend panel at all. Roll-ups are written through the store's writer API (replace, derive) as
the curation writer does; the page is real Chromium at 1080p and 4K."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page

from tests.helpers import ARTIFACTS, TOKEN, Screen, running_node, temp_store_url
from tests.postgres_server import PostgresServer
from tests.test_store_contract import FAST, databases, postgres  # noqa: F401  (the session's PostgreSQL)
from tests.test_wall_screen import open_page
from tests.wall_stream import WALL, Bus, posts, stats
from wall.app import parse_config
from wall.bus import open_engine
from wall.bus.base import Engine
from wall.config import Config
from wall.store import connect
from wall.store.rollups import Rollups
from wall.web.trends import WallTrends, trends

FACTS = (Path(__file__).parent / "layout_facts.js").read_text()
DAY = 86400
NOW = datetime(2026, 12, 2, 15, 30, tzinfo=UTC).timestamp()  # a Wednesday, half past three (UTC)
BRAND = "voice:\x00brand"


def at(days_ago: int, hour: int, minute: int = 0, now: float = NOW) -> float:
    """That day's (UTC) hour:minute, `days_ago` days before `now`'s day."""
    midnight = now - now % DAY - days_ago * DAY
    return midnight + hour * 3600 + minute * 60


async def seed(rollups: Rollups, wall: str, minutes: dict[float, dict[str, int]]) -> None:
    """Counters per minute, written as the curation writer writes them (replace the minutes, then derive
    the hours and days they mark)."""
    await rollups.replace(wall, 1, {int(t // 60): counters for t, counters in minutes.items()})
    for grain, bucket in await rollups.marked(wall):
        await rollups.derive(wall, 1, grain, bucket)


def a_day(posts: int = 20, positive: int = 12, neutral: int = 5, negative: int = 3, brand: int = 6,
          kestrel: int = 3, fjord: int = 1) -> dict[str, int]:
    return {"posts": posts, "sent:positive": positive, "sent:neutral": neutral, "sent:negative": negative,
            "sent:unscored": 1, BRAND: brand, "voice:Kestrel": kestrel, "voice:Fjord": fjord,
            "tag:nordlys": posts, "author:aino": 2}


TODAY = a_day(posts=30, positive=20, neutral=5, negative=5, brand=10, kestrel=10, fjord=0)


def history(days: int, now: float = NOW) -> dict[float, dict[str, int]]:
    """A wall `days` days old at NOW: 20 posts at 10:00 every day, a busy evening a week ago, and today."""
    minutes = {at(d, 10, now=now): a_day() for d in range(1, days)}
    if days > 7:
        minutes[at(7, 15, now=now)] = {"posts": 12}  # in the hour that holds "the same time" a week ago
        minutes[at(7, 16, now=now)] = {"posts": 100}  # after it: not "by this time"
    minutes[at(0, 10, now=now)] = TODAY
    minutes[at(0, 15, 20, now=now)] = {"posts": 9}
    return minutes


def history_until_now(days: int) -> dict[float, dict[str, int]]:
    """The same history ending at the real time: today's 39 posts all in the current minute (whatever the
    hour, so the test passes just after midnight too)."""
    now = time.time()
    minutes = {t: c for t, c in history(days, now).items() if t < now - now % DAY}
    minutes[now - now % 60] = {**TODAY, "posts": 39}
    return minutes


def voice_rows(week: dict[str, Any], brand: str) -> list[list[str]]:
    """What the voice-weeks panel should say for this frame: name, share this week, change in points."""
    this, last = week["this"], week["last"]
    rows = [(brand, this["brand"], last["brand"])]
    rows += [(n, c, last["competitors"].get(n, 0)) for n, c in this["competitors"].items()]
    out = []
    for name, now, before in rows:
        share = round(now / this["mentions"] * 100)
        d = share - round(before / last["mentions"] * 100)
        out.append([name, f"{share}%", "=" if d == 0 else f"{'▲' if d > 0 else '▼'} {abs(d)}"])
    return [out[0], *sorted(out[1:], key=lambda r: -int(r[1][:-1]))]


@pytest.fixture(params=["sqlite", "postgresql"])
async def rollups(request: pytest.FixtureRequest):
    if request.param == "sqlite":
        url = temp_store_url()
    else:
        server: PostgresServer = request.getfixturevalue("postgres")
        url = server.create_database(f"wall_trends_{next(databases)}")
    async with connect(url, hasher=FAST) as store:
        yield store.rollups


async def test_a_new_wall_has_nothing_to_compare_with(rollups):
    assert await trends(rollups, "lobby", NOW) == {"type": "trends", "at": int(NOW)}
    await seed(rollups, "lobby", {at(0, 10): a_day()})  # its first day: still nothing to compare with
    assert await trends(rollups, "lobby", NOW) == {"type": "trends", "at": int(NOW)}


async def test_six_weeks_of_history_give_every_comparison(rollups):
    await seed(rollups, "lobby", history(42))
    await seed(rollups, "other", {at(0, 10): a_day(posts=999)})  # another wall's figures stay its own
    got = await trends(rollups, "lobby", NOW)
    # Today 30 + 9 posts; a week ago by 15:30: 20 at 10:00 and half of the 15:00 hour's 12.
    assert got["today"] == {"posts": 39, "week_ago": 26, "weekday": "Wednesday"}
    volume = got["volume_days"]
    assert len(volume) == 30 and volume[0]["day"] == "2026-11-03" and volume[-1] == {"day": "2026-12-02",
                                                                                      "posts": 39}
    assert [d["posts"] for d in volume[:-1]] == [132 if d["day"] == "2026-11-25" else 20 for d in volume[:-1]]
    feel = got["sentiment_days"]
    assert [d["day"] for d in feel] == [f"2026-11-{d}" for d in range(26, 31)] + ["2026-12-01", "2026-12-02"]
    assert feel[0] == {"day": "2026-11-26", "positive": 12, "neutral": 5, "negative": 3}
    assert feel[-1] == {"day": "2026-12-02", "positive": 20, "neutral": 5, "negative": 5}
    # This week: six days of 6/3/1 and today's 10/10/0; the week before: seven days of 6/3/1.
    assert got["voice_weeks"] == {
        "this": {"mentions": 80, "brand": 46, "competitors": {"Kestrel": 28, "Fjord": 6}},
        "last": {"mentions": 70, "brand": 42, "competitors": {"Kestrel": 21, "Fjord": 7}}}


async def test_each_comparison_waits_for_the_history_it_needs(rollups):
    await seed(rollups, "lobby", history(10))
    got = await trends(rollups, "lobby", NOW)
    assert got["today"]["posts"] == 39
    assert len(got["volume_days"]) == 10 and len(got["sentiment_days"]) == 7
    assert "voice_weeks" not in got  # two weeks to compare, not ten days
    await seed(rollups, "young", history(6))
    assert set(await trends(rollups, "young", NOW)) == {"type", "at"}  # no chart of five days


async def test_days_are_the_walls_own_days(rollups):
    await seed(rollups, "lobby", history(42))
    # In Tokyo it is already Thursday 00:30: today holds only the post of 15:20 UTC.
    got = await trends(rollups, "lobby", NOW, "Asia/Tokyo")
    assert got["today"]["posts"] == 9 and got["today"]["weekday"] == "Thursday"
    assert got["volume_days"][-1] == {"day": "2026-12-03", "posts": 9}
    assert got["volume_days"][-2] == {"day": "2026-12-02", "posts": 30}


async def test_the_past_is_read_once_an_hour_and_today_every_minute(rollups):
    await seed(rollups, "lobby", history(42))
    wall = WallTrends(rollups, "lobby")
    first = await wall.frame(NOW)
    await seed(rollups, "lobby", {at(0, 15, 25): {"posts": 5}, at(3, 10): a_day(posts=60)})
    later = await wall.frame(NOW + 60)
    assert later["today"]["posts"] == first["today"]["posts"] + 5  # today: read again
    assert later["volume_days"][-4] == first["volume_days"][-4] == {"day": "2026-11-29", "posts": 20}
    next_hour = await wall.frame(NOW + 1800)  # 16:00: the past is read again
    assert next_hour["volume_days"][-4] == {"day": "2026-11-29", "posts": 60}


# ---- on the screen ----

def trend_config(store_url: str, **show: Any) -> Config:
    wall: dict[str, Any] = {
        "title": "Nordlys live", "sources": [{"type": "webhook"}], "token_env": "T",
        "theme": {"brand": "Nordlys"},
        "show": {"playlist": [["stats", 300]], "min_dwell": 0.2, "max_dwell": 1.0, **show}}
    return parse_config({"store": {"url": store_url}, "walls": {WALL: wall}}, env={"T": TOKEN})


@asynccontextmanager
async def trend_node(history: bool = True) -> AsyncIterator[tuple[str, Engine]]:
    """A web node of the wall over a fresh store: with six weeks of roll-ups up to now, or none."""
    url = temp_store_url()
    if history:
        async with connect(url) as store:
            await seed(store.rollups, WALL, history_until_now(42))
    cfg = trend_config(url)
    engine = open_engine(cfg.bus)
    try:
        async with running_node(cfg, roles=frozenset({"web"}), engine=engine) as base:
            yield base, engine
    finally:
        await engine.close()


async def open_at(browser: Any, url: str, size: tuple[int, int], trends: bool = True
                  ) -> tuple[Page, list[str]]:
    page, problems = await open_page(browser, url, size)
    if trends:
        await page.wait_for_function("() => window.__wall.store.trends !== null", timeout=15_000)
    return page, problems


async def settled(page: Page) -> None:
    await page.evaluate("() => Promise.all(document.getAnimations().map(a => a.finished.catch(() => {})))")


@pytest.mark.parametrize("size", [(1920, 1080), (3840, 2160)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_a_wall_with_history_shows_its_trends_legibly(browser, size):
    async with trend_node() as (base, engine):
        bus = Bus(engine)
        await bus.posts(posts(8))
        await bus.stats()
        page, problems = await open_at(browser, f"{base}/w/{WALL}?scene=stats", size)
        frame = await page.evaluate("() => window.__wall.store.trends")
        stats_scene = ".scene-stats"
        for kind in ("today", "sentiment-week", "volume-month", "voice-weeks"):
            await page.wait_for_selector(f"{stats_scene} [data-panel={kind}]:not([hidden])", timeout=5000)
        today = page.locator(f"{stats_scene} [data-panel=today]")
        assert frame["today"]["posts"] == 39
        assert await today.locator(".figure-value").text_content() == "39"
        ago = frame["today"]["week_ago"]  # by this time of day a week ago: depends on the hour
        day = frame["today"]["weekday"][:3]
        change = round((39 - ago) / ago * 100) if ago else None  # none by now a week ago (after midnight)
        expected = "▲ from none" if change is None else f"same as last {day}" if change == 0 \
            else f"{'▲' if change > 0 else '▼'} {abs(change)}% vs last {day}"
        assert await today.locator(".trend-change").text_content() == expected
        assert await today.locator(".trend-note").text_content() == f"{ago} by now last {day}"
        # Six days of 12/5/3 and today's 20/5/5: 92 of 150 positive, 23 negative.
        week = page.locator(f"{stats_scene} [data-panel=sentiment-week]")
        assert await week.locator(".trend-headline").text_content() == "61% positive"
        assert "15% negative" in (await week.locator(".days").get_attribute("aria-label") or "")
        # 29 whole days of 20 posts, one of them 132: 24 a day; today's bar is still counting.
        month = page.locator(f"{stats_scene} [data-panel=volume-month]")
        assert await month.locator(".trend-headline").text_content() == "24 a day"
        assert await month.locator(".axis-label").first.text_content() == "30 days ago"
        assert await month.locator(".bar[data-day]").count() == 30
        voice = page.locator(f"{stats_scene} [data-panel=voice-weeks] .weeks-row:not([hidden])")
        parts = (".weeks-name", ".weeks-value", ".weeks-change")
        rows = [[await r.locator(s).text_content() for s in parts] for r in await voice.all()]
        # Which day's posts fall in "this week" depends on the hour (whole hours, the current included).
        assert rows == voice_rows(frame["voice_weeks"], "Nordlys") and len(rows) == 3
        await settled(page)
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=ARTIFACTS / f"trends-stats-{size[0]}x{size[1]}.png")
        assert await page.evaluate(FACTS, stats_scene) == []

        # Whatever the hour: a frame with a week-ago count says by how much, one without keys hides all.
        await page.evaluate("""() => window.__wall.store.setTrends({type: "trends", at: 0,
            today: {posts: 39, week_ago: 26, weekday: "Wednesday"}})""")
        assert await today.locator(".trend-change").text_content() == "▲ 50% vs last Wed"
        assert await today.locator(".trend-change").get_attribute("data-direction") == "up"
        assert await page.locator(".scene-stats .panel-trend:not([hidden])").count() == 1
        await page.evaluate("() => window.__wall.store.setTrends({type: 'trends', at: 0})")
        assert await page.locator(".panel-trend:not([hidden])").count() == 0

        # The agora gains "today so far" beside its four live panels.
        agora, _ = await open_at(browser, f"{base}/w/{WALL}?scene=agora", size)
        await agora.wait_for_selector(".scene-agora [data-panel=today]:not([hidden])", timeout=5000)
        assert await agora.locator(".scene-agora [data-panel=today] .figure-value").text_content() == "39"
        await agora.wait_for_selector(".scene-agora .card:not([hidden]) .card-text", timeout=5000)
        await agora.wait_for_timeout(900)  # cards faded in and fitted
        await settled(agora)
        await agora.screenshot(path=ARTIFACTS / f"trends-agora-{size[0]}x{size[1]}.png")
        assert await agora.evaluate(FACTS, ".scene-agora") == []
        assert problems == []


async def test_a_wall_of_two_screens_shares_its_trends_between_them(browser):
    async with trend_node() as (base, engine):
        await Bus(engine).stats()
        for k in (1, 2):
            page, problems = await open_at(browser, f"{base}/w/{WALL}?scene=stats&screen={k}&of=2",
                                           (1920, 1080))
            await page.wait_for_selector(".scene-stats [data-panel=voice-weeks]:not([hidden])")
            await settled(page)
            await page.screenshot(path=ARTIFACTS / f"trends-stats-screen{k}of2-1920x1080.png")
            assert await page.evaluate(FACTS, ".scene-stats") == []
            # The agora keeps its four panels, two to a screen: a fifth would sit across the bezel.
            assert await page.locator(".scene-agora [data-panel=today]").evaluate(
                "e => getComputedStyle(e).display") == "none"
            assert problems == []


async def test_a_new_wall_shows_no_trend_panel_at_all(browser):
    async with trend_node(history=False) as (base, engine):
        await Bus(engine).stats(stats())
        page, problems = await open_at(browser, f"{base}/w/{WALL}?scene=stats", (1920, 1080),
                                       trends=False)
        await page.wait_for_selector(".scene-stats [data-panel=top][data-filled=true]")
        # nothing to compare with: the node sends no trends frame at all (it would follow the catch-up)
        assert await page.evaluate("() => window.__wall.store.trends") is None
        assert await page.locator(".panel-trend:not([hidden])").count() == 0
        assert await page.locator(".scene-stats .panel:visible").count() == 6  # the live ones only
        await settled(page)
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=ARTIFACTS / "trends-new-wall-1920x1080.png")
        assert await page.evaluate(FACTS, ".scene-stats") == []
        assert problems == []


async def test_every_screen_gets_the_latest_trends_as_it_connects(http):
    async with trend_node() as (base, engine):
        first = await Screen(http, base).connect()
        [sent] = await first.wait_for(lambda f: f["type"] == "trends")
        assert sent["today"]["posts"] == 39
        # A screen that resumes (no snapshot: it missed nothing) gets them too, after its catch-up.
        await Bus(engine).posts(posts(1))
        await first.wait_posts(1)
        later = await Screen(http, base).connect(first.welcome["epoch"], first.last_id)
        [again] = await later.wait_for(lambda f: f["type"] == "trends")
        assert not [f for f in later.frames if f["type"] in ("snapshot", "post")]
        assert again == sent
        await first.close()
        await later.close()
