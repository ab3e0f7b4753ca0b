"""One async engine per store URL, with SQLite set up for many processes on one box."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
BUSY_TIMEOUT_MS = 5000  # a writer waits this long for another process's write instead of failing at once


class StoreURLError(ValueError):
    """The store URL names no driver we support."""


def check_url(url: str) -> sa.URL:
    """Parse a store URL; refuse drivers other than aiosqlite and asyncpg with the fix in the message."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as e:
        raise StoreURLError(f"store.url {url!r} is not a database URL; e.g. "
                            "sqlite+aiosqlite:////var/lib/wall/wall.db") from e
    if parsed.drivername not in DRIVERS:
        raise StoreURLError(f"store.url uses driver {parsed.drivername!r}; use one of {', '.join(DRIVERS)}, "
                            "e.g. sqlite+aiosqlite:////var/lib/wall/wall.db or "
                            "postgresql+asyncpg://wall@db.example/wall")
    return parsed


def create_engine(url: str) -> AsyncEngine:
    """An AsyncEngine for the URL; SQLite connections get WAL, foreign keys and a busy timeout."""
    parsed = check_url(url)
    if parsed.drivername.startswith("sqlite"):
        engine = create_async_engine(parsed)
        sa.event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(parsed, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets screens' readers and the one writer work at once; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes in WAL mode
    cursor.close()
