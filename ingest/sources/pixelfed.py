"""Pixelfed hashtags through its Mastodon-compatible API, polled (Pixelfed has no streaming API).

Each round re-reads the most recent statuses it showed (`/api/v1/statuses/{id}`: a changed one is an
edit, a 404 a delete), then reads `/api/v1/timelines/tag/{tag}` from the cursor (`min_id`, the newest
status id seen, following the "prev" links while there is more) and yields the statuses oldest first,
their photos and videos as media with the alt text. The statuses are Mastodon's, parsed by the Mastodon
connector's functions; only the network differs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Annotated
from urllib.parse import quote

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
from ingest.sources.http import digest, host_of, status_error
from ingest.sources.jsonapi import get_json
from ingest.sources.mastodon import _newer, _status, links, normalize, retry_at
from wall.models import Post, post_id

RECENT_KEY = "recent"  # in the source's state: the statuses re-read each round
PAGE = 40  # Pixelfed's largest page
MAX_PAGES = 10  # per hashtag and round: further back than this is not live any more


class Options(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    instance: Annotated[str, msgspec.Meta(pattern=r"^https?://[^/\s]+/?$")]
    hashtags: Annotated[tuple[str, ...], msgspec.Meta(min_length=1)]
    token_env: str | None = None  # env var holding a personal access token (instances that want one)
    interval: Annotated[float, msgspec.Meta(ge=0)] = 30  # seconds between rounds
    backfill_limit: Annotated[int, msgspec.Meta(ge=1, le=PAGE)] = 20  # posts per hashtag on a first run
    recheck: Annotated[int, msgspec.Meta(ge=0, le=PAGE)] = 10  # re-read per round: edits, deletes


def to_upsert(raw: bytes) -> tuple[str, Upsert]:
    """(local status id, the post) of one status; a Pixelfed post's id follows its uri, as on Mastodon."""
    status = _status.decode(raw)
    post = normalize(status)
    uri = (status.reblog or status).uri
    return status.id, Upsert(msgspec.structs.replace(post, id=post_id("pixelfed", uri), source="pixelfed"))


class Pixelfed:
    def __init__(self, name: str, options: Options, ctx: SourceContext) -> None:
        self.name, self.options, self.ctx = name, options, ctx
        self.base = options.instance.rstrip("/")
        self.host = host_of(self.base)
        self.recent: dict[str, tuple[str, str]] = {}  # local status id -> (post id, digest), oldest first

    def headers(self) -> dict[str, str]:
        headers = {"User-Agent": self.ctx.user_agent, "Accept": "application/json"}
        if token := self.ctx.env.get(self.options.token_env or "", ""):
            headers["Authorization"] = f"Bearer {token}"
        return headers

    async def timeline(self, tag: str, since: str | None) -> AsyncIterator[Item]:
        """A hashtag's statuses after `since`, oldest first; its newest id comes in the last Checkpoint."""
        url = f"{self.base}/api/v1/timelines/tag/{quote(tag.lstrip('#'), safe='')}"
        for _ in range(MAX_PAGES if since else 1):
            params = {"limit": str(PAGE), "min_id": since} if since else {
                "limit": str(self.options.backfill_limit)}
            answer = await get_json(self.ctx.http, url, params, self.headers())
            if answer.status == 429:
                yield Throttled(retry_at(answer.headers), f"429 from {self.host}")
                continue
            if answer.status in (401, 403):
                who = f"the token in {self.options.token_env}" if self.options.token_env else "anonymous"
                raise SourceError(f"{answer.status} from {self.host}: {who} reading was refused")
            if answer.status != 200:
                raise status_error(url, answer.status, answer.headers)
            if not isinstance(answer.body, list):
                raise SourceError(f"{self.host} did not answer a timeline; is it a Pixelfed instance?")
            newest = since
            for status in reversed(answer.body):  # pages come newest first
                got = guard(to_upsert, msgspec.json.encode(status))
                if isinstance(got, tuple):
                    newest = _newer(newest, got[0])
                    self.remember(got[0], got[1].post)
                    yield got[1]
                    continue
                if isinstance(status, dict) and isinstance(status.get("id"), str):
                    newest = _newer(newest, status["id"])  # a bad status is passed for good
                yield got
            if newest is not None:
                yield Checkpoint(newest)
            prev = links(answer.headers.get("Link", "")).get("prev")
            if not since or not answer.body or not prev:
                return
            since = newest

    def remember(self, local: str, post: Post) -> None:
        self.recent.pop(local, None)  # to the newest end
        self.recent[local] = (post.id, digest(post))
        while len(self.recent) > self.options.recheck:
            del self.recent[next(iter(self.recent))]

    async def recheck(self) -> AsyncIterator[Item]:
        """Re-read the recent statuses: a changed one is an edit, a missing one (404/410) a delete."""
        for local, (pid, seen) in list(self.recent.items()):
            url = f"{self.base}/api/v1/statuses/{quote(local, safe='')}"
            while (answer := await get_json(self.ctx.http, url, {}, self.headers())).status == 429:
                yield Throttled(retry_at(answer.headers), f"429 from {self.host}")
            if answer.status in (404, 410):
                del self.recent[local]
                yield Delete(pid)
                continue
            if answer.status != 200:
                raise status_error(url, answer.status, answer.headers)
            got = guard(to_upsert, msgspec.json.encode(answer.body))
            if isinstance(got, Skipped):
                yield got
            elif digest(got[1].post) != seen:
                self.remember(local, got[1].post)
                yield got[1]

    async def stream(self, cursor: str | None) -> AsyncIterator[Item]:
        # One cursor for every hashtag: ids are the instance's, ordered; per-tag cursors sit in the state.
        saved = await self.ctx.state.get(RECENT_KEY)
        if saved:
            with contextlib.suppress(msgspec.DecodeError, msgspec.ValidationError):
                self.recent = msgspec.json.decode(saved, type=dict[str, tuple[str, str]])
        while True:
            async for item in self.recheck():
                yield item
            newest = cursor
            for tag in self.options.hashtags:
                since = await self.ctx.state.get(f"since:{tag}") or cursor
                async for item in self.timeline(tag, since):
                    if isinstance(item, Checkpoint):
                        await self.ctx.state.set(f"since:{tag}", item.cursor)
                        await self.ctx.state.set(RECENT_KEY, msgspec.json.encode(self.recent).decode())
                        newest = _newer(newest, item.cursor)
                        item = Checkpoint(newest)
                    yield item
            cursor = newest
            await asyncio.sleep(self.options.interval)


def build(name: str, options: Options, ctx: SourceContext) -> Pixelfed:
    return Pixelfed(name, options, ctx)


SPEC = ConnectorSpec(type="pixelfed", display_name="Pixelfed", network="pixelfed",
                     options=Options, build=build)
