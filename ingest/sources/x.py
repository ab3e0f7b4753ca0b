"""X API v2 filtered stream: rules synced from the config, posts with their authors, media and entities.

The stream is newline-delimited JSON with bare `\\r\\n` keep-alives. It is reconnected after an
operational-disconnect message, a stall (nothing, not even a keep-alive, for `stall_timeout` seconds) or
a cut connection, after the project's one backoff (wall.bus.base.backoff); an HTTP error is a SourceError
the supervisor backs off from, a 429 is Throttled until X's x-rate-limit-reset. An edit arrives as a
new post whose `edit_history_tweet_ids` names the old one, which is then deleted from the wall. The
filtered stream carries no deletes: those come from the Post compliance stream
(`compliance_partitions`, Enterprise access), read beside it with the same framing and reconnects;
its delete, drop and withheld events retract the post, tweet_edit retracts the versions it replaced.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

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
from ingest.sources.http import host_of, parse_retry_after, read_limited, status_error
from wall.bus.base import backoff
from wall.models import Author, Entity, Media, Post, decode_untrusted, post_id
from wall.redact import redact_url

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
    # partitions (1-4) of /2/tweets/compliance/stream to read; all four carry every delete between them
    compliance_partitions: Annotated[
        tuple[Annotated[int, msgspec.Meta(ge=1, le=4)], ...], msgspec.Meta(max_length=4)
    ] = ()


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


_RETRACT = {"delete": "deleted", "drop": "removed", "withheld": "removed"}  # undrop: nothing to restore


def compliance_deletes(message: dict[str, Any]) -> list[Delete] | None:
    """The retractions a Post compliance event asks for ([] for one that asks none), or None when the
    message is no compliance event. `{"data": {"delete": {"tweet": {"id": ..}}}}` and the same without
    the `data` wrapper are both accepted."""
    body = message.get("data") if isinstance(message.get("data"), dict) else message
    if not isinstance(body, dict) or "id" in body:  # a post (a post may carry a `withheld` field)
        return None
    for event, reason in _RETRACT.items():
        if isinstance(found := body.get(event), dict):
            tweet = found.get("tweet") or {}
            return [Delete(post_id("x", str(tweet["id"])), reason)] if tweet.get("id") else []
    if isinstance(edit := body.get("tweet_edit"), dict):
        newest = str((edit.get("tweet") or {}).get("id", ""))
        return [Delete(post_id("x", str(i)), "deleted") for i in edit.get("edit_tweet_ids") or []
                if str(i) != newest]
    if "undrop" in body:
        return []
    return None


def to_post(data: dict[str, Any], includes: dict[str, Any]) -> Post:
    """The wall Post for one tweet and the `includes` that came with it."""
    raw = str(data.get("text", ""))
    text, index = unescape_with_offsets(raw)
    entities = map_entities(data.get("entities") or {}, index, len(text))
    users = {u.get("id"): u for u in includes.get("users") or []}
    user = users.get(data.get("author_id")) or {}
    media_by_key = {m.get("media_key"): m for m in includes.get("media") or []}
    media = []
    for key in (data.get("attachments") or {}).get("media_keys") or []:
        m = media_by_key.get(key) or {}
        if url := m.get("url") or m.get("preview_image_url"):  # a video shows its poster
            media.append(Media(url=str(url), alt=str(m.get("alt_text") or "")))
    handle = str(user.get("username", ""))
    lang = data.get("lang")
    return Post(id=post_id("x", str(data["id"])), source="x", source_id=str(data["id"]), text=text,
                created_at=datetime.fromisoformat(str(data["created_at"])) if data.get("created_at")
                else datetime.now(UTC),
                author=Author(name=str(user.get("name", "")), handle=handle,
                              avatar_url=user.get("profile_image_url")),
                url=f"https://x.com/{handle or 'i'}/status/{data['id']}", entities=entities,
                media=tuple(media), lang=lang if lang not in (None, "und", "zxx", "qme", "qht") else None)


def rate_reset(headers: Any) -> float:
    """When X lets us connect again (epoch seconds): Retry-After, x-rate-limit-reset, or in a minute."""
    wait = parse_retry_after(headers.get("Retry-After"))
    if wait is not None:
        return time.time() + wait
    reset = str(headers.get("x-rate-limit-reset", ""))
    return float(reset) if reset.isdigit() else time.time() + 60


def message(line: bytes) -> tuple[Post, list[str]] | list[Delete] | Literal["disconnect"] | None:
    """One line of a stream: a post and the ids its edit replaces, the retractions of a compliance event,
    X's operational-disconnect, or None for a message that carries no post (an error about a rule, say)."""
    message: Any = decode_untrusted(line)
    if (gone := compliance_deletes(message)) is not None:
        return gone
    data = message.get("data")
    if data is None:
        if any(e.get("title") == "operational-disconnect" for e in message.get("errors") or []):
            return "disconnect"
        # Titles only: an error's detail and value may name an account or quote a post.
        titles = ", ".join(str(e.get("title")) for e in message.get("errors") or [])
        log.info("a stream message without data: %s", titles[:200])
        return None
    post = to_post(data, message.get("includes") or {})
    history = data.get("edit_history_tweet_ids") or []
    return post, [str(i) for i in history if str(i) != post.source_id]


