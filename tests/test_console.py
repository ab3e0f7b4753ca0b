"""Curators and presenters at work through the console's own routes: two curators on one queue see each
other's decisions live, a decision on a post someone else just decided is refused with who and when,
presenter controls reach the screens, the audit log lists it all (and exports it as CSV), and after every
process restarts the sessions, decisions and bans still hold. Real Redis, real SQLite (and PostgreSQL for
the restart), real nodes on real sockets."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ingest.enrich import language
from tests.console_helpers import Browser, console_app, opened_store
from tests.helpers import WAIT, Screen, make_config, post, serving, settled, subscribed, subscribers
from tests.postgres_server import MISSING, PostgresServer, binaries
from wall.app import SERVE
from wall.bus.redis import Keys, RedisEngine


@pytest.fixture(scope="module", autouse=True)
def models_loaded() -> None:
    """Load the language models once, before any writer starts (see tests/test_moderation.py)."""
    language.warm()


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    if binaries() is None:
        pytest.fail(MISSING, pytrace=False)
    server = PostgresServer()
    server.start()
    yield server
    server.stop()


async def queue_item(b: Browser, source_id: str, pred: Any = lambda i: True, timeout: float = WAIT
                     ) -> dict[str, Any]:
    """A post's item in the console's queue, once the writer has it (and `pred` holds)."""
    async with asyncio.timeout(timeout):
        while True:
            r = await b.get("/console/api/w/lobby/queue")
            assert r.status == 200, await r.text()
            for item in (await r.json())["items"]:
                if item["post"]["source_id"] == source_id and pred(item):
                    return item
            await asyncio.sleep(0.05)


class QueueSocket:
    """A console page's live queue socket: keeps every frame. Given the Redis URL, it is open once the
    node's subscription to the queue channel is acknowledged (the socket itself says nothing until then)."""

    def __init__(self, b: Browser, redis_url: str | None = None) -> None:
        self.b, self.frames = b, []  # type: list[dict[str, Any]]
        self.redis_url = redis_url
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> QueueSocket:
        channel = Keys.queue("lobby")
        before = await subscribers(self.redis_url, channel) if self.redis_url else 0
        self.ws = await self.b.http.ws_connect(f"{self.b.base}/console/w/lobby/ws",
                                               headers={"Origin": self.b.base})
        self.task = asyncio.create_task(self._read())
        if self.redis_url:
            await subscribed(self.redis_url, channel, more_than=before)
        return self

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                self.frames.append(json.loads(msg.data))

    async def __aexit__(self, *exc: object) -> None:
        await self.ws.close()
        if self.task:
            await self.task

    async def wait_for(self, pred: Any, timeout: float = WAIT) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while True:
                for f in self.frames:
                    if pred(f):
                        return f
                await asyncio.sleep(0.01)


