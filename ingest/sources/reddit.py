"""Reddit search and subreddit listings over OAuth (client credentials), with edit and removal re-checks.

Each round lists what is new (search `sort=new`, and `/r/{sub}/new` per subreddit), follows `after` until
it reaches the cursor, then re-reads the most recent posts through /api/info: a changed selftext is an
Upsert of the same id, a removed or deleted post a Delete. Reddit's X-Ratelimit-* headers are honoured:
when few requests remain the connector yields Throttled and sleeps until the window resets.
"""

from __future__ import annotations

import asyncio
import base64
import html
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

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
from ingest.sources.http import RateLimited, Seen, host_of, parse_retry_after, read_limited, status_error
from wall.models import Author, Media, Post, decode_untrusted, post_id
from wall.redact import redact_url
from wall.text import find_entities

MAX_PAGES = 10  # per listing per round; a busy query older than this is not "live" any more
LOW_REMAINING = 2.0
log = logging.getLogger(__name__)


class Options(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    client_id_env: str
    client_secret_env: str
    query: str = ""
    subreddits: list[str] = []
    interval: Annotated[float, msgspec.Meta(ge=10)] = 60
    recheck: Annotated[int, msgspec.Meta(ge=0, le=100)] = 25
    auth_url: str = "https://www.reddit.com/api/v1/access_token"
    api_url: str = "https://oauth.reddit.com"


def is_removed(data: dict[str, Any]) -> str | None:
    """'removed' or 'deleted' when the post is gone from Reddit, else None."""
    category = data.get("removed_by_category")
    if category == "deleted" or data.get("selftext") == "[deleted]" or data.get("author") == "[deleted]":
        return "deleted"
    if category or data.get("selftext") == "[removed]":
        return "removed"
    return None


def to_post(data: dict[str, Any]) -> Post:
    """The wall Post for a t3 (link or self post); Reddit HTML-escapes &, < and > once without raw_json."""
    title = html.unescape(str(data.get("title", "")))
    body = html.unescape(str(data.get("selftext", "")))
    text = f"{title}\n{body}" if body else title
    media = [Media(url=html.unescape(str((image.get("source") or {}).get("url", ""))))
             for image in (data.get("preview") or {}).get("images", [])]  # the sanitizer keeps http(s)
    author = str(data.get("author", ""))
    permalink = str(data.get("permalink", ""))
    return Post(id=post_id("reddit", str(data["name"])), source="reddit", source_id=str(data["name"]),
                text=text, created_at=datetime.fromtimestamp(float(data.get("created_utc", 0)), UTC),
                author=Author(name=author, handle=f"u/{author}"),
                url=f"https://www.reddit.com{permalink}" if permalink.startswith("/") else None,
                entities=find_entities(text), media=tuple(media))


def _utc(data: dict[str, Any]) -> float:
    """When a listed post was created; 0 (older than any cursor) when Reddit sent no number."""
    try:
        return float(data.get("created_utc", 0))
    except (TypeError, ValueError):
        return 0.0


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class RedditSource:
    def __init__(self, name: str, options: Options, ctx: SourceContext) -> None:
        self.name, self.options, self.ctx = name, options, ctx
        self.token: str | None = None
        self.wait_until = 0.0

    async def fetch_token(self) -> str:
        o = self.options
        client_id, secret = self.ctx.env.get(o.client_id_env), self.ctx.env.get(o.client_secret_env)
        if not client_id or not secret:
            raise SourceError(f"{o.client_id_env} and {o.client_secret_env} must hold the Reddit app's "
                              "client id and secret; create a script app at https://www.reddit.com/prefs/apps")
        refused = (f"401 from {host_of(o.auth_url)}: the app credentials in "
                   f"{o.client_id_env}/{o.client_secret_env} were refused")
        async with self.ctx.http.post(o.auth_url, data={"grant_type": "client_credentials"},
                                      headers={"Authorization": basic_auth(client_id, secret),
                                               "User-Agent": self.ctx.user_agent}) as resp:
            if resp.status in (400, 401, 403):
                raise SourceError(refused)
            if resp.status != 200:
                raise status_error(o.auth_url, resp.status, dict(resp.headers))
            body: Any = decode_untrusted(await read_limited(resp, o.auth_url, 65536))
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise SourceError(refused)  # Reddit answers 200 {"error": "invalid_grant"} for a bad secret
        return str(body["access_token"])

    async def get(self, path: str, params: dict[str, str]) -> Any:
        """One API call; a 401 fetches a new token once; RateLimited when Reddit says to wait."""
        url = self.options.api_url.rstrip("/") + path
        for attempt in range(2):
            if self.token is None:
                self.token = await self.fetch_token()
            headers = {"Authorization": f"bearer {self.token}", "User-Agent": self.ctx.user_agent}
            async with self.ctx.http.get(url, params=params, headers=headers) as resp:
                self.note_limits(resp.headers)
                if resp.status == 401 and attempt == 0:
                    self.token = None  # expired: one fresh token, then give up
                    continue
                if resp.status == 429:
                    wait = parse_retry_after(resp.headers.get("Retry-After"))
                    wait = wait if wait is not None else float(resp.headers.get("x-ratelimit-reset", 60))
                    raise RateLimited(time.time() + wait, f"429 from {host_of(url)}: rate limited")
                if resp.status != 200:
                    raise status_error(url, resp.status, dict(resp.headers))
                return decode_untrusted(await read_limited(resp, url))
        raise SourceError(f"401 from {host_of(url)}: a fresh token was refused too")

    def note_limits(self, headers: Any) -> None:
        try:
            remaining = float(headers["x-ratelimit-remaining"])
            reset = float(headers["x-ratelimit-reset"])
        except (KeyError, ValueError):
            return
        if remaining < LOW_REMAINING:
            self.wait_until = time.time() + reset

    async def call(self, path: str, params: dict[str, str], box: list[Any]) -> AsyncIterator[Item]:
        """Yields Throttled (the supervisor waits) while Reddit says to wait; the response lands in `box`."""
        while True:
            if self.wait_until > time.time():
                yield Throttled(self.wait_until, "Reddit rate limit: waiting for the window to reset")
            try:
                box.append(await self.get(path, params))
                return
            except RateLimited as e:
                self.wait_until = e.until
                log.info("%s: %s", redact_url(self.options.api_url + path), e.reason)

    async def listing(self, path: str, params: dict[str, str], after_utc: float,
                      found: list[dict[str, Any]]) -> AsyncIterator[Item]:
        """New t3 posts of one listing, newer than `after_utc`, following `after` pages."""
        after = None
        for _ in range(MAX_PAGES if after_utc else 1):
            box: list[Any] = []
            page = {**params, "limit": "100", **({"after": after} if after else {})}
            async for item in self.call(path, page, box):
                yield item
            data = box[0].get("data", {}) if isinstance(box[0], dict) else {}
            children = [c.get("data") for c in data.get("children", []) if c.get("kind") == "t3"]
            fresh = [c for c in children if isinstance(c, dict) and "name" in c
                     and _utc(c) > after_utc]
            found.extend(fresh)
            after = data.get("after")
            if not after or len(fresh) < len(children):
                return

    async def stream(self, cursor: str | None) -> AsyncIterator[Item]:
        after_utc = float(cursor.partition(":")[0]) if cursor else 0.0
        o = self.options
        while True:
            found: list[dict[str, Any]] = []
            if o.query:
                search = {"q": o.query, "sort": "new"}
                async for item in self.listing("/search.json", search, after_utc, found):
                    yield item
            for sub in o.subreddits:
                async for item in self.listing(f"/r/{sub}/new.json", {}, after_utc, found):
                    yield item
            recent = await Seen(self.ctx.state, "recent", o.recheck).load()
            async for item in self.recheck(recent):
                yield item
            for data in sorted({d["name"]: d for d in found}.values(), key=_utc):
                if is_removed(data) or data["name"] in recent.items:
                    continue
                post = guard(to_post, data)
                if isinstance(post, Skipped):
                    yield post
                else:
                    recent.mark(post)
                    yield Upsert(post)
                after_utc = max(after_utc, _utc(data))
                cursor = f"{data['created_utc']}:{data['name']}"
            await recent.save()
            yield Checkpoint(cursor or f"{after_utc}:")
            await asyncio.sleep(o.interval)

    async def recheck(self, recent: Seen) -> AsyncIterator[Item]:
        """Re-read the recent posts: an edit is an Upsert, a removal a Delete."""
        if not recent.items:
            return
        box: list[Any] = []
        async for item in self.call("/api/info", {"id": ",".join(recent.items)}, box):
            yield item
        for child in (box[0].get("data", {}) if isinstance(box[0], dict) else {}).get("children", []):
            data = child.get("data") or {}
            name = data.get("name")
            if name not in recent.items:
                continue
            if reason := is_removed(data):
                recent.forget(name)
                yield Delete(post_id("reddit", name), reason)
                continue
            post = guard(to_post, data)
            if isinstance(post, Skipped):
                yield post
            elif recent.changed(post):
                recent.mark(post)
                yield Upsert(post)


def build(name: str, options: Options, ctx: SourceContext) -> RedditSource:
    return RedditSource(name, options, ctx)


SPEC = ConnectorSpec(type="reddit", display_name="Reddit", network="reddit",
                     options=Options, build=build)
