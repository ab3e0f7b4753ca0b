"""What both engines' `erase_author` match (pure): the author's posts in display events, inbox entries,
recent posts and stats counters, by author key ("network:handle", lowercased: wall.models.author_key).

A display event of the author's post is erased (Redis deletes it; the memory engine, whose history is a
bounded deque, rewrites it as a retract of the same post under the same id, so its trimming sums stay
true); a control event whose spotlight is the author's keeps everything but the spotlight.
"""

from __future__ import annotations

from typing import NamedTuple

import msgspec

from wall.models import (
    ControlEvent,
    InboxPost,
    Post,
    PostEvent,
    RetractEvent,
    UpdateEvent,
    author_key,
    decode_event,
    decode_inbox,
    decode_recent,
    encode,
)

AUTHOR_COUNTER = "author:"  # wall/curate/stats.py: counts_for() names a post's author counter so


class ErasedAuthor(NamedTuple):
    """What an engine's erase_author found and removed on one wall."""

    posts: tuple[Post, ...] = ()  # the author's posts it held (each once, newest copy): ids and media
    removed: int = 0  # events, inbox entries, recent posts, author records and counters removed or rewritten


def in_event(body: bytes, author: str) -> tuple[Post, bytes] | None:
    """The author's post an event carries and what the event becomes without it, or None."""
    try:
        event = decode_event(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    match event:
        case PostEvent(post=post) | UpdateEvent(post=post) if author_key(post) == author:
            return post, encode(RetractEvent(post.id, "erased"))
        case ControlEvent(spotlight=Post() as post) if author_key(post) == author:
            return post, encode(msgspec.structs.replace(event, spotlight=None, spotlight_until=None))
    return None


def in_entry(body: bytes, author: str) -> Post | None:
    """The author's post an inbox entry carries, or None."""
    try:
        entry = decode_inbox(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    return entry.post if isinstance(entry, InboxPost) and author_key(entry.post) == author else None


def in_recent(body: bytes, author: str) -> Post | None:
    """The author's post a recent-post record carries, or None."""
    try:
        post = decode_recent(body).post
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    return post if author_key(post) == author else None


def in_control(frame: bytes | None, author: str) -> bool:
    """Whether a kept control frame ({"id": …, control event}) spotlights the author's post."""
    if frame is None:
        return False
    try:
        event = msgspec.json.decode(frame, type=dict[str, object])
    except (msgspec.DecodeError, msgspec.ValidationError):
        return False
    event.pop("id", None)
    return in_event(msgspec.json.encode(event), author) is not None


def author_counters(names: list[str], author: str, posts: tuple[Post, ...]) -> list[str]:
    """The stats counters among `names` that name the author (the key's handle, or a post's handle)."""
    handles = {author.partition(":")[2]} | {p.author.handle.lower() for p in posts if p.author.handle}
    return [n for n in names if n.startswith(AUTHOR_COUNTER) and n[len(AUTHOR_COUNTER):].lower() in handles]


def mentions(body: bytes | None, author: str, posts: tuple[Post, ...]) -> bool:
    """Whether a kept stats announcement names the author (its top authors)."""
    if body is None:
        return False
    lower = body.lower()
    handles = {author.partition(":")[2]} | {p.author.handle.lower() for p in posts if p.author.handle}
    return any(msgspec.json.encode(h)[1:-1].lower() in lower for h in handles if h)

