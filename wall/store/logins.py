"""Login throttling: growing delays per (account, address), a ceiling per account that only slows, and
known devices that a stranger cannot slow down.

Contract:
- `reserve(username, address, device)` is the one atomic step before a password is verified. In one
  transaction it locks every counter that applies (a row lock on PostgreSQL, the write lock on SQLite,
  always in the same order), refuses when one of them is still in its delay, and otherwise counts this
  attempt as a failure in advance. Attempts on any web node sharing the store see each other's
  reservations, so 25 parallel guesses get exactly `free` verifications and 429 for the rest.
- `settle(reservation, ok)` after the verification: a success deletes the client's own counter (pair or
  device) and gives its reservation back to the shared ones (account, address); a failure stays counted.
- A refused attempt changes no counter: hammering during a delay does not prolong it.
- Counters (`Throttle`): after `free` failures each further attempt waits `first` seconds, doubling per
  failure up to `cap`. A counter is forgotten `forget` seconds after its last failure.
- Which counters: a client with a known device cookie for this account (`remember_device`, set at its
  last good login) counts on (account, device) only, so neither strangers on other addresses nor on its
  own (office NAT) address slow it. Any other client counts on (account, address), (account) across every
  address, and (address) across every account (one address trying many usernames).
- Usernames are counted whether or not the account exists, so the answers tell nothing about which do.
- `unlock(username)` deletes the account's counters (`wall user unlock`, the console's Users page);
  `throttled()` lists the accounts with repeated failures for the admins' notice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from wall.store.base import clock, new_token, token_hash
from wall.store.schema import login_devices, login_throttles, users
from wall.store.users import normalize_username

DEVICE_MAX_AGE = 180 * 86400.0  # a device cookie lives this long after its last good login
OWN = ("pair", "device")  # the client's own counters; "account" and "address" are shared with others


@dataclass(frozen=True, slots=True)
class Throttle:
    """After `free` failures in a row, each attempt waits `first` s, doubling per failure, at most `cap` s."""

    free: int
    first: float = 1.0
    cap: float = 15 * 60

    def delay(self, failures: int) -> float:
        """The wait after this many failures: 0 within the free ones."""
        if failures < self.free:
            return 0.0
        return min(self.cap, self.first * 2.0 ** min(failures - self.free, 40))


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    pair: Throttle = Throttle(free=5)  # one account from one address, or from one known device
    account: Throttle = Throttle(free=20, cap=5 * 60)  # one account from every unknown client: slows only
    address: Throttle = Throttle(free=20)  # one address trying many accounts (an office NAT is many people)
    forget: float = 3600.0  # a counter starts again this long after its last failure

    def of(self, scope: str) -> Throttle:
        return {"pair": self.pair, "device": self.pair, "account": self.account}.get(scope, self.address)


Key = tuple[str, str, str]  # (scope, username, source): source is the address or the device's hash


@dataclass(frozen=True, slots=True)
class Reservation:
    """The outcome of `reserve`: whether to verify now, else how long to wait and which counter says so."""

    allowed: bool
    keys: tuple[Key, ...] = ()
    retry_after: float = 0.0
    reason: str = ""  # the scope that refused: for the log, never shown to the person trying
    started: tuple[str, ...] = field(default=())  # scopes whose delays this attempt starts if it fails


@dataclass(frozen=True, slots=True)
class Throttled:
    """An account with repeated failed logins, for the admins' notice."""

    username: str
    failures: int  # on its busiest counter
    sources: int  # how many addresses or devices had failures
    last_failure: float
    blocked_until: float


