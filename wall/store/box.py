"""The memory bus's state in SQL, for a box without Redis: it implements wall.bus.base.Keeper (the bus is
not imported: the two meet at the composition root), so `wall serve` restarted neither repeats nor loses
posts, and its screens and figures go on where they were.

Contract (each method is one transaction: when it raises, nothing of it was written):
- `get_cursor`/`set_cursor`: the source cursors and connector state (the `cursors` table).
- `shared_secret(name, make)`: the secret kept under `name`, else `make`, kept (first writer wins).
- `admit` records a post's digest (`seen`) and returns the one before; unless the two are equal (a
  duplicate) it writes the inbox entry in the same transaction. `enqueue` writes an entry alone.
- `commit` records one writer commit: the position (and the inbox entries up to it go), the display
  events, the total, the touched minute buckets (`stats_rollups`), counted posts, the shown set, recent
  posts, known authors and the control frame.
- `forget` is an author's erasure (wall.bus.base.Keeper.forget): events rewritten, entries and records gone.
- `forget_before` is retention's: the wall's events, recent posts and known authors older than a time.
- `restore` reads a wall back (its newest `events` display events, its newest `recent` posts), naming a
  new wall's history with the epoch given. Every `TIDY_EVERY` commits of a wall, and at restore, what is
  beyond those limits goes, and digests and shown posts not touched for `SEEN_FOR` seconds.
- One process keeps a wall: `restore` makes this BusState its owner, and every later write of another
  one to the wall raises `TakenOver` (two memory-engine processes on one store would otherwise write each
  other's inboxes and positions).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from wall.models import decode_recent, id_key
from wall.store.base import BATCH, clock, delete_batched, insert_new, rest_after, upsert
from wall.store.kv import Cursors
from wall.store.schema import (
    bus_authors,
    bus_counted,
    bus_events,
    bus_inbox,
    bus_recent,
    bus_secrets,
    bus_shown,
    bus_walls,
    seen,
    stats_rollups,
)

SEEN_FOR = 7 * 86400.0  # seconds a digest, and a post in the shown set, are kept (as with Redis)
TIDY_EVERY = 200  # commits of a wall between trims of its history and recent posts
Counters = tuple[tuple[str, int], ...]
Entry = tuple[str, bytes]


class TakenOver(RuntimeError):
    """Another process started on this store's memory-bus state for the wall after this one."""


@dataclass(frozen=True, slots=True)
class KeptWall:
    """A wall as it was kept (wall.bus.base.KeptWall)."""

    epoch: str
    position: str = "0-0"
    total: int = 0
    control: bytes | None = None
    inbox: list[Entry] = field(default_factory=list)
    events: list[Entry] = field(default_factory=list)
    buckets: dict[int, dict[str, int]] = field(default_factory=dict)
    counted: list[tuple[str, int, Counters]] = field(default_factory=list)
    shown: set[str] = field(default_factory=set)
    authors: dict[str, float] = field(default_factory=dict)
    recent: list[tuple[str, bytes]] = field(default_factory=list)


def _upto(table: sa.Table, entry_id: str) -> sa.ColumnElement[bool]:
    """Rows with an id up to `entry_id` (ids are "<ms>-<seq>")."""
    ms, seq = id_key(entry_id)
    return sa.or_(table.c.ms < ms, sa.and_(table.c.ms == ms, table.c.seq <= seq))


def _row(wall: str, entry: Entry) -> dict[str, object]:
    ms, seq = id_key(entry[0])
    return {"wall": wall, "ms": ms, "seq": seq, "body": entry[1]}


