"""Curators steer the wall: what they decide reaches every screen, wins over the rules and the sources,
and survives every process restarting. Real Redis, real SQLite, real nodes on real sockets."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ingest.enrich import language
from tests.helpers import WAIT, Screen, make_config, post, running_node, settled, subscribed, subscribers
from tests.postgres_server import PostgresServer
from tests.test_store_contract import postgres  # noqa: F401  (the session's PostgreSQL fixture)
from wall.app import SERVE
from wall.bus.base import writer_lease
from wall.bus.memory import MemoryEngine
from wall.bus.redis import Keys, RedisEngine
from wall.config import Config
from wall.curate.actions import Actions
from wall.models import PostEvent, decode_event
from wall.store import connect
from wall.store.audit import AuditFilter
from wall.store.decisions import Conflict


@pytest.fixture(scope="module", autouse=True)
def models_loaded() -> None:
    """Load the language models once, up front: loading them on the writer's thread at each node's start
    holds the GIL for seconds on a busy two-core machine, long enough for Redis connects to time out."""
    language.warm()


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/wall.db"


databases = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store on each backend (PostgreSQL: the session's throwaway cluster)."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database(f"wall_moderation_{next(databases)}")


@contextlib.asynccontextmanager
async def console(cfg: Config) -> AsyncIterator[Actions]:
    """The console's side, as another process would have it: its own engine and store objects."""
    engine = RedisEngine(cfg.bus.redis_url)
    try:
        async with connect(cfg.store.url) as store:
            yield Actions(store, engine, cfg)
    finally:
        await engine.close()


async def queued(actions: Actions, source_id: str, pred: Callable[[dict[str, Any]], bool] = lambda i: True,
                 wall: str = "lobby", timeout: float = WAIT) -> dict[str, Any]:
    """The queue item of a post once the writer has it (and `pred` holds)."""
    async with asyncio.timeout(timeout):
        while True:
            for item in await actions.queue(wall):
                if item["post"]["source_id"] == source_id and pred(item):
                    return item
            await asyncio.sleep(0.02)


def kinds(screen: Screen, post_id: str) -> list[str]:
    """The event types a screen got about one post, in order."""
    out = []
    for f in screen.frames:
        if f["type"] in ("post", "update") and f["post"]["id"] == post_id:
            out.append(f["type"])
        elif f["type"] == "retract" and f["post_id"] == post_id:
            out.append("retract")
    return out


async def test_pre_moderation_holds_every_post_until_a_curator_approves_it(redis_url: str, tmp_path: Path):
    cfg = make_config("redis", redis_url, store_url=sqlite_url(tmp_path), moderation={"mode": "pre"})
    async with running_node(cfg) as base, aiohttp.ClientSession() as s, console(cfg) as actions:
        screen = await Screen(s, base).connect()
        await post(s, base, {"id": "p1", "text": "first light over the fjord", "author": {"handle": "aino"}})
        item = await queued(actions, "p1")
        assert (item["status"], item["reason"], item["version"]) == ("pending", "pre-moderation", 0)
        assert item["author"] == "webhook:aino"
        await settled(actions.engine, screen)
        assert screen.posts() == []

        decided = await actions.decide("lobby", item["post"]["id"], "ana", "approve", expected_version=0)
        assert decided["status"] == "approved" and decided["version"] == 1
        assert await screen.wait_posts(1) == ["p1"]
        assert (await queued(actions, "p1", lambda i: i["status"] == "approved"))["decided_by"] == "ana"
        audit = await actions.store.audit.browse(AuditFilter(wall="lobby", action="decide"))
        assert [(r.actor, r.target, r.before, r.after["status"]) for r in audit] == \
            [("ana", item["post"]["id"], None, "approved")]