class Logins:
    def __init__(self, engine: AsyncEngine, policy: LoginPolicy | None = None) -> None:
        self.engine = engine
        self.policy = policy or LoginPolicy()

    async def reserve(self, username: str, address: str, device: str | None = None,
                      now: float | None = None) -> Reservation:
        """Count this attempt before the password is verified, or refuse it while a delay runs."""
        t = clock(now)
        name = normalize_username(username)[:64]
        source = address[:64]
        known = device is not None and await self.known_device(name, device, now=t)
        keys: list[Key] = ([("device", name, token_hash(device))] if known and device is not None else
                           [("pair", name, source), ("account", name, ""), ("address", "", source)])
        keys.sort()  # every transaction locks in the same order: no deadlock between them
        c = login_throttles.c
        async with self.engine.begin() as conn:
            rows = [await _lock(conn, key, t) for key in keys]
            counts = [(0, 0.0) if last < t - self.policy.forget else (failures, until)
                      for failures, until, last in rows]
            waits = [(until - t, key[0]) for key, (_, until) in zip(keys, counts, strict=True) if until > t]
            if waits:
                wait, reason = max(waits)
                return Reservation(False, tuple(keys), wait, reason)
            started = []
            for (scope, user, src), (failures, _) in zip(keys, counts, strict=True):
                throttle = self.policy.of(scope)
                delay = throttle.delay(failures + 1)
                if failures + 1 == throttle.free:
                    started.append(scope)
                await conn.execute(login_throttles.update()
                                   .where(c.scope == scope, c.username == user, c.source == src)
                                   .values(failures=failures + 1, blocked_until=t + delay if delay else 0.0,
                                           last_failure=t))
        return Reservation(True, tuple(keys), started=tuple(started))

    async def settle(self, reservation: Reservation, ok: bool) -> None:
        """After the verification: a success clears the client's own counter and returns its reservation
        on the shared ones; a failure stays counted as reserved."""
        if not ok or not reservation.allowed:
            return
        c = login_throttles.c
        async with self.engine.begin() as conn:
            for scope, user, src in reservation.keys:
                where = (c.scope == scope, c.username == user, c.source == src)
                if scope in OWN:
                    await conn.execute(login_throttles.delete().where(*where))
                else:
                    await conn.execute(login_throttles.update().where(*where, c.failures > 0)
                                       .values(failures=c.failures - 1))

    async def release(self, reservation: Reservation) -> None:
        """Give back a reservation whose password was never checked (too many checks at once): as if the
        attempt had not come. No delay ran when it was taken, so none runs below the free failures."""
        if not reservation.allowed:
            return
        c = login_throttles.c
        async with self.engine.begin() as conn:
            for scope, user, src in reservation.keys:
                free = self.policy.of(scope).free
                mine = (c.scope == scope, c.username == user, c.source == src, c.failures > 0)
                await conn.execute(login_throttles.update().where(*mine)
                                   .values(failures=c.failures - 1,
                                           blocked_until=sa.case((c.failures - 1 < free, 0.0),
                                                                 else_=c.blocked_until)))

    async def unlock(self, username: str) -> int:
        """Forget every counter of this account; returns how many there were."""
        async with self.engine.begin() as conn:
            result = await conn.execute(login_throttles.delete().where(
                login_throttles.c.username == normalize_username(username)))
        return result.rowcount

    async def throttled(self, now: float | None = None) -> list[Throttled]:
        """Existing accounts whose failures reached a delay within `forget`, the latest first."""
        t = clock(now)
        c = login_throttles.c
        query = (sa.select(c.scope, c.username, c.failures, c.blocked_until, c.last_failure)
                 .join(users, users.c.username == c.username)
                 .where(c.last_failure > t - self.policy.forget, c.failures > 0))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        found: dict[str, Throttled] = {}
        alarming = {r.username for r in rows if r.failures >= self.policy.of(r.scope).free}
        for r in rows:
            if r.username not in alarming:
                continue
            seen = found.get(r.username, Throttled(r.username, 0, 0, 0.0, 0.0))
            found[r.username] = Throttled(r.username, max(r.failures, seen.failures),
                                          seen.sources + (r.scope != "account"),
                                          max(r.last_failure, seen.last_failure),
                                          max(r.blocked_until, seen.blocked_until))
        return sorted(found.values(), key=lambda x: x.last_failure, reverse=True)

    async def known_device(self, username: str, device: str, now: float | None = None) -> bool:
        """This device cookie belongs to a browser that logged in to this account within DEVICE_MAX_AGE."""
        d = login_devices.c
        query = (sa.select(d.user_id).join(users, users.c.id == d.user_id)
                 .where(users.c.username == normalize_username(username), d.device_hash == token_hash(device),
                        d.last_used > clock(now) - DEVICE_MAX_AGE))
        async with self.engine.connect() as conn:
            return (await conn.execute(query)).first() is not None

    async def remember_device(self, user_id: int, device: str | None, now: float | None = None) -> str:
        """After a good login: the device token for the cookie, the browser's own when this account knows
        it (its last use moves on), else a new one (the store keeps only its sha256)."""
        t = clock(now)
        d = login_devices.c
        async with self.engine.begin() as conn:
            if device is not None:
                result = await conn.execute(login_devices.update()
                                            .where(d.user_id == user_id, d.device_hash == token_hash(device),
                                                   d.last_used > t - DEVICE_MAX_AGE)
                                            .values(last_used=t))
                if result.rowcount:
                    return device
            token, key = new_token()
            await conn.execute(login_devices.insert().values(user_id=user_id, device_hash=key, created_at=t,
                                                             last_used=t))
        return token


async def _lock(conn: AsyncConnection, key: Key, now: float) -> tuple[int, float, float]:
    """The counter's (failures, blocked_until, last_failure), its row created and locked until commit:
    an upsert writes first, so SQLite takes its write lock here and PostgreSQL locks the row."""
    scope, user, src = key
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(login_throttles)
    c = login_throttles.c
    stmt = (insert.values(scope=scope, username=user, source=src, failures=0, blocked_until=0.0,
                          last_failure=now)
            .on_conflict_do_update(index_elements=["scope", "username", "source"],
                                   set_={"failures": c.failures})  # a no-op that takes the lock
            .returning(c.failures, c.blocked_until, c.last_failure))
    row = (await conn.execute(stmt)).one()
    return int(row.failures), float(row.blocked_until), float(row.last_failure)
