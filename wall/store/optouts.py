"""Authors opted out of a wall: by its opt-out tag (the author asked, in a post) or by request (an admin).

Contract: an author key is "network:handle" (lowercased here). An opt-out runs from `since` to `until`
(epoch seconds); opting out again while one runs keeps whichever ends later, so a new #nowall extends it
and never shortens a longer request. `current(wall)` is what is in force now; expired rows hold a
person's handle for nothing, so `expire(wall)` deletes them (the curation writer calls it). Hiding the
author's posts is the curation writer's job; this only remembers who, why and until when.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from wall.store.base import clock
from wall.store.schema import optouts

Reason = Literal["tag", "request"]


@dataclass(frozen=True, slots=True)
class OptOut:
    wall: str
    author: str
    reason: Reason  # "tag": the author posted the wall's opt-out tag; "request": an admin added them
    by: str  # the admin's username, or "author" for the tag
    since: float
    until: float


class OptOuts:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def add(self, wall: str, author: str, reason: Reason, by: str, until: float,
                  now: float | None = None) -> OptOut:
        """Opt `author` out of `wall` until `until`; one running to a later time stays as it is. Returns
        the opt-out in force afterwards."""
        author = author.lower()
        values = {"wall": wall, "author": author, "reason": reason, "by": by, "since": clock(now),
                  "until": until}
        async with self.engine.begin() as conn:
            insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(optouts)
            await conn.execute(insert.values(**values).on_conflict_do_update(
                index_elements=["wall", "author"], set_={k: v for k, v in values.items()
                                                         if k not in ("wall", "author")},
                where=optouts.c.until < insert.excluded.until))
            row = (await conn.execute(sa.select(optouts).where(optouts.c.wall == wall,
                                                               optouts.c.author == author))).one()
        return _optout(row)

    async def remove(self, wall: str, author: str) -> OptOut | None:
        """End the author's opt-out of `wall` now; the one removed, or None if there was none."""
        where = (optouts.c.wall == wall, optouts.c.author == author.lower())
        async with self.engine.begin() as conn:
            row = (await conn.execute(sa.select(optouts).where(*where))).first()
            await conn.execute(optouts.delete().where(*where))
        return None if row is None else _optout(row)

    async def current(self, wall: str, now: float | None = None) -> list[OptOut]:
        """The opt-outs of `wall` in force now, the newest first."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(optouts).where(
                optouts.c.wall == wall, optouts.c.until > clock(now)).order_by(optouts.c.since.desc()))).all()
        return [_optout(r) for r in rows]

    async def expire(self, wall: str, now: float | None = None) -> int:
        """Delete the wall's opt-outs that have ended; how many."""
        async with self.engine.begin() as conn:
            result = await conn.execute(optouts.delete().where(optouts.c.wall == wall,
                                                               optouts.c.until <= clock(now)))
        return result.rowcount


def _optout(row: sa.Row[tuple[object, ...]]) -> OptOut:
    return OptOut(row.wall, row.author, row.reason, row.by, row.since, row.until)