async def test_post_moderation_shows_posts_and_holds_what_the_rules_flag(redis_url: str, tmp_path: Path):
    cfg = make_config("redis", redis_url, store_url=sqlite_url(tmp_path),
                      moderation={"mode": "post", "hold_links": True})
    async with running_node(cfg) as base, aiohttp.ClientSession() as s, console(cfg) as actions:
        screen = await Screen(s, base).connect()
        await post(s, base, {"id": "ok", "text": "Lovely morning at the Nordlys office"})
        await post(s, base, {"id": "rude", "text": "this launch is shit"})
        await post(s, base, {"id": "link", "text": "see https://example.com/promo now"})
        assert await screen.wait_posts(1) == ["ok"]
        assert (await queued(actions, "rude"))["reason"] == "flagged: profanity (shit)"
        assert (await queued(actions, "rude"))["flags"] == ["profanity"]
        assert (await queued(actions, "link"))["reason"] == "links"
        await settled(actions.engine, screen)
        assert screen.posts() == ["ok"]
        assert [i["post"]["source_id"] for i in await actions.queue("lobby", status="pending")] == \
            ["link", "rude"]  # newest first
        assert [i["post"]["source_id"] for i in await actions.queue("lobby", q="LAUNCH")] == ["rude"]


async def test_a_source_re_sending_a_post_never_changes_a_curators_decision(redis_url: str, tmp_path: Path):
    cfg = make_config("redis", redis_url, store_url=sqlite_url(tmp_path))
    async with running_node(cfg) as base, aiohttp.ClientSession() as s, console(cfg) as actions:
        screen = await Screen(s, base).connect()
        await post(s, base, {"id": "h1", "text": "a post that will be hidden"})
        assert await screen.wait_posts(1) == ["h1"]
        item = await queued(actions, "h1")
        await actions.decide("lobby", item["post"]["id"], "ana", "hide", expected_version=0)
        await screen.wait_for(lambda f: f["type"] == "retract")
        # The source edits the post and sends it again (a new digest: it reaches the writer).
        await post(s, base, {"id": "h1", "text": "a post that will be hidden, edited"})
        edited = await queued(actions, "h1", lambda i: "edited" in i["post"]["text"])
        assert (edited["status"], edited["version"]) == ("hidden", 1)
        await settled(actions.engine, screen)
        assert kinds(screen, item["post"]["id"]) == ["post", "retract"]


async def test_two_curators_deciding_the_same_version_the_second_is_refused(redis_url: str, tmp_path: Path):
    cfg = make_config("redis", redis_url, store_url=sqlite_url(tmp_path), moderation={"mode": "pre"})
    async with running_node(cfg) as base, aiohttp.ClientSession() as s, console(cfg) as ana, \
            console(cfg) as ben:
        await post(s, base, {"id": "c1", "text": "who decides first"})
        item = await queued(ana, "c1")
        pid = item["post"]["id"]
        await ana.decide("lobby", pid, "ana", "approve", expected_version=item["version"])
        with pytest.raises(Conflict) as refused:
            await ben.decide("lobby", pid, "ben", "reject", expected_version=item["version"])
        assert refused.value.current is not None and refused.value.current.decided_by == "ana"
        assert "ana set it to approved" in str(refused.value)
        assert (await queued(ben, "c1", lambda i: i["status"] == "approved"))["version"] == 1
        assert [r.actor for r in await ana.store.audit.browse(AuditFilter(action="decide"))] == ["ana"]


async def test_a_ban_retracts_the_authors_posts_and_holds_new_ones(redis_url: str, tmp_path: Path):
    cfg = make_config("redis", redis_url, store_url=sqlite_url(tmp_path))
    async with running_node(cfg) as base, aiohttp.ClientSession() as s, console(cfg) as actions:
        screen = await Screen(s, base).connect()
        for i in range(2):
            await post(s, base, {"id": f"t{i}", "text": f"troll post {i}", "author": {"handle": "troll"}})
        await post(s, base, {"id": "fine", "text": "a friendly post", "author": {"handle": "aino"}})
        assert sorted(await screen.wait_posts(3)) == ["fine", "t0", "t1"]
        pinned = await queued(actions, "t0")  # a curator had picked one of them before the ban
        await actions.decide("lobby", pinned["post"]["id"], "bo", "pin", expected_version=0)
        await screen.wait_for(lambda f: f["type"] == "update" and f["post"]["pinned"])
        await actions.ban("lobby", "webhook:troll", "ana", reason="abuse")
        retracted = await screen.wait_for(lambda f: f["type"] == "retract", count=2)
        assert len(retracted) == 2
        # The figures count what the wall shows: the banned author's two posts come off them.
        await screen.wait_for(lambda f: f["type"] == "stats" and f["total"] == 1)
        await post(s, base, {"id": "t2", "text": "troll is back", "author": {"handle": "troll"}})
        assert (await queued(actions, "t2"))["reason"] == "banned author"
        await settled(actions.engine, screen)
        assert len([f for f in screen.frames if f["type"] == "retract"]) == 2
        assert screen.posts() == ["t0", "t1", "fine"] or sorted(screen.posts()) == ["fine", "t0", "t1"]

        await actions.unban("lobby", "webhook:troll", "ana")
        await screen.wait_for(lambda f: f["type"] == "post" and f["post"]["source_id"] == "t2")
        actions_logged = [r.action for r in await actions.store.audit.browse(AuditFilter(wall="lobby"))]
        assert actions_logged == ["unban", "ban", "decide"]
        await screen.wait_for(lambda f: f["type"] == "post" and f["post"].get("pinned"))  # t0, pinned again
        await screen.wait_for(lambda f: f["type"] == "stats" and f["total"] == 4)


