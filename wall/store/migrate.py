"""Apply the store's Alembic migrations from code, at start: `await upgrade(url)`.

The same migrations run from the alembic command line with the ini file beside them:
    WALL_STORE_URL=sqlite+aiosqlite:///var/lib/wall/wall.db alembic -c wall/store/alembic.ini upgrade head
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from wall.store.engine import create_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
PG_LOCK = 0x77616C6C  # "wall": one process migrates at a time when several nodes start together


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at our migrations and this URL (no ini file needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


async def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision`; does nothing when it is already there."""
    cfg = alembic_config(url)
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_LOCK})
            await conn.run_sync(_upgrade, cfg, revision)
    finally:
        await engine.dispose()


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
    revision = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert revision is not None, f"no migrations found in {MIGRATIONS}"
    return revision


def _upgrade(connection: sa.Connection, cfg: Config, revision: str) -> None:
    # env.py uses this connection instead of opening its own (Alembic's "connection sharing" recipe).
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)
