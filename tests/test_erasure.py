"""A person asks to be removed from the wall: their posts leave every screen at once and every copy leaves
every store (Redis, the SQL store, the media cache); their data can be exported first. Real Redis, real
SQLite, a real node on a real socket with a real screen, a local media origin, the real `wall` command and
console; then every key, every table and every cache file is searched for them."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
import sqlalchemy as sa

from tests.console_helpers import Browser
from tests.helpers import (
    HEALTH_TOKEN,
    HEALTH_TOKEN_ENV,
    HMAC_SECRET,
    TOKEN,
    Screen,
    eventually,
    post,
    serving,
    settled,
)
from tests.media_origin import Origin, origin_server
from tests.postgres_server import PostgresServer
from tests.test_store_contract import postgres  # noqa: F401  (the session's PostgreSQL fixture)
from wall import cli
from wall.app import ALL, SERVE, create_app, load_config
from wall.bus.redis import RedisEngine
from wall.config import Config
from wall.curate.writer import Writers
from wall.models import post_id
from wall.privacy.erasure import erase
from wall.store import Store, connect
from wall.store.audit import AuditFilter, Event
from wall.store.erasure import Erased
from wall.web.keys import ENGINE, STORE
from wall.web.moderation import ACTIONS

AUTHOR = "webhook:ainov"
PASSWORD = "root password for erasure"
# What must be found nowhere afterwards (besides the image bytes): the handle, the name, the texts.
NEEDLES = [b"ainov", b"aino virtanen", b"sauna 7f3q", b"second thought 9k2w"]
OTHER = b"coffee first"  # another person's post: it stays (and proves the search can find things)


@pytest.fixture
async def origin() -> AsyncIterator[Origin]:
    async with origin_server() as o:
        yield o


def write_config(tmp_path: Path, engine: str, redis_url: str | None, origin: Origin,
                 monkeypatch: pytest.MonkeyPatch) -> Path:
    """The config file an operator writes, its secrets in the environment (which `wall` reads)."""
    for name, value in (("T", TOKEN), ("H", HMAC_SECRET), (HEALTH_TOKEN_ENV, HEALTH_TOKEN)):
        monkeypatch.setenv(name, value)
    path = tmp_path / "wall.toml"
    bus = f'engine = "{engine}"' + (f'\nredis_url = "{redis_url}"' if redis_url else "")
    path.write_text(f"""stats_interval = 0.5
[bus]
{bus}
[store]
url = "sqlite+aiosqlite:///{tmp_path}/wall.db"
[web]
secure_cookies = false
health_token_env = "{HEALTH_TOKEN_ENV}"
display_flush = 1
[media]
cache_dir = "{tmp_path}/media"
allow_hosts = ["localhost:{origin.port}"]
[walls.lobby]
title = "Lobby"
token_env = "T"
hmac_secret_env = "H"
sources = [{{type = "webhook"}}]
""")
    return path


@pytest.fixture(params=["redis", "memory"])
def config(request: pytest.FixtureRequest, tmp_path: Path, origin: Origin,
           monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Config]:
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    path = write_config(tmp_path, request.param, redis_url, origin, monkeypatch)
    return path, load_config(path)


async def redis_dump(url: str) -> bytes:
    """Every key's name and value in the test's Redis, whatever its type."""
    out = []
    async with aioredis.Redis.from_url(url) as r:
        async for key in r.scan_iter(count=1000):
            kind = (await r.type(key)).decode()
            value: Any = {"string": r.get, "hash": r.hgetall, "list": lambda k: r.lrange(k, 0, -1),
                          "set": r.smembers, "zset": lambda k: r.zrange(k, 0, -1),
                          "stream": r.xrange}[kind](key)
            out.append(key + repr(await value).encode())
    return b"\n".join(out)


async def sql_dump(store: Store) -> bytes:
    """Every column of every row of every table of the store (found by reflection: tables added later
    are searched too)."""
    out = []
    async with store.engine.connect() as conn:
        names = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
        for name in names:
            for row in await conn.execute(sa.text(f'SELECT * FROM "{name}"')):
                for value in row:
                    out.append(value if isinstance(value, bytes) else str(value).encode())
    return b"\n".join(out)


def found_in(haystack: bytes, images: list[bytes]) -> list[str]:
    lower = haystack.lower()
    return [n.decode() for n in NEEDLES if n in lower] + [f"image of {len(i)} bytes" for i in images
                                                        if i in haystack]


async def reports(admin: Browser, tmp_path: Path) -> bytes:
    """The Insights page's "shown" CSV and its PDF (read back as text) for the last 7 days."""
    query = "wall=lobby&range=7d"
    table = await admin.get(f"/console/insights/csv/shown?{query}")
    assert table.status == 200
    pdf = await admin.get(f"/console/insights/report.pdf?{query}")
    assert pdf.status == 200
    path = tmp_path / "report.pdf"
    path.write_bytes(await pdf.read())
    text = await asyncio.to_thread(subprocess.run, ["pdftotext", "-layout", str(path), "-"], check=True,
                                   capture_output=True)
    return await table.read() + b"\n" + text.stdout


