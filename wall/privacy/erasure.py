"""Erasure on request: `wall erase --author NETWORK:HANDLE` and the console's admin action.

For each wall: the author's posts are found in the bus (display history and recent posts), their rows go
from the store (wall/store/erasure.py) and their images and avatars from the media cache; then the bus
forgets every copy (Inbox.erase_author, which also finds what the first look missed: those go from the
store and the cache too), and an InboxErase entry asks the wall's writer to retract them from every
screen and to erase the author from the bus again after that (what it committed meanwhile). Without a
writer running the entry waits in the inbox: the screens are cleared when one starts, the stores now.
A crash part-way leaves the bus copy, so running it again finds the posts again: every step is by key,
idempotent, and safe beside another erasure on another node. The audit keeps one "erase" record: who,
when, a keyed hash of the author and the counts (docs/erasure.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from wall.bus.base import RECENT_KEPT, Engine
from wall.bus.erasure import in_event, in_recent
from wall.media.cache import cache_name
from wall.media.images import WIDTHS
from wall.media.signing import decode_key
from wall.models import InboxErase, Post, encode
from wall.store import Store
from wall.store.audit import Event

log = logging.getLogger(__name__)
MEDIA_PATH = "/media/"  # a proxied URL: /media/{sig}/{key of the original URL}


@dataclass(frozen=True, slots=True)
class Report:
    """What an erasure removed: posts found per wall, and counts by where."""

    author_hash: str
    posts: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)


def parse_author(text: str) -> str:
    """An author key as bans and queue items name it: "network:handle", lowercased (ValueError if not)."""
    author = text.strip().lower()
    network, _, handle = author.partition(":")
    if not network or not handle or len(author) > 255:
        raise ValueError(f"author {text[:80]!r}: expected NETWORK:HANDLE (the source's name and the "
                         "handle, as the console's queue shows the author)")
    return author


async def author_posts(engine: Engine, wall: str, author: str, history: int) -> dict[str, Post]:
    """The author's posts the bus holds for the wall (its display history's newest `history` events and
    the recent posts), each once, by id (the recent record's copy: the original media URLs)."""
    found: dict[str, Post] = {}
    for msg in await engine.latest(wall, history):
        if (hit := in_event(msg.body, author)) is not None:
            found[hit[0].id] = hit[0]
    for body in await engine.recent(wall, RECENT_KEPT):
        if (post := in_recent(body, author)) is not None:
            found[post.id] = post
    return found


def media_urls(posts: Iterable[Post]) -> set[str]:
    """The original URLs of the posts' images and avatars (a proxied one decoded back)."""
    urls = set()
    for post in posts:
        for url in (*(m.url for m in post.media), post.author.avatar_url):
            if url and url.startswith(MEDIA_PATH):
                try:
                    url = decode_key(url[len(MEDIA_PATH):].split("/")[1].split("?")[0])
                except (ValueError, IndexError):
                    continue
            if url:
                urls.add(url)
    return urls


def remove_cached(cache_dir: Path | None, urls: Iterable[str]) -> int:
    """Delete the cache files of these URLs at every width (blocking: run it on a thread)."""
    if cache_dir is None:
        return 0
    removed = 0
    for url in urls:
        for width in WIDTHS:
            path = cache_dir / cache_name(url, width)
            if path.exists():
                path.unlink(missing_ok=True)
                removed += 1
    return removed


async def erase(engine: Engine, store: Store, walls: Iterable[str], author: str, actor: str,
                cache_dir: Path | None, history: int) -> Report:
    """Erase the author (parse_author's key) from every wall given; returns the report also audited."""
    counts: Counter[str] = Counter()
    posts: dict[str, int] = {}
    for wall in walls:
        found = await author_posts(engine, wall, author, history)
        await _forget(store, wall, author, found, cache_dir, counts)
        await engine.enqueue(wall, encode(InboxErase.of(author, tuple(found))))
        bus = await engine.erase_author(wall, author)
        counts["bus"] += bus.removed
        missed = {p.id: p for p in bus.posts if p.id not in found}
        if missed:
            await _forget(store, wall, author, missed, cache_dir, counts)
            await engine.enqueue(wall, encode(InboxErase.of(author, tuple(missed))))
        posts[wall] = len(found) + len(missed)
    report = Report(await store.erasures.author_hash(author), posts, dict(counts))
    await store.audit.record(Event("erase", actor, None, f"author-hmac:{report.author_hash}",
                                   after={"posts": report.posts, "removed": report.removed}))
    log.info("erasure by %s: %d post(s) on %d wall(s); removed %s", actor, sum(posts.values()), len(posts),
             report.removed)
    return report


async def _forget(store: Store, wall: str, author: str, posts: dict[str, Post], cache_dir: Path | None,
                  counts: Counter[str]) -> None:
    erased = await store.erasures.erase_posts(wall, list(posts), author)
    counts.update(decisions=erased.decisions, labels=erased.labels, audit=erased.audit,
                  screenshots=erased.screenshots, policy=erased.policy, display_log=erased.display_log,
                  rollups=erased.rollups)
    counts["qa"] += await store.qa.erase(wall, list(posts), author)  # questions asked, votes cast
    counts["media"] += await asyncio.to_thread(remove_cached, cache_dir, media_urls(posts.values()))
    counts["poll_votes"] += await store.polls.erase(wall, author)  # the writer drops them at InboxErase too
