"""What every polled source needs: conditional GET, Retry-After, plain errors, a body limit, URL checks."""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp

from ingest.connector import KeyValue, SourceError
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


def safe_url(url: str | None) -> str | None:
    """The URL when it is http(s) with a host, else None: media and links from a feed are data."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return url


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
        if resp.status != 200:
            raise status_error(url, resp.status, got)
        body = await read_limited(resp, url, limit)
    if "Etag" in got:
        await state.set(f"etag:{url}", got["Etag"])
    if "Last-Modified" in got:
        await state.set(f"modified:{url}", got["Last-Modified"])
    return Fetched(200, body, got)
