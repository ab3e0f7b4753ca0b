"""Bluesky through Jetstream: a fake Jetstream over a real WebSocket, the real connector."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest

from ingest.connector import Checkpoint, Delete, Item, SourceContext, Upsert
from ingest.sources import bluesky
from tests.fakes.bluesky import AppView, Jetstream
from tests.fakes.state import Memory
from wall.models import post_id

FIXTURE = Path(__file__).parent / "fixtures" / "bluesky" / "jetstream.jsonl"
MESSAGES = FIXTURE.read_bytes().splitlines()
PROFILES = {
    p["did"]: p
    for p in json.loads((FIXTURE.parent / "getProfiles.json").read_text())["profiles"]
}
AINO = "did:plc:z6ffbeguqhx3qzbdcu7b333e"


@pytest.fixture
async def appview() -> AsyncIterator[str]:
    """A local AppView answering from the fixture, so no test asks the real one."""
    fake = await AppView(PROFILES).run()
    yield fake.http
    await fake.stop()

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
    http: aiohttp.ClientSession, appview: str
) -> None:
    fake = await (Jetstream(MESSAGES)).run()
    try:
        options = bluesky.Options(
            endpoints=(f"{fake.ws}/subscribe",), hashtags=("nordlys",), keywords=("kestrel",), appview=appview
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
    http: aiohttp.ClientSession, appview: str
) -> None:
    jetstream = Jetstream(MESSAGES, close_after=8)  # the socket drops after 8 messages
    fake = await jetstream.run()
    try:
        options = bluesky.Options(
            endpoints=(f"{fake.ws}/subscribe",), hashtags=("nordlys",), keywords=("nordlys",), appview=appview
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


async def test_a_refusing_endpoint_fails_over_to_the_next(http: aiohttp.ClientSession, appview: str) -> None:
    healthy = Jetstream(MESSAGES)
    down, up = await Jetstream(MESSAGES, refuse=True).run(), await healthy.run()
    try:
        options = bluesky.Options(
            endpoints=(f"{down.ws}/subscribe", f"{up.ws}/subscribe"), hashtags=("nordlys",), appview=appview
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


def posted_at() -> dict[str, int]:
    """Each post's time_us in the fixture, by post id."""
    return {
        post_id("bluesky", bluesky.at_uri(m["did"], m["commit"]["rkey"])): m["time_us"]
        for m in map(json.loads, MESSAGES)
        if m["kind"] == "commit" and m["commit"]["operation"] == "create"
    }


def assert_in_order_and_never_checkpointed_past(items: list[Item]) -> None:
    times = posted_at()
    got = [times[i.post.id] for i in posts(items)]
    assert got == sorted(got), "posts keep Jetstream's order"
    checkpointed = 0
    for item in items:
        if isinstance(item, Checkpoint):
            checkpointed = int(item.cursor)
        elif isinstance(item, Upsert):
            assert times[item.post.id] > checkpointed, "a checkpoint never passes a post still waiting"


async def test_authors_show_with_handle_name_and_avatar_from_batched_appview_lookups(
    http: aiohttp.ClientSession,
) -> None:
    jetstream, appview = await Jetstream(MESSAGES).run(), AppView(PROFILES)
    fake_appview = await appview.run()
    try:
        options = bluesky.Options(
            endpoints=(f"{jetstream.ws}/subscribe",), hashtags=("nordlys",), keywords=("nordlys",),
            appview=fake_appview.http, profile_wait=10,
        )
        stream = bluesky.build("bsky", options, SourceContext(http, Memory(), {})).stream(None)
        items = await take(stream, until=nordlys_posts() + 2)  # and the two deletes
        await stream.aclose()
        authors = {i.post.source_id.split("/")[2]: i.post.author for i in posts(items)}
        aino = authors[AINO]
        assert (aino.name, aino.handle) == ("Aino Virtanen 🇫🇮", "aino-virtanen.bsky.social")
        assert aino.avatar_url == PROFILES[AINO]["avatar"]
        # an account the AppView does not know (taken down) keeps its DID; an invalid handle is not shown
        assert authors["did:plc:fo4solcnhxvpr7x6m3dkhyqc"].handle == "did:plc:fo4solcnhxvpr7x6m3dkhyqc"
        jonas = authors["did:plc:qy4qz7gjtj7eicgznpgtib54"]
        assert (jonas.name, jonas.handle) == ("Jonas", "did:plc:qy4qz7gjtj7eicgznpgtib54")
        asked = [did for call in appview.calls for did in call]
        assert sorted(asked) == sorted(set(asked)) == sorted(authors), "each author looked up once"
        assert all(len(call) <= 25 for call in appview.calls)
        assert any(len(call) > 1 for call in appview.calls), "authors are looked up in batches"
        assert_in_order_and_never_checkpointed_past(items)
    finally:
        await jetstream.stop()
        await fake_appview.stop()


