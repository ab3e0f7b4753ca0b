"""Stats roll-ups: one JSON payload per wall per time bucket (epoch seconds of the bucket's start).

Contract: `put` replaces the bucket's payload (the writer rolls up a bucket once it is complete, and may
rewrite it); `range` returns buckets in [start, end), oldest first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from wall.store.base import upsert
from wall.store.schema import stats_rollups


class StatsRollups:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def put(self, wall: str, bucket: int, payload: Mapping[str, Any]) -> None:
        async with self.engine.begin() as conn:
            await upsert(conn, stats_rollups, {"wall": wall, "bucket": bucket, "payload": dict(payload)},
                         keys=("wall", "bucket"))

    async def range(self, wall: str, start: int, end: int) -> list[tuple[int, dict[str, Any]]]:
        s = stats_rollups.c
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(s.bucket, s.payload)
                                       .where(s.wall == wall, s.bucket >= start, s.bucket < end)
                                       .order_by(s.bucket))).all()
        return [(r.bucket, dict(r.payload)) for r in rows]
