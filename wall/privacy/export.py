"""A person's data on request: `wall export --author NETWORK:HANDLE` and the console's admin download.

One JSON document, `schema` 1: for every wall, the author's posts the bus holds (display history and
recent posts), the store's decisions, sentiment labels, display log rows (how long screens showed them),
audit records and bans about them, and the media URLs (originals) of their images and avatars. Times
are epoch seconds, as everywhere in the wall.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import msgspec

from wall.bus.base import Engine
from wall.privacy.erasure import author_posts, media_urls
from wall.store import Store
from wall.store.audit import Event

SCHEMA = 1


async def export(engine: Engine, store: Store, walls: Iterable[str], author: str, history: int,
                 actor: str) -> dict[str, Any]:
    """What the wall holds about the author (parse_author's key), every wall given. The audit keeps that
    `actor` exported someone's data, with the keyed hash of whom (as an erasure does)."""
    out: dict[str, Any] = {"schema": SCHEMA, "author": author, "exported_at": time.time(), "walls": {}}
    for wall in walls:
        posts = await author_posts(engine, wall, author, history)
        held = await store.erasures.about(wall, list(posts), author)
        out["walls"][wall] = {"posts": [msgspec.to_builtins(p) for p in posts.values()], **held,
                              "media": sorted(media_urls(posts.values()))}
    whom = await store.erasures.author_hash(author)
    await store.audit.record(Event("export", actor, None, f"author-hmac:{whom}"))
    return out


def encode_export(document: dict[str, Any]) -> bytes:
    """The document as JSON bytes (UTF-8, indented for a person to read)."""
    return msgspec.json.format(msgspec.json.encode(document), indent=2)
