"""What the screens showed: each wall page reports which posts it had on screen and for how long, the web
node sums the reports per wall and writes them to the store, which keeps per post when it was first on
a screen, its seconds on screens and how many distinct screens showed it. Real SQLite and PostgreSQL, the
real node over real sockets, two real pages in headless Chromium."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Browser

from tests.helpers import TOKEN, Screen, eventually
from tests.postgres_server import PostgresServer
from tests.test_store_contract import postgres  # noqa: F401  (the session's PostgreSQL fixture)
from tests.test_wall_screen import open_page
from tests.wall_stream import posts, wall_node
from wall.app import parse_config
from wall.config import Config, ConfigError
from wall.store import connect, display_log
from wall.store.display_log import Shown
from wall.web.display import MAX_POSTS

T0 = 1_800_000_000.0
databases = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/wall.db"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database(f"wall_display_{next(databases)}")


# --- the store -----------------------------------------------------------------------------------------


async def test_seconds_add_up_the_first_showing_stays_and_each_screen_counts_once(store_url: str):
    async with connect(store_url) as store:
        log = store.display_log
        # Node A's flush: two screens showed p1, one showed p2.
        await log.add("lobby", [("p1", T0 + 10, 8.0, "s-aaaa"), ("p1", T0 + 12, 6.5, "s-bbbb"),
                                ("p2", T0 + 20, 4.0, "s-aaaa")])
        # A later flush (another node): screen a again, and a third screen; p1 was on one earlier too.
        await log.add("lobby", [("p1", T0 + 70, 3.0, "s-aaaa"), ("p1", T0 + 5, 1.5, "s-cccc"),
                                ("p3", T0 + 80, 30.0, "s-bbbb")])
        await log.add("stage", [("p1", T0, 99.0, "s-dddd")])  # another wall's p1 is its own
        assert await log.shown("lobby", T0, T0 + 3600) == [
            Shown("p3", T0 + 80, 30.0, 1), Shown("p1", T0 + 5, 19.0, 3), Shown("p2", T0 + 20, 4.0, 1)]
        # The range is of first showings, [start, end); the limit keeps the most seen.
        assert [s.post_id for s in await log.shown("lobby", T0 + 5, T0 + 80)] == ["p1", "p2"]
        assert [s.post_id for s in await log.shown("lobby", T0, T0 + 3600, limit=1)] == ["p3"]
        assert await log.shown("lobby", T0 + 3600, T0 + 7200) == []
        await log.add("lobby", [])  # an empty flush writes nothing
        assert await log.shown("stage", T0, T0 + 1) == [Shown("p1", T0, 99.0, 1)]


async def test_nodes_flushing_the_same_posts_at_once_lose_nothing(store_url: str):
    async with connect(store_url) as store:
        ids = [f"post-{i:04d}" for i in range(600)]  # more than one statement's chunk

        async def node(screen: str) -> None:
            for _ in range(3):
                await store.display_log.add("lobby", [(p, T0 + i, 2.0, screen) for i, p in enumerate(ids)])

        await asyncio.gather(node("s-one"), node("s-two"))
        shown = await store.display_log.shown("lobby", T0, T0 + 3600, limit=1000)
        assert len(shown) == 600
        assert {(s.seconds, s.screens) for s in shown} == {(12.0, 2)}


async def test_retention_and_erasure_remove_a_posts_rows(store_url: str):
    async with connect(store_url) as store:
        log = store.display_log
        await log.add("lobby", [(f"old-{i}", T0 + i, 1.0, "s-aaaa") for i in range(5)]
                      + [("new", T0 + 1000, 1.0, "s-aaaa"), ("mine", T0 + 2000, 3.0, "s-bbbb")])
        assert await log.forget_before("lobby", T0 + 500, batch=2) == 5
        assert [s.post_id for s in await log.shown("lobby", 0, T0 + 3600)] == ["mine", "new"]
        held = await store.erasures.about("lobby", ["mine"], "bsky:someone.example")
        assert held["display_log"] == [{"post_id": "mine", "first_shown": T0 + 2000,
                                        "last_shown": T0 + 2003, "seconds": 3.0, "screens": 1}]
        erased = await store.erasures.erase_posts("lobby", ["mine"], "bsky:someone.example")
        assert erased.display_log == 1
        assert [s.post_id for s in await log.shown("lobby", 0, T0 + 3600)] == ["new"]
        # The screens of an erased post are gone too: shown again later, it counts its screens afresh.
        await log.add("lobby", [("mine", T0 + 3000, 1.0, "s-cccc")])
        assert await log.shown("lobby", T0 + 2500, T0 + 3600) == [Shown("mine", T0 + 3000, 1.0, 1)]


async def test_a_walls_screens_are_numbered_up_to_a_bound_and_retention_frees_the_numbers(
        store_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(display_log, "MAX_SCREENS", 3)
    async with connect(store_url) as store:
        log = store.display_log
        # Five screens showed p1: all their seconds count, three of them are counted as screens.
        await log.add("lobby", [("p1", T0, 1.0, f"s-{i}") for i in range(5)])
        await log.add("lobby", [("p2", T0 + 10, 1.0, "s-0"), ("p2", T0 + 10, 1.0, "s-4")])
        assert await log.shown("lobby", T0, T0 + 60) == [Shown("p1", T0, 5.0, 3), Shown("p2", T0 + 10, 2.0, 1)]
        # Retention removes the posts and frees the numbers of the screens not seen since.
        assert await log.forget_before("lobby", T0 + 100) == 2
        await log.add("lobby", [("p3", T0 + 200, 1.0, f"s-{i}") for i in range(3, 6)])
        assert await log.shown("lobby", T0, T0 + 300) == [Shown("p3", T0 + 200, 3.0, 3)]


# --- the screens report, the node sums, the store keeps ------------------------------------------------


def display_config(store_url: str, report_every: float, flush: float) -> Config:
    wall = {"title": "Nordlys live", "sources": [{"type": "webhook"}], "token_env": "T",
            "show": {"playlist": [["agora", 300]], "min_dwell": 0.5, "max_dwell": 2.0},
            "display": {"report_every": report_every}}
    return parse_config({"store": {"url": store_url}, "web": {"display_flush": flush},
                         "walls": {"lobby": wall}}, env={"T": TOKEN})


async def test_two_screens_in_chromium_report_what_they_showed_and_the_store_keeps_it(
        browser: Browser, tmp_path: Path):
    url = f"sqlite+aiosqlite:///{tmp_path}/wall.db"
    published = {p["id"] for p in posts(6)}
    async with wall_node(display_config(url, report_every=1, flush=1)) as (base, bus):
        await bus.posts(posts(6))
        started = time.time()
        # Two screens: two machines (browser contexts), each keeping its own random screen id.
        screens = [await open_page(browser, f"{base}/w/lobby") for _ in range(2)]
        async with connect(url, migrate=False) as store:
            async def on_both_screens() -> list[Shown]:
                shown = await store.display_log.shown("lobby", 0, time.time() + 60)
                return [s for s in shown if s.screens == 2 and s.seconds > 0]
            both = await eventually(on_both_screens)
            elapsed = time.time() - started
            shown = await store.display_log.shown("lobby", 0, time.time() + 60)
        assert {s.post_id for s in shown} <= published
        for s in both:  # two screens cannot have shown a post longer than both were open
            assert 0 < s.seconds <= 2 * elapsed + 2, s
            assert started - 2 <= s.first_shown <= time.time(), s
        for page, problems in screens:
            assert await page.evaluate("() => window.__wall.shownLog.acked") >= 1
            assert problems == []
            await page.context.close()


def report(seq: int, entries: list[Any], screen: str = "kiosk-lobby-screen.1-1") -> dict[str, Any]:
    return {"type": "shown", "seq": seq, "screen": screen, "posts": entries}


async def test_a_hostile_report_is_refused_with_its_reason_and_the_screen_goes_on(tmp_path: Path):
    url = f"sqlite+aiosqlite:///{tmp_path}/wall.db"
    now = time.time()
    async with wall_node(display_config(url, report_every=60, flush=600)) as (base, bus), \
            aiohttp.ClientSession() as http:
        await bus.posts(posts(3))
        screen = await Screen(http, base).connect()
        await screen.wait_for(lambda f: f["type"] == "snapshot" and len(f["posts"]) == 3)
        ws = screen.ws
        assert ws is not None
        hostile: list[tuple[str, str]] = [
            (json.dumps(report(1, [], screen="x")), "$.screen"),  # too short to be a screen id
            (json.dumps(report(2, [["p0", -5, now]])), "$.posts[0][1]"),  # negative seconds
            (json.dumps(report(3, [["p0", 1, now]] * (MAX_POSTS + 1))), "$.posts"),  # too many
            (json.dumps(report(4, [["<img src=x>", 1, now]])), "$.posts[0][0]"),  # not an id
            (json.dumps({**report(5, []), "extra": "field"}), "unknown field `extra`"),
        ]
        for data, _ in hostile:
            await ws.send_str(data)
        refusals = await screen.wait_for(lambda f: f["type"] == "error", count=len(hostile))
        for (_, why), refusal in zip(hostile, refusals, strict=True):
            assert refusal["about"] == "shown" and why in refusal["error"], refusal
        assert [f["seq"] for f in refusals] == [None] * len(hostile)  # none could be read
        # Not JSON a node can read, not even its type: no answer, as for any frame it does not know.
        await ws.send_str('{"type": "shown", "posts": ' + "[" * 5000 + "]" * 5000 + "}")

        # The same socket: a good report is taken, but not the post no node ever sent.
        await ws.send_json(report(7, [["p0", 5.5, now - 10], ["p1", 2, now - 3], ["made-up", 9, now]]))
        assert (await screen.wait_for(lambda f: f["type"] == "shown"))[0] == {"type": "shown", "seq": 7,
                                                                             "taken": 2}
        assert len([f for f in screen.frames if f["type"] == "error"]) == len(hostile)  # answers in order
        await ws.send_json(report(8, [["p2", 1, now]]))  # a minute is not over
        refused = await screen.wait_for(lambda f: f["type"] == "error" and f["seq"] == 8)
        assert "too soon" in refused[0]["error"]
        await ws.send_json({"type": "time", "t0": 1.5})
        await screen.wait_for(lambda f: f["type"] == "time" and f["t0"] == 1.5)
        await screen.close()
    # The node wrote what it held when it stopped (its flush interval was far off).
    async with connect(url, migrate=False) as store:
        assert await store.display_log.shown("lobby", 0, now + 60) == [
            Shown("p0", now - 10, 5.5, 1), Shown("p1", now - 3, 2.0, 1)]


def test_the_report_interval_is_checked_at_load_with_the_key_and_the_fix(tmp_path: Path):
    with pytest.raises(ConfigError) as e:
        display_config(f"sqlite+aiosqlite:///{tmp_path}/wall.db", report_every=0.1, flush=0)
    assert "walls.lobby.display.report_every" in str(e.value) and "web.display_flush" in str(e.value)
    cfg = display_config(f"sqlite+aiosqlite:///{tmp_path}/wall.db", report_every=5, flush=10)
    assert cfg.walls["lobby"].screen.public()["display"] == {"report_every": 5.0}
    assert cfg.web.display_flush == 10.0