@pytest.fixture
async def two_nodes(redis_url: str, tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    async with nodes(redis_url, tmp_path) as found:
        yield found


@pytest.fixture
async def two_nodes_of_a_wall_with_history(redis_url: str, tmp_path: Path
                                           ) -> AsyncIterator[tuple[str, str]]:
    """The same, for a wall whose roll-ups remember yesterday: enough history for spikes (docs/alerts.md)."""
    async with nodes(redis_url, tmp_path, history=True) as found:
        yield found


@asynccontextmanager
async def nodes(redis_url: str, tmp_path: Path, history: bool = False) -> AsyncIterator[tuple[str, str]]:
    store_url = f"sqlite+aiosqlite:///{tmp_path}/wall.db"
    cfg = make_config("redis", redis_url, store_url=store_url, moderation={"mode": "pre"})
    async with opened_store(store_url) as store:
        if history:
            yesterday = int(time.time() // 60) - 24 * 60
            await store.rollups.replace("lobby", 1, {yesterday + i: {"posts": 4} for i in range(60)})
        async with serving(console_app(cfg, store)) as a, serving(console_app(cfg, store, SERVE)) as b:
            yield a, b


async def test_two_curators_see_each_others_decisions_live_and_a_stale_one_is_refused_with_who_and_when(
        two_nodes: tuple[str, str], redis_url: str) -> None:
    a, b = two_nodes
    async with Browser(a) as ana, Browser(b) as root, aiohttp.ClientSession() as s:
        await ana.login("ana")
        await root.login("root")
        screen = await Screen(s, b).connect()
        async with QueueSocket(ana, redis_url) as ana_live, QueueSocket(root, redis_url) as root_live:
            await post(s, a, {"id": "q1", "text": "Northern lights from the office roof",
                              "author": {"name": "Aino", "handle": "aino"}})
            arrived = await root_live.wait_for(lambda f: f.get("post", {}).get("source_id") == "q1")
            assert arrived["status"] == "pending" and arrived["version"] == 0
            seen_by_both = await queue_item(ana, "q1")

            r = await ana.post("/console/api/w/lobby/decide", {"post_id": seen_by_both["post"]["id"],
                                                               "action": "reject", "expected_version": 0})
            assert r.status == 200, await r.text()
            await root_live.wait_for(lambda f: f.get("post", {}).get("source_id") == "q1"
                                     and f["status"] == "rejected" and f["decided_by"] == "ana")

            # root still holds version 0 of the post: the console says who decided, nothing is overwritten
            r = await root.post("/console/api/w/lobby/decide", {"post_id": seen_by_both["post"]["id"],
                                                                "action": "approve", "expected_version": 0})
            assert r.status == 409
            refused = await r.json()
            assert refused["error"].startswith("ana rejected this ") and refused["error"].endswith(" s ago")
            assert refused["current"]["version"] == 1
            engine = RedisEngine(redis_url)
            try:
                await settled(engine, screen)
            finally:
                await engine.close()
            assert screen.posts() == []  # still rejected

            r = await root.post("/console/api/w/lobby/decide", {"post_id": seen_by_both["post"]["id"],
                                                                "action": "approve", "expected_version": 1})
            assert r.status == 200
            assert await screen.wait_posts(1) == ["q1"]
            await ana_live.wait_for(lambda f: f.get("post", {}).get("source_id") == "q1"
                                    and f["status"] == "approved" and f["decided_by"] == "root")


async def test_curators_browsers_get_post_images_only_through_the_walls_own_media_route(
        two_nodes: tuple[str, str]) -> None:
    a, _ = two_nodes
    async with Browser(a) as ana, aiohttp.ClientSession() as s:
        await ana.login("ana")
        async with QueueSocket(ana) as live:
            await post(s, a, {"id": "img1", "text": "The new phone, unboxed",
                              "author": {"name": "Aino", "handle": "aino",
                                         "avatar_url": "https://cdn.attacker.example/a.png"},
                              "media": [{"url": "https://cdn.attacker.example/x.jpg", "alt": "a phone"}]})
            pushed = await live.wait_for(lambda f: f.get("post", {}).get("source_id") == "img1")
            listed = await queue_item(ana, "img1")
            r = await ana.post("/console/api/w/lobby/decide", {"post_id": listed["post"]["id"],
                                                               "action": "approve", "expected_version": 0})
            assert r.status == 200, await r.text()
            decided = (await r.json())["result"]
        for item in (pushed, listed, decided):
            assert "attacker.example" not in json.dumps(item)  # no original URL reaches the browser
            assert item["post"]["media"][0]["url"].startswith("/media/")
            assert item["post"]["author"]["avatar_url"].startswith("/media/")


async def test_a_volume_spike_reaches_the_curators_queue_even_where_screens_do_not_show_it(
        two_nodes_of_a_wall_with_history: tuple[str, str]) -> None:
    a, b = two_nodes_of_a_wall_with_history
    async with Browser(b) as ana, aiohttp.ClientSession() as s:
        await ana.login("ana")
        async with QueueSocket(ana) as live:
            # 20 posts at once on a wall that has history but was quiet for the last half hour: at least
            # 10 land in one minute, far above its baseline (wall/curate/figures.py). The wall is in
            # pre-moderation: a held post counts only once approved, so they are approved as they arrive.
            for i in range(20):
                await post(s, a, {"id": f"burst-{i}", "text": f"Launch day post number {i}"})
            for i in range(20):
                item = await queue_item(ana, f"burst-{i}")
                approve = {"post_id": item["post"]["id"], "action": "approve", "expected_version": 0}
                r = await ana.post("/console/api/w/lobby/decide", approve)
                assert r.status == 200, await r.text()
            alert = await live.wait_for(lambda f: f.get("type") == "alerts" and f["alerts"])
            assert alert["alerts"][0]["kind"] == "volume" and alert["alerts"][0]["count"] >= 10


async def test_presenter_controls_bulk_bans_words_and_the_audit_log(two_nodes: tuple[str, str]) -> None:
    a, b = two_nodes
    async with Browser(a) as ana, Browser(b) as pia, Browser(a) as root, aiohttp.ClientSession() as s:
        for who, name in ((ana, "ana"), (pia, "pia"), (root, "root")):
            await who.login(name)
        screen = await Screen(s, b).connect()
        for i in range(3):
            await post(s, a, {"id": f"b{i}", "text": f"post number {i}", "author": {"handle": f"fan{i}"}})
        items = [await queue_item(ana, f"b{i}") for i in range(3)]
        r = await ana.post("/console/api/w/lobby/bulk", {"action": "approve", "items": [
            {"post_id": i["post"]["id"], "expected_version": i["version"]} for i in items]})
        assert r.status == 200 and (await r.json())["ok"] is True
        assert sorted(await screen.wait_posts(3)) == ["b0", "b1", "b2"]

        r = await pia.post("/console/api/w/lobby/control", {"op": "panic"})
        assert r.status == 200, await r.text()
        await screen.wait_for(lambda f: f["type"] == "control" and f["panic"] is True)
        assert (await pia.post("/console/api/w/lobby/control", {"op": "release"})).status == 200
        await screen.wait_for(lambda f: f["type"] == "control" and f["panic"] is False)
        assert (await pia.post("/console/api/w/lobby/control", {"op": "announce", "value": "Keynote at 3"})
                ).status == 200
        await screen.wait_for(lambda f: f["type"] == "control" and f["announcement"] == "Keynote at 3")
        assert (await pia.post("/console/api/w/lobby/control", {"op": "explode"})).status == 400

        r = await ana.post("/console/api/w/lobby/ban", {"author": items[0]["author"], "reason": "spam"})
        assert r.status == 200, await r.text()
        await screen.wait_for(lambda f: f["type"] == "retract" and f["post_id"] == items[0]["post"]["id"])
        await post(s, a, {"id": "b0-again", "text": "me again", "author": {"handle": "fan0"}})
        assert (await queue_item(ana, "b0-again"))["reason"] == "banned author"
        r = await ana.post("/console/api/w/lobby/words", form={"word": "Durian"})
        assert r.status == 303 and r.headers["Location"] == "/console/w/lobby/rules"
        rules = await (await ana.get("/console/w/lobby/rules", html=True)).text()
        assert "durian" in rules and items[0]["author"] in rules
        # Words of the shipped profanity lists the wall lets through: a typed policy setting, audited.
        policy = {"mode": "pre", "settings": {"allowed_words": ["Perkele"]}}
        assert (await ana.post("/console/api/w/lobby/policy", policy)).status == 200
        assert "perkele" in await (await ana.get("/console/w/lobby/rules", html=True)).text()
        policy = {"mode": "pre", "settings": {"allowed_words": "perkele"}}
        r = await ana.post("/console/api/w/lobby/policy", policy)
        assert r.status == 400 and "policy.allowed_words: expected" in await r.text()

        r = await ana.post("/console/api/w/lobby/sentiment", {"post_id": items[1]["post"]["id"],
                                                              "label": "negative"})
        assert r.status == 200, await r.text()
        lines = (await (await ana.get("/console/api/w/lobby/labelled")).text()).splitlines()
        assert [json.loads(x) for x in lines] == [{"text": "post number 1", "label": "negative",
                                                   "lang": "en"}]

        page = await (await root.get("/console/audit?wall=lobby", html=True)).text()
        for action in ("decide", "control.panic", "control.release", "ban", "block_word", "policy",
                       "sentiment"):
            assert f'<td class="action">{action}</td>' in page, action
        exported = await root.get("/console/audit.csv?actor=pia")
        assert exported.headers["Content-Type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(await exported.text())))
        assert [r["action"] for r in rows] == ["login", "control.panic", "control.release",
                                               "control.announce"]
        assert all(r["actor"] == "pia" for r in rows)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_after_every_process_restarts_sessions_decisions_and_bans_still_hold(
        redis_url: str, tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> None:
    if backend == "sqlite":
        store_url = f"sqlite+aiosqlite:///{tmp_path}/wall.db"
    else:
        store_url = request.getfixturevalue("postgres").create_database(f"wall_console_{tmp_path.name[-12:]}")
    cfg = make_config("redis", redis_url, store_url=store_url, moderation={"mode": "pre"})
    async with opened_store(store_url) as store, serving(console_app(cfg, store)) as base, \
            Browser(base) as ana, aiohttp.ClientSession() as s:
        port = int(base.rsplit(":", 1)[1])
        await ana.login("ana")
        for pid in ("keep", "troll"):
            await post(s, base, {"id": pid, "text": f"post {pid}", "author": {"handle": pid}})
        keep, troll = await queue_item(ana, "keep"), await queue_item(ana, "troll")
        r = await ana.post("/console/api/w/lobby/decide", {"post_id": keep["post"]["id"], "action": "approve",
                                                           "expected_version": 0})
        assert r.status == 200
        assert (await ana.post("/console/api/w/lobby/ban", {"author": troll["author"]})).status == 200
        await queue_item(ana, "keep", lambda i: i["status"] == "approved")
    cookie, csrf = ana.session_cookie, ana.csrf
    assert cookie

    # Every process is gone; new ones start on the same port, the same Redis and the same database.
    async with opened_store(store_url) as store, serving(console_app(cfg, store), port=port) as base, \
            Browser(base) as again, aiohttp.ClientSession() as s:
        again.http.cookie_jar.update_cookies({"wall_session": cookie})
        again.csrf = csrf
        assert (await again.get("/console/w/lobby", html=True)).status == 200  # still logged in
        screen = await Screen(s, base).connect()
        assert [p["source_id"] for p in screen.frames[-1]["posts"]] == ["keep"]
        item = await queue_item(again, "keep")
        assert (item["status"], item["decided_by"]) == ("approved", "ana")
        await post(s, base, {"id": "troll-2", "text": "I am back", "author": {"handle": "troll"}})
        held = await queue_item(again, "troll-2")
        assert held["status"] != "approved"  # the ban holds
        r = await again.post("/console/api/w/lobby/decide", {"post_id": item["post"]["id"], "action": "hide",
                                                             "expected_version": item["version"]})
        assert r.status == 200  # and the CSRF token of the old session still matches it
        assert (await again.post("/console/logout", form={})).status == 303
        assert (await again.get("/console/api/w/lobby/queue")).status == 401
