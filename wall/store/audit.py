"""The audit log: who did what, when, to what, with the before and after.

Contract: events are small typed records (Datasette's shape: `name`, `actor`, `created`, properties;
here the properties are the wall, the target and the before/after JSON). `record` appends; nothing
updates or deletes a record. `browse` filters by wall, actor, action and a time range, newest first, and
pages with `before_id`. `export_csv` writes the same selection as CSV, with cells that a spreadsheet would
run as a formula (=, +, -, @, tab, CR) prefixed with an apostrophe: targets and JSON hold text from posts.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TextIO

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from wall.store.base import clock
from wall.store.schema import audit

CSV_FIELDS = ("id", "at", "actor", "action", "wall", "target", "before", "after")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class Event:
    """Something a person (or the system, actor "system") did."""

    name: str  # "decide", "ban", "user.add", "panic" …
    actor: str
    wall: str | None = None
    target: str | None = None  # a post id, a username, a display key id
    before: Any = None
    after: Any = None
    created: float | None = None  # None: now


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    at: float
    actor: str
    action: str
    wall: str | None
    target: str | None
    before: Any
    after: Any


@dataclass(frozen=True, slots=True)
class AuditFilter:
    wall: str | None = None
    actor: str | None = None
    action: str | None = None
    since: float | None = None  # inclusive
    until: float | None = None  # exclusive


class Audit:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def record(self, event: Event) -> int:
        """Append the event; returns its record's id."""
        # PostgreSQL text cannot hold NUL, and a target may come from a post: drop it rather than fail.
        target = event.target.replace("\x00", "")[:255] if event.target is not None else None
        row = {"at": clock(event.created), "actor": event.actor, "action": event.name, "wall": event.wall,
               "target": target, "before": event.before, "after": event.after}
        async with self.engine.begin() as conn:
            result = await conn.execute(audit.insert().values(**row).returning(audit.c.id))
            record_id: int = result.scalar_one()
        return record_id

    async def browse(self, where: AuditFilter | None = None, limit: int = 100,
                     before_id: int | None = None) -> list[AuditRecord]:
        """Records matching the filter, newest first; pass the last id seen as `before_id` for more."""
        query = sa.select(audit).where(*_conditions(where or AuditFilter())).order_by(audit.c.id.desc())
        if before_id is not None:
            query = query.where(audit.c.id < before_id)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query.limit(limit))).all()
        return [AuditRecord(r.id, r.at, r.actor, r.action, r.wall, r.target, r.before, r.after) for r in rows]

    async def export_csv(self, out: TextIO, where: AuditFilter | None = None) -> int:
        """Write every matching record as CSV (oldest first, with a header); returns how many rows."""
        query = sa.select(audit).where(*_conditions(where or AuditFilter())).order_by(audit.c.id)
        writer = csv.writer(out)
        writer.writerow(CSV_FIELDS)
        count = 0
        async with self.engine.connect() as conn:
            result = await conn.stream(query.execution_options(yield_per=500))
            async for r in result:
                writer.writerow(csv_row(AuditRecord(r.id, r.at, r.actor, r.action, r.wall, r.target,
                                                    r.before, r.after)))
                count += 1
        return count


def csv_row(record: AuditRecord) -> list[str]:
    """One record as CSV cells: JSON for before/after, ISO-free epoch seconds, formula-safe text."""
    cells: Iterable[object] = (record.id, f"{record.at:.3f}", record.actor, record.action, record.wall or "",
                               record.target or "", _json(record.before), _json(record.after))
    return [_safe(str(c)) for c in cells]


def _json(value: Any) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _safe(cell: str) -> str:
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def _conditions(f: AuditFilter) -> list[sa.ColumnElement[bool]]:
    conds: list[sa.ColumnElement[bool]] = []
    if f.wall is not None:
        conds.append(audit.c.wall == f.wall)
    if f.actor is not None:
        conds.append(audit.c.actor == f.actor)
    if f.action is not None:
        conds.append(audit.c.action == f.action)
    if f.since is not None:
        conds.append(audit.c.at >= f.since)
    if f.until is not None:
        conds.append(audit.c.at < f.until)
    return conds
