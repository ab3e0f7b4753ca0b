"""From raw input to a wall's inbox: validate, normalize, dedupe and admit (one atomic step)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated, Literal

import msgspec

from ingest.sanitize import Refused, sanitize, web_url
from wall.bus.base import Inbox, Outcome
from wall.models import Author, InboxDelete, InboxPost, Media, Post, decode_untrusted, encode, post_id
from wall.text import find_entities

MAX_BATCH = 100
Url = Annotated[str, msgspec.Meta(max_length=2048)]
Short = Annotated[str, msgspec.Meta(max_length=200)]
URL_RULE = "only http(s) URLs are accepted (without whitespace or control characters)"


class AuthorIn(msgspec.Struct):
    name: Short = ""
    handle: Short = ""
    avatar_url: Url | None = None


class MediaIn(msgspec.Struct):
    url: Url
    alt: Annotated[str, msgspec.Meta(max_length=1500)] = ""
    kind: Literal["image", "video"] = "image"


class PostIn(msgspec.Struct):
    """A post as a webhook or a bundled dataset gives it (see docs/api.md)."""

    id: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    text: Annotated[str, msgspec.Meta(max_length=20_000)]
    author: AuthorIn = msgspec.field(default_factory=AuthorIn)
    url: Url | None = None
    created_at: datetime | None = None
    media: Annotated[list[MediaIn], msgspec.Meta(max_length=10)] = msgspec.field(default_factory=list)
    lang: Annotated[str, msgspec.Meta(max_length=35)] | None = None


class Batch(msgspec.Struct):
    posts: Annotated[list[PostIn], msgspec.Meta(min_length=1, max_length=MAX_BATCH)]


class InputError(ValueError):
    """The input cannot become a post; the message says where and why."""


def parse_posts(body: bytes) -> list[PostIn]:
    """Decode one post or {"posts": [...]} from JSON bytes; raise InputError naming the bad field."""
    data: object = decode_untrusted(body)  # BadJSON (the caller answers 400) for unusable bytes
    try:
        if isinstance(data, dict) and "posts" in data:
            posts = msgspec.convert(data, Batch).posts
        elif isinstance(data, dict):
            posts = [msgspec.convert(data, PostIn)]
        else:
            raise InputError('body must be a JSON object: one post, or {"posts": [...]}')
    except msgspec.ValidationError as e:
        raise InputError(str(e)) from None
    for i, p in enumerate(posts):
        where = f"$.posts[{i}]" if isinstance(data, dict) and "posts" in data else "$"
        check_post(p, where)
    return posts


def _safe_url(url: str | None) -> bool:
    # A path is bundled demo media from the wall server itself.
    return url is None or web_url(url, local=True) is not None


def check_post(p: PostIn, where: str) -> None:
    if not p.text.strip() and not p.media:
        raise InputError(f"{where}.text: empty post; give text or media")
    if p.created_at is not None and p.created_at.tzinfo is not None:
        try:
            p.created_at.astimezone(UTC)
        except OverflowError:  # 0001-01-01T00:00+14:00 is before the first instant a datetime holds
            raise InputError(f"{where}.created_at: out of range; send a date after the year 1") from None
    for field, url in (("url", p.url), ("author.avatar_url", p.author.avatar_url)):
        if url is not None and not _safe_url(url):
            raise InputError(f"{where}.{field}: {URL_RULE}, got {url[:60]!r}")
    for j, m in enumerate(p.media):
        if not _safe_url(m.url):
            raise InputError(f"{where}.media[{j}].url: {URL_RULE}, got {m.url[:60]!r}")


def normalize(source: str, p: PostIn, now: datetime | None = None) -> Post:
    """Turn validated input into a Post as a connector yields it (the sanitizer cleans it next)."""
    return Post(
        id=post_id(source, p.id),
        source=source,
        source_id=p.id,
        text=p.text,
        created_at=p.created_at or now or datetime.now(UTC),
        author=Author(p.author.name, p.author.handle.lstrip("@"), p.author.avatar_url),
        url=p.url,
        entities=find_entities(p.text),
        media=tuple(Media(m.url, m.alt, m.kind) for m in p.media),
        lang=p.lang,
    )


def admit_input(source: str, posts: list[PostIn]) -> list[Post]:
    """Webhook input as sanitized Posts (the sanitizer the supervisor runs on every connector's posts);
    InputError naming the first post it refuses: then none is admitted."""
    out = []
    for i, p in enumerate(posts):
        try:
            out.append(sanitize(normalize(source, p)))
        except Refused as e:
            where = "$" if len(posts) == 1 else f"$.posts[{i}]"
            raise InputError(f"{where}.text: {e}; give text or media") from None
    return out


def digest(post: Post) -> str:
    """What makes two versions of a post different for the screens (not when we saw it, not its status:
    status is the curation writer's, so a source re-sending a post can never undo a curator)."""
    content = (post.text, post.author, post.url, post.media, post.lang)
    return hashlib.blake2b(encode(content), digest_size=12).hexdigest()


class Pipeline:
    """Admits normalized posts to wall inboxes. One per process; used by the webhook and every source."""

    def __init__(self, engine: Inbox) -> None:
        self.engine = engine

    async def submit(self, wall: str, post: Post) -> tuple[Outcome, str | None]:
        """New or changed content goes to the inbox; the same again is a duplicate and writes nothing.
        Returns the outcome and the inbox id. If it raises, nothing was recorded: retrying is safe."""
        return await self.engine.admit(wall, post.id, digest(post), encode(InboxPost(post)))

    async def retract(self, wall: str, post_id: str, reason: str = "deleted") -> str:
        """The post was removed at its source: the writer takes it off the screens that show it."""
        return await self.engine.enqueue(wall, encode(InboxDelete(post_id, reason)))
