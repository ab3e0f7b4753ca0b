"""Roll-ups: a wall's figures kept for months (docs/rollups.md), per minute, hour and day.

Contract:
- A bucket is `grain` long and starts at a multiple of it in epoch seconds (UTC days). It holds counters
  by name, the live figures' names (wall/curate/stats.py: "posts", "tag:<tag>", "author:<handle>", ...,
  "status:<status>", "lang:<code>", "sentsum", "scored"); a counter of 0 is not kept.
- The curation writer is the only writer. It REPLACES a minute's counters with what the bus holds for
  that minute (`replace`), never adds to them, so writing the same minute twice, or from two writers one
  after the other (a takeover), gives the same rows. Each write carries the writer's fencing token: a
  write with an older token than one already seen for the wall raises `Superseded`, so a writer that lost
  its lease cannot put back what its successor replaced.
- Hours and days are derived from the minutes by replacement too (`derive`): replacing a minute marks
  its hour and day in the same transaction, and deriving one clears its mark, so a writer that dies in
  between leaves the marks to its successor (`marked`). A derived bucket keeps every counter but the
  open-ended families (OPEN: hashtags, terms, topics, authors), of which it keeps the TOP_KEPT highest.
  The writer derives a bucket once it has ended; until then it stays marked.
- Readers (`series`, `totals`, `top`, `first_bucket`) read whatever is kept, a marked hour or day from
  its finer grains (so it is as fresh as the minutes, open or not derived yet); `totals` and `top` read a
  range up to the current minute. `trim` and `forget_*` are retention's and erasure's.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from wall.store.base import clock, delete_batched
from wall.store.schema import rollup_fences, rollup_marks, rollups

Grain = Literal["minute", "hour", "day"]
SPAN: dict[Grain, int] = {"minute": 60, "hour": 3600, "day": 86_400}
GRAINS: tuple[Grain, ...] = ("minute", "hour", "day")
OPEN = ("tag:", "term:", "topic:", "author:")  # families with no bound on their names
TOP_KEPT: dict[Grain, int] = {"minute": 0, "hour": 100, "day": 250}  # per open family (0: all, minutes)
NAME_LENGTH = 255  # the column's; longer names are cut (a hashtag that long is noise)


class Superseded(Exception):
    """A roll-up write from a writer whose token is older than one the wall's roll-ups have seen."""


def _grain(span: int) -> Grain:
    return next(g for g in GRAINS if SPAN[g] == span)


def _stored(name: str) -> str:
    """A counter's name as stored: PostgreSQL text holds no NUL (the brand's "voice:\\x00brand")."""
    return name.replace("\x00", "\x01")[:NAME_LENGTH]


def _name(stored: str) -> str:
    return stored.replace("\x01", "\x00")


def kept_top(counters: Mapping[str, int], grain: Grain) -> dict[str, int]:
    """The counters a bucket of `grain` keeps: all, but only the TOP_KEPT highest of each open family
    (ties by name, so every writer keeps the same)."""
    limit = TOP_KEPT[grain]
    kept = {n: c for n, c in counters.items() if c and (not limit or not n.startswith(OPEN))}
    if limit:
        for family in OPEN:
            names = sorted(((n, c) for n, c in counters.items() if c and n.startswith(family)),
                           key=lambda nc: (-nc[1], nc[0]))
            kept.update(names[:limit])
    return kept


