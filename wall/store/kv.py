"""Source cursors and connector state in SQL, for the box without Redis (through wall/store/box.py).

Contract: `get`/`set` of short strings by key (the supervisor's keys: "<source key>" for the cursor,
"<source key>:state:<name>" for a connector's own state).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from wall.store.base import upsert
from wall.store.schema import cursors


class Cursors:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def get(self, key: str) -> str | None:
        async with self.engine.connect() as conn:
            return (await conn.execute(sa.select(cursors.c.value).where(cursors.c.key == key))).scalar()

    async def set(self, key: str, value: str) -> None:
        async with self.engine.begin() as conn:
            await upsert(conn, cursors, {"key": key, "value": value}, keys=("key",))
