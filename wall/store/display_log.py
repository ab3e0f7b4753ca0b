"""What the screens showed: per post of a wall, when it was first on a screen, its seconds on screens and
how many distinct screens showed it (docs/display-log.md).

Contract: `add(wall, batch)` takes (post_id, shown_at, seconds, screen_id) observations from any number of
web nodes, in any order and as often as they flush: seconds add up, the first time shown is the earliest
seen, and a screen is counted once per post however many batches name it. Each wall numbers its screens
(display_screens, at most MAX_SCREENS at a time) and each post keeps the numbers that showed it as a
bitmap, so a post costs a few bytes whatever the number of screens; a screen past MAX_SCREENS adds its
seconds but is not counted. One flush of a wall at a time (PostgreSQL: an advisory lock per wall; SQLite:
its one writer, taken by the first statement), so the read-merge-write of a post never races another
node's. The log holds post ids and numbers only: a post's text and author come from the decisions or the
bus. Rows go with the wall's `posts` retention (`forget_before`, which also frees the numbers of screens
not seen since) and an author's erasure (`erase_rows`).
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
MAX_SCREENS = 4096  # screens numbered per wall at a time: a post's bitmap is at most 512 bytes
PG_LOCK = 0x73686F77  # "show": with the wall's hash, the advisory lock of a wall's display log writes


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


def _chunks(ids: Sequence[str]) -> list[Sequence[str]]:
    return [ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)]


def _with(bits: bytes, numbers: set[int]) -> bytes:
    """The bitmap with these screen numbers set."""
    if not numbers:
        return bits
    out = bytearray(bits.ljust(max(numbers) // 8 + 1, b"\0"))
    for n in numbers:
        out[n // 8] |= 1 << (n % 8)
    return bytes(out)


def _count(bits: bytes) -> int:
    return int.from_bytes(bits, "little").bit_count()


class DisplayLog:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def add(self, wall: str, batch: Sequence[tuple[str, float, float, str]]) -> None:
        """Record (post_id, shown_at, seconds, screen_id) observations, aggregated per post."""
        posts: dict[str, _Post] = {}
        seen_at: dict[str, float] = {}  # each screen's latest showing: when it was last seen
        for post_id, shown_at, seconds, screen in batch:
            seconds = max(0.0, seconds)
            p = posts.get(post_id)
            if p is None:
                p = posts[post_id] = _Post(shown_at, shown_at + seconds, seconds, set())
            else:
                p.first, p.last = min(p.first, shown_at), max(p.last, shown_at + seconds)
                p.seconds += seconds
            if screen:  # "": seconds without a screen to count (a node's bounds were reached)
                p.screens.add(screen)
                seen_at[screen] = max(seen_at.get(screen, 0.0), shown_at + seconds)
        if not posts:
            return
        async with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k, hashtext(:w))"),
                                   {"k": PG_LOCK, "w": wall})
            numbers = await self._numbers(conn, wall, seen_at)
            d = display_log.c
            for chunk in _chunks(sorted(posts)):
                old = {r.post_id: r for r in await conn.execute(
                    sa.select(d.post_id, d.first_shown, d.last_shown, d.seconds, d.seen)
                    .where(d.wall == wall, d.post_id.in_(chunk)))}
                rows = []
                for post_id in chunk:
                    p, was = posts[post_id], old.get(post_id)
                    seen = _with(was.seen if was else b"", {numbers[s] for s in p.screens if s in numbers})
                    rows.append({"wall": wall, "post_id": post_id,
                                 "first_shown": min(p.first, was.first_shown) if was else p.first,
                                 "last_shown": max(p.last, was.last_shown) if was else p.last,
                                 "seconds": p.seconds + (was.seconds if was else 0.0),
                                 "screens": _count(seen), "seen": seen})
                upsert = _insert(conn, display_log)
                await conn.execute(upsert.on_conflict_do_update(
                    index_elements=["wall", "post_id"],
                    set_={k: upsert.excluded[k] for k in ("first_shown", "last_shown", "seconds", "screens",
                                                          "seen")}), rows)

    @staticmethod
    async def _numbers(conn: AsyncConnection, wall: str, seen_at: dict[str, float]) -> dict[str, int]:
        """The wall's number of each screen, new ones numbered in the lowest free places (none once
        MAX_SCREENS are in use); each one's last_seen moved on."""
        if not seen_at:
            return {}
        s = display_screens.c
        now = time.time()
        known: dict[str, int] = {}
        for chunk in _chunks(sorted(seen_at)):
            # A write first: on SQLite it takes the writer's lock before anything is read.
            await conn.execute(display_screens.update().where(s.wall == wall, s.screen.in_(chunk))
                               .values(last_seen=sa.case((s.last_seen < now, now), else_=s.last_seen)))
            known.update({r.screen: r.n for r in await conn.execute(
                sa.select(s.screen, s.n).where(s.wall == wall, s.screen.in_(chunk)))})
        new = [screen for screen in sorted(seen_at) if screen not in known]
        if new:
            used = set((await conn.execute(sa.select(s.n).where(s.wall == wall))).scalars())
            free = (n for n in range(MAX_SCREENS) if n not in used)
            rows: list[dict[str, Any]] = [
                {"wall": wall, "screen": screen, "n": n, "last_seen": max(now, seen_at[screen])}
                for screen, n in zip(new, free, strict=False)]
            if rows:
                await conn.execute(display_screens.insert(), rows)
                known.update({r["screen"]: r["n"] for r in rows})
        return known

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
        transaction, and free the numbers of its screens not seen since (every post they showed is among
        those removed); how many posts went."""
        d, s = display_log.c, display_screens.c
        removed = 0
        while True:
            started = time.monotonic()
            async with self.engine.begin() as conn:
                ids = list((await conn.execute(sa.select(d.post_id).where(
                    d.wall == wall, d.first_shown < cutoff).limit(batch))).scalars())
                await erase_rows(conn, wall, ids)
            removed += len(ids)
            if len(ids) < batch:
                break
            await rest_after(started)
        async with self.engine.begin() as conn:
            await conn.execute(display_screens.delete().where(s.wall == wall, s.last_seen < cutoff))
        return removed


async def erase_rows(conn: AsyncConnection, wall: str, post_ids: Sequence[str]) -> int:
    """The posts' rows go (within the caller's transaction: an erasure's, a retention batch's); how many
    posts the log held."""
    removed = 0
    for chunk in _chunks(post_ids):
        removed += (await conn.execute(display_log.delete().where(
            display_log.c.wall == wall, display_log.c.post_id.in_(chunk)))).rowcount
    return removed


async def rows_of(conn: AsyncConnection, wall: str, post_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The posts' rows, as plain data (an export)."""
    d = display_log.c
    found: list[dict[str, Any]] = []
    for chunk in _chunks(post_ids):
        found += [dict(r._mapping) for r in await conn.execute(
            sa.select(d.post_id, d.first_shown, d.last_shown, d.seconds, d.screens)
            .where(d.wall == wall, d.post_id.in_(chunk)).order_by(d.first_shown))]
    return found
