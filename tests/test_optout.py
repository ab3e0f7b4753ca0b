"""A person can keep off the wall: a post with the wall's opt-out tag (#nowall) is never shown, and its
author's posts stay off that wall for a while; an admin can opt someone out at their request, from the
console or the command line. Real app over real sockets, real SQLite/PostgreSQL, the memory engine and
real Redis."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ingest.enrich import language
from tests.console_helpers import Browser, console_app, opened_store
from tests.helpers import WAIT, Screen, eventually, make_config, post, serving, settled
from tests.postgres_server import PostgresServer
from tests.test_store_contract import postgres  # noqa: F401  (the session's PostgreSQL fixture)
from wall.app import parse_config
from wall.bus.base import RECENT_KEPT
from wall.cli import main
from wall.config import Config, ConfigError, OptOutConfig
from wall.models import Entity
from wall.store import connect
from wall.store.audit import AuditFilter
from wall.text import has_tag
from wall.web.moderation import ACTIONS, Moderation

# --- the tag, however it is written --------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "#nowall", "Please #NoWall", "#NOWALL!", "(#nowall)", "#nöwáll", "#no\u200bwall", "#no\u200dwall",
    "#no\u00adwall",
    "\uff03\uff2e\uff2f\uff37\uff21\uff2c\uff2c",  # full-width
    "#\U0001d427\U0001d428\U0001d430\U0001d41a\U0001d425\U0001d425",  # mathematical bold
    "#nowall\ufe0f", "##nowall", "first line\n#NoWall"])
def test_the_opt_out_tag_is_found_in_any_case_with_accents_and_invisible_characters(text: str):
    assert has_tag(text, (), "#nowall")
    assert has_tag(text, (), "#NoWall")  # the configured tag's own case does not matter either


@pytest.mark.parametrize("text", [
    "nowall", "#nowalls", "#nowall2026", "a#nowall", "https://example.com/page/#nowall", "#no wall",
    "#wall"])
def test_other_words_links_and_longer_tags_are_not_the_opt_out_tag(text: str):
    assert not has_tag(text, (), "#nowall")


def test_a_hashtag_the_network_tagged_the_post_with_counts_and_an_empty_tag_matches_nothing():
    assert has_tag("photo of the stage", (Entity("hashtag", 0, 0, "NoWall"),), "#nowall")
    assert not has_tag("#nowall", (), "")


def wall_config(optout: dict[str, Any]) -> Config:
    return parse_config({"store": {"url": "sqlite+aiosqlite:////tmp/unused.db"},
                         "walls": {"lobby": {"title": "Lobby", "optout": optout}}})


def test_the_opt_out_table_is_typed_and_each_mistake_names_the_key_and_the_fix():
    assert wall_config({}).walls["lobby"].optout == OptOutConfig("#nowall", 30.0)
    assert wall_config({"tag": "#PasMoi", "days": 7}).walls["lobby"].optout == OptOutConfig("#PasMoi", 7.0)
    assert wall_config({"tag": ""}).walls["lobby"].optout.tag == ""  # the tag off; requests still work
    with pytest.raises(ConfigError) as e:
        wall_config({"tag": "nowall", "days": 0, "dyas": 3})
    problems = "\n".join(e.value.problems)
    assert 'walls.lobby.optout.tag: \'nowall\' is not a hashtag; write one like "#nowall"' in problems
    assert "walls.lobby.optout.days" in problems and "walls.lobby.optout.dyas" in problems


# --- the store remembers who, why and until when -------------------------------------------------------

databases = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/wall.db"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database(f"wall_optout_{next(databases)}")


async def test_an_opt_out_keeps_the_later_end_and_ended_ones_are_deleted(store_url: str):
    async with connect(store_url) as store:
        long = await store.optouts.add("lobby", "Mastodon:Aino@Social.Example", "request", "root", 2000.0,
                                       now=1000.0)
        assert (long.author, long.reason, long.by, long.since, long.until) == \
            ("mastodon:aino@social.example", "request", "root", 1000.0, 2000.0)
        # A #nowall meanwhile does not shorten the admin's longer opt-out; a later one extends it.
        assert (await store.optouts.add("lobby", "mastodon:aino@social.example", "tag", "author", 1500.0,
                                        now=1100.0)) == long
        extended = await store.optouts.add("lobby", "mastodon:aino@social.example", "tag", "author",
                                           2500.0, now=1200.0)
        assert (extended.reason, extended.by, extended.since, extended.until) == ("tag", "author", 1200.0,
                                                                                  2500.0)
        await store.optouts.add("lobby", "bsky:bo.example", "tag", "author", 1300.0, now=1210.0)
        await store.optouts.add("stage", "bsky:bo.example", "tag", "author", 9999.0, now=1210.0)
        assert [o.author for o in await store.optouts.current("lobby", now=1250.0)] == \
            ["bsky:bo.example", "mastodon:aino@social.example"]  # the newest first
        assert [o.author for o in await store.optouts.current("lobby", now=1300.0)] == \
            ["mastodon:aino@social.example"]
        assert await store.optouts.expire("lobby", now=1300.0) == 1
        assert await store.optouts.current("stage", now=1300.0) != []  # another wall's stays
        assert (await store.optouts.remove("lobby", "MASTODON:aino@social.example")) == extended
        assert await store.optouts.remove("lobby", "mastodon:aino@social.example") is None
        assert await store.optouts.current("lobby", now=1300.0) == []


# --- the story, through the real app -------------------------------------------------------------------

@pytest.fixture(scope="module")
def models_loaded() -> None:
    """The writer's language models, loaded once up front (as tests/test_moderation.py does)."""
    language.warm()


