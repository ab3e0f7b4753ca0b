"""Apply the store's Alembic migrations from code, at start: `await upgrade(url)`.

The same migrations run from the alembic command line with the ini file beside them:
    WALL_STORE_URL=sqlite+aiosqlite:////var/lib/wall/wall.db alembic -c wall/store/alembic.ini upgrade head
"""

from __future__ import annotations

import asyncio
import weakref
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from wall.store.engine import create_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
PG_LOCK = 0x77616C6C  # "wall": one process migrates at a time when several nodes start together
_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at our migrations and this URL (no ini file needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


async def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision`; does nothing when it is already there.

    Processes starting together take turns: PostgreSQL through an advisory lock, SQLite through
    BEGIN IMMEDIATE (the later one waits up to busy_timeout, then finds the schema at head). Within one
    process, Alembic's global context allows one migration at a time, hence the lock per event loop.
    """
    cfg = alembic_config(url)
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        _immediate_transactions(engine)
    try:
        async with _process_lock(), engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_LOCK})
            await conn.run_sync(_upgrade, cfg, revision)
    finally:
        await engine.dispose()


def _process_lock() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    lock = _locks.get(loop)
    if lock is None:
        lock = _locks[loop] = asyncio.Lock()
    return lock


def _immediate_transactions(engine: AsyncEngine) -> None:
    # The sqlite3 module opens transactions lazily and never around DDL; SQLAlchemy's recipe for the
    # aiosqlite driver hands transaction control back to us, and we begin with the write lock held.
    def no_autobegin(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    def begin_immediate(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    sa.event.listen(engine.sync_engine, "connect", no_autobegin)
    sa.event.listen(engine.sync_engine, "begin", begin_immediate)


async def current(url: str) -> str | None:
    """The revision the database is at, None for an empty database."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())
    finally:
        await engine.dispose()


def head() -> str:
    """The newest revision the code knows."""
    revision = _scripts().get_current_head()
    assert revision is not None, f"no migrations found in {MIGRATIONS}"
    return revision


def known(revision: str) -> bool:
    """Whether the code has this revision's migration (a database at an unknown one was made by a newer
    release)."""
    return any(script.revision == revision for script in _scripts().walk_revisions())


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def _upgrade(connection: sa.Connection, cfg: Config, revision: str) -> None:
    # env.py uses this connection instead of opening its own (Alembic's "connection sharing" recipe).
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)
