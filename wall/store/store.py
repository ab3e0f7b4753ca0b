"""The store facade: one engine, every repository, opened (and migrated) once per process.

    store = await open_store("sqlite+aiosqlite:////var/lib/wall/wall.db")
    ...
    await store.close()

or, for an aiohttp cleanup_ctx:

    async with connect(url) as store:
        app[STORE] = store
        yield
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncEngine

from wall.store.alerts import AlertDeliveries
from wall.store.audit import Audit
from wall.store.bans import Bans
from wall.store.box import BusState
from wall.store.control_tokens import ControlTokens
from wall.store.controls import Controls
from wall.store.decisions import Decisions
from wall.store.digests import Deliveries
from wall.store.display_keys import DisplayKeys
from wall.store.display_log import DisplayLog
from wall.store.engine import StoreURLError, check_url, create_engine
from wall.store.erasure import Erasures
from wall.store.kiosks import Kiosks
from wall.store.kv import Cursors
from wall.store.labels import Labels
from wall.store.logins import LoginPolicy, Logins
from wall.store.migrate import upgrade
from wall.store.optouts import OptOuts
from wall.store.polls import Polls
from wall.store.qa import QA
from wall.store.retention import Retention
from wall.store.rollups import Rollups
from wall.store.rules import Rules
from wall.store.rundown import Rundown
from wall.store.sessions import Sessions
from wall.store.users import Users

log = logging.getLogger(__name__)


class Store:
    """Every repository over one AsyncEngine."""

    def __init__(self, engine: AsyncEngine, hasher: PasswordHasher | None = None,
                 login_policy: LoginPolicy | None = None) -> None:
        self.engine = engine
        self.users = Users(engine, hasher)
        self.sessions = Sessions(engine)
        self.logins = Logins(engine, login_policy)
        self.decisions = Decisions(engine)
        self.bans = Bans(engine)
        self.optouts = OptOuts(engine)
        self.rules = Rules(engine)
        self.display_keys = DisplayKeys(engine)
        self.kiosks = Kiosks(engine)
        self.audit = Audit(engine)
        self.cursors = Cursors(engine)
        self.controls = Controls(engine)
        self.control_tokens = ControlTokens(engine)
        self.rundown = Rundown(engine)
        self.labels = Labels(engine)
        self.erasures = Erasures(engine)
        self.retention = Retention(engine, self.cursors)
        self.digests = Deliveries(engine)
        self.display_log = DisplayLog(engine)
        self.alerts = AlertDeliveries(engine)
        self.rollups = Rollups(engine)
        self.qa = QA(engine)
        self.polls = Polls(engine)

    def bus_state(self, events: int, recent: int) -> BusState:
        """The memory bus's Keeper (a box without Redis), keeping `events` display events and `recent`
        recent posts per wall."""
        return BusState(self.engine, self.cursors, events, recent)

    @property
    def backend(self) -> str:
        """"sqlite" or "postgresql"."""
        return self.engine.dialect.name

    async def ping(self) -> bool:
        """True when the database answers (for /healthz)."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
            return True
        except (OSError, sa.exc.SQLAlchemyError):
            return False

    async def close(self) -> None:
        await self.engine.dispose()


async def open_store(url: str, *, migrate: bool = True, hasher: PasswordHasher | None = None,
                     login_policy: LoginPolicy | None = None) -> Store:
    """Open the store at `url`, first applying any pending migrations (unless `migrate` is False)."""
    parsed = check_url(url)
    where = _sqlite_file(url, parsed) if parsed.drivername.startswith("sqlite") \
        else parsed.render_as_string(hide_password=True)
    if migrate:
        await upgrade(url)
    log.info("store open: %s", where)
    return Store(create_engine(url), hasher, login_policy)


def _sqlite_file(url: str, parsed: sa.URL) -> str:
    """The database file's absolute path, its directory created; refuses in-memory databases."""
    if parsed.database in (None, "", ":memory:"):
        raise StoreURLError(f"store.url {url!r} names no file: every process must share one database; "
                            "e.g. sqlite+aiosqlite:////var/lib/wall/wall.db")
    path = Path(parsed.database).absolute()  # sqlite:///x.db is relative to the cwd: say where it is
    path.parent.mkdir(parents=True, exist_ok=True)
    return str(path)


@asynccontextmanager
async def connect(url: str, *, migrate: bool = True, hasher: PasswordHasher | None = None,
                  login_policy: LoginPolicy | None = None) -> AsyncIterator[Store]:
    """open_store() as an async context manager that closes the store on the way out."""
    store = await open_store(url, migrate=migrate, hasher=hasher, login_policy=login_policy)
    try:
        yield store
    finally:
        await store.close()