async def test_a_silent_appview_delays_a_post_only_briefly_and_the_identity_handle_stands_in(
    http: aiohttp.ClientSession,
) -> None:
    appview = AppView(PROFILES)
    appview.gate.clear()  # it takes calls and never answers
    jetstream, fake_appview = await Jetstream(MESSAGES).run(), await appview.run()
    try:
        options = bluesky.Options(
            endpoints=(f"{jetstream.ws}/subscribe",), hashtags=("nordlys",), keywords=("nordlys",),
            appview=fake_appview.http, profile_wait=1.5,  # time enough to read the identity event
        )
        stream = bluesky.build("bsky", options, SourceContext(http, Memory(), {})).stream(None)
        items = await take(stream, until=nordlys_posts() + 2)
        await stream.aclose()
        authors = {i.post.source_id.split("/")[2]: i.post.author for i in posts(items)}
        # Aino's identity event came a few messages after her post, while the post waited for the AppView
        assert authors[AINO] == bluesky.Author(name="", handle="aino-virtanen.bsky.social")
        assert authors["did:plc:gtaunlqtcxh3cn6wqsv7qe3r"].handle == "did:plc:gtaunlqtcxh3cn6wqsv7qe3r"
        assert appview.calls, "the lookup was asked for"
        assert_in_order_and_never_checkpointed_past(items)
    finally:
        await jetstream.stop()
        await fake_appview.stop()


def test_a_null_or_odd_optional_field_keeps_the_post() -> None:
    handler = bluesky.Handler(bluesky.Matcher(hashtags=("nordlys",)))
    message = json.loads(MESSAGES[0])
    whole = handler.handle(MESSAGES[0])
    assert isinstance(whole, Upsert) and whole.post.lang == "en"

    def variant(**record: object) -> Upsert:
        m = json.loads(json.dumps(message))
        m["commit"]["record"].update(record)
        got = handler.handle(json.dumps(m))
        assert isinstance(got, Upsert)
        return got

    nulls = variant(langs=None, tags=None, labels={"values": None}).post
    assert nulls.lang is None and nulls.text == whole.post.text and nulls.entities == whole.post.entities
    assert nulls.media == whole.post.media
    odd = variant(langs="en", facets={"not": "a list"}).post  # wrong types: the text and date stay
    assert odd.text == whole.post.text and odd.created_at == whole.post.created_at and odd.lang is None


async def test_a_throttled_appview_is_asked_again_after_its_reset(http: aiohttp.ClientSession) -> None:
    appview = AppView(PROFILES, throttle_once=True)  # 429 with RateLimit-Reset a second ahead
    fake = await appview.run()
    profiles = bluesky.Profiles(http, fake.http, "wall-test", rate=50)
    lookups = asyncio.ensure_future(profiles.run())
    try:
        profiles.want(AINO)
        async with asyncio.timeout(10):
            await profiles.updated.wait()  # set only once a call was answered, not by the 429
        assert appview.calls == [[AINO], [AINO]]
        assert profiles.get(AINO) == bluesky.Profile(
            "aino-virtanen.bsky.social", "Aino Virtanen 🇫🇮", str(PROFILES[AINO]["avatar"]))
    finally:
        lookups.cancel()
        await fake.stop()
