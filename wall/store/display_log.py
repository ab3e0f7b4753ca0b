"""What the screens showed: per post of a wall, when it was first on a screen, its seconds on screens and
how many distinct screens showed it (docs/display-log.md).

Contract: `add(wall, batch)` takes (post_id, shown_at, seconds, screen_id) observations from any number of
web nodes, in any order and as often as they flush: seconds add up, the first time shown is the earliest
seen, and a screen is counted once per post however many batches name it (its id is kept beside the post
in display_screens). Posts are written in id order, so two nodes flushing the same posts at once on
PostgreSQL take their row locks in the same order. The log holds post ids and numbers only: a post's text
and author come from the decisions or the bus. Rows go with the wall's `posts` retention
(`forget_before`) and an author's erasure (`erase`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from wall.store.base import BATCH, rest_after
from wall.store.schema import display_log, display_screens

CHUNK = 500  # posts per statement: far below SQLite's bound-parameter limit


@dataclass(frozen=True, slots=True)
class Shown:
    post_id: str  # the wall's post id (as in the stream's post frames, post["id"])
    first_shown: float  # epoch seconds
    seconds: float  # total seconds on screen, summed over screens
    screens: int  # distinct screens that showed it


@dataclass(slots=True)
class _Post:
    first: float
    last: float
    seconds: float
    screens: set[str]


def _insert(conn: AsyncConnection, table: sa.Table) -> Any:
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


class DisplayLog:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def add(self, wall: str, batch: Sequence[tuple[str, float, float, str]]) -> None:
        """Record (post_id, shown_at, seconds, screen_id) observations, aggregated per post."""
        posts: dict[str, _Post] = {}
        for post_id, shown_at, seconds, screen in batch:
            seconds = max(0.0, seconds)
            p = posts.get(post_id)
            if p is None:
                posts[post_id] = _Post(shown_at, shown_at + seconds, seconds, {screen})
            else:
                p.first, p.last = min(p.first, shown_at), max(p.last, shown_at + seconds)
                p.seconds += seconds
                p.screens.add(screen)
        ids = sorted(posts)
        if not ids:
            return
        d = display_log.c
        async with self.engine.begin() as conn:
            for chunk in (ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)):
                upsert = _insert(conn, display_log)
                ex = upsert.excluded
                await conn.execute(upsert.on_conflict_do_update(index_elements=["wall", "post_id"], set_={
                    "first_shown": sa.case((ex.first_shown < d.first_shown, ex.first_shown),
                                           else_=d.first_shown),
                    "last_shown": sa.case((ex.last_shown > d.last_shown, ex.last_shown), else_=d.last_shown),
                    "seconds": d.seconds + ex.seconds,
                }), [{"wall": wall, "post_id": i, "first_shown": posts[i].first, "last_shown": posts[i].last,
                      "seconds": posts[i].seconds, "screens": 0} for i in chunk])
                await conn.execute(
                    _insert(conn, display_screens).on_conflict_do_nothing(
                        index_elements=["wall", "post_id", "screen"]),
                    [{"wall": wall, "post_id": i, "screen": screen}
                     for i in chunk for screen in sorted(posts[i].screens)])
                s = display_screens.c
                counted = (sa.select(sa.func.count()).select_from(display_screens)
                           .where(s.wall == d.wall, s.post_id == d.post_id).scalar_subquery())
                await conn.execute(display_log.update().where(d.wall == wall, d.post_id.in_(chunk))
                                   .values(screens=counted))

    async def shown(self, wall: str, start: float, end: float, limit: int = 100) -> list[Shown]:
        """Posts first shown in [start, end), most seconds on screen first."""
        d = display_log.c
        async with self.engine.connect() as conn:
            rows = (await conn.execute(
                sa.select(d.post_id, d.first_shown, d.seconds, d.screens)
                .where(d.wall == wall, d.first_shown >= start, d.first_shown < end)
                .order_by(d.seconds.desc(), d.first_shown, d.post_id).limit(limit))).all()
        return [Shown(r.post_id, r.first_shown, r.seconds, r.screens) for r in rows]

    async def forget_before(self, wall: str, cutoff: float, batch: int = BATCH) -> int:
        """Remove the wall's posts first shown before `cutoff` (its `posts` retention), `batch` posts per
        transaction; how many went."""
        d = display_log.c
        removed = 0
        while True:
            started = time.monotonic()
            async with self.engine.begin() as conn:
                ids = list((await conn.execute(sa.select(d.post_id).where(
                    d.wall == wall, d.first_shown < cutoff).limit(batch))).scalars())
                await erase_rows(conn, wall, ids)
            removed += len(ids)
            if len(ids) < batch:
                return removed
            await rest_after(started)


async def erase_rows(conn: AsyncConnection, wall: str, post_ids: Sequence[str]) -> int:
    """The posts' rows go (within the caller's transaction: an erasure's, a retention batch's); how many
    posts the log held."""
    removed = 0
    for chunk in (post_ids[i:i + CHUNK] for i in range(0, len(post_ids), CHUNK)):
        await conn.execute(display_screens.delete().where(display_screens.c.wall == wall,
                                                          display_screens.c.post_id.in_(chunk)))
        removed += (await conn.execute(display_log.delete().where(
            display_log.c.wall == wall, display_log.c.post_id.in_(chunk)))).rowcount
    return removed


async def rows_of(conn: AsyncConnection, wall: str, post_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The posts' rows, as plain data (an export)."""
    d = display_log.c
    found: list[dict[str, Any]] = []
    for chunk in (post_ids[i:i + CHUNK] for i in range(0, len(post_ids), CHUNK)):
        found += [dict(r._mapping) for r in await conn.execute(
            sa.select(d.post_id, d.first_shown, d.last_shown, d.seconds, d.screens)
            .where(d.wall == wall, d.post_id.in_(chunk)).order_by(d.first_shown))]
    return found
