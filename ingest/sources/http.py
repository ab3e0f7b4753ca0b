"""What every polled source needs: conditional GET, Retry-After as `RateLimited`, plain errors, a body
limit, and a bounded seen set that gives the new and changed items of a poll with the first-run cap."""

from __future__ import annotations

import email.utils
import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp

from ingest.connector import KeyValue, SourceError
from wall.models import Post
from wall.redact import redact_url

MAX_BODY = 5 * 1024 * 1024  # a feed or a listing page is far smaller; anything bigger is not one


@dataclass(frozen=True, slots=True)
class Fetched:
    """A response body, or None when the server said 304 Not Modified."""

    status: int
    body: bytes | None
    headers: dict[str, str]


def host_of(url: str) -> str:
    return urlsplit(url).hostname or url


class RateLimited(Exception):
    """The server said to wait until `until` (epoch seconds): the connector yields Throttled for it."""

    def __init__(self, until: float, reason: str) -> None:
        super().__init__(reason)
        self.until, self.reason = until, reason


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def status_error(url: str, status: int, headers: dict[str, str] | None = None, hint: str = "") -> SourceError:
    """A SourceError in plain words naming the host and the status."""
    host = host_of(url)
    words = {401: "the credentials were refused", 403: "access is forbidden",
             404: "the address does not exist", 429: "too many requests, it asked us to slow down"}
    reason = hint or words.get(status, "the server failed" if status >= 500 else "the request was refused")
    retry = parse_retry_after({k.title(): v for k, v in (headers or {}).items()}.get("Retry-After"))
    return SourceError(f"{status} from {host}: {reason}", retry_after=retry)


async def read_limited(resp: aiohttp.ClientResponse, url: str, limit: int = MAX_BODY) -> bytes:
    """The body, refused when it is larger than `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(65536):
        size += len(chunk)
        if size > limit:
            raise SourceError(f"{host_of(url)} sent more than {limit} bytes for {redact_url(url)}; "
                              "not a feed")
        chunks.append(chunk)
    return b"".join(chunks)


async def conditional_get(http: aiohttp.ClientSession, state: KeyValue, url: str, user_agent: str,
                          limit: int = MAX_BODY) -> Fetched:
    """GET with If-None-Match / If-Modified-Since from `state`; stores the new validators after a 200."""
    headers = {"User-Agent": user_agent}
    etag = await state.get(f"etag:{url}")
    modified = await state.get(f"modified:{url}")
    if etag:
        headers["If-None-Match"] = etag
    if modified:
        headers["If-Modified-Since"] = modified
    async with http.get(url, headers=headers) as resp:
        got = {k.title(): v for k, v in resp.headers.items()}  # one spelling: Etag, Last-Modified
        if resp.status == 304:
            return Fetched(304, None, got)
        if resp.status == 429:
            wait = parse_retry_after(got.get("Retry-After"))
            raise RateLimited(time.time() + (60.0 if wait is None else wait), f"429 from {host_of(url)}")
        if resp.status != 200:
            raise status_error(url, resp.status, got)
        body = await read_limited(resp, url, limit)
    if "Etag" in got:
        await state.set(f"etag:{url}", got["Etag"])
    if "Last-Modified" in got:
        await state.set(f"modified:{url}", got["Last-Modified"])
    return Fetched(200, body, got)


def digest(post: Post) -> str:
    """What makes a polled item changed: its text and media (not when we fetched it)."""
    return hashlib.blake2b(repr((post.text, post.media)).encode(), digest_size=8).hexdigest()


class Seen:
    """Items a polled source already yielded, id -> digest, oldest first, at most `limit`, kept in the
    source's state under `key` (so a restart repeats nothing)."""

    def __init__(self, state: KeyValue, key: str, limit: int) -> None:
        self.state, self.key, self.limit = state, key, limit
        self.items: dict[str, str] = {}
        self.first = True  # nothing was ever saved: the first run of this source

    async def load(self) -> Seen:
        raw = await self.state.get(self.key)
        self.first = raw is None
        loaded = json.loads(raw) if raw else {}
        self.items = {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}
        return self

    def changed(self, post: Post) -> bool:
        return self.items.get(post.source_id) != digest(post)

    def mark(self, post: Post) -> None:
        self.items.pop(post.source_id, None)  # to the newest end
        self.items[post.source_id] = digest(post)
        while len(self.items) > self.limit:
            del self.items[next(iter(self.items))]

    def forget(self, source_id: str) -> None:
        self.items.pop(source_id, None)

    async def save(self) -> None:
        await self.state.set(self.key, json.dumps(self.items))

    def fresh(self, posts: Sequence[Post], cap: int) -> list[Post]:
        """The newest `cap` of the posts that are new or changed, oldest first, all marked seen. On the
        first run only the newest `cap` count: a first poll must not flood a wall with a feed's past."""
        newest = sorted(posts, key=lambda p: p.created_at, reverse=True)
        if self.first:
            newest = newest[:cap]
        out = [p for p in newest if self.changed(p)][:cap]
        for p in reversed(newest):  # newest marked last, so the bound drops the oldest
            self.mark(p)
        return out[::-1]
