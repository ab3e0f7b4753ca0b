"""An X source syncs its rules and follows the filtered stream through disconnects, stalls and limits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest

from ingest.connector import Delete, Item, SourceContext, SourceError, Throttled, Upsert
from ingest.sources import x
from tests.fakes.state import Memory
from tests.fakes.x import XServer, x_server

FAST = x.Backoff(network=0.01, network_max=0.05, http=0.05, http_max=0.2, rate=0.1)
RULES = [x.Rule(value='(nordlys OR #nordlys OR @nordlysphones OR "nordlys x3")', tag="brand:nordlys"),
         x.Rule(value="#nordlysx3 has:images", tag="brand:photos")]


@asynccontextmanager
async def setup(token: str = "x-bearer", stall: float = 5.0) -> AsyncIterator[tuple[XServer, x.XSource]]:
    async with x_server() as server, aiohttp.ClientSession() as http:
        options = x.Options(bearer_token_env="WALL_X_BEARER", rules=RULES, api_url=server.url,
                            stall_timeout=stall)
        ctx = SourceContext(http=http, state=Memory(), env={"WALL_X_BEARER": token})
        yield server, x.XSource("x", options, ctx, backoff=FAST)


async def take(source: x.XSource, upserts: int) -> list[Item]:
    """Items until `upserts` posts have arrived."""
    items: list[Item] = []
    async with asyncio.timeout(30):
        async for item in source.stream(None):
            items.append(item)
            if sum(isinstance(i, Upsert) for i in items) == upserts:
                return items
    raise AssertionError("the stream ended")


def posts(items: list[Item]) -> list[Upsert]:
    return [i for i in items if isinstance(i, Upsert)]


async def test_rules_are_synced_and_the_stream_becomes_posts_across_an_operational_disconnect():
    async with setup() as (server, source):
        server.plan = ["full", "full"]
        items = await take(source, 14)
        assert set(server.rules.values()) == {(r.value, r.tag) for r in RULES}
        assert server.connections[:2] == ["full", "full"]  # reconnected after operational-disconnect
        launch = posts(items)[0].post
        assert launch.source == "x" and launch.author.handle == "nordlysphones"
        assert launch.author.name == "Nordlys Phones"
        assert launch.url == "https://x.com/nordlysphones/status/2032003672568829685"
        assert launch.media[0].url == "https://pbs.twimg.com/media/EC31682FDE56191.jpg"
        assert launch.media[0].alt.startswith("The Nordlys X3 in Aurora Green")
        spans = {(e.kind, launch.text[e.start:e.end], e.value) for e in launch.entities}
        assert ("hashtag", "#nordlys", "nordlys") in spans and ("hashtag", "#NordlysX3", "NordlysX3") in spans
        target = "https://nordlys.example/x3?utm_source=x&utm_medium=social"
        assert ("link", "https://t.co/9Sz6ycuXcl", target) in spans
        japanese = posts(items)[1].post
        mention = next(e for e in japanese.entities if e.kind == "mention")
        assert japanese.text[mention.start:mention.end] == "@nordlysphones"
        assert all("&amp;" not in u.post.text for u in posts(items))
        edit = next(i for i in items if isinstance(i, Delete))
        assert edit.post_id == x.post_id("x", "2032004968608764071")  # the typo, replaced by its edit


async def test_a_malformed_line_is_skipped_and_a_cut_message_reconnects(caplog):
    async with setup() as (server, source):
        server.plan = ["malformed"]
        items = await take(source, 1)
        assert posts(items)[0].post.source_id == "2032004968608764071"
        assert "malformed message skipped" in caplog.text and server.url in caplog.text


async def test_a_message_cut_in_half_is_dropped_and_the_stream_reconnects():
    async with setup() as (server, source):
        server.plan = ["cut", "full"]
        items = await take(source, 2)
        assert [u.post.source_id for u in posts(items)] == ["2032003672568829685", "2032003672568829685"]
        assert server.connections[:2] == ["cut", "full"]


async def test_a_stall_reconnects():
    async with setup(stall=0.3) as (server, source):
        server.plan = ["stall", "full"]
        items = await take(source, 2)
        assert server.connections[:2] == ["stall", "full"]
        assert posts(items)[1].post.source_id == "2032003672568829685"


async def test_too_many_connections_throttles_and_an_upstream_error_backs_off_then_both_recover():
    async with setup() as (server, source):
        server.plan = ["429", "503", "full"]
        items = await take(source, 1)
        assert isinstance(items[0], Throttled) and "429 from 127.0.0.1" in items[0].reason
        assert server.connections[:3] == ["429", "503", "full"]


async def test_a_refused_token_names_the_variable():
    async with setup(token="wrong") as (_, source):
        with pytest.raises(SourceError, match=r"401 from 127\.0\.0\.1: the Bearer token in WALL_X_BEARER"):
            await take(source, 1)


def test_offsets_of_escaped_text_move_to_the_unescaped_text():
    text, index = x.unescape_with_offsets("a &amp; #b")
    assert text == "a & #b"
    entities = x.map_entities({"hashtags": [{"start": 8, "end": 10, "tag": "b"}]}, index, len(text))
    assert [(text[e.start:e.end], e.value) for e in entities] == [("#b", "b")]


def test_code_point_offsets_after_emoji_and_flags():
    text = "🇯🇵✨ #nordlys @x_y"
    _, index = x.unescape_with_offsets(text)
    found = x.map_entities({"hashtags": [{"start": 4, "end": 12, "tag": "nordlys"}],
                            "mentions": [{"start": 13, "end": 17, "username": "x_y"}],
                            "urls": [{"start": 0, "end": 2, "expanded_url": "javascript:alert(1)"}]},
                           index, len(text))
    assert [text[e.start:e.end] for e in found] == ["#nordlys", "@x_y"]