async def test_an_erased_author_leaves_no_screen_and_no_store_holding_them(
        config: tuple[Path, Config], origin: Origin, tmp_path: Path) -> None:
    path, cfg = config
    cache = tmp_path / "media"
    app = create_app(cfg, ALL)
    async with serving(app) as base, aiohttp.ClientSession() as s:
        store, engine, actions = app[STORE], app[ENGINE], app[ACTIONS]
        await store.users.add("root", PASSWORD, "admin")
        screen = await Screen(s, base).connect()
        aino = {"name": "Aino Virtanen", "handle": "ainov", "avatar_url": origin.url("/anim.gif")}
        await post(s, base, {"id": "a1", "text": "Sauna 7f3q at dawn", "author": aino,
                             "media": [{"url": origin.url("/gps.jpg")}]})
        await post(s, base, {"id": "a2", "text": "Second thought 9k2w?", "author": aino})  # a Q&A question
        await post(s, base, {"id": "b1", "text": "Coffee first", "author": {"name": "Bea", "handle": "bea"}})
        shown = {f["post"]["source_id"]: f["post"]["id"] for f in await screen.wait_for(
            lambda f: f["type"] == "post", 3)}
        # Curators acted on Aino's posts (decisions, a label with the text, the audit); a kiosk's screenshot
        # showed the wall; the screens' images went through the media cache.
        await actions.decide("lobby", shown["a2"], "root", "hide", None)
        await actions.correct_sentiment("lobby", shown["a1"], "root", "positive")
        await actions.correct_sentiment("lobby", shown["b1"], "root", "neutral")  # Bea's stays
        _, enrollment = await store.kiosks.enroll("kiosk-1", "10.0.0.9", 600)
        kiosk = await store.kiosks.approve(enrollment.code, "lobby", 1, 1, "root")
        await store.kiosks.report(kiosk.id, {}, screenshot=b"\xff\xd8 a screenshot showing ainov")

        # Three widths of the image and of the avatar, as screens get them.
        files = await eventually(lambda: found if len(found := sorted(cache.glob("*.webp"))) >= 6 else [])
        images = [f.read_bytes() for f in files]
        await settled(engine, screen)
        # The screen reported what it showed; its node wrote that to the display log.
        assert screen.ws is not None
        await screen.ws.send_json({"type": "shown", "seq": 1, "screen": "lobby-screen.1-1",
                                   "posts": [[pid, 12.5, time.time() - 20] for pid in shown.values()]})
        await screen.wait_for(lambda f: f["type"] == "shown" and f["taken"] == 3)

        async def logged() -> list[str]:
            return sorted(s.post_id for s in await store.display_log.shown("lobby", 0, time.time() + 60))

        async def all_three() -> bool:
            return len(await logged()) == 3
        await eventually(all_three)

        # The person asks what the wall holds about them, then to be removed.
        async with Browser(base) as admin:
            assert (await admin.login("root", PASSWORD)).status == 303
            # The reports a curator downloads (Insights: what the screens showed, as CSV and PDF) name them.
            assert "sauna 7f3q" in found_in(await reports(admin, tmp_path), [])
            if cfg.bus.engine == "redis":
                out = tmp_path / "export.json"
                code = await asyncio.to_thread(cli.main, ["export", "--config", str(path), "--author",
                                                          "webhook:AinoV", "--out", str(out)])
                assert code == 0 and out.stat().st_mode & 0o777 == 0o600
                exported = json.loads(out.read_bytes())
            else:
                r = await admin.get(f"/console/privacy/export?author={AUTHOR}")
                assert r.status == 200
                exported = json.loads(await r.read())
            mine = exported["walls"]["lobby"]
            assert exported["schema"] == 1 and exported["author"] == AUTHOR
            assert sorted(p["text"] for p in mine["posts"]) == ["Sauna 7f3q at dawn", "Second thought 9k2w?"]
            assert sorted(d["status"] for d in mine["decisions"]) == ["approved", "hidden"]
            assert [lab["text"] for lab in mine["labels"]] == ["Sauna 7f3q at dawn"]
            assert [q["text"] for q in mine["qa_questions"]] == ["Second thought 9k2w?"]
            assert {a["action"] for a in mine["audit"]} == {"decide", "sentiment"}
            assert sorted(r["post_id"] for r in mine["display_log"]) == sorted([shown["a1"], shown["a2"]])
            assert sorted(mine["media"]) == sorted([origin.url("/anim.gif"), origin.url("/gps.jpg")])

            # A person is named NETWORK:HANDLE; and with the memory engine the bus is inside `wall serve`.
            def wall_erase(author: str) -> int:
                return cli.main(["erase", "--config", str(path), "--author", author])

            assert await asyncio.to_thread(wall_erase, "ainov") == 2
            if cfg.bus.engine == "memory":
                assert await asyncio.to_thread(wall_erase, AUTHOR) == 2
            if cfg.bus.engine == "redis":  # on two nodes at once, as two operators might
                codes = await asyncio.gather(*(asyncio.to_thread(cli.main, [
                    "erase", "--config", str(path), "--author", AUTHOR, "--by", "dpo"]) for _ in range(2)))
                assert codes == [0, 0]
            else:  # the console: a confirmation step that says what it found, then the erasure
                r = await admin.post("/console/privacy/erase", form={"author": AUTHOR})
                assert "has 2 post(s)" in await r.text()
                r = await admin.post("/console/privacy/erase", form={"author": AUTHOR, "confirm": "erase"})
                assert r.status == 200 and "Erased 2 post(s)" in await r.text()
                refused = await admin.post("/console/privacy/erase", form={"author": AUTHOR}, csrf="")
                assert refused.status == 403

        # Gone from the screen at once (the writer's retraction), then from a new screen's snapshot.
        await screen.wait_for(lambda f: f["type"] == "retract" and f["post_id"] == shown["a1"]
                              and f["reason"] == "erased")
        await settled(engine, screen)  # the writer has taken the erasure in, and erased again after it
        # The live figures (top authors) the writer announces after it no longer name them.
        def latest_stats() -> bytes:
            return json.dumps([f for f in screen.frames if f["type"] == "stats"][-1]).encode()

        await eventually(lambda: not found_in(latest_stats(), []))
        fresh = await Screen(s, base).connect()
        assert found_in(json.dumps(fresh.frames).encode(), []) == []
        assert OTHER in json.dumps(fresh.frames).encode().lower()
        # The display log keeps Bea's post only, and a screen reporting an erased post adds nothing.
        assert await logged() == [shown["b1"]]
        assert fresh.ws is not None
        await fresh.ws.send_json({"type": "shown", "seq": 2, "screen": "lobby-screen.1-1",
                                  "posts": [[shown["a1"], 3, time.time()], [shown["b1"], 3, time.time()]]})
        assert (await fresh.wait_for(lambda f: f["type"] == "shown"))[0]["taken"] == 1
        await fresh.close()

        # Nothing anywhere: every Redis key and stream, every SQL table and column, every cache file.
        sql = await sql_dump(store)
        assert found_in(sql, images) == [] and OTHER in sql.lower()
        if cfg.bus.engine == "redis":
            kept = await redis_dump(cfg.bus.redis_url)
            assert found_in(kept, images) == [] and OTHER in kept.lower()
        assert [f.name for f in cache.iterdir() if any(f.read_bytes() == i for i in images)] == []
        # Reports made now hold Bea's post and nothing of theirs.
        async with Browser(base) as admin:
            assert (await admin.login("root", PASSWORD)).status == 303
            made = await reports(admin, tmp_path)
            assert found_in(made, []) == [] and OTHER in made.lower()
        # The audit keeps that it happened, by whom and when, not whom.
        records = await store.audit.browse(AuditFilter(action="erase"))
        assert [r.actor for r in records] == (["dpo", "dpo"] if cfg.bus.engine == "redis" else ["root"])
        assert {r.target for r in records} == {f"author-hmac:{await store.erasures.author_hash(AUTHOR)}"}
        assert all(set(r.after) == {"posts", "removed"} for r in records)
        assert sum(r.after["removed"]["decisions"] for r in records) == 2  # once, whoever came first
        await screen.close()


