"""Bluesky through Jetstream: one WebSocket of every new post, matched against keywords here.

Jetstream has no server-side text filter, so every post on the network passes `handle()`; it decodes
only the fields it needs and drops a non-matching post before building anything.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated

import aiohttp
import msgspec

from ingest.connector import (
    Checkpoint,
    ConnectorSpec,
    Delete,
    Item,
    SourceContext,
    SourceError,
    Upsert,
    guard,
)
from wall.bus.base import backoff
from wall.models import Author, Entity, Media, Post, post_id

log = logging.getLogger(__name__)

POST = "app.bsky.feed.post"
REWIND_US = 5_000_000  # Jetstream's time_us is only roughly ordered; the overlap is absorbed by dedupe
CHECKPOINT_SECONDS = 1.0
CHECKPOINT_MESSAGES = 500
DEFAULT_ENDPOINTS = (
    "wss://jetstream1.us-east.bsky.network/subscribe",
    "wss://jetstream2.us-east.bsky.network/subscribe",
    "wss://jetstream1.us-west.bsky.network/subscribe",
    "wss://jetstream2.us-west.bsky.network/subscribe",
)


class Options(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    endpoints: Annotated[tuple[str, ...], msgspec.Meta(min_length=1)] = DEFAULT_ENDPOINTS
    keywords: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()  # handles or DIDs
    connect_timeout: Annotated[float, msgspec.Meta(gt=0, le=120)] = 10.0


# Only what handle() reads; msgspec skips every other field without building it.


class _Index(msgspec.Struct):
    byteStart: int = 0
    byteEnd: int = 0


class _Feature(msgspec.Struct):
    type: str = msgspec.field(default="", name="$type")
    tag: str = ""
    did: str = ""
    uri: str = ""


class _Facet(msgspec.Struct):
    index: _Index = msgspec.field(default_factory=_Index)
    features: list[_Feature] = []


class _Ref(msgspec.Struct):
    link: str = msgspec.field(default="", name="$link")


class _Blob(msgspec.Struct):
    ref: _Ref = msgspec.field(default_factory=_Ref)


class _Image(msgspec.Struct):
    alt: str = ""
    image: _Blob | None = None


class _Images(msgspec.Struct):
    images: list[_Image] = []


class _Embed(msgspec.Struct):
    type: str = msgspec.field(default="", name="$type")
    images: list[_Image] = []
    media: _Images | None = None  # recordWithMedia


class _SelfLabel(msgspec.Struct):
    val: str = ""


class _Labels(msgspec.Struct):
    values: list[_SelfLabel] = []


class _Record(msgspec.Struct):
    text: str = ""
    createdAt: str = ""
    facets: list[_Facet] = []
    tags: list[str] = []
    langs: list[str] = []
    embed: _Embed | None = None
    labels: _Labels | None = None


class _Commit(msgspec.Struct):
    operation: str = ""
    collection: str = ""
    rkey: str = ""
    record: msgspec.Raw = msgspec.Raw(b"")  # decoded only once the text matched


class _Message(msgspec.Struct):
    did: str = ""
    time_us: int = 0
    kind: str = ""
    commit: _Commit | None = None


class _Text(msgspec.Struct):
    text: str = ""
    tags: list[str] = []
    facets: list[_Facet] = []


_message = msgspec.json.Decoder(_Message)
_text = msgspec.json.Decoder(_Text)
_record = msgspec.json.Decoder(_Record)


def at_uri(did: str, rkey: str) -> str:
    return f"at://{did}/{POST}/{rkey}"


def facet_entities(text: str, facets: list[_Facet]) -> tuple[Entity, ...]:
    """Facets index UTF-8 bytes, screens code points; spans out of range or mid-character are dropped."""
    raw = text.encode()
    found: list[Entity] = []
    for facet in facets:
        start, end = facet.index.byteStart, facet.index.byteEnd
        if not 0 <= start < end <= len(raw):
            continue
        try:
            cp_start = len(raw[:start].decode())
            cp_end = cp_start + len(raw[start:end].decode())
        except UnicodeDecodeError:
            continue
        for feature in facet.features:
            kind = feature.type.rpartition("#")[2]
            if kind == "link" and feature.uri:
                found.append(Entity("link", cp_start, cp_end, feature.uri))
            elif kind == "mention" and feature.did:
                found.append(Entity("mention", cp_start, cp_end, text[cp_start:cp_end].lstrip("@")))
            elif kind == "tag" and feature.tag:
                found.append(Entity("hashtag", cp_start, cp_end, feature.tag.lstrip("#")))
    return tuple(sorted(found, key=lambda e: e.start))


@dataclass
class Matcher:
    """Keywords on word boundaries, hashtags from facets, `tags` and text, mentions by DID or handle."""

    keywords: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    _words: re.Pattern[str] | None = field(init=False, default=None)
    _tags: frozenset[str] = field(init=False, default=frozenset())
    _handles: re.Pattern[str] | None = field(init=False, default=None)
    _dids: frozenset[str] = field(init=False, default=frozenset())

    def __post_init__(self) -> None:
        words = [re.escape(k) for k in self.keywords if k]
        self._tags = frozenset(t.lstrip("#").lower() for t in self.hashtags if t)
        tags_in_text = [r"#" + re.escape(t) for t in self._tags]
        if words or tags_in_text:
            self._words = re.compile(
                r"(?<![\w#])(?:" + "|".join(words + tags_in_text) + r")(?!\w)", re.IGNORECASE
            )
        self._dids = frozenset(m for m in self.mentions if m.startswith("did:"))
        handles = [re.escape(m.lstrip("@")) for m in self.mentions if m and not m.startswith("did:")]
        if handles:
            self._handles = re.compile(r"(?<![\w.])@(?:" + "|".join(handles) + r")(?![\w.])", re.IGNORECASE)

    def matches(self, rec: _Text) -> bool:
        if self._words is not None and self._words.search(rec.text):
            return True
        if self._handles is not None and self._handles.search(rec.text):
            return True
        if self._tags and any(t.lower() in self._tags for t in rec.tags):
            return True
        for facet in rec.facets:
            for feature in facet.features:
                if feature.tag and feature.tag.lower() in self._tags:
                    return True
                if feature.did and feature.did in self._dids:
                    return True
        return False


def _created(value: str, time_us: int) -> datetime:
    try:  # in its own offset: the sanitizer takes it to UTC and into a sane range
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:  # createdAt is client-supplied
        return datetime.fromtimestamp(time_us / 1e6, UTC)


def _media(did: str, embed: _Embed | None) -> tuple[Media, ...]:
    if embed is None:
        return ()
    images = embed.images or (embed.media.images if embed.media is not None else [])
    return tuple(
        Media(f"https://cdn.bsky.app/img/feed_fullsize/plain/{did}/{img.image.ref.link}@jpeg", img.alt)
        for img in images
        if img.image is not None and img.image.ref.link
    )


def normalize(did: str, rkey: str, time_us: int, rec: _Record) -> Post:
    """A Jetstream post record as a Post; `held` when the author self-labelled the media."""
    uri = at_uri(did, rkey)
    labels = {v.val for v in rec.labels.values} if rec.labels is not None else set()
    held = "sensitive media" if labels & {"graphic-media", "nudity", "porn", "sexual"} else None
    return Post(
        id=post_id("bluesky", uri),
        source="bluesky",
        source_id=uri,
        text=rec.text,
        created_at=_created(rec.createdAt, time_us),
        author=Author(name="", handle=did),
        url=f"https://bsky.app/profile/{did}/post/{rkey}",
        entities=facet_entities(rec.text, rec.facets),
        media=_media(did, rec.embed),
        lang=rec.langs[0] if rec.langs else None,
        held=held,
    )


@dataclass
class Handler:
    """decode + match + normalize for one raw Jetstream message: pure, so it can be benchmarked alone."""

    matcher: Matcher
    last_time_us: int = 0

    def handle(self, raw: bytes | str) -> Upsert | Delete | None:
        msg = _message.decode(raw)
        if msg.time_us:
            self.last_time_us = msg.time_us
        c = msg.commit
        if c is None or c.collection != POST:
            return None  # identity/account events, other collections
        if c.operation == "delete":
            # every delete goes out: the wall retracts only what it showed
            return Delete(post_id("bluesky", at_uri(msg.did, c.rkey)))
        if c.operation not in ("create", "update") or not c.record:
            return None
        if not self.matcher.matches(_text.decode(c.record)):
            return None
        return Upsert(normalize(msg.did, c.rkey, msg.time_us, _record.decode(c.record)))


class Bluesky:
    def __init__(self, name: str, options: Options, ctx: SourceContext) -> None:
        self.name = name
        self.options = options
        self.ctx = ctx

    def _url(self, endpoint: str, cursor: int | None) -> str:
        query = f"wantedCollections={POST}"
        if cursor:
            query += f"&cursor={max(cursor - REWIND_US, 0)}"
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"

    async def stream(self, cursor: str | None) -> AsyncIterator[Item]:
        handler = Handler(Matcher(self.options.keywords, self.options.hashtags, self.options.mentions))
        resume = int(cursor) if cursor and cursor.isdigit() else None
        endpoints = self.options.endpoints
        failures = 0
        attempt = 0
        while True:
            endpoint = endpoints[attempt % len(endpoints)]
            url = self._url(endpoint, handler.last_time_us or resume)
            try:
                ws = await self.ctx.http.ws_connect(
                    url,
                    headers={"User-Agent": self.ctx.user_agent},
                    heartbeat=30,
                    timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=5),
                    max_msg_size=1 << 20,
                )
            except (TimeoutError, aiohttp.ClientError) as e:
                failures += 1
                attempt += 1
                log.warning("jetstream %s: cannot connect (%s); trying the next endpoint", endpoint, e)
                if failures >= 2 * len(endpoints):
                    raise SourceError(f"no Jetstream endpoint answers (last: {endpoint}: {e})") from e
                await asyncio.sleep(backoff(failures))
                continue
            failures = 0
            log.info("jetstream %s: connected", url)
            async with ws:
                async for item in self._read(ws, handler):
                    yield item
            if handler.last_time_us:
                yield Checkpoint(str(handler.last_time_us))
            log.warning("jetstream %s: closed; reconnecting", endpoint)
            attempt += 1

    async def _read(self, ws: aiohttp.ClientWebSocketResponse, handler: Handler) -> AsyncIterator[Item]:
        count = 0
        last = time.monotonic()
        async for msg in ws:
            if msg.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                break
            item = guard(handler.handle, msg.data)
            if item is not None:
                yield item
            count += 1
            now = time.monotonic()
            if handler.last_time_us and (count >= CHECKPOINT_MESSAGES or now - last >= CHECKPOINT_SECONDS):
                yield Checkpoint(str(handler.last_time_us))
                count, last = 0, now


def build(name: str, options: Options, ctx: SourceContext) -> Bluesky:
    return Bluesky(name, options, ctx)


SPEC = ConnectorSpec(type="bluesky", display_name="Bluesky", network="bluesky",
                     options=Options, build=build)
