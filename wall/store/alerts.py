"""The alert outbox: every alert for every target, with its delivery's state (docs/alerts.md).

Contract:
- `queue` records an alert for a target, in one transaction with its two checks: the same `key` queued
  for the same wall and target within `dedupe` seconds is not queued again (None); past `per_hour`
  deliveries to the target in the last hour, the alert is recorded as failed ("rate limit …", no attempt)
  so an admin sees what was held back. Otherwise it is pending and due now.
- `due` hands out pending deliveries whose time has come, oldest first; the one sending job (a lease)
  then marks each `sent`, `retry` (pending again, due later) or `failed`, each counting an attempt.
- Rows hold counts and the names of sources and kiosks, never a post's text or author: `forget_before`
  removes settled rows by age, as the wall's other records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from wall.store.base import clock
from wall.store.schema import alert_deliveries as t

State = Literal["pending", "sent", "failed"]
HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    wall: str
    target: str
    key: str
    kind: str
    body: dict[str, Any]
    state: State
    attempts: int
    error: str | None
    created_at: float
    next_at: float
    updated_at: float


class AlertDeliveries:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def queue(self, wall: str, target: str, key: str, kind: str, body: dict[str, Any], *,
                    dedupe: float, per_hour: int, now: float | None = None) -> Delivery | None:
        """Record the alert for the target (pending, or failed by the rate limit); None when the same key
        went to it within `dedupe` seconds."""
        now = clock(now)
        subject = (t.c.wall == wall, t.c.target == target)
        async with self.engine.begin() as conn:
            if (await conn.execute(sa.select(t.c.id).where(
                    *subject, t.c.key == key, t.c.created_at > now - dedupe).limit(1))).first():
                return None
            # Deliveries: what was or will be tried (a row failed by the rate limit has no attempt).
            sent = (await conn.execute(sa.select(sa.func.count()).select_from(t).where(
                *subject, t.c.created_at > now - HOUR,
                sa.or_(t.c.state != "failed", t.c.attempts > 0)))).scalar_one()
            limited = sent >= per_hour
            values: dict[str, Any] = {"wall": wall, "target": target, "key": key, "kind": kind, "body": body,
                      "state": "failed" if limited else "pending", "attempts": 0,
                      "error": f"rate limit: {per_hour} deliveries an hour to this target; not sent"
                      if limited else None, "created_at": now, "next_at": now, "updated_at": now}
            new_id = (await conn.execute(t.insert().values(**values).returning(t.c.id))).scalar_one()
        return Delivery(id=new_id, **values)

    async def due(self, now: float | None = None, limit: int = 50) -> list[Delivery]:
        """Pending deliveries due by now, the earliest first."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(t).where(t.c.state == "pending", t.c.next_at <= clock(now))
                                       .order_by(t.c.next_at, t.c.id).limit(limit))).all()
        return [_delivery(r) for r in rows]

    async def sent(self, delivery_id: int, now: float | None = None) -> None:
        await self._attempted(delivery_id, now, state="sent", error=None)

    async def retry(self, delivery_id: int, error: str, at: float, now: float | None = None) -> None:
        """An attempt failed and another is due at `at`."""
        await self._attempted(delivery_id, now, error=error, next_at=at)

    async def failed(self, delivery_id: int, error: str, now: float | None = None) -> None:
        """The last attempt failed and no other will be made."""
        await self._attempted(delivery_id, now, state="failed", error=error)

    async def _attempted(self, delivery_id: int, now: float | None, **values: Any) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(t.update().where(t.c.id == delivery_id, t.c.state == "pending").values(
                attempts=t.c.attempts + 1, updated_at=clock(now), **values))

    async def recent(self, walls: list[str] | None = None, limit: int = 200) -> list[Delivery]:
        """The newest deliveries (of the given walls), newest first."""
        query = sa.select(t).order_by(t.c.created_at.desc(), t.c.id.desc()).limit(limit)
        if walls is not None:
            query = query.where(t.c.wall.in_(walls))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [_delivery(r) for r in rows]

    async def forget_before(self, cutoff: float) -> int:
        """Delete the settled (sent or failed) deliveries created before `cutoff`; how many."""
        async with self.engine.begin() as conn:
            result = await conn.execute(t.delete().where(t.c.state != "pending", t.c.created_at < cutoff))
        return result.rowcount


def _delivery(row: sa.Row[tuple[object, ...]]) -> Delivery:
    return Delivery(row.id, row.wall, row.target, row.key, row.kind, row.body, row.state, row.attempts,
                    row.error, row.created_at, row.next_at, row.updated_at)
