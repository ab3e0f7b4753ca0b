"""Login rate limiting and lockout.

Contract:
- The console asks `check(username, ip)` before it verifies a password; when the verdict says no, it
  answers "too many attempts, try again in N minutes" and does not verify (so a locked account cannot be
  probed) and does not record the attempt (so an attacker cannot keep a lockout going forever by hammering
  a locked account; the lockout ends `lockout` seconds after the failure that caused it).
- After a verification it calls `record(username, ip, ok)`. A success clears that username's count.
- `limited` is the pure policy over failure times, tested without a database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from wall.store.base import clock
from wall.store.schema import login_attempts
from wall.store.users import normalize_username


@dataclass(frozen=True, slots=True)
class Limit:
    """`failures` failures within `window` seconds lock for `lockout` seconds after the last of them."""

    failures: int
    window: float
    lockout: float


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    per_user: Limit = Limit(failures=5, window=15 * 60, lockout=15 * 60)
    per_ip: Limit = Limit(failures=20, window=15 * 60, lockout=15 * 60)  # one office NAT, many people


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    retry_after: float = 0.0  # seconds until the next attempt is allowed
    reason: str = ""  # "username" or "ip": for the log, never shown to the person trying


def locked_until(failures: Sequence[float], limit: Limit) -> float:
    """When the lockout caused by these failure times (any order) ends; 0 when they cause none."""
    times = sorted(failures)
    n = limit.failures
    until = 0.0
    for i in range(n - 1, len(times)):
        if times[i] - times[i - n + 1] <= limit.window:
            until = max(until, times[i] + limit.lockout)
    return until


def limited(user_failures: Sequence[float], ip_failures: Sequence[float], now: float,
            policy: LoginPolicy) -> Verdict:
    """Whether one more attempt is allowed now, given the username's and the IP's recent failures."""
    user_until = locked_until(user_failures, policy.per_user)
    ip_until = locked_until(ip_failures, policy.per_ip)
    if now < user_until:
        return Verdict(False, user_until - now, "username")
    if now < ip_until:
        return Verdict(False, ip_until - now, "ip")
    return Verdict(True)


class Logins:
    def __init__(self, engine: AsyncEngine, policy: LoginPolicy | None = None) -> None:
        self.engine = engine
        self.policy = policy or LoginPolicy()

    def _lookback(self, limit: Limit) -> float:
        return limit.window + limit.lockout

    async def check(self, username: str, ip: str, now: float | None = None) -> Verdict:
        """May this username try to log in from this IP now?"""
        t = clock(now)
        name = normalize_username(username)
        a = login_attempts.c
        async with self.engine.connect() as conn:
            last_ok = (await conn.execute(sa.select(sa.func.max(a.at))
                                          .where(a.username == name, a.ok.is_(True)))).scalar()
            since_user = max(t - self._lookback(self.policy.per_user), last_ok or 0.0)
            user_failures = (await conn.execute(
                sa.select(a.at).where(a.username == name, a.ok.is_(False), a.at > since_user)
            )).scalars().all()
            ip_failures = (await conn.execute(
                sa.select(a.at).where(a.ip == ip, a.ok.is_(False),
                                      a.at > t - self._lookback(self.policy.per_ip)))).scalars().all()
        return limited(user_failures, ip_failures, t, self.policy)

    async def record(self, username: str, ip: str, ok: bool, now: float | None = None) -> None:
        """Note the outcome of a verified attempt."""
        async with self.engine.begin() as conn:
            await conn.execute(login_attempts.insert().values(username=normalize_username(username)[:64],
                                                              ip=ip[:64], at=clock(now), ok=ok))

    async def prune(self, older_than: float) -> int:
        """Forget attempts before `older_than` (anything older than the longest lookback is unused)."""
        async with self.engine.begin() as conn:
            result = await conn.execute(login_attempts.delete().where(login_attempts.c.at < older_than))
        return result.rowcount
