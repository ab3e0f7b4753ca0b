"""Curators' decisions on posts, with compare-and-set.

Contract:
- A decision is one row per (wall, post id): status, pinned, spotlight, a corrected sentiment label, who
  and when, and a version that grows by one with every change.
- `decide(..., expected_version=v)` applies only if the stored version is still `v` (0: no decision yet).
  Otherwise it raises `Conflict(current)`, carrying the decision someone else just made, so the console can
  say "Ana rejected this 2 s ago" instead of silently overwriting her. `expected_version=None` overwrites
  whatever is there (the system itself acting, e.g. a ban retracting an author's posts).
- Decisions are never written by a source: a re-sent post cannot change them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal, cast, get_args

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from wall.store.base import clock
from wall.store.schema import decisions

Status = Literal["approved", "rejected", "hidden", "pending"]
STATUSES: tuple[Status, ...] = get_args(Status)


class Keep(Enum):
    """Leave this field as it is."""

    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass(frozen=True, slots=True)
class Decision:
    wall: str
    post_id: str
    status: Status
    pinned: bool
    spotlight_until: float | None
    sentiment_label: str | None
    decided_by: str
    decided_at: float
    version: int


class Conflict(Exception):
    """The post was decided meanwhile; `current` is that decision (None: the decision was removed)."""

    def __init__(self, current: Decision | None, expected_version: int | None) -> None:
        who = f"{current.decided_by} set it to {current.status} (version {current.version})" if current \
            else "it has no decision any more"
        super().__init__(f"decision changed meanwhile: {who}; expected version {expected_version}")
        self.current = current


class Decisions:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def decide(self, wall: str, post_id: str, status: Status | Keep, by: str,
                     expected_version: int | None, *, pinned: bool | Keep = KEEP,
                     spotlight_until: float | Keep | None = KEEP, sentiment_label: str | Keep | None = KEEP,
                     now: float | None = None) -> Decision:
        """Change the post's decision (fields left as KEEP stay); raises Conflict (see the module doc)."""
        if status is not KEEP and status not in STATUSES:
            raise ValueError(f"status {status!r} is not one of {', '.join(STATUSES)}")
        changes: dict[str, Any] = {"decided_by": by, "decided_at": clock(now)}
        for name, value in (("status", status), ("pinned", pinned), ("spotlight_until", spotlight_until),
                            ("sentiment_label", sentiment_label)):
            if value is not KEEP:
                changes[name] = value
        d = decisions.c
        key = (d.wall == wall) & (d.post_id == post_id)
        update = decisions.update().where(key).values(**changes, version=d.version + 1)
        if expected_version is not None and expected_version > 0:
            update = update.where(d.version == expected_version)
        # Each transaction starts with its write, so SQLite takes the write lock first (waiting up to
        # busy_timeout) rather than failing to upgrade a read snapshot another writer has moved past.
        for _ in range(3):
            if expected_version != 0:
                async with self.engine.begin() as conn:
                    if (await conn.execute(update)).rowcount > 0:
                        decided = await self._get(conn, wall, post_id)
                        assert decided is not None
                        return decided
                if expected_version is not None:
                    raise Conflict(await self.get(wall, post_id), expected_version)
            row = {"wall": wall, "post_id": post_id, "status": "pending", "pinned": False,
                   "spotlight_until": None, "sentiment_label": None, **changes, "version": 1}
            try:
                async with self.engine.begin() as conn:
                    await conn.execute(decisions.insert().values(**row))
                return _decision(row)
            except sa.exc.IntegrityError:
                if expected_version == 0:
                    raise Conflict(await self.get(wall, post_id), 0) from None
            # overwriting and someone inserted first: update their row on the next round
        raise RuntimeError(f"decision on {wall}/{post_id} kept changing under us")

    async def get(self, wall: str, post_id: str) -> Decision | None:
        async with self.engine.connect() as conn:
            return await self._get(conn, wall, post_id)

    async def get_many(self, wall: str, post_ids: Iterable[str]) -> dict[str, Decision]:
        """The decisions of these posts that have one, by post id."""
        ids = list(dict.fromkeys(post_ids))
        found: dict[str, Decision] = {}
        async with self.engine.connect() as conn:
            for i in range(0, len(ids), 500):  # stay far below SQLite's bound-parameter limit
                rows = (await conn.execute(sa.select(decisions).where(
                    decisions.c.wall == wall, decisions.c.post_id.in_(ids[i:i + 500])))).all()
                found.update((r.post_id, _decision(r._mapping)) for r in rows)
        return found

    async def decided_between(self, wall: str, start: float, end: float, limit: int = 20) -> list[Decision]:
        """Decisions last made in [start, end), oldest first: the posts a curator handled in a spike."""
        d = decisions.c
        query = sa.select(decisions).where(d.wall == wall, d.decided_at >= start, d.decided_at < end) \
            .order_by(d.decided_at).limit(limit)
        async with self.engine.connect() as conn:
            return [_decision(r._mapping) for r in (await conn.execute(query)).all()]

    async def pinned(self, wall: str) -> list[Decision]:
        """The wall's pinned posts, most recently decided first."""
        return await self._list(decisions.c.wall == wall, decisions.c.pinned.is_(True))

    async def spotlit(self, wall: str, now: float | None = None) -> list[Decision]:
        """Posts whose spotlight has not ended yet."""
        return await self._list(decisions.c.wall == wall, decisions.c.spotlight_until > clock(now))

    async def labelled(self, wall: str | None = None) -> list[Decision]:
        """Posts whose sentiment label a curator corrected (training lines for `wall sentiment fit`)."""
        conds: list[sa.ColumnElement[bool]] = [decisions.c.sentiment_label.is_not(None)]
        if wall is not None:
            conds.append(decisions.c.wall == wall)
        return await self._list(*conds)

    async def _list(self, *conditions: sa.ColumnElement[bool]) -> list[Decision]:
        query = sa.select(decisions).where(*conditions).order_by(decisions.c.decided_at.desc())
        async with self.engine.connect() as conn:
            return [_decision(r._mapping) for r in (await conn.execute(query)).all()]

    async def _get(self, conn: AsyncConnection, wall: str, post_id: str) -> Decision | None:
        row = (await conn.execute(sa.select(decisions).where(decisions.c.wall == wall,
                                                             decisions.c.post_id == post_id))).first()
        return _decision(row._mapping) if row else None


def _decision(row: Any) -> Decision:
    return Decision(row["wall"], row["post_id"], cast(Status, row["status"]), bool(row["pinned"]),
                    row["spotlight_until"], row["sentiment_label"], row["decided_by"], row["decided_at"],
                    row["version"])