def shown_text(screen: Screen) -> str:
    return json.dumps(screen.frames, ensure_ascii=False)


async def wait_gone(screen: Screen, post_ids: set[str]) -> None:
    """Until the screen got a retract of each of these posts."""
    await screen.wait_for(lambda f: f["type"] == "retract" and f["post_id"] in post_ids, count=len(post_ids))


async def no_longer_listed(actions: Moderation, author: str) -> bool:
    return author not in [o["author"] for o in await actions.optouts("lobby")]


@pytest.fixture(params=["memory", "redis"])
def cfg(request: pytest.FixtureRequest, tmp_path: Path) -> Config:
    url = f"sqlite+aiosqlite:///{tmp_path}/wall.db"
    if request.param == "memory":
        return make_config(store_url=url)
    return make_config("redis", request.getfixturevalue("redis_url"), store_url=url)


async def test_the_opt_out_story_tag_request_console_cli_expiry_and_restart(
        cfg: Config, tmp_path: Path, capsys: pytest.CaptureFixture[str], models_loaded: None) -> None:
    config_file = tmp_path / "wall.toml"  # what `wall optout` reads: the same bus and store
    redis = f'redis_url = "{cfg.bus.redis_url}"' if cfg.bus.engine == "redis" else ""
    config_file.write_text(f'[bus]\nengine = "{cfg.bus.engine}"\n{redis}\n[store]\nurl = "{cfg.store.url}"\n'
                           '[walls.lobby]\ntitle = "Lobby"\n')
    async with opened_store(cfg.store.url) as store, aiohttp.ClientSession() as s:
        app = console_app(cfg, store)
        async with serving(app) as base, Browser(base) as root, Browser(base) as ana:
            actions = app[ACTIONS]
            screen = await Screen(s, base).connect()
            await post(s, base, {"id": "a1", "text": "Lovely morning", "author": {"handle": "aino"}})
            await post(s, base, {"id": "b0", "text": "bo was here before", "author": {"handle": "bo"}})
            assert await screen.wait_posts(2) == ["a1", "b0"]
            b0 = [f["post"]["id"] for f in screen.frames if f["type"] == "post"][1]

            # Dana asked for a short opt-out (it ends by itself, checked below; the story goes on meanwhile).
            await actions.opt_out("lobby", "webhook:dana", "root", days=6 / 86_400)
            await post(s, base, {"id": "d1", "text": "dana while opted out", "author": {"handle": "dana"}})
            # Bo asks with the tag, written to slip past a plain match: never shown, not even briefly.
            await post(s, base, {"id": "b1", "text": "please no photos of me #Nö\u200dWALL",
                                 "author": {"handle": "bo", "name": "Bo Private"}})
            await wait_gone(screen, {b0})  # bo's earlier post leaves the screen too
            full_width = "\uff03\uff2e\uff4f\uff37\uff41\uff4c\uff4c"
            for handle, tagged in (("fay", f"last night {full_width}"), ("gus", "#NOWALL."),
                                   ("hal", "a soft hyphen: #no\u00adwall")):
                await post(s, base, {"id": handle, "text": tagged, "author": {"handle": handle}})
            await post(s, base, {"id": "b2", "text": "bo again, later", "author": {"handle": "bo"}})
            await post(s, base, {"id": "c1", "text": "carl says hi", "author": {"handle": "carl"}})
            assert await screen.wait_posts(3) == ["a1", "b0", "c1"]  # another author's post shows
            await settled(actions.engine, screen)
            assert screen.posts() == ["a1", "b0", "c1"]
            assert "no photos" not in shown_text(screen) and "bo again" not in shown_text(screen)
            assert "dana while" not in shown_text(screen)
            # Nothing of bo's is kept in the wall's recent posts: b1 and b2 never were, b0 is emptied.
            kept = b"".join(await actions.engine.recent("lobby", RECENT_KEPT))
            assert b"no photos" not in kept and b"bo again" not in kept and b"bo was here" not in kept
            assert b"Bo Private" not in kept
            # Nor in the figures: the wall counts what it shows.
            await screen.wait_for(lambda f: f["type"] == "stats" and f["total"] == 2)

            # Curators see the opt-out; only admins change the list.
            assert (await ana.login("ana")).status == 303 and (await root.login("root")).status == 303
            listed = (await (await ana.get("/console/api/w/lobby/optouts")).json())["optouts"]
            by_tag = sorted(o["author"] for o in listed if o["reason"] == "tag")
            assert by_tag == ["webhook:bo", "webhook:fay", "webhook:gus", "webhook:hal"]
            bo = next(o for o in listed if o["author"] == "webhook:bo")
            assert (bo["author"], bo["reason"], bo["by"]) == ("webhook:bo", "tag", "author")
            assert 29.9 * 86_400 < bo["until"] - time.time() <= 30 * 86_400
            page = await (await ana.get("/console/w/lobby/rules", html=True)).text()
            assert "webhook:bo" in page and "by the tag" in page and "End now" not in page
            refused = await ana.post("/console/api/w/lobby/optout", json={"author": "webhook:aino"})
            assert refused.status == 403

            # By request: an admin opts aino out; her post on screen is retracted at once, from the
            # spotlight too, and new screens' snapshots do not bring it back.
            a1 = next(f["post"]["id"] for f in screen.frames if f["type"] == "post")
            await actions.decide("lobby", a1, "ana", "spotlight", expected_version=None, seconds=600)
            await screen.wait_for(lambda f: f["type"] == "control" and (f["spotlight"] or {}).get("id") == a1)
            done = await root.post("/console/api/w/lobby/optout", json={"author": "webhook:aino"})
            assert done.status == 200, await done.text()
            await wait_gone(screen, {a1})
            await screen.wait_for(lambda f: f["type"] == "control" and f["spotlight"] is None)
            late = await Screen(s, base).connect()
            snapshot = (await late.wait_for(lambda f: f["type"] == "snapshot"))[0]
            assert "Lovely morning" not in json.dumps(snapshot) and snapshot["control"]["spotlight"] is None
            await late.close()
            await screen.wait_for(lambda f: f["type"] == "stats" and f["total"] == 1)
            audited = await store.audit.browse(AuditFilter(wall="lobby", action="optout.add"))
            assert [(r.actor, r.target, r.after["reason"]) for r in audited] == \
                [("root", "webhook:aino", "request"), ("root", "webhook:dana", "request")]  # newest first
            assert "End now" in await (await root.get("/console/w/lobby/rules", html=True)).text()
            ended = await root.post("/console/api/w/lobby/optout",
                                    form={"author": "webhook:aino", "undo": "true"})
            assert ended.status == 303  # the page's form goes back to the page
            assert "webhook:aino" not in [o["author"] for o in await actions.optouts("lobby")]

            # Dana's short opt-out ended by itself: her posts show again.
            await eventually(lambda: no_longer_listed(actions, "webhook:dana"), timeout=WAIT)
            await post(s, base, {"id": "d2", "text": "dana is back", "author": {"handle": "dana"}})
            await screen.wait_for(lambda f: f["type"] == "post" and f["post"]["source_id"] == "d2")

            # The command line: add, list, remove, each audited as "cli".
            await post(s, base, {"id": "e1", "text": "erin on screen", "author": {"handle": "erin"}})
            e1 = (await screen.wait_for(lambda f: f["type"] == "post" and f["post"]["source_id"] == "e1"))[0]
            argv = ["--config", str(config_file), "--wall", "lobby"]
            assert await asyncio.to_thread(main, ["optout", "add", *argv, "--author", "webhook:Erin"]) == 0
            assert "webhook:erin is opted out of wall lobby until" in capsys.readouterr().out
            await wait_gone(screen, {e1["post"]["id"]})  # memory engine: the writer finds it in the store
            assert await asyncio.to_thread(main, ["optout", "list", *argv]) == 0
            listing = capsys.readouterr().out
            assert "webhook:erin\trequest\tcli" in listing and "webhook:bo\ttag\tauthor" in listing
            assert await asyncio.to_thread(main, ["optout", "remove", *argv, "--author", "webhook:erin"]) == 0
            assert await asyncio.to_thread(main, ["optout", "add", *argv, "--author", "erin"]) == 2
            assert 'expected "network:handle"' in capsys.readouterr().err
            logged = [(r.action, r.actor) for r in await store.audit.browse(AuditFilter(wall="lobby"))]
            assert logged[:2] == [("optout.remove", "cli"), ("optout.add", "cli")]
            await screen.close()

        # A restart (a new writer takes the wall): the opt-outs are in the store, not in memory.
        again = console_app(cfg, store)
        async with serving(again) as base:
            screen = await Screen(s, base).connect()
            await post(s, base, {"id": "b3", "text": "bo after the restart", "author": {"handle": "bo"}})
            await post(s, base, {"id": "e2", "text": "erin after her opt-out ended",
                                 "author": {"handle": "erin"}})
            await screen.wait_for(lambda f: f["type"] == "post" and f["post"]["source_id"] == "e2")
            await settled(again[ACTIONS].engine, screen)
            assert "bo after" not in shown_text(screen)
            await screen.close()