def cover(start: float, end: float,
          marked: Collection[tuple[Grain, int]] = ()) -> list[tuple[Grain, float, float]]:
    """[start, end) as parts each read from the coarsest grain whose whole buckets fit in it: whole days,
    then whole hours at the edges, then minutes (those starting in what is left). A `marked` hour or day
    (not derived since its minutes changed) is read from the finer grains instead."""
    def split(lo: float, hi: float, k: int) -> list[tuple[Grain, float, float]]:
        if lo >= hi:
            return []
        grain = GRAINS[k]
        if k == 0:
            return [(grain, lo, hi)]
        span = SPAN[grain]
        a, b = math.ceil(lo / span) * span, math.floor(hi / span) * span
        if a >= b:
            return split(lo, hi, k - 1)
        parts = split(lo, a, k - 1)
        for stale in sorted(bucket for g, bucket in marked if g == grain and a <= bucket < b):
            parts += [(grain, float(a), float(stale))] if a < stale else []
            parts += split(stale, stale + span, k - 1)
            a = stale + span
        parts += [(grain, float(a), float(b))] if a < b else []
        return parts + split(b, hi, k - 1)
    return split(start, end, len(GRAINS) - 1)


class Rollups:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    # --- the writer's side ------------------------------------------------------------------------

    async def replace(self, wall: str, token: int, minutes: Mapping[int, Mapping[str, int]],
                      epoch: str = "") -> None:
        """Replace these minutes' counters (keys: minutes since the epoch, as the bus's buckets; an
        empty mapping: the minute has none now), and mark their hours and days to derive again. `epoch`
        names the bus history they come from (`bus_epoch`)."""
        if not minutes:
            return
        async with self.engine.begin() as conn:
            await self._fence(conn, wall, token, epoch)
            await self._put(conn, wall, "minute", {minute * 60: c for minute, c in minutes.items()})
            marks = [{"wall": wall, "span": span, "bucket": bucket} for span in (SPAN["hour"], SPAN["day"])
                     for bucket in sorted({minute * 60 // span * span for minute in minutes})]
            insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(rollup_marks)
            await conn.execute(insert.on_conflict_do_nothing(index_elements=["wall", "span", "bucket"]),
                               marks)

    async def marked(self, wall: str) -> list[tuple[Grain, int]]:
        """The hours and days whose minutes changed since they were last derived, oldest first."""
        async with self.engine.connect() as conn:
            return await _marked(conn, wall)

    async def derive(self, wall: str, token: int, grain: Grain, bucket: int) -> dict[str, int]:
        """Replace the hour or day starting at `bucket` with the sum of its minutes (kept_top) and clear
        its mark; returns what it holds now."""
        span = SPAN[grain]
        r, m = rollups.c, rollup_marks.c
        async with self.engine.begin() as conn:
            await self._fence(conn, wall, token, None)
            rows = (await conn.execute(
                sa.select(r.name, sa.func.sum(r.count)).where(
                    r.wall == wall, r.span == SPAN["minute"], r.bucket >= bucket, r.bucket < bucket + span)
                .group_by(r.name))).all()
            counters = kept_top({_name(name): int(n) for name, n in rows}, grain)
            await self._put(conn, wall, grain, {bucket: counters})
            await conn.execute(rollup_marks.delete().where(m.wall == wall, m.span == span,
                                                           m.bucket == bucket))
        return counters

    async def _put(self, conn: AsyncConnection, wall: str, grain: Grain,
                   buckets: Mapping[int, Mapping[str, int]]) -> None:
        """Replace these buckets' rows (keys: bucket starts): one delete and one insert for all of them."""
        r, span = rollups.c, SPAN[grain]
        await conn.execute(rollups.delete().where(r.wall == wall, r.span == span,
                                                  r.bucket.in_(list(buckets))))
        rows = []
        for bucket, counters in buckets.items():
            merged: Counter[str] = Counter()
            for name, n in counters.items():
                merged[_stored(name)] += n
            rows += [(wall, span, bucket, name, n) for name, n in merged.items() if n]
        if rows:
            # The driver's own executemany: SQLAlchemy's handling of each row's parameters was half the
            # cost of a flush (bench/rollups.py).
            await conn.exec_driver_sql(_insert_sql(conn.dialect), rows)

    async def bus_epoch(self, wall: str) -> str | None:
        """The bus history the wall's minutes were last copied from (None: never written)."""
        async with self.engine.connect() as conn:
            return (await conn.execute(sa.select(rollup_fences.c.epoch)
                                       .where(rollup_fences.c.wall == wall))).scalar()

    async def _fence(self, conn: AsyncConnection, wall: str, token: int, epoch: str | None) -> None:
        """Record `token` (and `epoch`, unless None) as the wall's newest writer's, or raise Superseded
        if a newer one wrote already."""
        f = rollup_fences.c
        insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(rollup_fences)
        update = {"token": insert.excluded.token}
        if epoch is not None:
            update["epoch"] = insert.excluded.epoch
        values = insert.values(wall=wall, token=token, epoch=epoch or "")
        result = await conn.execute(values.on_conflict_do_update(
            index_elements=["wall"], set_=update, where=f.token <= insert.excluded.token))
        if result.rowcount != 1:  # the row is there with a newer token: nothing was written
            raise Superseded(f"wall {wall}: roll-ups written by a newer writer than token {token}")

    # --- readers ----------------------------------------------------------------------------------

    async def series(self, wall: str, grain: Grain, start: float, end: float,
                     prefix: str = "") -> list[tuple[float, dict[str, int]]]:
        """Buckets of `grain` with start in [start, end) (epoch seconds, UTC bucket starts), oldest first,
        each with its counters whose name starts with `prefix` ("" = all). Empty buckets left out."""
        r = rollups.c
        query = sa.select(r.bucket, r.name, r.count).where(
            r.wall == wall, r.span == SPAN[grain], r.bucket >= start, r.bucket < end, *_prefixed(prefix)
        ).order_by(r.bucket)
        out: dict[int, dict[str, int]] = {}
        async with self.engine.connect() as conn:
            for bucket, name, n in (await conn.execute(query)).all():
                out.setdefault(bucket, {})[_name(name)] = int(n)
            if grain != "minute":
                marked = await _marked(conn, wall)
                for stale in {b for g, b in marked if g == grain and start <= b < end}:
                    fresh = kept_top(await _summed(conn, wall, stale, stale + SPAN[grain], prefix, marked),
                                     grain)
                    out.pop(stale, None)
                    if fresh:
                        out[stale] = fresh
        return [(float(b), out[b]) for b in sorted(out)]

    async def totals(self, wall: str, start: float, end: float, prefix: str = "", *,
                     now: float | None = None) -> dict[str, int]:
        """The counters summed over [start, end), read from the coarsest grain that covers each part (an
        hour or day not derived since its minutes changed, open or not, from its finer grains). A range
        reaching past `now` is read up to it."""
        async with self.engine.connect() as conn:
            return await _summed(conn, wall, start, min(end, (clock(now) // 60 + 1) * 60), prefix,
                                 await _marked(conn, wall))

    async def top(self, wall: str, prefix: str, start: float, end: float, limit: int = 10, *,
                  now: float | None = None) -> list[tuple[str, int]]:
        """The names after `prefix` (e.g. "tag:") with the highest sums over the range, highest first."""
        found = await self.totals(wall, start, end, prefix, now=now)
        ranked = sorted(found.items(), key=lambda nc: (-nc[1], nc[0]))[:limit]
        return [(name[len(prefix):], n) for name, n in ranked if n > 0]

    async def first_bucket(self, wall: str) -> float | None:
        """When the wall's history starts (the oldest bucket kept at any grain), None for a new wall."""
        # One MIN per grain: each is a seek on the key (wall, span, bucket, ...); a MIN over the wall alone
        # reads every row of it (a quarter of a second at 90 days of hours and 30 of minutes).
        r = rollups.c
        found = []
        async with self.engine.connect() as conn:
            for grain in GRAINS:
                first = (await conn.execute(sa.select(sa.func.min(r.bucket))
                                            .where(r.wall == wall, r.span == SPAN[grain]))).scalar()
                if first is not None:
                    found.append(float(first))
        return min(found, default=None)

    async def walls(self) -> list[str]:
        """The walls with roll-ups kept (retention looks at every one, configured or not)."""
        async with self.engine.connect() as conn:
            return list((await conn.execute(sa.select(rollups.c.wall).distinct())).scalars())

    # --- retention and erasure ----------------------------------------------------------------------

    async def trim(self, wall: str, grain: Grain, before: float) -> int:
        """Delete the wall's buckets of `grain` that start before `before`; how many rows went."""
        r = rollups.c
        return await delete_batched(self.engine, rollups,
                                    (r.wall == wall) & (r.span == SPAN[grain]) & (r.bucket < before))

    async def forget_before(self, wall: str, prefix: str, before: float) -> int:
        """Delete the wall's counters named `prefix`… in buckets that start before `before` (retention of
        the posts' authors); how many rows went."""
        r = rollups.c
        where = sa.and_(r.wall == wall, r.bucket < before, *_prefixed(prefix))
        return await delete_batched(self.engine, rollups, where)

    async def forget_names(self, wall: str | None, names: Iterable[str], *, fold_case: bool = True) -> int:
        """Delete these counters from the wall's (None: every wall's) buckets at every grain, names
        compared without case when `fold_case`; how many rows went."""
        wanted = {n.casefold() if fold_case else n for n in names}
        if not wanted:
            return 0
        r = rollups.c
        families = {n.partition(":")[0] + ":" for n in wanted}
        where_wall = () if wall is None else (r.wall == wall,)
        async with self.engine.connect() as conn:
            found: set[str] = set()
            for family in families:
                rows = await conn.execute(sa.select(r.name).distinct().where(*where_wall, *_prefixed(family)))
                found.update(name for name in rows.scalars()
                             if (_name(name).casefold() if fold_case else _name(name)) in wanted)
        return await self._delete_names(wall, found)

    async def _delete_names(self, wall: str | None, stored: Collection[str]) -> int:
        r = rollups.c
        removed = 0
        chunk = sorted(stored)
        for k in range(0, len(chunk), 500):
            where = sa.and_(r.name.in_(chunk[k:k + 500]), *(() if wall is None else (r.wall == wall,)))
            removed += await delete_batched(self.engine, rollups, where)
        return removed


@functools.cache
def _insert_sql(dialect: Dialect) -> str:
    """The rows' INSERT in the dialect's own parameter style, its parameters in _put's tuple order."""
    insert = rollups.insert().compile(dialect=dialect)
    assert insert.positiontup == ["wall", "span", "bucket", "name", "count"]
    return str(insert)


async def _marked(conn: AsyncConnection, wall: str) -> list[tuple[Grain, int]]:
    m = rollup_marks.c
    rows = (await conn.execute(sa.select(m.span, m.bucket).where(m.wall == wall)
                               .order_by(m.bucket, m.span))).all()
    return [(_grain(r.span), r.bucket) for r in rows]


async def _summed(conn: AsyncConnection, wall: str, start: float, end: float, prefix: str,
                  marked: Collection[tuple[Grain, int]]) -> dict[str, int]:
    """The counters summed over [start, end), each part from the coarsest grain that covers it fresh."""
    r = rollups.c
    total: Counter[str] = Counter()
    for grain, lo, hi in cover(start, end, marked):
        rows = await conn.execute(sa.select(r.name, sa.func.sum(r.count)).where(
            r.wall == wall, r.span == SPAN[grain], r.bucket >= lo, r.bucket < hi,
            *_prefixed(prefix)).group_by(r.name))
        for name, n in rows.all():
            total[_name(name)] += int(n)
    return {name: n for name, n in total.items() if n}


def _prefixed(prefix: str) -> tuple[sa.ColumnElement[bool], ...]:
    """The condition "name starts with prefix", exact on both databases (LIKE folds case on SQLite)."""
    if not prefix:
        return ()
    stored = _stored(prefix)
    return (sa.func.substr(rollups.c.name, 1, len(stored)) == stored,)
