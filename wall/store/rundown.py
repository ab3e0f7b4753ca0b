"""A wall's rundown: the run of show of an event, items in order (scene, seconds, title, speaker notes).

Contract:
- `items(wall)` in order; `add` appends, `edit` changes one, `remove` deletes one, `move` puts one at a
  new place; positions are renumbered 0..n-1 in the same transaction, so the order has no gaps or ties.
- Each write returns the item as it is after it (or as it was, for `remove`); an id of another wall, or
  none, raises `LookupError`. Checking the values (scene names, lengths) is the service's job
  (wall/curate/actions.py), which also audits.
- Which item is on is not here: it is the wall's controls' `rundown_item` (wall/store/controls.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from wall.store.base import clock
from wall.store.schema import rundown_items


@dataclass(frozen=True, slots=True)
class RundownItem:
    id: int
    wall: str
    position: int
    scene: str
    seconds: float
    title: str
    notes: str
    updated_by: str
    updated_at: float

    def dict(self) -> dict[str, Any]:
        return asdict(self)


class Rundown:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def items(self, wall: str) -> list[RundownItem]:
        async with self.engine.connect() as conn:
            return await _items(conn, wall)

    async def add(self, wall: str, scene: str, seconds: float, title: str, notes: str, by: str,
                  now: float | None = None) -> RundownItem:
        async with self.engine.begin() as conn:
            count = (await conn.execute(sa.select(sa.func.count()).select_from(rundown_items)
                                        .where(rundown_items.c.wall == wall))).scalar_one()
            done = await conn.execute(rundown_items.insert().values(
                wall=wall, position=count, scene=scene, seconds=seconds, title=title, notes=notes,
                updated_by=by, updated_at=clock(now)))
            new_id = done.inserted_primary_key[0] if done.inserted_primary_key else None
            return next(i for i in await _items(conn, wall) if i.id == new_id)

    async def edit(self, wall: str, item_id: int, scene: str, seconds: float, title: str, notes: str,
                   by: str, now: float | None = None) -> RundownItem:
        async with self.engine.begin() as conn:
            done = await conn.execute(rundown_items.update().where(
                rundown_items.c.wall == wall, rundown_items.c.id == item_id).values(
                scene=scene, seconds=seconds, title=title, notes=notes, updated_by=by, updated_at=clock(now)))
            if done.rowcount == 0:
                raise LookupError(f"wall {wall} has no rundown item {item_id}")
            return next(i for i in await _items(conn, wall) if i.id == item_id)

    async def remove(self, wall: str, item_id: int) -> RundownItem:
        async with self.engine.begin() as conn:
            items = await _items(conn, wall)
            gone = next((i for i in items if i.id == item_id), None)
            if gone is None:
                raise LookupError(f"wall {wall} has no rundown item {item_id}")
            await conn.execute(rundown_items.delete().where(rundown_items.c.id == item_id))
            await _renumber(conn, [i.id for i in items if i.id != item_id])
            return gone

    async def move(self, wall: str, item_id: int, position: int) -> RundownItem:
        """Put the item at `position` (clamped to the list), the others keeping their order."""
        async with self.engine.begin() as conn:
            ids = [i.id for i in await _items(conn, wall)]
            if item_id not in ids:
                raise LookupError(f"wall {wall} has no rundown item {item_id}")
            ids.remove(item_id)
            ids.insert(max(0, min(position, len(ids))), item_id)
            await _renumber(conn, ids)
            return next(i for i in await _items(conn, wall) if i.id == item_id)


async def _items(conn: AsyncConnection, wall: str) -> list[RundownItem]:
    rows = await conn.execute(sa.select(rundown_items).where(rundown_items.c.wall == wall)
                              .order_by(rundown_items.c.position, rundown_items.c.id))
    return [RundownItem(**row._mapping) for row in rows]


async def _renumber(conn: AsyncConnection, ids: list[int]) -> None:
    for position, item_id in enumerate(ids):
        await conn.execute(rundown_items.update().where(rundown_items.c.id == item_id)
                           .values(position=position))