async def test_with_no_writer_running_the_stores_are_cleaned_now_and_screens_when_one_starts(
        redis_url: str, tmp_path: Path, origin: Origin, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = load_config(write_config(tmp_path, "redis", redis_url, origin, monkeypatch))
    engine = RedisEngine(redis_url)
    app = create_app(cfg, SERVE)  # a web node; the walls' writer runs apart, as `wall curate` does
    try:
        async with serving(app) as base, aiohttp.ClientSession() as s:
            store = app[STORE]
            screen = await Screen(s, base).connect()
            async with Writers(["lobby"], engine, "curate-1", 0.5, store=store):
                await post(s, base, {"id": "a1", "text": "Sauna 7f3q at dawn",
                                     "author": {"name": "Aino Virtanen", "handle": "ainov"}})
                await post(s, base, {"id": "b1", "text": "Coffee first", "author": {"handle": "bea"}})
                shown = {f["post"]["source_id"]: f["post"]["id"] for f in await screen.wait_for(
                    lambda f: f["type"] == "post", 2)}
            # The writer stopped (and handed its lease over): nobody curates the wall now.
            await erase(engine, store, cfg.walls, AUTHOR, "dpo", None, cfg.bus.stream_maxlen)
            kept = await redis_dump(redis_url)
            assert found_in(kept, []) == [] and OTHER in kept.lower()
            async with Writers(["lobby"], engine, "curate-2", 0.5, store=store):
                await screen.wait_for(lambda f: f["type"] == "retract" and f["post_id"] == shown["a1"]
                                      and f["reason"] == "erased")
                await settled(engine, screen)
            assert [f["post_id"] for f in screen.frames if f["type"] == "retract"] == [shown["a1"]]
            await screen.close()
    finally:
        await engine.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/wall.db"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database(f"wall_erasure_{uuid.uuid4().hex[:12]}")


async def test_the_store_forgets_the_posts_and_the_author_and_keeps_that_it_did(store_url: str) -> None:
    mine, other = post_id("webhook", "a1"), post_id("webhook", "b1")
    async with connect(store_url) as store:
        for pid in (mine, other):
            await store.decisions.decide("lobby", pid, "hidden", "ana", None)
            await store.labels.put("lobby", pid, f"text of {pid}", "positive", "ana")
            await store.audit.record(Event("decide", "ana", "lobby", pid, after={"status": "hidden"}))
        await store.audit.record(Event("ban", "ana", "lobby", AUTHOR, after={"reason": "spam"}))
        await store.audit.record(Event("policy", "ana", "lobby", None,
                                       after={"trusted_authors": [AUTHOR.upper(), "webhook:bea"]}))
        await store.audit.record(Event("control.spotlight", "pia", "lobby", None,
                                       after={"spotlight_post": mine}))
        await store.audit.record(Event("decide", "ana", "hall", mine))  # another wall's post of that id
        await store.rules.set_policy("lobby", "auto", {"trusted_authors": [AUTHOR.upper(), "webhook:bea"]})
        held = await store.erasures.about("lobby", [mine], AUTHOR)
        assert [d["post_id"] for d in held["decisions"]] == [mine]
        assert [lab["text"] for lab in held["labels"]] == [f"text of {mine}"]
        assert [a["action"] for a in held["audit"]] == ["decide", "ban", "policy", "control.spotlight"]

        assert await store.erasures.erase_posts("lobby", [mine], AUTHOR) == Erased(1, 1, 4, 0, 1)
        assert (await store.rules.policy("lobby")).settings == {"trusted_authors": ["webhook:bea"]}
        assert await store.erasures.erase_posts("lobby", [mine], AUTHOR) == Erased()  # again: nothing
        assert await store.decisions.get("lobby", mine) is None
        assert await store.decisions.get("lobby", other) is not None
        records = await store.audit.browse(limit=10)
        assert [(r.action, r.target is None, r.after is None) for r in reversed(records)] == [
            ("decide", True, True), ("decide", False, False), ("ban", True, True), ("policy", True, True),
            ("control.spotlight", True, True), ("decide", False, True)]
        assert await store.erasures.author_hash(AUTHOR) == await store.erasures.author_hash(AUTHOR)
        assert await store.erasures.author_hash(AUTHOR) != await store.erasures.author_hash("webhook:bea")