async def test_changing_the_policy_re_evaluates_what_is_on_screen(redis_url: str, tmp_path: Path):
    cfg = make_config("redis", redis_url, store_url=sqlite_url(tmp_path))
    async with running_node(cfg) as base, aiohttp.ClientSession() as s, console(cfg) as actions:
        screen = await Screen(s, base).connect()
        await post(s, base, {"id": "plain", "text": "nothing to see"})
        await post(s, base, {"id": "link", "text": "read https://example.com/story"})
        assert sorted(await screen.wait_posts(2)) == ["link", "plain"]
        link_id = (await queued(actions, "link"))["post"]["id"]

        await actions.set_policy("lobby", "ana", "post", {"hold_links": True})
        await screen.wait_for(lambda f: f["type"] == "retract" and f["post_id"] == link_id)
        assert (await queued(actions, "link", lambda i: i["status"] == "pending"))["reason"] == "links"

        await actions.set_policy("lobby", "ana", "pre", {})
        plain_id = (await queued(actions, "plain"))["post"]["id"]
        await screen.wait_for(lambda f: f["type"] == "retract" and f["post_id"] == plain_id)

        await actions.set_policy("lobby", "ben", "post", {})
        await screen.wait_for(lambda f: f["type"] == "post", count=4)
        assert kinds(screen, link_id) == ["post", "retract", "post"]
        assert kinds(screen, plain_id) == ["post", "retract", "post"]
        assert (await actions.policy("lobby"))["mode"] == "post"
        with pytest.raises(ValueError, match=r"policy\.hold_linkz: unknown key"):
            await actions.set_policy("lobby", "ana", "post", {"hold_linkz": True})


async def test_blocked_words_hold_posts_and_unblocking_shows_them(redis_url: str, tmp_path: Path):
    cfg = make_config("redis", redis_url, store_url=sqlite_url(tmp_path))
    async with running_node(cfg) as base, aiohttp.ClientSession() as s, console(cfg) as actions:
        screen = await Screen(s, base).connect()
        await post(s, base, {"id": "w1", "text": "The Competitor X phone is great"})
        assert await screen.wait_posts(1) == ["w1"]
        await actions.block_word("lobby", "Competitor X", "ana")
        await screen.wait_for(lambda f: f["type"] == "retract")
        assert (await queued(actions, "w1"))["reason"] == "blocked word: competitor x"
        await actions.unblock_word("lobby", "competitor x", "ana")
        await screen.wait_posts(2)


