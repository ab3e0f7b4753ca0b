"""Bluesky through Jetstream: one WebSocket of every new post, matched against keywords here.

Jetstream has no server-side text filter, so every post on the network passes `handle()`; it decodes
only the fields it needs and drops a non-matching post before building anything.

Authors: Jetstream names them by DID only. A matching post waits up to `profile_wait` seconds for its
author's handle, display name and avatar (ingest/sources/bluesky_profiles.py: batched, cached AppView
lookups); everything after it waits behind it, so order and checkpoints stay right. Past the bound it goes
out with the handle from the author's last identity event, or the DID when none came.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator
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
from ingest.sources.bluesky_profiles import Profile, Profiles
from wall.bus.base import backoff
from wall.models import Author, Entity, Media, Post, post_id
from wall.redact import redact_url, without_values

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
    appview: Annotated[str, msgspec.Meta(pattern=r"^https?://[^/\s]+/?$")] = "https://public.api.bsky.app"
    profile_wait: Annotated[float, msgspec.Meta(ge=0, le=30)] = 2.0  # seconds a post waits for its author
    profile_rate: Annotated[float, msgspec.Meta(gt=0, le=50)] = 5.0  # AppView calls per second at most


# Only what handle() reads; msgspec skips every other field without building it.


class _Index(msgspec.Struct):
    byteStart: int = 0
    byteEnd: int = 0


class _Feature(msgspec.Struct):
    type: str = msgspec.field(default="", name="$type")
    tag: str = ""
    did: str = ""
    uri: str = ""


# Optional fields accept null (clients write `"langs": null`): one odd field must not drop a post.


class _Facet(msgspec.Struct):
    index: _Index = msgspec.field(default_factory=_Index)
    features: list[_Feature] | None = None


class _Ref(msgspec.Struct):
    link: str = msgspec.field(default="", name="$link")


class _Blob(msgspec.Struct):
    ref: _Ref = msgspec.field(default_factory=_Ref)


class _Image(msgspec.Struct):
    alt: str = ""
    image: _Blob | None = None


class _Images(msgspec.Struct):
    images: list[_Image] | None = None


class _Embed(msgspec.Struct):
    type: str = msgspec.field(default="", name="$type")
    images: list[_Image] | None = None
    media: _Images | None = None  # recordWithMedia


class _SelfLabel(msgspec.Struct):
    val: str = ""


class _Labels(msgspec.Struct):
    values: list[_SelfLabel] | None = None


class _PostRef(msgspec.Struct):
    uri: str = ""


class _Reply(msgspec.Struct):
    parent: _PostRef | None = None


class _Record(msgspec.Struct):
    text: str = ""
    createdAt: str = ""
    facets: list[_Facet] | None = None
    tags: list[str] | None = None
    langs: list[str | None] | None = None
    embed: _Embed | None = None
    labels: _Labels | None = None
    reply: _Reply | None = None


class _Commit(msgspec.Struct):
    operation: str = ""
    collection: str = ""
    rkey: str = ""
    record: msgspec.Raw = msgspec.Raw(b"")  # decoded only once the text matched


class _Identity(msgspec.Struct):
    handle: str | None = None  # absent or null: the DID has no working handle


class _Message(msgspec.Struct):
    did: str = ""
    time_us: int = 0
    kind: str = ""
    commit: _Commit | None = None
    identity: _Identity | None = None


class _Text(msgspec.Struct):
    text: str = ""
    tags: list[str] | None = None
    facets: list[_Facet] | None = None


class _Bare(msgspec.Struct):
    """What is left of a record whose optional fields do not decode: the text and the date."""

    text: str = ""
    createdAt: str = ""


_message = msgspec.json.Decoder(_Message)
_text = msgspec.json.Decoder(_Text)
_record = msgspec.json.Decoder(_Record)
_bare = msgspec.json.Decoder(_Bare)


def _decode(raw: msgspec.Raw) -> _Record:
    """The record; when an optional field has an unexpected type, the record without its optional fields."""
    try:
        return _record.decode(raw)
    except msgspec.ValidationError as e:
        bare = _bare.decode(raw)  # a bad text or date still fails: then there is no post to show
        log.warning("jetstream: a post's optional fields were dropped: %s", without_values(str(e)))
        return _Record(text=bare.text, createdAt=bare.createdAt)


def at_uri(did: str, rkey: str) -> str:
    return f"at://{did}/{POST}/{rkey}"


def facet_entities(text: str, facets: list[_Facet] | None) -> tuple[Entity, ...]:
    """Facets index UTF-8 bytes, screens code points; spans out of range or mid-character are dropped."""
    raw = text.encode()
    found: list[Entity] = []
    for facet in facets or ():
        start, end = facet.index.byteStart, facet.index.byteEnd
        if not 0 <= start < end <= len(raw):
            continue
        try:
            cp_start = len(raw[:start].decode())
            cp_end = cp_start + len(raw[start:end].decode())
        except UnicodeDecodeError:
            continue
        for feature in facet.features or ():
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
        if self._tags and rec.tags and any(t.lower() in self._tags for t in rec.tags):
            return True
        for facet in rec.facets or ():
            for feature in facet.features or ():
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
    images = embed.images or (embed.media.images if embed.media is not None else None) or []
    return tuple(
        Media(f"https://cdn.bsky.app/img/feed_fullsize/plain/{did}/{img.image.ref.link}@jpeg", img.alt)
        for img in images
        if img.image is not None and img.image.ref.link
    )


def normalize(did: str, rkey: str, time_us: int, rec: _Record) -> Post:
    """A Jetstream post record as a Post; `held` when the author self-labelled the media."""
    uri = at_uri(did, rkey)
    labels = {v.val for v in rec.labels.values or ()} if rec.labels is not None else set()
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
        lang=rec.langs[0] if rec.langs and isinstance(rec.langs[0], str) else None,
        held=held,
        # a reply's parent as the wall's id of that post: an upvote of a question by reply (docs/qa.md)
        reply_to=post_id("bluesky", rec.reply.parent.uri) if rec.reply and rec.reply.parent
        and rec.reply.parent.uri.startswith("at://") else None,
    )


def with_author(post: Post, did: str, profile: Profile | None, handle: str) -> Post:
    """The post with its author's profile, else the handle from an identity event, else the DID."""
    if profile is None:
        return msgspec.structs.replace(post, author=Author(name="", handle=handle or did))
    author = Author(profile.name, profile.handle or handle or did, profile.avatar)
    return msgspec.structs.replace(post, author=author)


