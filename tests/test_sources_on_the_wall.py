"""A wall fed by real source protocols (local servers speaking them) to the screens: for every connector a
post reaches a screen, an edit updates it and a delete retracts it, where the network has them."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from ingest.registry import REGISTRY
from ingest.sources.bluesky import at_uri
from tests.fakes import youtube as yt
from tests.fakes.bluesky import Jetstream
from tests.fakes.lemmy import LemmyInstance
from tests.fakes.mastodon import FIXTURES, Instance
from tests.fakes.pixelfed import PixelfedInstance
from tests.fakes.reddit import reddit_server
from tests.fakes.rss import feed_server
from tests.fakes.threads import TOKEN as THREADS_TOKEN
from tests.fakes.threads import ThreadsApi
from tests.fakes.twitch import ChatServer
from tests.fakes.x import x_server
from tests.helpers import (
    HEALTH_AUTH,
    HEALTH_TOKEN,
    HEALTH_TOKEN_ENV,
    WAIT,
    Screen,
    running_node,
    temp_store_url,
)
from tests.test_connector_contract import (
    JETSTREAM,
    NOT_NETWORKS,
    REDDIT_NEWEST,
    REDDIT_REMOVED,
    RSS_REVIEW,
    TIMELINE,
    MastodonAdapter,
    jetstream,
    privmsg,
)
from wall.app import parse_config
from wall.models import post_id


def config(instance: str) -> dict[str, Any]:
    return {
        "stats_interval": 0.5,
        "web": {"health_token_env": HEALTH_TOKEN_ENV},
        "store": {"url": temp_store_url()},
        "walls": {"lobby": {"title": "Lobby", "terms": ["nordlys"]}},
        "sources": {"fedi": {"type": "mastodon", "walls": ["lobby"], "instance": instance,
                             "hashtags": ["nordlys"], "token_env": "WALL_MASTODON_TOKEN",
                             "backfill_limit": 0}},
    }


def last_toot() -> bytes:
    """One more update event, made from the recording's last one."""
    events = (FIXTURES / "streaming.sse").read_text().split("\n\n")
    updates = [e for e in events if e.startswith("event: update")]
    status = json.loads(updates[-1].split("data: ", 1)[1])
    status |= {"id": "116215281562999999", "uri": "https://toot.example.fi/users/aino_virtanen/statuses/1",
               "url": "https://toot.example.fi/@aino_virtanen/1", "edited_at": None,
               "content": "<p>The last toot #nordlys</p>"}
    return f"event: update\ndata: {json.dumps(status)}\n\n".encode()


async def test_mastodon_posts_edits_and_deletes_reach_the_screen_and_held_posts_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WALL_MASTODON_TOKEN", "good-token")
    monkeypatch.setenv(HEALTH_TOKEN_ENV, HEALTH_TOKEN)
    fake = await Instance(sse=(FIXTURES / "streaming.sse").read_bytes() + last_toot()).run()
    try:
        async with running_node(parse_config(config(fake.http))) as base, aiohttp.ClientSession() as s:
            screen = await Screen(s, base).connect()
            await screen.wait_for(lambda f: f["type"] == "retract", timeout=60)
            # A toot after the recorded stream: once it shows, the rest of the stream was read and nothing
            # of it can still show twice.
            await screen.wait_for(lambda f: f["type"] == "post" and "The last toot" in f["post"]["text"])
            shown = [f["post"] for f in screen.frames if f["type"] == "post"]
            ids = [p["id"] for p in shown]
            assert len(ids) == len(set(ids)) >= 8
            assert all("<" not in p["text"] for p in shown)  # HTML became text
            assert not any("teardown" in p["text"] for p in shown)  # behind a content warning: held
            updates = [f["post"] for f in screen.frames if f["type"] == "update"]
            assert updates and all(u["id"] in ids for u in updates)  # the edit replaced a shown post
            (retract,) = [f for f in screen.frames if f["type"] == "retract"]
            assert retract["post_id"] in ids
            async with asyncio.timeout(WAIT):  # the health record is refreshed every 2 s
                while True:
                    async with s.get(f"{base}/healthz", headers=HEALTH_AUTH) as r:
                        (source,) = (await r.json())["walls"]["lobby"]["sources"]
                    if source["posts"] >= len(ids):
                        break
                    await asyncio.sleep(0.2)
            assert source["name"] == "fedi"
    finally:
        await fake.stop()


