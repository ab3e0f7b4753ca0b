"""RSS and Atom feeds, polled with conditional GET; new and changed items become Upserts.

A broken feed (feedparser's bozo with no entries, or a partial parse) is logged with its URL and the
other feeds of the source go on; at the end of the round the connector raises one SourceError naming
every failing feed, so /healthz shows it and the supervisor retries after its backoff.
"""

from __future__ import annotations

import asyncio
import calendar
import hashlib
import logging
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

import aiohttp
import chardet
import feedparser
import msgspec

from ingest.connector import (
    Checkpoint,
    ConnectorSpec,
    Item,
    Skipped,
    SourceContext,
    SourceError,
    Throttled,
    Upsert,
    guard,
)
from ingest.sources.http import RateLimited, Seen, conditional_get
from ingest.sources.plaintext import html_to_text
from wall.models import Author, Media, Post, post_id
from wall.redact import redact_url
from wall.text import find_entities

SEEN_LIMIT = 500  # item ids remembered per feed: more than any feed keeps in its window
log = logging.getLogger(__name__)


class Options(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    feeds: Annotated[list[str], msgspec.Meta(min_length=1)]
    interval: Annotated[float, msgspec.Meta(ge=30)] = 300
    max_items_per_poll: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 50


_DECLARED = re.compile(rb"^\s*<\?xml[^>]*\bencoding\s*=", re.I)


def feed_headers(headers: dict[str, str], body: bytes) -> dict[str, str]:
    """The response headers feedparser gets: the HTTP charset wins over the document's own declaration;
    a feed that declares none (neither in Content-Type, a BOM nor its XML declaration) gets one from its
    bytes: UTF-8 when it decodes as such, else chardet's guess."""
    h = {k.lower(): v for k, v in headers.items()}
    media = h.get("content-type", "").split(";")[0].strip()
    if "charset=" in h.get("content-type", "").lower() or _DECLARED.match(body) or body[:2] in (
        b"\xff\xfe", b"\xfe\xff"
    ):
        return h
    try:
        body.decode("utf-8")
        charset = "utf-8"
    except UnicodeDecodeError:
        charset = chardet.detect(body)["encoding"] or "windows-1252"
    h["content-type"] = f"{media or 'application/xml'}; charset={charset}"
    return h


def parse(body: bytes, headers: dict[str, str]) -> Any:
    """feedparser's result for a fetched feed (blocking: run it in an executor)."""
    return feedparser.parse(body, response_headers=feed_headers(headers, body))


def _text(detail: Any, value: Any) -> str:
    """Plain text of a title, summary or content: parsed as HTML only when the feed says it is HTML."""
    if not isinstance(value, str):
        return ""
    kind = detail.get("type", "text/html") if detail else "text/html"
    return value if kind == "text/plain" else html_to_text(value)


def entry_text(entry: Any) -> tuple[str, str]:
    """(title, body) as plain text; the body prefers full content over the summary."""
    title = _text(entry.get("title_detail"), entry.get("title", ""))
    content = entry.get("content") or []
    body = _text(content[0], content[0].get("value", "")) if content else ""
    return title, body or _text(entry.get("summary_detail"), entry.get("summary", ""))


def entry_time(entry: Any) -> datetime:
    # Atom 0.3 has `created` (and `issued`, `modified`, which feedparser maps to published, updated)
    parsed = entry.get("published_parsed") or entry.get("updated_parsed") or entry.get("created_parsed")
    if parsed:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    return datetime.now(UTC)


def entry_media(entry: Any) -> tuple[Media, ...]:
    media = []
    for link in entry.get("links", []):
        if link.get("rel") == "enclosure" and str(link.get("type", "")).startswith("image/"):
            if url := link.get("href"):  # the sanitizer keeps it only when it is http(s)
                media.append(Media(url=str(url)))
    return tuple(media)


def native_id(entry: Any) -> str | None:
    """The entry's guid or link; without either, a digest of its title, date and summary (the same item
    keeps it from poll to poll; an edit of one of those makes it a new item). None for an empty entry."""
    if native := entry.get("id") or entry.get("link"):
        return str(native)
    parts = [str(entry.get(k) or "") for k in ("title", "published", "updated", "created", "summary")]
    if not any(parts):
        return None
    return "urn:wall:rss:" + hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()


def to_post(entry: Any, feed: Any) -> Post | None:
    """The wall Post for one entry, or None when it has nothing to identify it by."""
    native = native_id(entry)
    if native is None:
        return None
    title, body = entry_text(entry)
    text = f"{title}\n{body}" if title and body else title or body
    name = entry.get("author") or feed.get("author") or feed.get("title") or ""
    return Post(id=post_id("rss", native), source="rss", source_id=native, text=text,
                created_at=entry_time(entry), author=Author(name=name),
                url=entry.get("link"), entities=find_entities(text), media=entry_media(entry),
                lang=entry.get("language") or feed.get("language"))


class RssSource:
    def __init__(self, name: str, options: Options, ctx: SourceContext) -> None:
        self.name, self.options, self.ctx = name, options, ctx

    async def poll(self, url: str) -> list[Upsert | Skipped]:
        """One conditional fetch of a feed: the new or changed items, oldest first."""
        fetched = await conditional_get(self.ctx.http, self.ctx.state, url, self.ctx.user_agent)
        if fetched.body is None:
            log.debug("feed %s not modified", redact_url(url))
            return []
        parsed = await asyncio.get_running_loop().run_in_executor(None, parse, fetched.body, fetched.headers)
        # A wrong declared charset or content type is harmless: feedparser parsed the feed anyway.
        harmless = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
        if parsed.get("bozo") and not isinstance(parsed.get("bozo_exception"), harmless):
            # A loose parse of a broken feed returns some entries; they are not the whole feed.
            raise SourceError(f"feed {redact_url(url)} is not valid RSS/Atom: {parsed.get('bozo_exception')}")
        seen = await Seen(self.ctx.state, f"seen:{url}", SEEN_LIMIT).load()
        posts: list[Post] = []
        skipped: list[Upsert | Skipped] = []
        for entry in parsed.entries:
            got = guard(to_post, entry, parsed.feed)
            if got is None:
                got = Skipped(f"an empty item of {redact_url(url)}: no id, link, title, date or text")
            if isinstance(got, Skipped):
                skipped.append(got)
            else:
                posts.append(got)
        fresh = seen.fresh(posts, self.options.max_items_per_poll)
        await seen.save()
        return skipped + [Upsert(p) for p in fresh]

    async def stream(self, cursor: str | None) -> AsyncIterator[Item]:
        while True:
            failed: list[str] = []
            for url in self.options.feeds:
                try:
                    while True:
                        try:
                            items = await self.poll(url)
                            break
                        except RateLimited as e:  # the supervisor waits, then we ask again
                            yield Throttled(e.until, e.reason)
                    for item in items:
                        yield item
                except SourceError as e:
                    log.warning("feed %s failed: %s", redact_url(url), e)
                    failed.append(str(e))
                    continue
                except (aiohttp.ClientError, TimeoutError) as e:  # one unreachable feed stops no other
                    log.warning("feed %s unreachable: %s", redact_url(url), e)
                    failed.append(f"feed {redact_url(url)} is unreachable: {e or type(e).__name__}")
                    continue
                yield Checkpoint(str(int(time.time())))
            if failed:
                raise SourceError("; ".join(failed))
            await asyncio.sleep(self.options.interval)


def build(name: str, options: Options, ctx: SourceContext) -> RssSource:
    return RssSource(name, options, ctx)


SPEC = ConnectorSpec(type="rss", display_name="RSS", network="rss",
                     options=Options, build=build)