async def test_profanity_in_many_languages_is_held_and_a_wall_allows_or_adds_words(redis_url: str,
                                                                                    tmp_path: Path):
    """The shipped lists (the project's own and LDNOOBW's) hold swearing in the post's own language; a
    word that is harmless in another language is not held there; the wall's allowed words let a shipped
    entry through, its blocked words hold one the lists lack."""
    cfg = make_config("redis", redis_url, store_url=sqlite_url(tmp_path))
    async with running_node(cfg) as base, aiohttp.ClientSession() as s, console(cfg) as actions:
        screen = await Screen(s, base).connect()
        rude = {"it": "Che cazzo di aggiornamento, il telefono non si accende più dopo la notte",
                "nl": "Wat een kut update, mijn telefoon doet het weer niet na een nacht laden",
                "de": "Welche Hackfresse hat dieses Update gebaut, mein Telefon startet nicht mehr",
                "fr": "Quel con a fait cette mise à jour, mon téléphone ne démarre plus ce matin",
                "fi": "Perkele, päivitys rikkoi taas puhelimen eikä se käynnisty enää aamulla"}
        for lang, text in rude.items():
            await post(s, base, {"id": f"rude-{lang}", "text": text})
        # French "con" is an insult; Spanish "con" is "with".
        await post(s, base, {"id": "harmless", "text": "Café con leche y el teléfono nuevo, qué mañana "
                                                       "tan rápida"})
        assert await screen.wait_posts(1) == ["harmless"]
        for lang in rude:
            item = await queued(actions, f"rude-{lang}", lambda i: i["status"] == "pending")
            assert item["reason"].startswith("flagged: profanity ("), item
            assert item["post"]["lang"] == lang
        assert (await queued(actions, "rude-fi"))["reason"] == "flagged: profanity (perkele)"

        await actions.set_policy("lobby", "ana", "post", {"allowed_words": ["Perkele"]})
        assert await screen.wait_posts(2) == ["harmless", "rude-fi"]
        assert (await actions.policy("lobby"))["settings"]["allowed_words"] == ["perkele"]
        assert (await queued(actions, "rude-it"))["status"] == "pending"

        await actions.block_word("lobby", "rápida", "ben")
        harmless_id = (await queued(actions, "harmless"))["post"]["id"]
        await screen.wait_for(lambda f: f["type"] == "retract" and f["post_id"] == harmless_id)
        assert (await queued(actions, "harmless"))["reason"] == "blocked word: rápida"
        with pytest.raises(ValueError, match=r"policy\.allowed_words: expected"):
            await actions.set_policy("lobby", "ana", "post", {"allowed_words": "perkele"})


async def test_a_corrected_sentiment_label_reaches_screens_and_the_training_lines(redis_url: str,
                                                                                 tmp_path: Path):
    cfg = make_config("redis", redis_url, store_url=sqlite_url(tmp_path))
    async with running_node(cfg) as base, aiohttp.ClientSession() as s, console(cfg) as actions:
        screen = await Screen(s, base).connect()
        await post(s, base, {"id": "sarcasm", "text": "Oh wonderful, the phone restarted itself again"})
        assert await screen.wait_posts(1) == ["sarcasm"]
        item = await queued(actions, "sarcasm")
        assert item["sentiment"]["label"] != "negative"  # the model misses the sarcasm
        await actions.correct_sentiment("lobby", item["post"]["id"], "ana", "negative")
        update = await screen.wait_for(lambda f: f["type"] == "update")
        assert update[0]["post"]["sentiment"]["label"] == "negative"
        assert update[0]["post"]["sentiment"]["score"] == item["sentiment"]["score"]
        assert await actions.labelled_lines("lobby") == [
            {"text": "Oh wonderful, the phone restarted itself again", "label": "negative", "lang": "en"}]
        with pytest.raises(ValueError, match="not one of positive, neutral, negative"):
            await actions.correct_sentiment("lobby", item["post"]["id"], "ana", "angry")


async def test_pin_and_spotlight_are_shown_on_screens(redis_url: str, tmp_path: Path):
    cfg = make_config("redis", redis_url, store_url=sqlite_url(tmp_path), moderation={"mode": "pre"})
    async with running_node(cfg) as base, aiohttp.ClientSession() as s, console(cfg) as actions:
        screen = await Screen(s, base).connect()
        await post(s, base, {"id": "star", "text": "the keynote was brilliant"})
        item = await queued(actions, "star")
        await actions.decide("lobby", item["post"]["id"], "ana", "spotlight", expected_version=0, seconds=30)
        control = (await screen.wait_for(lambda f: f["type"] == "control"))[-1]
        assert control["spotlight"]["source_id"] == "star"  # spotlighting approves it
        assert 25 < control["spotlight_until"] - (screen.welcome["server_time"] / 1000) < 35
        assert await screen.wait_posts(1) == ["star"]
        pinned = await actions.decide("lobby", item["post"]["id"], "ana", "pin", expected_version=1)
        assert pinned["pinned"] is True
        update = await screen.wait_for(lambda f: f["type"] == "update")
        assert update[-1]["post"]["pinned"] is True
        await actions.decide("lobby", item["post"]["id"], "ana", "hide", expected_version=2)
        hidden = await screen.wait_for(lambda f: f["type"] == "control" and f["spotlight"] is None)
        assert hidden[-1]["spotlight_until"] is None  # a hidden post leaves the spotlight at once