async def test_a_refused_token_is_named_in_healthz_and_the_wall_keeps_serving(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WALL_MASTODON_TOKEN", "wrong")
    monkeypatch.setenv(HEALTH_TOKEN_ENV, HEALTH_TOKEN)
    fake = await Instance().run()
    try:
        async with running_node(parse_config(config(fake.http))) as base, aiohttp.ClientSession() as s:
            async with asyncio.timeout(WAIT):
                while True:
                    async with s.get(f"{base}/healthz", headers=HEALTH_AUTH) as r:
                        health = await r.json()
                    sources = health["walls"]["lobby"]["sources"]
                    if sources and sources[0]["state"] == "failing":
                        break
                    await asyncio.sleep(0.1)
            assert health["status"] == "degraded"
            assert "the token in WALL_MASTODON_TOKEN was refused" in sources[0]["error"]
            assert any("WALL_MASTODON_TOKEN" in p for p in health["problems"])
            async with s.get(f"{base}/w/lobby") as r:
                assert r.status == 200
    finally:
        await fake.stop()


@dataclass
class Scenario:
    """A source on a local server: what its table in the config says, and what the screen must see."""

    source: dict[str, Any]
    shown: str  # post id that reaches the screen
    edited: str | None = None  # post id that comes again as an update
    retracted: str | None = None  # post id taken off the screen
    then: Callable[[], None] | None = None  # what changes at the source once `shown` is on the screen
    skipped: int = 0  # poison messages the source's health must count


async def bluesky_scenario(stack: AsyncExitStack) -> Scenario:
    did = JETSTREAM[0]["did"]
    messages = [jetstream(0, "create", "a", "First #Nordlys post"),
                jetstream(1, "create", "b", "Second #Nordlys post"),
                jetstream(2, "create", "m", "#Nordlys").replace(b'"text": "#Nordlys"', b'"text": 5'),
                jetstream(4, "update", "a", "First #Nordlys post, edited"),
                jetstream(5, "delete", "b")]
    fake = await Jetstream(messages).run()
    stack.push_async_callback(fake.stop)
    uri = lambda rkey: post_id("bluesky", at_uri(did, rkey))  # noqa: E731
    return Scenario({"type": "bluesky", "endpoints": [f"{fake.ws}/subscribe"], "hashtags": ["nordlys"]},
                    shown=uri("a"), edited=uri("a"), retracted=uri("b"), skipped=1)


async def mastodon_scenario(stack: AsyncExitStack) -> Scenario:
    fake = await Instance().run()
    stack.push_async_callback(fake.stop)
    expected = MastodonAdapter()
    return Scenario({"type": "mastodon", "instance": fake.http, "hashtags": ["nordlys"],
                     "token_env": "WALL_MASTODON_TOKEN", "backfill_limit": 0},
                    shown=expected.sentinel, edited=expected.edited, retracted=expected.deleted)


async def twitch_scenario(stack: AsyncExitStack) -> Scenario:
    lines = [privmsg("a", "First #Nordlys line"), privmsg("b", "Second line"),
             "@login=aino;room-id=1;target-msg-id=b;tmi-sent-ts=1773302536000"
             " :tmi.twitch.tv CLEARMSG #nordlysphones :Second line"]
    fake = await ChatServer(lines).run()
    stack.push_async_callback(fake.stop)
    return Scenario({"type": "twitch", "channels": ["nordlysphones"], "server": fake.ws},
                    shown=post_id("twitch", "a"), retracted=post_id("twitch", "b"))


async def x_scenario(stack: AsyncExitStack) -> Scenario:
    server = await stack.enter_async_context(x_server())
    server.plan = ["full"]
    return Scenario({"type": "x", "bearer_token_env": "WALL_X_BEARER", "api_url": server.url,
                     "rules": [{"value": "nordlys"}]},
                    shown=post_id("x", "2032004968608764071"),
                    retracted=post_id("x", "2032004968608764071"))  # replaced by its edit


async def reddit_scenario(stack: AsyncExitStack) -> Scenario:
    server = await stack.enter_async_context(reddit_server())

    def change() -> None:
        server.edit(REDDIT_NEWEST, "Update: battery is fine after the 1.0.3 patch.")
        server.remove(REDDIT_REMOVED)

    return Scenario({"type": "reddit", "client_id_env": "REDDIT_ID", "client_secret_env": "REDDIT_SECRET",
                     "query": "nordlys", "interval": 10, "auth_url": f"{server.url}/api/v1/access_token",
                     "api_url": server.url},
                    shown=post_id("reddit", REDDIT_NEWEST), edited=post_id("reddit", REDDIT_NEWEST),
                    retracted=post_id("reddit", REDDIT_REMOVED), then=change)


async def rss_scenario(stack: AsyncExitStack) -> Scenario:
    # A feed names no deletes, and an edit shows at the next poll (30 s at the least): the contract suite
    # proves the RSS edit at the connector; here the feed's post reaches the screen.
    server = await stack.enter_async_context(feed_server())
    return Scenario({"type": "rss", "feeds": [f"{server.url}/feed.rss"]}, shown=post_id("rss", RSS_REVIEW))


async def youtube_scenario(stack: AsyncExitStack) -> Scenario:
    chat = yt.LiveChat()
    chat.interval_ms = 200
    fake = await chat.run()
    stack.push_async_callback(fake.stop)
    deleted = chat.items[6]["snippet"]["messageDeletedDetails"]["deletedMessageId"]
    return Scenario({"type": "youtube", "live_chat_id": chat.chat_id, "api_key_env": "WALL_YOUTUBE_KEY",
                     "api_url": fake.http, "min_interval": 0.2},
                    shown=post_id("youtube", chat.items[0]["id"]), retracted=post_id("youtube", deleted))


async def threads_scenario(stack: AsyncExitStack) -> Scenario:
    # Threads allows one query per 40 s at the most: the contract suite proves the edit at the connector.
    api = ThreadsApi()
    fake = await api.run()
    stack.push_async_callback(fake.stop)
    return Scenario({"type": "threads", "query": "nordlys", "token_env": "WALL_THREADS_TOKEN",
                     "api_url": f"{fake.http}/v1.0"}, shown=post_id("threads", api.posts[0]["id"]))


async def lemmy_scenario(stack: AsyncExitStack) -> Scenario:
    instance = LemmyInstance()
    fake = await instance.run()
    stack.push_async_callback(fake.stop)
    post, comment = "https://lemmy.example/post/1201", "https://lemmy.example/comment/5502"

    def change() -> None:
        instance.view(post)["body"] += "\n\nEdit: the battery figure is fixed."
        instance.view(comment)["removed"] = True

    return Scenario({"type": "lemmy", "instance": fake.http, "query": "nordlys", "communities": ["nordlys"],
                     "interval": 10},
                    shown=post_id("lemmy", post), edited=post_id("lemmy", post),
                    retracted=post_id("lemmy", comment), then=change)


async def pixelfed_scenario(stack: AsyncExitStack) -> Scenario:
    instance = PixelfedInstance()
    fake = await instance.run()
    stack.push_async_callback(fake.stop)
    uris = {st["id"]: st["uri"] for st in instance.statuses}

    def change() -> None:
        instance.edit("742001553010000004", "<p>Aurora over Tromsø, edited: handheld after all</p>")
        instance.delete("742001553010000003")

    return Scenario({"type": "pixelfed", "instance": fake.http, "hashtags": ["nordlys"], "interval": 1},
                    shown=post_id("pixelfed", uris["742001553010000004"]),
                    edited=post_id("pixelfed", uris["742001553010000004"]),
                    retracted=post_id("pixelfed", uris["742001553010000003"]), then=change)


SCENARIOS = {"bluesky": bluesky_scenario, "mastodon": mastodon_scenario, "twitch": twitch_scenario,
             "x": x_scenario, "reddit": reddit_scenario, "rss": rss_scenario, "youtube": youtube_scenario,
             "threads": threads_scenario, "lemmy": lemmy_scenario, "pixelfed": pixelfed_scenario}
ENV = {"WALL_MASTODON_TOKEN": "good-token", "WALL_X_BEARER": "x-bearer", "REDDIT_ID": "app-id",
       "REDDIT_SECRET": "app-secret", "WALL_YOUTUBE_KEY": yt.KEY, "WALL_THREADS_TOKEN": THREADS_TOKEN,
       HEALTH_TOKEN_ENV: HEALTH_TOKEN}


def test_every_pulled_connector_has_a_wall_story():
    pulled = {t for t, spec in REGISTRY.items() if spec.build is not None} - set(NOT_NETWORKS)
    assert set(SCENARIOS) == pulled


@pytest.mark.parametrize("network", sorted(SCENARIOS))
async def test_a_post_reaches_the_screen_an_edit_updates_it_and_a_delete_retracts_it(
    network: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    async with AsyncExitStack() as stack:
        story = await SCENARIOS[network](stack)
        cfg = {"stats_interval": 0.5, "store": {"url": temp_store_url()},
               "web": {"health_token_env": HEALTH_TOKEN_ENV}, "walls": {"lobby": {"title": "Lobby"}},
               "sources": {"src": {**story.source, "walls": ["lobby"]}}}
        async with running_node(parse_config(cfg)) as base, aiohttp.ClientSession() as s:
            screen = await Screen(s, base).connect()
            await screen.wait_for(lambda f: f["type"] == "post" and f["post"]["id"] == story.shown,
                                  timeout=30)
            if story.then is not None:
                story.then()
            if story.edited is not None:
                await screen.wait_for(lambda f: f["type"] == "update" and f["post"]["id"] == story.edited,
                                      timeout=30)
            if story.retracted is not None:
                await screen.wait_for(lambda f: f["type"] == "retract" and f["post_id"] == story.retracted,
                                      timeout=30)
            shown = [f["post"] for f in screen.frames if f["type"] == "post"]
            assert all(p["source"] == REGISTRY[network].network for p in shown)
            async with asyncio.timeout(15):  # the health record is refreshed every 2 s
                while True:
                    async with s.get(f"{base}/healthz", headers=HEALTH_AUTH) as r:
                        (health,) = (await r.json())["walls"]["lobby"]["sources"]
                    if health["posts"] >= len(shown) and health["skipped"] >= story.skipped:
                        break
                    await asyncio.sleep(0.2)
            assert health["state"] == "running"


async def test_the_supervisor_waits_out_a_rate_limit_before_the_source_asks_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WALL_MASTODON_TOKEN", "good-token")
    monkeypatch.setenv(HEALTH_TOKEN_ENV, HEALTH_TOKEN)
    asked: list[float] = []

    class Timed(Instance):
        async def timeline(self, request: web.Request) -> web.Response:
            asked.append(time.monotonic())
            return await super().timeline(request)

    fake = await Timed(statuses=list(TIMELINE), throttle_once=True).run()  # 429 with Retry-After: 1
    try:
        cfg = config(fake.http)
        cfg["sources"]["fedi"]["backfill_limit"] = 5
        async with running_node(parse_config(cfg)) as base, aiohttp.ClientSession() as s:
            screen = await Screen(s, base).connect()
            await screen.wait_posts(1, timeout=30)
            assert len(asked) >= 2 and asked[1] - asked[0] >= 0.9  # the connector itself never sleeps
    finally:
        await fake.stop()