class BusState:
    def __init__(self, engine: AsyncEngine, cursors: Cursors, events: int, recent: int) -> None:
        self.engine, self.cursors = engine, cursors
        self.events, self.recent = events, recent
        self.owner = secrets.token_hex(8)
        self._commits: dict[str, int] = {}  # per wall, since the last tidy

    async def _own(self, conn: AsyncConnection, wall: str) -> None:
        """Refuse to write a wall another process took over. A write first, so SQLite takes its write lock
        and PostgreSQL locks the row: the transaction's other writes are serialized behind it."""
        w = bus_walls.c
        taken = await conn.execute(bus_walls.update().where(w.wall == wall, w.owner == self.owner)
                                   .values(owner=w.owner))
        if taken.rowcount != 1:
            raise TakenOver(f"wall {wall}: another process started on the same store with the memory bus; "
                            "only one may run on a store (for more, use bus.engine = \"redis\")")

    async def get_cursor(self, key: str) -> str | None:
        return await self.cursors.get(key)

    async def set_cursor(self, key: str, value: str) -> None:
        await self.cursors.set(key, value)

    async def shared_secret(self, name: str, make: str) -> str:
        async with self.engine.begin() as conn:
            await insert_new(conn, bus_secrets, {"name": name, "value": make}, keys=("name",))
            kept: str = (await conn.execute(sa.select(bus_secrets.c.value)
                                            .where(bus_secrets.c.name == name))).scalar_one()
        return kept

    async def admit(self, wall: str, post_id: str, digest: str, entry: Entry, now: float | None = None
                    ) -> str | None:
        key = (seen.c.wall == wall) & (seen.c.post_id == post_id)
        async with self.engine.begin() as conn:
            await self._own(conn, wall)  # also: two admits of one post cannot read the same digest
            previous = (await conn.execute(sa.select(seen.c.digest).where(key))).scalar()
            await upsert(conn, seen, {"wall": wall, "post_id": post_id, "digest": digest, "at": clock(now)},
                         keys=("wall", "post_id"))
            if previous != digest:
                await conn.execute(bus_inbox.insert().values(_row(wall, entry)))
        return previous

    async def enqueue(self, wall: str, entry: Entry) -> None:
        async with self.engine.begin() as conn:
            await self._own(conn, wall)
            await conn.execute(bus_inbox.insert().values(_row(wall, entry)))

    async def commit(self, wall: str, position: str, events: Sequence[Entry], *, total: int,
                     buckets: Mapping[int, Mapping[str, int]], counted: Sequence[tuple[str, int, Counters]],
                     uncounted: Sequence[str], shown: Sequence[str], unshown: Sequence[str],
                     recent: Sequence[tuple[str, bytes]], authors: Sequence[str],
                     control: bytes | None) -> None:
        async with self.engine.begin() as conn:
            await self._own(conn, wall)
            await conn.execute(bus_inbox.delete().where(bus_inbox.c.wall == wall, _upto(bus_inbox, position)))
            if events:
                await conn.execute(bus_events.insert(), [_row(wall, e) for e in events])
            state: dict[str, object] = {"position": position, "total": total}
            if control is not None:
                state["control"] = control
            await conn.execute(bus_walls.update().where(bus_walls.c.wall == wall).values(state))
            await self._count(conn, wall, buckets, counted, uncounted)
            for post_id in shown:
                await upsert(conn, bus_shown, {"wall": wall, "post_id": post_id, "at": clock(None)},
                             keys=("wall", "post_id"))
            if unshown:
                await conn.execute(bus_shown.delete().where(bus_shown.c.wall == wall,
                                                            bus_shown.c.post_id.in_(unshown)))
            for post_id, body in recent:  # an existing post keeps its place (its first arrival)
                await upsert(conn, bus_recent, {"wall": wall, "post_id": post_id, "body": body},
                             keys=("wall", "post_id"))
            for author in authors:
                await upsert(conn, bus_authors, {"wall": wall, "author": author, "at": clock(None)},
                             keys=("wall", "author"))
            self._commits[wall] = self._commits.get(wall, 0) + 1
            if self._commits[wall] >= TIDY_EVERY:
                await self._tidy(conn, wall)

    async def forget(self, wall: str, *, events: Sequence[Entry], inbox: Sequence[str], posts: Sequence[str],
                     author: str, counters: Sequence[str], control: bool) -> None:
        async with self.engine.begin() as conn:
            await self._own(conn, wall)
            e = bus_events.c
            for entry in events:
                ms, seq = id_key(entry[0])
                await conn.execute(bus_events.update().where(e.wall == wall, e.ms == ms, e.seq == seq)
                                   .values(body=entry[1]))
            for entry_id in inbox:
                ms, seq = id_key(entry_id)
                await conn.execute(bus_inbox.delete().where(bus_inbox.c.wall == wall, bus_inbox.c.ms == ms,
                                                            bus_inbox.c.seq == seq))
            for table in (bus_recent, bus_counted):
                await conn.execute(table.delete().where(table.c.wall == wall, table.c.post_id.in_(posts)))
            await conn.execute(bus_authors.delete().where(bus_authors.c.wall == wall,
                                                          bus_authors.c.author == author))
            if counters:
                s = stats_rollups.c
                for row in (await conn.execute(sa.select(s.bucket, s.payload).where(s.wall == wall))).all():
                    if any(name in row.payload for name in counters):
                        payload = {k: v for k, v in row.payload.items() if k not in counters}
                        await conn.execute(stats_rollups.update().values(payload=payload)
                                           .where(s.wall == wall, s.bucket == row.bucket))
            if control:
                await conn.execute(bus_walls.update().where(bus_walls.c.wall == wall).values(control=None))

    @staticmethod
    async def _count(conn: AsyncConnection, wall: str, buckets: Mapping[int, Mapping[str, int]],
                     counted: Sequence[tuple[str, int, Counters]], uncounted: Sequence[str]) -> None:
        for minute, counters in buckets.items():
            if counters:
                await upsert(conn, stats_rollups, {"wall": wall, "bucket": minute * 60,
                                                   "payload": dict(counters)}, keys=("wall", "bucket"))
            else:
                await conn.execute(stats_rollups.delete().where(stats_rollups.c.wall == wall,
                                                                stats_rollups.c.bucket == minute * 60))
        if uncounted:
            await conn.execute(bus_counted.delete().where(bus_counted.c.wall == wall,
                                                          bus_counted.c.post_id.in_(uncounted)))
        for post_id, minute, pairs in counted:
            await upsert(conn, bus_counted, {"wall": wall, "post_id": post_id, "minute": minute,
                                             "counters": [list(p) for p in pairs]}, keys=("wall", "post_id"))

    async def _tidy(self, conn: AsyncConnection, wall: str, now: float | None = None) -> None:
        """Trim the display history and recent posts to their limits; forget old digests."""
        self._commits[wall] = 0
        e = bus_events.c
        oldest = (await conn.execute(sa.select(e.ms, e.seq).where(e.wall == wall).order_by(
            e.ms.desc(), e.seq.desc()).offset(self.events - 1).limit(1))).first()
        if oldest is not None:
            await conn.execute(bus_events.delete().where(
                e.wall == wall, sa.or_(e.ms < oldest.ms, sa.and_(e.ms == oldest.ms, e.seq < oldest.seq))))
        r = bus_recent.c
        first = (await conn.execute(sa.select(r.n).where(r.wall == wall).order_by(r.n.desc())
                                    .offset(self.recent - 1).limit(1))).scalar()
        if first is not None:
            await conn.execute(bus_recent.delete().where(r.wall == wall, r.n < first))
        await conn.execute(seen.delete().where(seen.c.at < clock(now) - SEEN_FOR))
        await conn.execute(bus_shown.delete().where(bus_shown.c.wall == wall,
                                                    bus_shown.c.at < clock(now) - SEEN_FOR))

    async def forget_before(self, wall: str, cutoff: float) -> None:
        """Retention: the wall's display events published before `cutoff`, recent posts first seen before
        it, authors last approved before it and the minute buckets before it go, a batch per transaction
        (wall.bus.base.Keeper)."""
        async def own(conn: AsyncConnection) -> None:
            await self._own(conn, wall)

        e = bus_events.c
        await delete_batched(self.engine, bus_events, (e.wall == wall) & (e.ms < int(cutoff * 1000)), own)
        a = bus_authors.c
        await delete_batched(self.engine, bus_authors, (a.wall == wall) & (a.at < cutoff), own)
        s, c = stats_rollups.c, bus_counted.c  # the figures' minute buckets, which count authors too
        minute = cutoff // 60
        await delete_batched(self.engine, stats_rollups, (s.wall == wall) & (s.bucket < minute * 60), own)
        await delete_batched(self.engine, bus_counted, (c.wall == wall) & (c.minute < minute), own)
        r = bus_recent.c
        while True:  # by first arrival, which only the body says; oldest first, so stop at a newer one
            started = time.monotonic()
            async with self.engine.begin() as conn:
                await self._own(conn, wall)
                rows = (await conn.execute(sa.select(r.n, r.body).where(r.wall == wall).order_by(r.n)
                                           .limit(BATCH))).all()
                old = [row.n for row in rows if decode_recent(bytes(row.body)).arrived < cutoff]
                if old:
                    await conn.execute(bus_recent.delete().where(r.n.in_(old)))
            if len(old) < BATCH:
                return
            await rest_after(started)

    async def restore(self, wall: str, epoch: str) -> KeptWall:
        # The claim and the tidying in one short write transaction, the reading in a read one: reading a
        # big wall takes seconds (100,000 authors, 10,000 events), and a write transaction would hold
        # SQLite's write lock all that time, so a login or a lease renewal elsewhere would wait out the
        # busy timeout and fail. Once claimed, nobody else writes the wall's rows (each write checks
        # the owner), so the read sees what the claim left.
        async with self.engine.begin() as conn:
            row = (await conn.execute(sa.select(bus_walls).where(bus_walls.c.wall == wall))).first()
            if row is None:
                await conn.execute(bus_walls.insert().values(wall=wall, epoch=epoch, position="0-0", total=0,
                                                             owner=self.owner))
                return KeptWall(epoch)
            await conn.execute(bus_walls.update().where(bus_walls.c.wall == wall).values(owner=self.owner))
            await self._tidy(conn, wall)
        async with self.engine.connect() as conn:

            async def entries(table: sa.Table, newest: int | None = None) -> list[Entry]:
                c = table.c
                query = sa.select(c.ms, c.seq, c.body).where(c.wall == wall)
                rows = (await conn.execute(query.order_by(c.ms.desc(), c.seq.desc()).limit(newest))).all()
                return [(f"{r.ms}-{r.seq}", bytes(r.body)) for r in reversed(rows)]

            s, c = stats_rollups.c, bus_counted.c
            return KeptWall(
                row.epoch, row.position, row.total, None if row.control is None else bytes(row.control),
                inbox=await entries(bus_inbox), events=await entries(bus_events, self.events),
                buckets={r.bucket // 60: dict(r.payload) for r in (await conn.execute(
                    sa.select(s.bucket, s.payload).where(s.wall == wall))).all()},
                counted=[(r.post_id, r.minute, tuple((str(n), int(v)) for n, v in r.counters))
                         for r in (await conn.execute(sa.select(c.post_id, c.minute, c.counters)
                                                      .where(c.wall == wall).order_by(c.minute))).all()],
                shown=set((await conn.execute(sa.select(bus_shown.c.post_id)
                                              .where(bus_shown.c.wall == wall))).scalars()),
                authors={r.author: r.at for r in (await conn.execute(
                    sa.select(bus_authors.c.author, bus_authors.c.at).where(bus_authors.c.wall == wall)))},
                recent=[(r.post_id, bytes(r.body)) for r in (await conn.execute(
                    sa.select(bus_recent.c.post_id, bus_recent.c.body).where(bus_recent.c.wall == wall)
                    .order_by(bus_recent.c.n))).all()])
