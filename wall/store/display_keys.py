"""Display keys: one per screen of a private wall, revocable.

Contract: `issue` returns the raw key exactly once and stores only its sha256. `check(wall, key)` answers
the key's record while it is unrevoked and issued for that wall, else None (a key of another wall opens
nothing). `revoke` takes effect on the next check: the web node checks on every page, socket and API
request, and closes sockets whose key was revoked when it hears of the revocation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from wall.store.base import clock, new_token, token_hash
from wall.store.schema import display_keys


@dataclass(frozen=True, slots=True)
class DisplayKey:
    id: int
    wall: str
    label: str  # "lobby screen 2": which screen holds it
    created_at: float
    revoked_at: float | None


class DisplayKeys:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def issue(self, wall: str, label: str, now: float | None = None) -> tuple[str, DisplayKey]:
        """A new key for a screen of the wall: (raw key to put in the screen's URL, its record)."""
        raw, key_hash = new_token()
        t = clock(now)
        async with self.engine.begin() as conn:
            key_id = (await conn.execute(display_keys.insert().values(
                wall=wall, key_hash=key_hash, label=label, created_at=t, revoked_at=None)
                .returning(display_keys.c.id))).scalar_one()
        return raw, DisplayKey(key_id, wall, label, t, None)

    async def check(self, wall: str, raw: str) -> DisplayKey | None:
        """The key's record if it is live for this wall, else None."""
        k = display_keys.c
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(display_keys).where(
                k.key_hash == token_hash(raw), k.wall == wall, k.revoked_at.is_(None)))).first()
        return DisplayKey(row.id, row.wall, row.label, row.created_at, None) if row else None

    async def revoke(self, key_id: int, now: float | None = None) -> DisplayKey | None:
        """Revoke a key by id; returns its record (None if there is no such live key)."""
        k = display_keys.c
        async with self.engine.begin() as conn:
            row = (await conn.execute(display_keys.update().where(k.id == key_id, k.revoked_at.is_(None))
                                      .values(revoked_at=clock(now)).returning(display_keys))).first()
        return DisplayKey(row.id, row.wall, row.label, row.created_at, row.revoked_at) if row else None

    async def list(self, wall: str) -> list[DisplayKey]:
        """The wall's keys, live and revoked, oldest first."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(display_keys).where(display_keys.c.wall == wall)
                                       .order_by(display_keys.c.id))).all()
        return [DisplayKey(r.id, r.wall, r.label, r.created_at, r.revoked_at) for r in rows]

    async def live(self, key_ids: Iterable[int]) -> set[int]:
        """Which of these key ids are still unrevoked (a web node rechecks its open sockets' keys)."""
        ids = list(dict.fromkeys(key_ids))
        found: set[int] = set()
        k = display_keys.c
        async with self.engine.connect() as conn:
            for i in range(0, len(ids), 500):
                rows = await conn.execute(sa.select(k.id).where(k.id.in_(ids[i:i + 500]),
                                                                k.revoked_at.is_(None)))
                found.update(rows.scalars().all())
        return found