async def test_presenter_controls_reach_screens_on_two_nodes_and_the_snapshot(redis_url: str, tmp_path: Path):
    cfg = make_config("redis", redis_url, store_url=sqlite_url(tmp_path))
    async with running_node(cfg) as a, running_node(cfg, roles=SERVE) as b, aiohttp.ClientSession() as s, \
            console(cfg) as actions:
        screens = [await Screen(s, base).connect() for base in (a, b)]
        await actions.control("lobby", "pia", "pause")
        await actions.control("lobby", "pia", "announce", "Keynote starts at 10:00 in hall B")
        await actions.control("lobby", "pia", "next")
        state = await actions.control("lobby", "pia", "panic")
        assert state["panic"] and state["paused"] and state["next_seq"] == 1
        for screen in screens:
            last = (await screen.wait_for(lambda f: f["type"] == "control" and f["panic"]))[-1]
            assert last["announcement"] == "Keynote starts at 10:00 in hall B"
            assert (last["paused"], last["next_seq"], last["panic_text"]) == (True, 1, "We'll be right back.")
        late = await Screen(s, b).connect()
        snapshot = (await late.wait_for(lambda f: f["type"] == "snapshot"))[0]
        assert snapshot["control"]["panic"] is True and snapshot["control"]["id"]
        await actions.control("lobby", "pia", "release")
        for screen in (*screens, late):
            await screen.wait_for(lambda f: f["type"] == "control" and not f["panic"])
        with pytest.raises(ValueError, match="announce needs a value"):
            await actions.control("lobby", "pia", "announce", "  ")
        records = await actions.store.audit.browse(AuditFilter(actor="pia"))
        assert [r.action for r in records][::-1] == ["control.pause", "control.announce", "control.next",
                                                     "control.panic", "control.release"]
        assert records[0].before["panic"] is True and records[0].after["panic"] is False  # release


async def test_the_console_queue_follows_the_writer_live_from_another_process(redis_url: str, tmp_path: Path):
    cfg = make_config("redis", redis_url, store_url=sqlite_url(tmp_path), moderation={"mode": "pre"})
    async with running_node(cfg) as base, aiohttp.ClientSession() as s, console(cfg) as ana, \
            console(cfg) as ben:
        live: list[dict[str, Any]] = []

        async def follow() -> None:
            async for message in ben.subscribe_queue("lobby"):
                live.append(message)

        before = await subscribers(redis_url, Keys.queue("lobby"))
        task = asyncio.create_task(follow())
        try:
            await subscribed(redis_url, Keys.queue("lobby"), more_than=before)
            await post(s, base, {"id": "q1", "text": "new in the queue"})
            item = await queued(ana, "q1")
            await ana.decide("lobby", item["post"]["id"], "ana", "reject", expected_version=0)
            async with asyncio.timeout(WAIT):
                while not any(m.get("status") == "rejected" for m in live):
                    await asyncio.sleep(0.02)
            assert [(m["type"], m["status"], m["decided_by"]) for m in live] == \
                [("item", "pending", None), ("item", "rejected", "ana")]
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def test_decisions_bans_and_controls_survive_every_process_restarting(redis_url: str, store_url: str):
    cfg = make_config("redis", redis_url, store_url=store_url)
    async with aiohttp.ClientSession() as s:
        async with running_node(cfg) as base, console(cfg) as actions:
            screen = await Screen(s, base).connect()
            await post(s, base, {"id": "keep", "text": "stays hidden", "author": {"handle": "aino"}})
            await post(s, base, {"id": "other", "text": "by someone banned", "author": {"handle": "troll"}})
            await screen.wait_posts(2)
            item = await queued(actions, "keep")
            await actions.decide("lobby", item["post"]["id"], "ana", "hide", expected_version=0)
            await actions.ban("lobby", "webhook:troll", "ana")
            await actions.control("lobby", "pia", "panic", "Back soon")
            await screen.wait_for(lambda f: f["type"] == "control")
            await screen.wait_for(lambda f: f["type"] == "retract", count=2)
        # Every process is gone: new engine and store objects on the same Redis and SQLite.
        async with running_node(cfg) as base, console(cfg) as actions:
            screen = await Screen(s, base).connect()
            snapshot = (await screen.wait_for(lambda f: f["type"] == "snapshot"))[0]
            assert snapshot["posts"] == []
            assert (snapshot["control"]["panic"], snapshot["control"]["panic_text"]) == (True, "Back soon")
            await post(s, base, {"id": "keep", "text": "stays hidden (sent again)",
                                 "author": {"handle": "aino"}})
            await post(s, base, {"id": "new", "text": "troll again", "author": {"handle": "troll"}})
            assert (await queued(actions, "new", timeout=60))["reason"] == "banned author"
            resent = await queued(actions, "keep", lambda i: "again" in i["post"]["text"])
            assert resent["status"] == "hidden"
            await settled(actions.engine, screen)
            assert screen.posts() == []


