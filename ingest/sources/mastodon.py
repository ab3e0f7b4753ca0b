"""Mastodon: the streaming API live (SSE or WebSocket), the REST timeline to fill what a disconnect missed.

The cursor is the newest status id seen on this instance (ids are per-instance snowflakes, ordered as
integers); on every (re)connect the timeline is read with `min_id=<cursor>` oldest first before going live.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Annotated, Literal
from urllib.parse import quote, urlsplit

import aiohttp
import msgspec

from ingest.connector import (
    Checkpoint,
    ConnectorSpec,
    Delete,
    Item,
    Skipped,
    SourceContext,
    SourceError,
    Throttled,
    Upsert,
    guard,
)
from ingest.sources.mastodon_html import text_and_entities
from wall.models import Author, Media, Post, post_id
from wall.redact import redact_url, without_values

log = logging.getLogger(__name__)

URIS_KEY = "uris"  # in the source's state: local status id -> uri of what it showed recently
KEEP_URIS = 2000  # deletes come soon after the post; the map is saved with every checkpoint
CHECKPOINT_SECONDS = 5.0
CHECKPOINT_POSTS = 20
PAGE = 40


class Options(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    instance: Annotated[str, msgspec.Meta(pattern=r"^https?://[^/\s]+/?$")]
    hashtags: tuple[str, ...] = ()
    stream: Literal["hashtag", "public", "list"] = "hashtag"
    list_id: str | None = None
    token_env: str | None = None  # env var holding a user token (the streaming API needs one since 4.2)
    transport: Literal["sse", "websocket"] = "sse"
    backfill_limit: Annotated[int, msgspec.Meta(ge=0, le=400)] = 40


class _Account(msgspec.Struct):
    acct: str = ""
    display_name: str = ""
    username: str = ""
    avatar: str | None = None


class _Attachment(msgspec.Struct):
    type: str = "image"
    url: str | None = None
    description: str | None = None


class Status(msgspec.Struct):
    id: str
    uri: str
    created_at: str
    content: str = ""
    url: str | None = None
    spoiler_text: str = ""
    sensitive: bool = False
    language: str | None = None
    account: _Account = msgspec.field(default_factory=_Account)
    media_attachments: list[_Attachment] = []
    reblog: Status | None = None


_status = msgspec.json.Decoder(Status)
_page = msgspec.json.Decoder(list[msgspec.Raw])


class _WsEvent(msgspec.Struct):
    event: str = ""
    payload: str = ""


_ws_event = msgspec.json.Decoder(_WsEvent)


def normalize(status: Status) -> Post:
    """A Status as a Post: a boost becomes its original; the post id follows the status' uri."""
    s = status.reblog or status
    text, entities = text_and_entities(s.content)
    held = None
    if s.spoiler_text:
        held = f"content warning: {s.spoiler_text}"
    elif s.sensitive and s.media_attachments:
        held = "sensitive media"
    media = tuple(
        Media(a.url, a.description or "", "video" if a.type in ("video", "gifv") else "image")
        for a in s.media_attachments
        if a.url and a.type in ("image", "video", "gifv")
    )
    return Post(
        id=post_id("mastodon", s.uri),
        source="mastodon",
        source_id=s.uri,
        text=text,
        created_at=datetime.fromisoformat(s.created_at.replace("Z", "+00:00")).astimezone(UTC),
        author=Author(
            name=s.account.display_name or s.account.username,
            handle=s.account.acct,
            avatar_url=s.account.avatar,
        ),
        url=s.url or s.uri,
        entities=entities,
        media=media,
        lang=s.language,
        held=held,
    )


def _newer(a: str | None, b: str) -> str:
    return b if a is None or (len(b), b) > (len(a), a) else a


_LINK = re.compile(r'<([^>]+)>;\s*rel="([a-z]+)"')


def links(header: str) -> dict[str, str]:
    """The Link header's URLs by rel (Mastodon pages with rel="next"/"prev")."""
    return {rel: url for url, rel in _LINK.findall(header)}


def retry_at(headers: aiohttp.typedefs.LooseHeaders) -> float:
    """Epoch seconds to wait until, from Retry-After (seconds or a date) or X-RateLimit-Reset (ISO 8601)."""
    h = {k.lower(): v for k, v in dict(headers).items()}
    now = time.time()
    value = h.get("retry-after", "")
    if value.isdigit():
        return now + int(value)
    for parse in (parsedate_to_datetime, lambda v: datetime.fromisoformat(v.replace("Z", "+00:00"))):
        for raw in (value, h.get("x-ratelimit-reset", "")):
            try:
                return max(now, parse(raw).timestamp())
            except (TypeError, ValueError, IndexError):
                continue
    return now + 60


