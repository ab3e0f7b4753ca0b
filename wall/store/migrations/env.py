"""Alembic environment: runs on a connection handed over by wall.store.migrate.upgrade(), or, from the
alembic command line, on an async engine built from WALL_STORE_URL (or sqlalchemy.url in the ini)."""

from __future__ import annotations

import asyncio
import os

import sqlalchemy as sa
from alembic import context

from wall.store.engine import create_engine
from wall.store.schema import metadata

config = context.config


def run_on(connection: sa.Connection) -> None:
    # SQLite cannot ALTER most things in place: batch mode rebuilds the table instead.
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def run_async(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(run_on)
    finally:
        await engine.dispose()


def main() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    url = os.environ.get("WALL_STORE_URL") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("WALL_STORE_URL is not set; e.g. export WALL_STORE_URL=sqlite+aiosqlite:///wall.db")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(run_async(url))


main()