async def test_a_decision_made_while_the_writer_lease_moves_is_applied_exactly_once(redis_url: str,
                                                                                   tmp_path: Path):
    cfg = make_config("redis", redis_url, store_url=sqlite_url(tmp_path), moderation={"mode": "pre"})
    async with aiohttp.ClientSession() as s, console(cfg) as actions, contextlib.AsyncExitStack() as stack:
        first = contextlib.AsyncExitStack()  # the leading writer's process, stopped halfway
        stack.push_async_callback(first.aclose)
        a = await first.enter_async_context(running_node(cfg))
        async with asyncio.timeout(WAIT):
            while await actions.engine.holder(writer_lease("lobby")) is None:
                await asyncio.sleep(0.05)
        b = await stack.enter_async_context(running_node(cfg))  # its writer waits for the lease
        for i in range(20):
            await post(s, a, {"id": f"m{i}", "text": f"moving post number {i}"})
        items = [await queued(actions, f"m{i}", timeout=60) for i in range(20)]
        screen = await Screen(s, b).connect()
        # Half the decisions before the leading writer's process stops, half while its lease moves.
        for it in items[:10]:
            await actions.decide("lobby", it["post"]["id"], "ana", "approve", expected_version=0)
        await first.aclose()
        for it in items[10:]:
            await actions.decide("lobby", it["post"]["id"], "ana", "approve", expected_version=0)
        await screen.wait_posts(20, timeout=60)
        await settled(actions.engine, screen)
        assert sorted(screen.posts()) == sorted(f"m{i}" for i in range(20))
        history = [decode_event(m.body) for m in await actions.engine.latest("lobby", 1000)]
        shown = [e.post.source_id for e in history if isinstance(e, PostEvent)]
        assert sorted(shown) == sorted(f"m{i}" for i in range(20))  # each once in the display stream


async def test_one_process_on_the_memory_engine_moderates_too(tmp_path: Path):
    cfg = make_config(store_url=sqlite_url(tmp_path), moderation={"mode": "pre"})
    engine = MemoryEngine()
    async with running_node(cfg, engine=engine) as base, aiohttp.ClientSession() as s, \
            connect(cfg.store.url) as store:
        actions = Actions(store, engine, cfg)
        screen = await Screen(s, base).connect()
        await post(s, base, {"id": "m1", "text": "held until approved"})
        item = await queued(actions, "m1")
        await actions.decide("lobby", item["post"]["id"], "ana", "approve", expected_version=0)
        await actions.control("lobby", "pia", "scene", "stats")
        assert await screen.wait_posts(1) == ["m1"]
        await screen.wait_for(lambda f: f["type"] == "control" and f["scene"] == "stats")
        late = await Screen(s, base).connect()
        snapshot = (await late.wait_for(lambda f: f["type"] == "snapshot"))[0]
        assert [p["source_id"] for p in snapshot["posts"]] == ["m1"]
        assert snapshot["control"]["scene"] == "stats"
