"""Threads keyword search (the Threads API's `keyword_search`, recent posts first), polled.

Each round asks for the posts since a little before the newest one seen (`since`, Unix seconds), and a
bounded seen set (ingest/sources/http.py) keeps what was shown: a repeat is dropped, a post whose text or
media changed (Threads allows edits for a few minutes) comes again as an edit, a first run takes only the
newest few. The access token goes in the query, as the API wants; no error or log line quotes a URL.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

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
from ingest.sources.http import Seen, host_of, status_error
from ingest.sources.jsonapi import get_json, maybe, string
from wall.models import Author, Media, Post, post_id
from wall.text import find_entities

FIELDS = ("id,text,media_type,media_url,thumbnail_url,alt_text,permalink,timestamp,username,"
          "children{media_type,media_url,thumbnail_url,alt_text}")
SEEN_LIMIT = 500
OVERLAP = 300  # seconds asked again before the newest post seen: search indexing lags a little
THROTTLE_CODES = {4, 17, 32, 613}  # the Graph API's "too many calls" codes
THROTTLE_WAIT = 900.0  # seconds, when the API says to slow down without saying how long


class Options(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    query: Annotated[str, msgspec.Meta(min_length=1)]
    token_env: str  # env var holding a Threads user access token with threads_keyword_search
    search_mode: Annotated[str, msgspec.Meta(pattern="^(KEYWORD|TAG)$")] = "KEYWORD"
    interval: Annotated[float, msgspec.Meta(ge=40)] = 60  # 2,200 queries a day: one per 40 s at most
    max_items_per_poll: Annotated[int, msgspec.Meta(ge=1, le=100)] = 25
    api_url: str = "https://graph.threads.net/v1.0"


def _media(item: dict[str, Any]) -> list[Media]:
    kind = item.get("media_type")
    url, alt = maybe(item.get("media_url")), string(item.get("alt_text"))
    if kind in ("IMAGE", "VIDEO") and url:
        return [Media(url, alt, "video" if kind == "VIDEO" else "image")]
    if kind == "CAROUSEL_ALBUM":
        return [m for child in (item.get("children") or {}).get("data", []) for m in _media(child)]
    return []


def to_post(item: dict[str, Any]) -> Post:
    native = string(item["id"])
    if not native:
        raise ValueError("a message without an id")
    text = string(item.get("text"))
    username = string(item.get("username"))
    # Threads writes offsets without a colon (+0000), which fromisoformat reads since Python 3.11
    created = datetime.fromisoformat(string(item["timestamp"]))
    return Post(id=post_id("threads", native), source="threads", source_id=native, text=text,
                created_at=created, author=Author(name=username, handle=f"@{username}" if username else ""),
                url=maybe(item.get("permalink")), entities=find_entities(text), media=tuple(_media(item)))


class Threads:
    def __init__(self, name: str, options: Options, ctx: SourceContext) -> None:
        self.name, self.options, self.ctx = name, options, ctx
        self.url = options.api_url.rstrip("/") + "/keyword_search"
        self.host = host_of(options.api_url)

    def refused(self, status: int, code: object, headers: dict[str, str]) -> SourceError:
        if status in (400, 401, 403) and code in (190, 102, 10, 200):  # expired, invalid, no permission
            return SourceError(f"{status} from {self.host}: the token in {self.options.token_env} was "
                               f"refused (code {code}); renew it, with the threads_keyword_search permission")
        return status_error(self.url, status, headers)

    async def poll(self, token: str, since: int | None, seen: Seen) -> AsyncIterator[Item]:
        params = {"q": self.options.query, "search_type": "RECENT", "search_mode": self.options.search_mode,
                  "fields": FIELDS, "limit": str(self.options.max_items_per_poll), "access_token": token}
        if since:
            params["since"] = str(since)
        while True:
            answer = await get_json(self.ctx.http, self.url, params, {"User-Agent": self.ctx.user_agent})
            error = answer.body.get("error") if isinstance(answer.body, dict) else None
            code = error.get("code") if isinstance(error, dict) else None
            if answer.status == 429 or code in THROTTLE_CODES:
                yield Throttled(answer.wait_until(THROTTLE_WAIT), f"{answer.status} from {self.host}: "
                                "the query limit is reached")
                continue
            if answer.status != 200:
                raise self.refused(answer.status, code, answer.headers)
            break
        data = answer.body.get("data") if isinstance(answer.body, dict) else None
        if not isinstance(data, list):
            raise SourceError(f"{self.host} answered the search without a list of posts")
        posts: list[Post] = []
        for item in data:
            got = guard(to_post, item)
            if isinstance(got, Skipped):
                yield got
            else:
                posts.append(got)
        for post in seen.fresh(posts, self.options.max_items_per_poll):
            yield Upsert(post)
        await seen.save()

    async def stream(self, cursor: str | None) -> AsyncIterator[Item]:
        token = self.ctx.env.get(self.options.token_env)
        if not token:
            raise SourceError(f"{self.options.token_env} must hold a Threads access token with the "
                              "threads_basic and threads_keyword_search permissions")
        newest = int(cursor) if cursor and cursor.isdigit() else 0
        while True:
            seen = await Seen(self.ctx.state, "seen", SEEN_LIMIT).load()
            async for item in self.poll(token, newest - OVERLAP if newest else None, seen):
                if isinstance(item, Upsert):
                    newest = max(newest, int(item.post.created_at.timestamp()))
                yield item
            yield Checkpoint(str(newest or int(time.time())))
            await asyncio.sleep(self.options.interval)


def build(name: str, options: Options, ctx: SourceContext) -> Threads:
    return Threads(name, options, ctx)


SPEC = ConnectorSpec(type="threads", display_name="Threads", network="threads",
                     options=Options, build=build)
