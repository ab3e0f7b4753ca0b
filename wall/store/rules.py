"""Walls' moderation policies, their hold rules and blocked words.

Contract:
- A wall without a stored policy is post-moderated ("auto": everything shows unless a rule holds it)
  with no settings; "pre" means nothing shows until approved. `settings` is a small JSON object the
  curation writer interprets (thresholds, trusted authors); the store only keeps it.
- Rules are (kind, value) pairs per wall, e.g. ("hold_links", "true"), ("min_sentiment", "-0.5"); the
  store does not interpret them either. Each has an id for removal.
- Blocked words are per wall, stored lowercased; adding one twice is harmless.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from wall.store.base import clock, upsert
from wall.store.schema import blocked_words, rules, walls_policy

Mode = Literal["auto", "pre"]


@dataclass(frozen=True, slots=True)
class WallPolicy:
    wall: str
    mode: Mode = "auto"
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Rule:
    id: int
    wall: str
    kind: str
    value: str
    created_by: str
    created_at: float


class Rules:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def policy(self, wall: str) -> WallPolicy:
        """The wall's policy; the default (post-moderation, no settings) when none is stored."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(walls_policy).where(walls_policy.c.wall == wall))).first()
        return WallPolicy(wall, cast(Mode, row.mode), dict(row.settings)) if row else WallPolicy(wall)

    async def stored_policy(self, wall: str) -> WallPolicy | None:
        """The wall's stored policy, or None when nobody set one (the config's initial one applies)."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(walls_policy).where(walls_policy.c.wall == wall))).first()
        return WallPolicy(wall, cast(Mode, row.mode), dict(row.settings)) if row else None

    async def set_policy(self, wall: str, mode: Mode,
                         settings: Mapping[str, Any] | None = None) -> WallPolicy:
        """Store the wall's policy (replacing the previous one)."""
        if mode not in ("auto", "pre"):
            raise ValueError(f"moderation mode {mode!r} is not 'auto' or 'pre'")
        policy = WallPolicy(wall, mode, dict(settings or {}))
        async with self.engine.begin() as conn:
            await upsert(conn, walls_policy, {"wall": wall, "mode": mode, "settings": dict(policy.settings)},
                         keys=("wall",))
        return policy

    async def add(self, wall: str, kind: str, value: str, by: str, now: float | None = None) -> Rule:
        async with self.engine.begin() as conn:
            t = clock(now)
            rule_id = (await conn.execute(rules.insert().values(wall=wall, kind=kind, value=value,
                                                                created_by=by, created_at=t)
                                          .returning(rules.c.id))).scalar_one()
        return Rule(rule_id, wall, kind, value, by, t)

    async def remove(self, rule_id: int) -> bool:
        async with self.engine.begin() as conn:
            return (await conn.execute(rules.delete().where(rules.c.id == rule_id))).rowcount > 0

    async def list(self, wall: str) -> list[Rule]:
        """The wall's rules in the order they were added."""
        async with self.engine.connect() as conn:
            query = sa.select(rules).where(rules.c.wall == wall).order_by(rules.c.id)
            rows = (await conn.execute(query)).all()
        return [Rule(r.id, r.wall, r.kind, r.value, r.created_by, r.created_at) for r in rows]

    async def block_word(self, wall: str, word: str) -> None:
        async with self.engine.begin() as conn:
            await upsert(conn, blocked_words, {"wall": wall, "word": word.strip().lower()},
                         keys=("wall", "word"))

    async def unblock_word(self, wall: str, word: str) -> bool:
        async with self.engine.begin() as conn:
            result = await conn.execute(blocked_words.delete().where(
                blocked_words.c.wall == wall, blocked_words.c.word == word.strip().lower()))
        return result.rowcount > 0

    async def blocked_words(self, wall: str) -> builtins.list[str]:
        """The wall's blocked words, sorted."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(sa.select(blocked_words.c.word).where(blocked_words.c.wall == wall)
                                      .order_by(blocked_words.c.word))
            return list(rows.scalars().all())