class Mastodon:
    def __init__(self, name: str, options: Options, ctx: SourceContext) -> None:
        self.name = name
        self.options = options
        self.ctx = ctx
        self.base = options.instance.rstrip("/")
        self.host = urlsplit(self.base).netloc
        self.token = ctx.env.get(options.token_env, "") if options.token_env else ""
        # a delete event names only the instance-local id; the post id comes from the uri, so keep the map
        self._uris: dict[str, str] = {}
        self._last_id = ""

    def _headers(self) -> dict[str, str]:
        headers = {"User-Agent": self.ctx.user_agent}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def _timelines(self) -> list[str]:
        if self.options.stream == "public":
            return [f"{self.base}/api/v1/timelines/public"]
        if self.options.stream == "list":
            return [f"{self.base}/api/v1/timelines/list/{quote(self.options.list_id or '', safe='')}"]
        return [
            f"{self.base}/api/v1/timelines/tag/{quote(t.lstrip('#'), safe='')}" for t in self.options.hashtags
        ]

    def _streams(self) -> list[dict[str, str]]:
        if self.options.stream == "public":
            return [{"stream": "public"}]
        if self.options.stream == "list":
            return [{"stream": "list", "list": self.options.list_id or ""}]
        return [{"stream": "hashtag", "tag": t.lstrip("#")} for t in self.options.hashtags]

    def _refused(self, status: int, url: str, headers: aiohttp.typedefs.LooseHeaders) -> SourceError | None:
        if status in (401, 403):
            who = (
                f"the token in {self.options.token_env}" if self.options.token_env else "an anonymous request"
            )
            return SourceError(f"{status} from {self.host}: {who} was refused")
        if status == 404:
            return SourceError(f"404 from {self.host}: no such instance/tag/list ({redact_url(url)})")
        if status >= 500:
            return SourceError(f"{status} from {self.host}: the server failed; retrying", retry_after=30)
        if status >= 400 and status != 429:
            return SourceError(f"{status} from {self.host} for {redact_url(url)}")
        return None

    async def stream(self, cursor: str | None) -> AsyncIterator[Item]:
        # The local id -> uri map survives restarts beside the cursor, so a delete of a post seen before
        # the restart still finds it.
        saved = await self.ctx.state.get(URIS_KEY)
        if saved:
            with contextlib.suppress(msgspec.DecodeError, msgspec.ValidationError):
                self._uris = msgspec.json.decode(saved, type=dict[str, str])
        async for item in self._items(cursor):
            if isinstance(item, Checkpoint):
                await self.ctx.state.set(URIS_KEY, msgspec.json.encode(self._uris).decode())
            yield item

    async def _items(self, cursor: str | None) -> AsyncIterator[Item]:
        async for item in self._backfill(cursor):
            if isinstance(item, Checkpoint):
                cursor = item.cursor
            yield item
        async for item in self._live(cursor):
            yield item

    async def _get(self, url: str) -> AsyncIterator[Item | tuple[list[msgspec.Raw], dict[str, str]]]:
        """One REST page (its statuses undecoded: each is parsed on its own); on 429 yields Throttled."""
        while True:
            async with self.ctx.http.get(url, headers=self._headers()) as resp:
                if resp.status == 429:  # the supervisor waits until then, and we ask again
                    yield Throttled(retry_at(resp.headers), f"429 from {self.host}")
                    continue
                if (error := self._refused(resp.status, url, resp.headers)) is not None:
                    raise error
                body = await resp.read()
                yield _page.decode(body), links(resp.headers.get("Link", ""))
                return

    async def _backfill(self, cursor: str | None) -> AsyncIterator[Item]:
        """What was posted after the cursor (or the latest `backfill_limit` on a first run), oldest first."""
        if cursor is None and self.options.backfill_limit == 0:
            return
        newest = cursor
        for timeline in self._timelines():
            if cursor is None:
                url: str | None = f"{timeline}?limit={min(self.options.backfill_limit, PAGE)}"
            else:
                url = f"{timeline}?min_id={cursor}&limit={PAGE}"
            while url:
                page: list[msgspec.Raw] = []
                rels: dict[str, str] = {}
                async for got in self._get(url):
                    if isinstance(got, tuple):
                        page, rels = got
                    else:
                        yield got
                for raw in reversed(page):  # pages come newest first
                    yield guard(self._upsert, raw)
                    if self._last_id:
                        newest = _newer(newest, self._last_id)
                if newest is not None:
                    yield Checkpoint(newest)
                # min_id pages walk forward through "prev"; a first run takes one page only
                url = rels.get("prev") if cursor is not None and page else None

    async def _live(self, cursor: str | None) -> AsyncIterator[Item]:
        queue: asyncio.Queue[tuple[str, str] | BaseException] = asyncio.Queue(maxsize=1000)
        readers = (
            [self._sse(s, queue) for s in self._streams()]
            if self.options.transport == "sse"
            else [self._websocket(self._streams(), queue)]
        )
        tasks = [asyncio.ensure_future(r) for r in readers]
        posts, last = 0, time.monotonic()
        try:
            while True:
                got = await queue.get()
                if isinstance(got, BaseException):
                    if cursor is not None:
                        yield Checkpoint(cursor)
                    raise got
                event, data = got
                item = guard(self._event, event, data)
                if item is None:
                    continue
                if isinstance(item, Upsert | Skipped) and self._last_id:
                    cursor = _newer(cursor, self._last_id)
                    posts += 1
                yield item
                if cursor is not None and (
                    posts >= CHECKPOINT_POSTS or time.monotonic() - last >= CHECKPOINT_SECONDS
                ):
                    yield Checkpoint(cursor)
                    posts, last = 0, time.monotonic()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _event(self, event: str, data: str) -> Upsert | Delete | None:
        """One streaming event as an item; raises on a malformed one (the caller guards it)."""
        if event == "delete":
            # the id is this instance's; a delete carries no uri, so resolve it from what we have seen
            uri = self._uris.get(data.strip())
            return Delete(post_id("mastodon", uri)) if uri else None
        if event not in ("update", "status.update"):
            return None
        return self._upsert(data)

    def _upsert(self, data: str | bytes) -> Upsert:
        status = _status.decode(data)
        self._last_id = _newer(self._last_id or None, status.id)  # a status that fails below is passed too
        post = normalize(status)
        self._remember(status)
        return Upsert(post)

    def _remember(self, status: Status) -> None:
        # A boost shows its original, so keep the original's local id: deleting the original retracts it,
        # while undoing the boost (a delete of the boost's own id) leaves the original on the wall.
        s = status.reblog or status
        self._uris[s.id] = s.uri
        if len(self._uris) > KEEP_URIS:
            del self._uris[next(iter(self._uris))]

    async def _sse(
        self, params: dict[str, str], queue: asyncio.Queue[tuple[str, str] | BaseException]
    ) -> None:
        path = {"hashtag": "hashtag", "public": "public", "list": "list"}[params["stream"]]
        query = {k: v for k, v in params.items() if k != "stream"}
        url = f"{self.base}/api/v1/streaming/{path}"
        try:
            timeout = aiohttp.ClientTimeout(total=None, sock_read=45)  # :thump every 15 s keeps it alive
            async with self.ctx.http.get(url, params=query, headers=self._headers(), timeout=timeout) as resp:
                if resp.status == 429:
                    raise SourceError(
                        f"429 from {self.host}", retry_after=retry_at(resp.headers) - time.time()
                    )
                if (error := self._refused(resp.status, url, resp.headers)) is not None:
                    raise error
                event, data = "", list[str]()
                complete = True
                async for raw in resp.content:
                    line = raw.decode("utf-8", "replace")
                    complete = line.endswith("\n")
                    line = line.rstrip("\r\n")
                    if line.startswith(":"):
                        continue  # heartbeat (:thump) or the opening :)
                    if not line:
                        if event and data:
                            await queue.put((event, "\n".join(data)))
                        event, data = "", list[str]()
                    elif line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:"):
                        data.append(line[5:].lstrip(" "))
                if event or data or not complete:
                    log.warning("mastodon %s: the stream was cut mid-event; dropped it", redact_url(url))
            raise SourceError(f"the stream from {self.host} ended; reconnecting", retry_after=1)
        except BaseException as e:  # the consumer re-raises it after a checkpoint
            if not isinstance(e, asyncio.CancelledError):
                await queue.put(e)
            raise

    async def _websocket(
        self, streams: list[dict[str, str]], queue: asyncio.Queue[tuple[str, str] | BaseException]
    ) -> None:
        url = self.base.replace("https://", "wss://", 1).replace("http://", "ws://", 1) + "/api/v1/streaming"
        headers = self._headers()
        try:
            try:
                ws = await self.ctx.http.ws_connect(url, headers=headers, heartbeat=30)
            except aiohttp.WSServerHandshakeError as e:
                if (error := self._refused(e.status, url, e.headers or {})) is not None:
                    raise error from e
                raise
            async with ws:
                for s in streams:
                    await ws.send_json({"type": "subscribe", **s})
                async for msg in ws:
                    if msg.type != aiohttp.WSMsgType.TEXT:
                        break
                    try:
                        ev = _ws_event.decode(msg.data)
                    except (msgspec.DecodeError, msgspec.ValidationError) as e:
                        log.warning("mastodon %s: skipped a malformed frame: %s", redact_url(url),
                                    without_values(str(e)))
                        continue
                    await queue.put((ev.event, ev.payload))
            raise SourceError(f"the stream from {self.host} ended; reconnecting", retry_after=1)
        except BaseException as e:
            if not isinstance(e, asyncio.CancelledError):
                await queue.put(e)
            raise


def build(name: str, options: Options, ctx: SourceContext) -> Mastodon:
    return Mastodon(name, options, ctx)


SPEC = ConnectorSpec(type="mastodon", display_name="Mastodon", network="mastodon",
                     options=Options, build=build)