@dataclass
class Handler:
    """decode + match + normalize for one raw Jetstream message: pure, so it can be benchmarked alone."""

    matcher: Matcher
    last_time_us: int = 0
    profiles: Profiles | None = None  # told the handle of every identity event

    def handle(self, raw: bytes | str) -> Upsert | Delete | None:
        msg = _message.decode(raw)
        if msg.time_us:
            self.last_time_us = msg.time_us
        if msg.identity is not None and self.profiles is not None and msg.did:
            self.profiles.note_handle(msg.did, msg.identity.handle)
        c = msg.commit
        if c is None or c.collection != POST:
            return None  # identity/account events, other collections
        if c.operation == "delete":
            # every delete goes out: the wall retracts only what it showed
            return Delete(post_id("bluesky", at_uri(msg.did, c.rkey)))
        if c.operation not in ("create", "update") or not c.record:
            return None
        try:
            text = _text.decode(c.record)
        except msgspec.ValidationError:
            text = _Text(_bare.decode(c.record).text)
        if not self.matcher.matches(text):
            return None
        return Upsert(normalize(msg.did, c.rkey, msg.time_us, _decode(c.record)))


@dataclass
class _Held:
    """An item waiting in order: an Upsert for its author's profile (until `deadline`), the rest behind it."""

    item: Item
    did: str = ""
    deadline: float = 0.0


