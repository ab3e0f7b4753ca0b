"""X API v2 filtered stream: rules synced from the config, posts with their authors, media and entities.

The stream is newline-delimited JSON with bare `\\r\\n` keep-alives. It is reconnected after an
operational-disconnect message, a stall (nothing, not even a keep-alive, for `stall_timeout` seconds) or
a cut connection, with X's documented backoff: network errors linear from 250 ms to 16 s, HTTP errors
exponential from 5 s to 320 s, 429 exponential from 1 minute. The filtered stream carries no deletes
(those come from X's compliance streams, which this connector does not read); an edit arrives as a new
post whose `edit_history_tweet_ids` names the old one, which is then deleted from the wall.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import aiohttp
import msgspec

from ingest.connector import (
    Checkpoint,
    ConnectorSpec,
    Delete,
    Item,
    SourceContext,
    SourceError,
    Throttled,
    Upsert,
)
from ingest.sources.http import host_of, read_limited, safe_url, status_error
from wall.models import Author, BadJSON, Entity, Media, Post, decode_untrusted, post_id
from wall.text import clean_text, find_entities

FIELDS = {"tweet.fields": "created_at,lang,entities,attachments,author_id,edit_history_tweet_ids",
          "expansions": "author_id,attachments.media_keys",
          "user.fields": "username,name,profile_image_url",
          "media.fields": "url,preview_image_url,alt_text,type"}
MAX_LINE = 1024 * 1024
CHECKPOINT_EVERY = 5.0  # seconds; never per post on a fast stream
_ESCAPE = re.compile(r"&(amp|lt|gt|quot|#39);")
log = logging.getLogger(__name__)


class Rule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    value: Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
    tag: str = ""


class Options(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    bearer_token_env: str
    rules: Annotated[list[Rule], msgspec.Meta(min_length=1)]
    api_url: str = "https://api.x.com"
    stall_timeout: Annotated[float, msgspec.Meta(gt=0)] = 20.0  # X sends a keep-alive every 20 s


@dataclass(frozen=True)
class Backoff:
    """X's documented reconnect schedule (first wait of each kind, and the cap)."""

    network: float = 0.25
    network_max: float = 16.0
    http: float = 5.0
    http_max: float = 320.0
    rate: float = 60.0


def unescape_with_offsets(text: str) -> tuple[str, list[int]]:
    """X's text is HTML-escaped; the unescaped text and, per code point of the escaped one, its new index."""
    out: list[str] = []
    index: list[int] = []
    pos = 0
    for m in _ESCAPE.finditer(text):
        for ch in text[pos:m.start()]:
            index.append(len(out))
            out.append(ch)
        index.extend([len(out)] * (m.end() - m.start()))
        out.append(html.unescape(m.group(0)))
        pos = m.end()
    for ch in text[pos:]:
        index.append(len(out))
        out.append(ch)
    index.append(len(out))
    return "".join(out), index


def map_entities(entities: dict[str, Any], index: list[int], length: int) -> tuple[Entity, ...]:
    """Wall entity spans from X's code-point offsets, sorted, in range and not overlapping."""
    found: list[Entity] = []
    for kind, key, field in (("hashtag", "hashtags", "tag"), ("mention", "mentions", "username"),
                             ("link", "urls", "expanded_url")):
        for e in entities.get(key) or []:
            start, end = e.get("start"), e.get("end")
            value = e.get(field) or (e.get("url") if kind == "link" else None)
            if kind == "link":
                value = safe_url(value)
            if not isinstance(start, int) or not isinstance(end, int) or not value:
                continue
            if not 0 <= start < end < len(index):
                continue
            found.append(Entity(kind, index[start], index[end], str(value)))  # type: ignore[arg-type]
    found.sort(key=lambda e: e.start)
    kept: list[Entity] = []
    for e in found:
        if e.end <= length and (not kept or e.start >= kept[-1].end):
            kept.append(e)
    return tuple(kept)


def to_post(data: dict[str, Any], includes: dict[str, Any]) -> Post:
    """The wall Post for one tweet and the `includes` that came with it."""
    raw = str(data.get("text", ""))
    text, index = unescape_with_offsets(raw)
    entities = map_entities(data.get("entities") or {}, index, len(text))
    if clean_text(text) != text:  # cleaning moved characters: the offsets no longer fit
        text = clean_text(text)
        entities = find_entities(text)
    users = {u.get("id"): u for u in includes.get("users") or []}
    user = users.get(data.get("author_id")) or {}
    media_by_key = {m.get("media_key"): m for m in includes.get("media") or []}
    media = []
    for key in (data.get("attachments") or {}).get("media_keys") or []:
        m = media_by_key.get(key) or {}
        if url := safe_url(m.get("url") or m.get("preview_image_url")):  # a video shows its poster
            media.append(Media(url=url, alt=str(m.get("alt_text") or "")))
    handle = str(user.get("username", ""))
    lang = data.get("lang")
    return Post(id=post_id("x", str(data["id"])), source="x", source_id=str(data["id"]), text=text,
                created_at=datetime.fromisoformat(str(data["created_at"])) if data.get("created_at")
                else datetime.now(UTC),
                author=Author(name=str(user.get("name", "")), handle=handle,
                              avatar_url=safe_url(user.get("profile_image_url"))),
                url=f"https://x.com/{handle or 'i'}/status/{data['id']}", entities=entities,
                media=tuple(media), lang=lang if lang not in (None, "und", "zxx", "qme", "qht") else None)


