"""Bluesky through Jetstream: a fake Jetstream over a real WebSocket, the real connector."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp

from ingest.connector import Checkpoint, Delete, Item, SourceContext, Upsert
from ingest.sources import bluesky
from tests.fakes.bluesky import Jetstream
from tests.fakes.state import Memory
from wall.models import post_id

FIXTURE = Path(__file__).parent / "fixtures" / "bluesky" / "jetstream.jsonl"
MESSAGES = FIXTURE.read_bytes().splitlines()




async def take(
    stream: AsyncIterator[Item],
    until: int = 0,
    checkpoint: bool = False,
    done: Callable[[list[Item]], bool] = lambda items: False,
    timeout: float = 5.0,
) -> list[Item]:
    """Items until `until` posts/deletes came, or the first checkpoint (the others ride along)."""
    items: list[Item] = []

    async def run() -> None:
        async for item in stream:
            items.append(item)
            if (checkpoint and isinstance(item, Checkpoint)) or done(items):
                return
            if until and sum(isinstance(i, Upsert | Delete) for i in items) >= until:
                return

    await asyncio.wait_for(run(), timeout)
    return items


def posts(items: list[Item]) -> list[Upsert]:
    return [i for i in items if isinstance(i, Upsert)]


def nordlys_posts() -> int:
    """Posts with the word or tag nordlys (#NordlysX3 is another tag), read straight from the file."""
    n = 0
    for raw in MESSAGES:
        rec = json.loads(raw).get("commit", {}).get("record")
        if rec and re.search(
            r"(?<!\w)#?nordlys(?!\w)", rec["text"] + " ".join("#" + t for t in rec.get("tags", [])), re.I
        ):
            n += 1
    return n


async def test_matching_posts_arrive_with_code_point_spans_and_every_delete(
    http: aiohttp.ClientSession,
) -> None:
    fake = await (Jetstream(MESSAGES)).run()
    try:
        options = bluesky.Options(
            endpoints=(f"{fake.ws}/subscribe",), hashtags=("nordlys",), keywords=("kestrel",)
        )
        conn = bluesky.build("bsky", options, SourceContext(http, Memory(), {}))
        deletes = sum(b'"operation":"delete"' in m for m in MESSAGES)
        items = await take(conn.stream(None), until=deletes + 3)
        first = posts(items)[0].post
        assert first.text.startswith("🚀✨ Unboxing my #Nordlys X3")
        tag = next(e for e in first.entities if e.kind == "hashtag")
        assert first.text[tag.start : tag.end] == "#Nordlys" and tag.value == "Nordlys"
        mention = next(e for e in first.entities if e.kind == "mention")
        assert first.text[mention.start : mention.end] == "@nordlys.example"
        assert first.media[0].url.startswith("https://cdn.bsky.app/img/feed_fullsize/plain/did:plc:z6ff")
        assert first.media[0].alt.startswith("Nordlys X3 in its recycled-cardboard box")
        assert first.source == "bluesky" and first.source_id.startswith("at://did:plc:z6ff")
        assert "<" not in first.text
    finally:
        await fake.stop()


async def test_a_restart_from_the_checkpoint_loses_nothing_and_repeats_only_the_overlap(
    http: aiohttp.ClientSession,
) -> None:
    jetstream = Jetstream(MESSAGES, close_after=8)  # the socket drops after 8 messages
    fake = await jetstream.run()
    try:
        options = bluesky.Options(
            endpoints=(f"{fake.ws}/subscribe",), hashtags=("nordlys",), keywords=("nordlys",)
        )
        ctx = SourceContext(http, Memory(), {})
        first = await take(bluesky.build("bsky", options, ctx).stream(None), checkpoint=True)
        saved = first[-1].cursor  # type: ignore[union-attr]
        assert int(saved) == json.loads(MESSAGES[7])["time_us"]
        seen = {i.post.id for i in posts(first)}
        assert 0 < len(seen) < nordlys_posts()

        def all_seen(items: list[Item]) -> bool:
            return len(seen | {i.post.id for i in posts(items)}) >= nordlys_posts()

        second = await take(bluesky.build("bsky", options, ctx).stream(saved), done=all_seen)
        assert int(jetstream.cursors[-1] or 0) == int(saved) - bluesky.REWIND_US
        again = [i.post.id for i in posts(second) if i.post.id in seen]
        assert again, "the 5 s rewind repeats the last posts before the cursor"
        seen |= {i.post.id for i in posts(second)}
        assert len(seen) == nordlys_posts()
    finally:
        await fake.stop()


async def test_a_refusing_endpoint_fails_over_to_the_next(http: aiohttp.ClientSession) -> None:
    healthy = Jetstream(MESSAGES)
    down, up = await Jetstream(MESSAGES, refuse=True).run(), await healthy.run()
    try:
        options = bluesky.Options(
            endpoints=(f"{down.ws}/subscribe", f"{up.ws}/subscribe"), hashtags=("nordlys",)
        )
        items = await take(
            bluesky.build("bsky", options, SourceContext(http, Memory(), {})).stream(None), until=1
        )
        assert posts(items) and healthy.cursors == [None]
    finally:
        await down.stop()
        await up.stop()


def test_facet_byte_offsets_become_code_point_spans_across_emoji_and_cjk() -> None:
    text = "👩‍💻 新しい #ノルリス と @a.example https://x.example"
    raw = text.encode()

    def span(part: str) -> bluesky._Index:
        start = raw.index(part.encode())
        return bluesky._Index(start, start + len(part.encode()))

    facets = [
        bluesky._Facet(span("#ノルリス"), [bluesky._Feature("app.bsky.richtext.facet#tag", tag="ノルリス")]),
        bluesky._Facet(
            span("@a.example"), [bluesky._Feature("app.bsky.richtext.facet#mention", did="did:plc:a")]
        ),
        bluesky._Facet(
            span("https://x.example"),
            [bluesky._Feature("app.bsky.richtext.facet#link", uri="https://x.example/")],
        ),
        bluesky._Facet(bluesky._Index(1, 3), [bluesky._Feature("app.bsky.richtext.facet#tag", tag="bad")]),
    ]
    got = [(e.kind, text[e.start : e.end], e.value) for e in bluesky.facet_entities(text, facets)]
    assert got == [
        ("hashtag", "#ノルリス", "ノルリス"),
        ("mention", "@a.example", "a.example"),
        ("link", "https://x.example", "https://x.example/"),
    ]


def test_deletes_pass_for_every_post_and_other_collections_are_dropped() -> None:
    handler = bluesky.Handler(bluesky.Matcher(keywords=("nordlys",)))
    head = b'{"did":"did:plc:x","time_us":%d,"kind":"commit","commit":'
    delete = head % 5 + b'{"operation":"delete","collection":"app.bsky.feed.post","rkey":"r1"}}'
    like = head % 6 + b'{"operation":"create","collection":"app.bsky.feed.like","rkey":"r2","record":{}}}'
    assert handler.handle(delete) == Delete(post_id("bluesky", "at://did:plc:x/app.bsky.feed.post/r1"))
    assert handler.handle(like) is None and handler.last_time_us == 6
