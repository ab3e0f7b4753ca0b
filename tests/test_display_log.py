"""What the screens showed: the store keeps, per post, when it was first on a screen, its seconds on
screens and how many distinct screens showed it. Real SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import pytest

from tests.postgres_server import PostgresServer
from tests.test_store_contract import postgres  # noqa: F401  (the session's PostgreSQL fixture)
from wall.store import connect
from wall.store.display_log import Shown

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
