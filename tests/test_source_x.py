"""An X source syncs its rules and follows the filtered stream through disconnects, stalls and limits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import aiohttp
import pytest

from ingest.connector import Delete, Item, Skipped, SourceContext, SourceError, Throttled, Upsert
from ingest.sanitize import sanitize
from ingest.sources import x
from tests.fakes.state import Memory
from tests.fakes.x import XServer, x_server
from wall.models import Post

RULES = [x.Rule(value='(nordlys OR #nordlys OR @nordlysphones OR "nordlys x3")', tag="brand:nordlys"),
         x.Rule(value="#nordlysx3 has:images", tag="brand:photos")]


@asynccontextmanager
async def setup(token: str = "x-bearer", stall: float = 5.0) -> AsyncIterator[tuple[XServer, x.XSource]]:
    async with x_server() as server, aiohttp.ClientSession() as http:
        options = x.Options(bearer_token_env="WALL_X_BEARER", rules=RULES, api_url=server.url,
                            stall_timeout=stall)
        ctx = SourceContext(http=http, state=Memory(), env={"WALL_X_BEARER": token})
        yield server, x.XSource("x", options, ctx)


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


async def test_a_malformed_line_is_skipped_and_the_stream_goes_on():
    async with setup() as (server, source):
        server.plan = ["malformed"]
        items = await take(source, 1)
        assert posts(items)[0].post.source_id == "2032004968608764071"
        (skipped,) = [i for i in items if isinstance(i, Skipped)]  # the supervisor logs and counts it
        assert skipped.reason.startswith("BadJSON")


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


async def test_too_many_connections_throttles_and_an_upstream_error_is_named_then_both_recover():
    async with setup() as (server, source):
        server.plan = ["429", "503", "full"]
        items: list[Item] = []
        with pytest.raises(SourceError, match=r"503 from 127\.0\.0\.1: the server failed"):
            async for item in source.stream(None):  # the supervisor waits out the Throttled
                items.append(item)
        assert isinstance(items[0], Throttled) and "429 from 127.0.0.1" in items[0].reason
        assert items[0].until == 1773303300  # X's x-rate-limit-reset
        await take(source, 1)  # the supervisor calls stream() again after its backoff
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
    post = sanitize(Post(id="1", source="x", source_id="1", text=text, created_at=datetime.now(UTC),
                         entities=found))
    assert [text[e.start:e.end] for e in post.entities] == ["#nordlys", "@x_y"]  # no javascript: link


async def test_compliance_deletes_drops_and_withholdings_retract_the_post_beside_the_filtered_stream():
    async with x_server() as server, aiohttp.ClientSession() as http:
        server.plan = ["full"]
        options = x.Options(bearer_token_env="WALL_X_BEARER", rules=RULES, api_url=server.url,
                            compliance_partitions=(1, 2))
        ctx = SourceContext(http=http, state=Memory(), env={"WALL_X_BEARER": "x-bearer"})
        source = x.XSource("x", options, ctx)
        items: list[Item] = []
        retracted = {x.post_id("x", i) for i in ("2032007694906366258", "2032005757137917668",
                                                 "2032007204172797344", "2032004968608764071")}
        async with asyncio.timeout(10):
            async for item in source.stream(None):
                items.append(item)
                if sum(isinstance(i, Upsert) for i in items) >= 13 and retracted <= {
                        i.post_id for i in items if isinstance(i, Delete)}:
                    break
        assert sorted(server.partitions) == ["1", "2"]
        reasons = {i.post_id: i.reason for i in items if isinstance(i, Delete)}
        assert reasons[x.post_id("x", "2032007694906366258")] == "deleted"  # the giveaway spam
        assert reasons[x.post_id("x", "2032005757137917668")] == "removed"  # dropped (and later undropped)
        assert reasons[x.post_id("x", "2032007204172797344")] == "removed"  # withheld in some countries
        assert x.post_id("x", "2032005933298686359") not in reasons, "the edit's newest version stays"


def test_a_post_carrying_a_withheld_field_is_no_compliance_event():
    post = {"data": {"id": "1", "text": "hi", "withheld": {"copyright": False, "country_codes": ["DE"]}}}
    assert x.compliance_deletes(post) is None
    assert x.compliance_deletes({"delete": {"tweet": {"id": "7", "author_id": "2"}}}) == [
        Delete(x.post_id("x", "7"), "deleted")]
