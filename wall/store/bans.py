"""Banned authors, per wall or everywhere.

Contract: an author key is "network:handle" (lowercased here); wall '*' bans on every wall. Banning again
replaces the reason. `is_banned(wall, author)` is true for a ban on that wall or on '*'. Retracting the
author's posts already on screen is the curation writer's job; this only remembers the ban.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from wall.store.base import clock, upsert
from wall.store.schema import bans

EVERY_WALL = "*"


@dataclass(frozen=True, slots=True)
class Ban:
    wall: str
    author: str
    reason: str
    by: str
    at: float


def author_key(network: str, handle: str) -> str:
    """The key a ban is stored under."""
    return f"{network}:{handle}".lower()


class Bans:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def ban(self, wall: str, author: str, reason: str, by: str, now: float | None = None) -> Ban:
        """Ban `author` on `wall` ('*' for every wall)."""
        ban = Ban(wall, author.lower(), reason, by, clock(now))
        async with self.engine.begin() as conn:
            await upsert(conn, bans, {"wall": ban.wall, "author": ban.author, "reason": reason, "by": by,
                                      "at": ban.at}, keys=("wall", "author"))
        return ban

    async def unban(self, wall: str, author: str) -> bool:
        """Lift the ban on exactly this wall (or '*'); True if there was one."""
        async with self.engine.begin() as conn:
            result = await conn.execute(bans.delete().where(bans.c.wall == wall,
                                                            bans.c.author == author.lower()))
        return result.rowcount > 0

    async def is_banned(self, wall: str, author: str) -> bool:
        async with self.engine.connect() as conn:
            found = (await conn.execute(sa.select(bans.c.author).where(
                bans.c.wall.in_((wall, EVERY_WALL)), bans.c.author == author.lower()).limit(1))).first()
        return found is not None

    async def banned_authors(self, wall: str) -> set[str]:
        """Every author banned on this wall, including the bans on every wall (for the writer's cache)."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(bans.c.author).where(bans.c.wall.in_((wall, EVERY_WALL)))))
            return set(rows.scalars().all())

    async def list(self, wall: str | None = None) -> list[Ban]:
        """Bans on this wall and on every wall (all bans when wall is None), newest first."""
        query = sa.select(bans).order_by(bans.c.at.desc())
        if wall is not None:
            query = query.where(bans.c.wall.in_((wall, EVERY_WALL)))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [Ban(r.wall, r.author, r.reason, r.by, r.at) for r in rows]
