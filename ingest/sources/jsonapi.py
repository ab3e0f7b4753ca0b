"""One GET of a JSON API for the polled connectors of YouTube, Threads, Lemmy and Pixelfed.

The answer comes back whatever its status, decoded when it is JSON, so each connector maps its network's
own error bodies (YouTube's `reason`, the Graph API's `code`). A network failure becomes a SourceError that
names the host only: the URL may carry a key or a token in its query.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import msgspec

from ingest.connector import SourceError
from ingest.sources.http import host_of, parse_retry_after, read_limited
from wall.models import decode_untrusted


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: Any  # the decoded JSON, or None when the body was not JSON
    headers: dict[str, str]  # names in one spelling: Retry-After, Link

    def wait_until(self, default: float = 60.0) -> float:
        """Epoch seconds the server asked us to wait until (Retry-After), or `default` seconds from now."""
        wait = parse_retry_after(self.headers.get("Retry-After"))
        return time.time() + (default if wait is None else wait)


async def get_json(http: aiohttp.ClientSession, url: str, params: dict[str, str],
                   headers: dict[str, str]) -> Answer:
    try:
        async with http.get(url, params=params, headers=headers) as resp:
            got = {k.title(): v for k, v in resp.headers.items()}
            raw = await read_limited(resp, url)
            status = resp.status
    except (aiohttp.ClientError, TimeoutError) as e:  # its words may quote the URL with its query
        raise SourceError(f"{host_of(url)} is unreachable ({type(e).__name__}); retrying") from None
    try:
        body = decode_untrusted(raw) if raw else None
    except (msgspec.DecodeError, ValueError):
        body = None
    return Answer(status, body, got)


def string(value: Any) -> str:
    """A text field of a message: "" when absent; any other type raises (the message is skipped), so a
    number or an object never shows as its Python repr."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError(f"a {type(value).__name__} where text goes")
    return value


def maybe(value: Any) -> str | None:
    """An optional URL field: the string, or None for anything else (the sanitizer checks the URL)."""
    return value if isinstance(value, str) and value else None
