"""Lemmy posts and comments found by search (`/api/v3/search`, Lemmy 0.19), per community or instance-wide.

Each round searches newest first; a bounded seen set (ingest/sources/http.py) keeps what was shown, so a
repeat is dropped, an edited post or comment comes again as an edit and a first run takes only the newest
few. A post or comment flagged `deleted` (by its author) or `removed` (by a moderator) is retracted. Ids
follow the `ap_id` (the ActivityPub id), so one post seen through two instances is one post. Bodies are
markdown, shown as plain text.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

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
from ingest.sources.http import Seen, host_of, status_error
from ingest.sources.jsonapi import get_json, maybe, string
from wall.models import Author, Media, Post, post_id
from wall.text import find_entities

SEEN_LIMIT = 1000
MAX_BODY = 10_000  # Lemmy's own limit for a post body; a wall shows far less
# [text](url "title"): text, URL and title bounded and free of brackets, so no search backtracks far
_TARGET = r"\([ \t]*<?([^()\[\]\s<>]{1,2048})>?(?:[ \t]+\"[^\"\n]{0,200}\")?[ \t]*\)"
_IMAGE = re.compile(r"!\[([^\[\]\n]{0,500})\]" + _TARGET)
_LINK = re.compile(r"\[([^\[\]\n]{1,500})\]" + _TARGET)
_FENCE = re.compile(r"^[ \t]*(```|~~~|:::).*\n?", re.M)  # code fences and Lemmy's ::: spoiler blocks
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+", re.M)
_QUOTE = re.compile(r"^[ \t]{0,3}(>[ \t]?)+", re.M)
_RULE = re.compile(r"^[ \t]{0,3}([-*_])([ \t]*\1){2,}[ \t]*$", re.M)
# a span within a line and of bounded length, so a hostile body cannot make the search quadratic
_EMPHASIS = re.compile(r"(\*\*|__|~~|\*|`)(?=\S)([^\n]{1,300}?)(?<=\S)\1")
_SUPER = re.compile(r"\^([^^\s]+)\^")
_BLANKS = re.compile(r"\n{3,}")


class Options(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    instance: Annotated[str, msgspec.Meta(pattern=r"^https?://[^/\s]+/?$")]
    query: Annotated[str, msgspec.Meta(min_length=1)]
    communities: tuple[str, ...] = ()  # names ("nordlys" or "nordlys@lemmy.example"); none: the instance
    kinds: Literal["All", "Posts", "Comments"] = "All"
    interval: Annotated[float, msgspec.Meta(ge=10)] = 60
    max_items_per_poll: Annotated[int, msgspec.Meta(ge=1, le=50)] = 25  # Lemmy's page is 50 at most


def markdown_to_text(markdown: str) -> tuple[str, list[Media]]:
    """Plain text of a Lemmy markdown body (no markup left), and the images it embeds."""
    markdown = markdown[:MAX_BODY]
    images = [Media(url, alt) for alt, url in _IMAGE.findall(markdown)]
    text = _IMAGE.sub(lambda m: m.group(1), markdown)
    text = _LINK.sub(lambda m: m.group(2) if m.group(1) == m.group(2) else f"{m.group(1)} {m.group(2)}", text)
    for pattern in (_FENCE, _RULE, _HEADING, _QUOTE):
        text = pattern.sub("", text)
    for _ in range(3):  # nested emphasis: ***both*** is ** around *
        text = _EMPHASIS.sub(lambda m: m.group(2), text)
    text = _SUPER.sub(r"\1", text)
    return _BLANKS.sub("\n\n", text).strip(), images


def _author(creator: dict[str, Any]) -> Author:
    name = string(creator.get("name"))
    host = urlsplit(string(creator.get("actor_id"))).hostname
    return Author(name=string(creator.get("display_name")) or name,
                  handle=f"@{name}@{host}" if host else name, avatar_url=maybe(creator.get("avatar")))


def _when(value: Any) -> datetime:
    return datetime.fromisoformat(string(value).replace("Z", "+00:00"))


def post_view(view: dict[str, Any]) -> tuple[Post, bool]:
    """(the Post, whether it is gone) for a post view: its title, link and body as text."""
    p = view["post"]
    body, media = markdown_to_text(string(p.get("body")))
    text = "\n".join(part for part in (string(p["name"]), maybe(p.get("url")) or "", body) if part)
    if thumbnail := maybe(p.get("thumbnail_url")):
        media.insert(0, Media(thumbnail, string(p.get("alt_text"))))
    native = string(p["ap_id"])
    post = Post(id=post_id("lemmy", native), source="lemmy", source_id=native, text=text,
                created_at=_when(p["published"]), author=_author(view.get("creator") or {}), url=native,
                entities=find_entities(text), media=tuple(media[:4]),
                held="marked NSFW" if p.get("nsfw") else None)
    return post, bool(p.get("deleted") or p.get("removed"))


def comment_view(view: dict[str, Any]) -> tuple[Post, bool]:
    c = view["comment"]
    text, media = markdown_to_text(string(c.get("content")))
    native = string(c["ap_id"])
    post = Post(id=post_id("lemmy", native), source="lemmy", source_id=native, text=text,
                created_at=_when(c["published"]), author=_author(view.get("creator") or {}), url=native,
                entities=find_entities(text), media=tuple(media[:4]))
    return post, bool(c.get("deleted") or c.get("removed"))


class Lemmy:
    def __init__(self, name: str, options: Options, ctx: SourceContext) -> None:
        self.name, self.options, self.ctx = name, options, ctx
        self.url = options.instance.rstrip("/") + "/api/v3/search"
        self.host = host_of(options.instance)

    async def search(self, community: str | None, seen: Seen) -> AsyncIterator[Item]:
        o = self.options
        params = {"q": o.query, "type_": o.kinds, "sort": "New", "limit": str(o.max_items_per_poll)}
        if community:
            params["community_name"] = community
        while True:
            answer = await get_json(self.ctx.http, self.url, params, {"User-Agent": self.ctx.user_agent})
            if answer.status != 429:
                break
            yield Throttled(answer.wait_until(), f"429 from {self.host}: rate limited")
        if answer.status == 404 or (answer.status == 400 and isinstance(answer.body, dict)
                                    and answer.body.get("error") == "couldnt_find_community"):
            raise SourceError(f"{answer.status} from {self.host}: no community {community!r} there; check "
                              "communities (name@instance for a remote one)")
        if answer.status != 200 or not isinstance(answer.body, dict):
            raise status_error(self.url, answer.status, answer.headers)
        found: list[Post] = []
        for key, parse in (("posts", post_view), ("comments", comment_view)):
            views = answer.body.get(key)
            for view in views if isinstance(views, list) else []:
                got = guard(parse, view)
                if isinstance(got, Skipped):
                    yield got
                elif got[1]:
                    if got[0].source_id in seen.items:
                        seen.forget(got[0].source_id)
                        yield Delete(got[0].id, "removed" if _removed(view) else "deleted")
                else:
                    found.append(got[0])
        for post in seen.fresh(found, o.max_items_per_poll):
            yield Upsert(post)

    async def stream(self, cursor: str | None) -> AsyncIterator[Item]:
        while True:
            for community in self.options.communities or (None,):
                seen = await Seen(self.ctx.state, f"seen:{community or ''}", SEEN_LIMIT).load()
                async for item in self.search(community, seen):
                    yield item
                await seen.save()
                yield Checkpoint(str(int(time.time())))
            await asyncio.sleep(self.options.interval)


def _removed(view: dict[str, Any]) -> bool:
    return bool((view.get("comment") or view.get("post") or {}).get("removed"))


def build(name: str, options: Options, ctx: SourceContext) -> Lemmy:
    return Lemmy(name, options, ctx)


SPEC = ConnectorSpec(type="lemmy", display_name="Lemmy", network="lemmy",
                     options=Options, build=build)
