"""What every repository shares: the clock, token hashing and a portable upsert."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


def clock(now: float | None) -> float:
    """`now` when a caller (a test) passes one, else the wall clock in epoch seconds."""
    return time.time() if now is None else now


def new_token() -> tuple[str, str]:
    """A fresh random token and the sha256 hex we store instead of it."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    """The stored form of a session token or display key: a lookup key that cannot be turned back."""
    return hashlib.sha256(token.encode()).hexdigest()


async def upsert(conn: AsyncConnection, table: sa.Table, values: Mapping[str, Any],
                 keys: Sequence[str]) -> None:
    """Insert a row or, when its key exists, overwrite the other columns (INSERT … ON CONFLICT)."""
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)
    update = {k: v for k, v in values.items() if k not in keys}
    stmt = insert.values(**values)
    if update:
        await conn.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_=update))
    else:
        await insert_new(conn, table, values, keys)


async def insert_new(conn: AsyncConnection, table: sa.Table, values: Mapping[str, Any],
                     keys: Sequence[str]) -> None:
    """Insert a row unless its key exists (INSERT … ON CONFLICT DO NOTHING): the first writer wins."""
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)
    await conn.execute(insert.values(**values).on_conflict_do_nothing(index_elements=list(keys)))


BATCH = 1000  # rows per transaction where a job deletes or rewrites many: screens and curators go between
PAUSE = 0.5  # the most a batch job rests after a batch


async def rest_after(started: float) -> None:
    """A batch job's pause after a batch that began at `started` (time.monotonic()): as long as the batch
    took, at most PAUSE, so that on a busy single box the job has the store (SQLite's one writer, the
    event loop it shares with screens and curators) at most half the time."""
    await asyncio.sleep(min(time.monotonic() - started, PAUSE))


async def delete_batched(engine: AsyncEngine, table: sa.Table, where: sa.ColumnElement[bool],
                         guard: Callable[[AsyncConnection], Awaitable[None]] | None = None,
                         batch: int = BATCH) -> int:
    """Delete the rows `where` selects, `batch` at a time, each batch its own short transaction (a long
    one would hold SQLite's write lock, or PostgreSQL's row locks, for the whole job); `guard` runs first
    in each. Returns how many went."""
    key = list(table.primary_key.columns)
    removed = 0
    while True:
        started = time.monotonic()
        async with engine.begin() as conn:
            if guard is not None:
                await guard(conn)
            rows = (await conn.execute(sa.select(*key).where(where).limit(batch))).all()
            if rows:
                found = key[0].in_([r[0] for r in rows]) if len(key) == 1 else sa.tuple_(*key).in_(rows)
                await conn.execute(table.delete().where(found))
        removed += len(rows)
        if len(rows) < batch:
            return removed
        await rest_after(started)
