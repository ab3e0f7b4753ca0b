"""Retention in SQL: what the store holds of people past a wall's limits (wall/privacy/retention.py runs it,
docs/retention.md says why each place is treated so).

- audit: the wall's records older than the limit keep who, when, what action and on which post, but lose
  their before/after copies, and a ban's or an unban's target (the author's handle). A cursor per wall
  (the `cursors` table) remembers the last record done, so a run reads only records it has not done yet.
- labels: a post text a curator labelled goes with its label (a label without its text teaches nothing).
- screenshots: the wall's kiosks' screenshots.
Decisions (post id, status, who decided), bans in force, rules and the roll-ups hold no copy of a post
and stay. Every kind goes BATCH rows per transaction, so screens and curators are never locked out long.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from wall.store.base import BATCH, delete_batched, rest_after
from wall.store.kv import Cursors
from wall.store.schema import audit, kiosk_screenshots, kiosks, sentiment_labels

AUTHOR_TARGETS = ("ban", "unban")  # audit actions whose target names an author


class Retention:
    def __init__(self, engine: AsyncEngine, cursors: Cursors) -> None:
        self.engine, self.cursors = engine, cursors

    async def audit_before(self, wall: str, cutoff: float, batch: int = BATCH) -> int:
        """Clear the copies in the wall's audit records from before `cutoff`; how many records changed."""
        key = f"retention:audit:{wall}"
        done = int(await self.cursors.get(key) or 0)
        changed = 0
        a = audit.c
        while True:
            started = time.monotonic()
            async with self.engine.begin() as conn:
                rows = (await conn.execute(sa.select(a.id, a.at).where(a.wall == wall, a.id > done)
                                           .order_by(a.id).limit(batch))).all()
                old = [r.id for r in rows if r.at < cutoff]
                if old:
                    await conn.execute(audit.update().where(a.id.in_(old)).values(
                        before=sa.null(), after=sa.null(),
                        target=sa.case((a.action.in_(AUTHOR_TARGETS), sa.null()), else_=a.target)))
                    done = old[-1]
            if old:  # its own transaction: a cursor behind the records only does them again
                await self.cursors.set(key, str(done))
            changed += len(old)
            if len(rows) < batch or len(old) < len(rows):  # ids follow time: the rest is newer
                return changed
            await rest_after(started)

    async def labels_before(self, wall: str, cutoff: float) -> int:
        """Remove the wall's labelled post texts from before `cutoff`; how many went."""
        s = sentiment_labels.c
        return await delete_batched(self.engine, sentiment_labels, (s.wall == wall) & (s.at < cutoff))

    async def screenshots_before(self, wall: str, cutoff: float) -> int:
        """Remove the screenshots the wall's kiosks sent before `cutoff`; how many went."""
        s = kiosk_screenshots.c
        of_wall = sa.select(kiosks.c.id).where(kiosks.c.wall == wall)
        return await delete_batched(self.engine, kiosk_screenshots, s.kiosk_id.in_(of_wall) & (s.at < cutoff))