class XSource:
    def __init__(self, name: str, options: Options, ctx: SourceContext, backoff: Backoff = Backoff()) -> None:
        self.name, self.options, self.ctx, self.backoff = name, options, ctx, backoff
        self.api = options.api_url.rstrip("/")

    def headers(self) -> dict[str, str]:
        token = self.ctx.env.get(self.options.bearer_token_env)
        if not token:
            raise SourceError(f"{self.options.bearer_token_env} is not set; put the X Bearer token there")
        return {"Authorization": f"Bearer {token}", "User-Agent": self.ctx.user_agent}

    def refused(self, url: str) -> SourceError:
        return SourceError(f"401 from {host_of(url)}: the Bearer token in {self.options.bearer_token_env} "
                           "was refused")

    async def rules_call(self, method: str, body: object | None = None) -> Any:
        url = f"{self.api}/2/tweets/search/stream/rules"
        async with self.ctx.http.request(method, url, json=body, headers=self.headers()) as resp:
            if resp.status == 401:
                raise self.refused(url)
            if resp.status not in (200, 201):
                raise status_error(url, resp.status, dict(resp.headers))
            answer: Any = decode_untrusted(await read_limited(resp, url, 1024 * 1024))
        if isinstance(answer, dict) and answer.get("errors") and not answer.get("data") and body:
            raise SourceError(f"{host_of(url)} refused the stream rules: {answer['errors'][0]}")
        return answer

    async def sync_rules(self) -> None:
        """Make the stream's rules exactly the configured ones: delete the others, add the missing."""
        current = await self.rules_call("GET")
        have = {(r.get("value"), r.get("tag", "")): r.get("id") for r in (current.get("data") or [])}
        want = {(r.value, r.tag) for r in self.options.rules}
        stale = [rid for key, rid in have.items() if key not in want]
        if stale:
            await self.rules_call("POST", {"delete": {"ids": stale}})
        missing = [{"value": v, "tag": t} if t else {"value": v} for v, t in want if (v, t) not in have]
        if missing:
            await self.rules_call("POST", {"add": missing})
        log.info("%s: stream rules synced (%d deleted, %d added)", self.api, len(stale), len(missing))

    async def lines(self, resp: aiohttp.ClientResponse, url: str) -> AsyncIterator[bytes]:
        """Complete lines of the body (keep-alives included, as b""); raises TimeoutError on a stall."""
        buffer = b""
        while True:
            chunk = await asyncio.wait_for(resp.content.readany(), self.options.stall_timeout)
            if not chunk:
                if buffer.strip():
                    log.warning("%s: connection cut mid-message (%d bytes dropped)", url, len(buffer))
                return
            buffer += chunk
            *done, buffer = buffer.split(b"\n")
            if len(buffer) > MAX_LINE:
                raise SourceError(f"{host_of(url)} sent a line over {MAX_LINE} bytes")
            for line in done:
                yield line.strip()

    async def connection(self, resp: aiohttp.ClientResponse, url: str) -> AsyncIterator[Item]:
        """Items of one open stream until it ends, is cut, or says operational-disconnect."""
        newest: str | None = None
        last_checkpoint = time.monotonic()
        async for line in self.lines(resp, url):
            if not line:
                continue  # keep-alive
            try:
                message: Any = decode_untrusted(line)
                data = message.get("data") if isinstance(message, dict) else None
                if data is None:
                    errors = message.get("errors") if isinstance(message, dict) else None
                    if any(e.get("title") == "operational-disconnect" for e in errors or []):
                        log.info("%s: operational disconnect, reconnecting", url)
                        break
                    log.warning("%s: message without data skipped: %s", url, str(message)[:200])
                    continue
                post = to_post(data, message.get("includes") or {})
                history = data.get("edit_history_tweet_ids") or []
                earlier = [str(i) for i in history if str(i) != post.source_id]
            except (BadJSON, msgspec.ValidationError, KeyError, TypeError, ValueError, AttributeError) as e:
                log.warning("%s: malformed message skipped: %s", url, e)
                continue
            for old in earlier:
                yield Delete(post_id("x", old), "deleted")  # replaced by its edit
            yield Upsert(post)
            newest = post.source_id
            if time.monotonic() - last_checkpoint >= CHECKPOINT_EVERY:
                yield Checkpoint(newest)
                last_checkpoint = time.monotonic()
        if newest:
            yield Checkpoint(newest)

    async def stream(self, cursor: str | None) -> AsyncIterator[Item]:
        await self.sync_rules()
        url = f"{self.api}/2/tweets/search/stream"
        network = http = rate = 0
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10)  # stalls are timed per read, below
        while True:
            b = self.backoff
            try:
                async with self.ctx.http.get(url, params=FIELDS, headers=self.headers(),
                                             timeout=timeout) as resp:
                    if resp.status == 401:
                        raise self.refused(url)
                    if resp.status == 403:
                        raise status_error(url, 403, dict(resp.headers),
                                           "the app's access level does not include the filtered stream")
                    if resp.status == 200:
                        network = http = rate = 0
                        async for item in self.connection(resp, url):
                            yield item
                        wait = b.network
                    elif resp.status == 429:
                        rate += 1
                        wait = b.rate * 2 ** (rate - 1)
                        yield Throttled(time.time() + wait, f"429 from {host_of(url)}: too many connections")
                    else:
                        http += 1
                        wait = min(b.http_max, b.http * 2 ** (http - 1))
                        log.warning("%s: HTTP %s, reconnecting in %.1f s", url, resp.status, wait)
            except (aiohttp.ClientError, TimeoutError) as e:
                network += 1
                wait = min(b.network_max, b.network * network)
                why = "stalled" if isinstance(e, TimeoutError) else str(e)
                log.warning("%s: %s, reconnecting in %.2f s", url, why, wait)
            await asyncio.sleep(wait)


def build(name: str, options: Options, ctx: SourceContext) -> XSource:
    return XSource(name, options, ctx)


SPEC = ConnectorSpec(type="x", display_name="X", network="x",
                     options=Options, build=build)