class XSource:
    def __init__(self, name: str, options: Options, ctx: SourceContext) -> None:
        self.name, self.options, self.ctx = name, options, ctx
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
                    log.warning("%s: connection cut mid-message (%d bytes dropped)", redact_url(url),
                                len(buffer))
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
            got = guard(message, line)
            if got == "disconnect":
                log.info("%s: operational disconnect, reconnecting", redact_url(url))
                break
            if isinstance(got, Skipped):
                yield got
                continue
            if got is None:
                continue
            if isinstance(got, list):
                for delete in got:
                    yield delete
                continue
            post, earlier = got
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
        follows = [self.follow(f"{self.api}/2/tweets/search/stream", FIELDS)] + [
            self.follow(f"{self.api}/2/tweets/compliance/stream", {"partition": str(p)})
            for p in self.options.compliance_partitions
        ]
        if len(follows) == 1:
            async for item in follows[0]:
                yield item
            return
        queue: asyncio.Queue[Item | BaseException] = asyncio.Queue(maxsize=1000)

        async def pump(follow: AsyncIterator[Item]) -> None:
            try:
                async for item in follow:
                    await queue.put(item)
            except Exception as e:  # the consumer raises it
                await queue.put(e)

        tasks = [asyncio.ensure_future(pump(f)) for f in follows]
        try:
            while True:
                got = await queue.get()
                if isinstance(got, BaseException):
                    raise got
                yield got
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def follow(self, url: str, params: dict[str, str]) -> AsyncIterator[Item]:
        """One stream, reconnected forever after the project's backoff."""
        cuts = 0  # connections in a row that ended without a post
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10)  # stalls are timed per read, below
        while True:
            try:
                async with self.ctx.http.get(url, params=params, headers=self.headers(),
                                             timeout=timeout) as resp:
                    if resp.status == 401:
                        raise self.refused(url)
                    if resp.status == 403:
                        raise status_error(url, 403, dict(resp.headers),
                                           "the app's access level does not include the "
                                           + ("compliance stream (Enterprise)" if "compliance" in url
                                              else "filtered stream"))
                    if resp.status == 429:  # the supervisor waits, then we connect again
                        until = rate_reset(resp.headers)
                        yield Throttled(until, f"429 from {host_of(url)}: too many connections")
                        # Beside the compliance stream this runs in a pump the supervisor does not hold
                        # back: wait out what is left of the limit here too.
                        await asyncio.sleep(max(0.0, until - time.time()))
                        continue
                    if resp.status != 200:
                        raise status_error(url, resp.status, dict(resp.headers))
                    async for item in self.connection(resp, url):
                        cuts = 0 if isinstance(item, Upsert | Delete) else cuts
                        yield item
                    why = "the stream ended"
            except (aiohttp.ClientError, TimeoutError) as e:
                why = "stalled" if isinstance(e, TimeoutError) else str(e)
            wait = backoff(cuts)
            cuts += 1
            log.warning("%s: %s, reconnecting in %.2f s", redact_url(url), why, wait)
            await asyncio.sleep(wait)


def build(name: str, options: Options, ctx: SourceContext) -> XSource:
    return XSource(name, options, ctx)


SPEC = ConnectorSpec(type="x", display_name="X", network="x",
                     options=Options, build=build)
