"""Digest deliveries: which digest of which wall went out, is going out, or failed, and why.

Contract: a digest is sent only by the process that `claim`ed its (wall, period) row: the first claim
wins, a later one is refused, on SQLite and PostgreSQL alike, whatever the number of processes. A claim
left "sending" by a process that died (not touched for `stale_after` seconds) may be taken over. The
sender `touch`es its claim before each attempt and `finish`es it as "sent" or "failed" with the reason;
`recent` is what the console's Digests page shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from wall.store.base import clock, insert_new
from wall.store.schema import digest_deliveries as table

State = Literal["sending", "sent", "failed"]
ERROR_CHARS = 500  # a relay's answer, cut: enough to say why


@dataclass(frozen=True, slots=True)
class Delivery:
    wall: str
    period: str
    start: float
    end: float
    state: State
    attempts: int
    recipients: int
    error: str | None
    by: str
    updated_at: float
    sent_at: float | None


class Deliveries:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def claim(self, wall: str, period: str, start: float, end: float, recipients: int, by: str,
                    stale_after: float, now: float | None = None) -> bool:
        """Take the right to send the wall's digest of `period`: True for the one caller that gets it."""
        at = clock(now)
        c = table.c
        async with self.engine.begin() as conn:
            await insert_new(conn, table, {
                "wall": wall, "period": period, "start": start, "end": end, "state": "sending",
                "attempts": 0, "recipients": recipients, "error": None, "by": by, "updated_at": at,
                "sent_at": None}, keys=("wall", "period"))
            # The row is ours if we wrote it just now, or if its sender stopped touching it (it died).
            taken = await conn.execute(table.update().where(
                c.wall == wall, c.period == period, c.state == "sending",
                sa.or_(sa.and_(c.by == by, c.updated_at == at, c.attempts == 0),
                       c.updated_at < at - stale_after)).values(by=by, updated_at=at))
            return taken.rowcount == 1

    async def touch(self, wall: str, period: str, by: str, attempts: int, error: str | None = None,
                    now: float | None = None) -> None:
        """Before an attempt: the claim is alive, this many attempts so far, why the last one failed."""
        c = table.c
        async with self.engine.begin() as conn:
            await conn.execute(table.update().where(c.wall == wall, c.period == period, c.by == by).values(
                attempts=attempts, error=_cut(error), updated_at=clock(now)))

    async def finish(self, wall: str, period: str, by: str, state: State, attempts: int,
                     error: str | None = None, now: float | None = None) -> None:
        """What became of the digest: "sent", or "failed" (every attempt did) with the last reason."""
        at, c = clock(now), table.c
        async with self.engine.begin() as conn:
            await conn.execute(table.update().where(c.wall == wall, c.period == period, c.by == by).values(
                state=state, attempts=attempts, error=_cut(error), updated_at=at,
                sent_at=at if state == "sent" else None))

    async def get(self, wall: str, period: str) -> Delivery | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(table).where(table.c.wall == wall,
                                                             table.c.period == period))).first()
        return None if row is None else _delivery(row)

    async def recent(self, limit: int = 50) -> list[Delivery]:
        """The latest deliveries of every wall, the newest first."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(table).order_by(table.c.updated_at.desc())
                                       .limit(limit))).all()
        return [_delivery(r) for r in rows]


def _cut(error: str | None) -> str | None:
    return None if error is None else error[:ERROR_CHARS]


def _delivery(row: sa.Row[tuple[object, ...]]) -> Delivery:
    return Delivery(row.wall, row.period, row.start, row.end, row.state, row.attempts, row.recipients,
                    row.error, row.by, row.updated_at, row.sent_at)
