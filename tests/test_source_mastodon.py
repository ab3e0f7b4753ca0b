"""Mastodon: a fake instance over real sockets (SSE stream, REST timeline), the real connector."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import msgspec
import pytest

from ingest.connector import Checkpoint, Delete, Item, Skipped, SourceContext, SourceError, Throttled, Upsert
from ingest.sources import mastodon
from ingest.sources.mastodon_html import html_to_text, text_and_entities
from tests.fakes.mastodon import Instance
from tests.fakes.state import Memory
from wall.models import post_id

FIXTURES = Path(__file__).parent / "fixtures" / "mastodon"
TIMELINE: list[dict[str, object]] = json.loads(
    (FIXTURES / "timelines_tag_nordlys.json").read_text()
) + json.loads((FIXTURES / "timelines_tag_nordlys_page2.json").read_text())
ENV = {"WALL_MASTODON_TOKEN": "good-token"}




async def take(
    stream: AsyncIterator[Item], done: Callable[[list[Item]], bool], timeout: float = 5.0
) -> list[Item]:
    items: list[Item] = []

    async def run() -> None:
        async for item in stream:
            items.append(item)
            if done(items):
                return

    await asyncio.wait_for(run(), timeout)
    return items


def upserts(items: list[Item]) -> list[Upsert]:
    return [i for i in items if isinstance(i, Upsert)]


def connector(
    http: aiohttp.ClientSession,
    url: str,
    env: dict[str, str] = ENV,
    backfill: int = 40,
    transport: str = "sse",
    state: Memory | None = None,
) -> mastodon.Mastodon:
    options = mastodon.Options(
        instance=url,
        hashtags=("nordlys",),
        token_env="WALL_MASTODON_TOKEN",
        backfill_limit=backfill,
        transport=transport,  # type: ignore[arg-type]
    )
    return mastodon.build("masto", options, SourceContext(http, state or Memory(), env))


async def test_live_posts_edits_and_deletes_arrive_as_plain_text(http: aiohttp.ClientSession) -> None:
    fake = await Instance().run()
    try:
        items = await take(
            connector(http, fake.http, backfill=0).stream(None), lambda i: len(upserts(i)) == 14
        )
        posts = upserts(items)
        assert len(posts) == 14  # 13 updates and the edit; the :) and :thump lines are skipped
        first = posts[0].post
        assert first.text.startswith("Uusi #Nordlys X3 saapui tänään!") and "<" not in first.text
        assert [(e.kind, first.text[e.start : e.end], e.value) for e in first.entities] == [
            ("hashtag", "#Nordlys", "Nordlys"),
            ("mention", "@nordlysphones", "nordlysphones"),
        ]
        assert (
            first.author.handle == "aino_virtanen@toot.example.fi" and first.author.name == "Aino Virtanen 🌲"
        )
        assert first.media[0].alt.startswith("Musta Nordlys X3")
        assert first.id == post_id(
            "mastodon", "https://toot.example.fi/users/aino_virtanen/statuses/116215154705170442"
        )
        ids = [p.post.id for p in posts]
        assert len(set(ids)) == 13, "the status.update is an Upsert of a post already shown"
        held = [p.post for p in posts if p.post.held]
        assert held and held[0].held == "content warning: Nordlys X3 teardown: swollen battery (photos)"
        edit = posts[8].post  # the fixture's 9th event is the status.update
        assert edit.id in ids[:8] and edit.text != posts[ids.index(edit.id)].post.text
        deletes = [i for i in items if isinstance(i, Delete)]
        assert len(deletes) == 1 and deletes[0].post_id in ids, "the deleted spam post was shown before"
    finally:
        await fake.stop()


async def test_the_websocket_transport_brings_the_same_posts(http: aiohttp.ClientSession) -> None:
    fake = await Instance().run()
    try:
        conn = connector(http, fake.http, backfill=0, transport="websocket")
        items = await take(conn.stream(None), lambda i: len(upserts(i)) == 14)
        assert upserts(items)[0].post.text.startswith("Uusi #Nordlys X3")
        assert len({u.post.id for u in upserts(items)}) == 13
        assert any(isinstance(i, Delete) for i in items)
    finally:
        await fake.stop()


async def test_a_restart_from_the_checkpoint_backfills_what_was_missed_oldest_first(
    http: aiohttp.ClientSession,
) -> None:
    by_age = sorted(TIMELINE, key=lambda s: int(str(s["id"])))
    instance = Instance(statuses=by_age[:6], sse=b":)\n")
    fake = await instance.run()
    try:
        first = await take(connector(http, fake.http).stream(None), lambda i: isinstance(i[-1], Checkpoint))
        cursor = first[-1]
        assert isinstance(cursor, Checkpoint) and cursor.cursor == by_age[5]["id"]
        seen = [u.post.source_id for u in upserts(first)]
        instance.statuses = by_age  # six more were posted while we were away
        second = await take(
            connector(http, fake.http).stream(cursor.cursor), lambda i: len(seen) + len(upserts(i)) >= 12
        )
        missed = [u.post.source_id for u in upserts(second)]
        assert missed == [s["uri"] for s in by_age[6:]], "oldest first, nothing before the cursor"
        assert len(set(seen + missed)) == 12
        assert any(f"min_id={cursor.cursor}" in r for r in instance.requests)
    finally:
        await fake.stop()


async def test_a_rate_limit_is_reported_then_waited_out(http: aiohttp.ClientSession) -> None:
    fake = await Instance(statuses=TIMELINE[:3], sse=b":)\n", throttle_once=True).run()
    try:
        items = await take(connector(http, fake.http).stream(None), lambda i: len(upserts(i)) == 3)
        assert isinstance(items[0], Throttled) and items[0].reason.startswith("429 from 127.0.0.1")
    finally:
        await fake.stop()


async def test_a_refused_token_and_a_failing_server_say_so_plainly(http: aiohttp.ClientSession) -> None:
    fake = await Instance().run()
    try:
        with pytest.raises(
            SourceError, match=r"^401 from 127\.0\.0\.1:\d+: the token in WALL_MASTODON_TOKEN was refused$"
        ):
            await take(
                connector(http, fake.http, env={"WALL_MASTODON_TOKEN": "wrong"}).stream(None), lambda i: False
            )
    finally:
        await fake.stop()
    broken = await Instance(fail_with=503).run()
    try:
        with pytest.raises(SourceError, match="503 from") as err:
            await take(connector(http, broken.http).stream(None), lambda i: False)
        assert err.value.retry_after
    finally:
        await broken.stop()


async def test_a_stream_cut_mid_event_and_a_malformed_event_are_skipped_and_logged(
    http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    bad = b'event: update\ndata: {"id": not json\n\n'
    fake = await Instance(cut_after=3, extra_events=[bad]).run()
    items: list[Item] = []
    try:
        with caplog.at_level(logging.WARNING), pytest.raises(SourceError, match="ended; reconnecting"):
            async for item in connector(http, fake.http, backfill=0).stream("1"):
                items.append(item)
        assert len(upserts(items)) == 3 and isinstance(items[-1], Checkpoint)
        assert any(isinstance(i, Skipped) and i.reason.startswith("DecodeError") for i in items)
        assert "cut mid-event" in caplog.text
    finally:
        await fake.stop()


def test_status_html_becomes_text_with_spans() -> None:
    html = (
        "<p>Ett &amp; två &#39;tre&#39;<br />rad "
        '<a href="https://ex.example/tags/nordlys" class="mention hashtag">#<span>Nordlys</span></a></p>'
        '<p><a href="https://news.example/a/very/long/path"><span class="invisible">https://</span>'
        '<span class="ellipsis">news.example/a/very</span><span class="invisible">/long/path</span></a></p>'
    )
    text, entities = text_and_entities(html)
    assert text == "Ett & två 'tre'\nrad #Nordlys\n\nnews.example/a/very"
    assert [(e.kind, text[e.start : e.end], e.value) for e in entities] == [
        ("hashtag", "#Nordlys", "Nordlys"),
        ("link", "news.example/a/very", "https://news.example/a/very/long/path"),
    ]
    assert html_to_text("<p><script>x</script>ok</p>") == "xok"


async def test_a_delete_after_a_restart_still_finds_the_post_it_names(http: aiohttp.ClientSession) -> None:
    state = Memory()  # the source's state in the store, kept across the restart
    first = await Instance(cut_after=DELETE_EVENT).run()  # the link drops just before the delete
    try:
        items = await take(connector(http, first.http, backfill=0, state=state).stream(None),
                           lambda i: any(isinstance(x, Checkpoint) for x in i))
        shown = {u.post.id for u in upserts(items)}
    finally:
        await first.stop()
    again = await Instance(sse=b":)\nevent: delete\ndata: 116215211891359784\n\n").run()
    try:  # a new process: nothing in memory, only what the store kept
        items = await take(connector(http, again.http, backfill=0, state=state).stream(None),
                           lambda i: any(isinstance(x, Delete) for x in i))
        (deleted,) = [i for i in items if isinstance(i, Delete)]
        assert deleted.post_id in shown
    finally:
        await again.stop()


DELETE_EVENT = [e.split(b"\n")[0] for e in (FIXTURES / "streaming.sse").read_bytes().split(b"event: ")[1:]
                ].index(b"delete")


async def test_undoing_a_boost_leaves_the_original_and_deleting_the_original_retracts_it(
    http: aiohttp.ClientSession,
) -> None:
    # someone boosts a post, undoes the boost (a delete of the boost's own id), then the author deletes it
    fake = await Instance(sse=(FIXTURES / "streaming_unboost.sse").read_bytes()).run()
    try:
        items = await take(connector(http, fake.http, backfill=0).stream(None),
                           lambda i: any(isinstance(x, Delete) for x in i))
        original = post_id("mastodon", str(TIMELINE[0]["uri"]))
        sentinel = post_id("mastodon", str(TIMELINE[1]["uri"]))
        shown = [(type(i).__name__, i.post.id if isinstance(i, Upsert) else i.post_id)
                 for i in items if isinstance(i, Upsert | Delete)]
        assert shown == [("Upsert", original), ("Upsert", sentinel), ("Delete", original)]
    finally:
        await fake.stop()


def test_lists_headings_code_and_quotes_keep_their_lines_and_the_quote_fallback_is_hidden() -> None:
    post = mastodon.normalize(msgspec.json.decode((FIXTURES / "status_quote_rich.json").read_bytes(),
                                                  type=mastodon.Status))
    assert post.text == (
        "Check out:\n• Foo\n• Bar\n\nBattery test\nidle: 41 h\nvideo: 19 h\n\nBest battery this year\n"
        "1. charge\n2. repeat\n\n#Nordlys"
    )
    assert "RE:" not in post.text and "social.example.de" not in post.text
    assert [(e.kind, post.text[e.start : e.end]) for e in post.entities] == [("hashtag", "#Nordlys")]
    # the older fallback, a span inside the last paragraph, is hidden too
    assert html_to_text('<p>Same here<span class="quote-inline"><br><br>RE: <a href="https://a.example/1">'
                        "a.example/1</a></span></p>") == "Same here"