class Bluesky:
    def __init__(self, name: str, options: Options, ctx: SourceContext) -> None:
        self.name = name
        self.options = options
        self.ctx = ctx
        # kept across reconnects: the cache is what makes most posts go out without waiting
        self.profiles = Profiles(ctx.http, options.appview, ctx.user_agent, options.profile_rate)

    def _url(self, endpoint: str, cursor: int | None) -> str:
        query = f"wantedCollections={POST}"
        if cursor:
            query += f"&cursor={max(cursor - REWIND_US, 0)}"
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"

    async def stream(self, cursor: str | None) -> AsyncIterator[Item]:
        lookups = asyncio.ensure_future(self.profiles.run())
        try:
            async for item in self._connections(cursor):
                yield item
        finally:
            lookups.cancel()
            await asyncio.gather(lookups, return_exceptions=True)

    async def _connections(self, cursor: str | None) -> AsyncIterator[Item]:
        handler = Handler(
            Matcher(self.options.keywords, self.options.hashtags, self.options.mentions),
            profiles=self.profiles,
        )
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
                log.warning("jetstream %s: cannot connect (%s); trying the next endpoint",
                            redact_url(endpoint), e)
                if failures >= 2 * len(endpoints):
                    last = redact_url(endpoint)
                    raise SourceError(f"no Jetstream endpoint answers (last: {last}: {e})") from e
                await asyncio.sleep(backoff(failures))
                continue
            failures = 0
            log.info("jetstream %s: connected", redact_url(url))
            async with ws:
                async for item in self._read(ws, handler):
                    yield item
            if handler.last_time_us:
                yield Checkpoint(str(handler.last_time_us))
            log.warning("jetstream %s: closed; reconnecting", redact_url(endpoint))
            attempt += 1

    def _hold(self, held: deque[_Held], item: Item) -> None:
        if isinstance(item, Upsert):
            did = item.post.author.handle  # normalize() names the author by DID
            if not self.profiles.known(did):
                self.profiles.want(did)
                held.append(_Held(item, did, time.monotonic() + self.options.profile_wait))
                return
            held.append(_Held(item, did))
        else:
            held.append(_Held(item))

    def _release(self, held: deque[_Held], flush: bool = False) -> Iterator[Item]:
        """Items from the head of `held` whose author is known, or whose wait is over."""
        now = time.monotonic()
        while held:
            head = held[0]
            if not flush and now < head.deadline and not self.profiles.known(head.did):
                return
            held.popleft()
            if isinstance(head.item, Upsert):
                profile = self.profiles.get(head.did)
                yield Upsert(with_author(head.item.post, head.did, profile, self.profiles.handle(head.did)))
            else:
                yield head.item

    async def _read(self, ws: aiohttp.ClientWebSocketResponse, handler: Handler) -> AsyncIterator[Item]:
        count = 0
        last = time.monotonic()
        held: deque[_Held] = deque()
        receive: asyncio.Future[aiohttp.WSMessage] | None = None
        try:
            while True:
                self.profiles.updated.clear()
                for item in self._release(held):
                    yield item
                if receive is None:
                    receive = asyncio.ensure_future(ws.receive())
                if held:  # the head waits for a profile: wake on an answer, the deadline or a message
                    answered = asyncio.ensure_future(self.profiles.updated.wait())
                    await asyncio.wait(
                        (receive, answered),
                        timeout=max(0.0, held[0].deadline - time.monotonic()),
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                    answered.cancel()
                    if not receive.done():
                        continue
                msg = await receive
                receive = None
                if msg.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                    break
                got = guard(handler.handle, msg.data)
                if got is not None:
                    self._hold(held, got)
                count += 1
                now = time.monotonic()
                due = count >= CHECKPOINT_MESSAGES or now - last >= CHECKPOINT_SECONDS
                if handler.last_time_us and due:
                    self._hold(held, Checkpoint(str(handler.last_time_us)))
                    count, last = 0, now
            for item in self._release(held, flush=True):
                yield item
        finally:
            if receive is not None:
                receive.cancel()


def build(name: str, options: Options, ctx: SourceContext) -> Bluesky:
    return Bluesky(name, options, ctx)


SPEC = ConnectorSpec(type="bluesky", display_name="Bluesky", network="bluesky",
                     options=Options, build=build)
