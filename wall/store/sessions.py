"""Server-side login sessions.

Contract:
- `create` returns the raw token exactly once; the table keeps only its sha256, so a copy of the database
  (a backup) holds no usable session.
- `get` answers a session only while it is live: not revoked, not expired, its user still there and not
  disabled. Anything else is None, whatever the reason.
- `revoke` ends one session (logout); `revoke_all_for_user` ends every session of a user ("log out
  everywhere", and after a password change). Revoked rows stay until `prune` so a replayed token is
  recognised and refused, never recreated.
- `touch` records activity; with `extend`, an active session's expiry slides forward, never beyond the
  absolute limit `max_age` from its creation.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from wall.store.base import clock, new_token, token_hash
from wall.store.schema import sessions, users
from wall.store.users import Role


@dataclass(frozen=True, slots=True)
class Session:
    id: str  # the token's hash: safe to log and to show in a "your sessions" list
    user_id: int
    username: str
    role: Role
    created_at: float
    last_seen: float
    expires_at: float


class Sessions:
    def __init__(self, engine: AsyncEngine, ttl: float = 12 * 3600, max_age: float = 7 * 86400) -> None:
        self.engine = engine
        self.ttl = ttl
        self.max_age = max_age

    async def create(self, user_id: int, now: float | None = None) -> tuple[str, Session]:
        """A new session for the user: (raw token for the cookie, the session)."""
        t = clock(now)
        token, key = new_token()
        async with self.engine.begin() as conn:
            await conn.execute(sessions.insert().values(id=key, user_id=user_id, created_at=t, last_seen=t,
                                                        expires_at=t + self.ttl, revoked=False))
        session = await self.get(token, now=t)
        assert session is not None, f"session for user {user_id} not readable right after creation"
        return token, session

    async def get(self, token: str, now: float | None = None) -> Session | None:
        """The live session this token opens, or None."""
        query = (sa.select(sessions, users.c.username, users.c.role)
                 .join(users, users.c.id == sessions.c.user_id)
                 .where(sessions.c.id == token_hash(token), sessions.c.revoked.is_(False),
                        sessions.c.expires_at > clock(now), users.c.disabled.is_(False)))
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        return Session(row.id, row.user_id, row.username, row.role, row.created_at, row.last_seen,
                       row.expires_at)

    async def touch(self, token: str, now: float | None = None, extend: bool = True) -> None:
        """Record activity on a live session; with `extend`, push its expiry to now + ttl (capped)."""
        t = clock(now)
        values: dict[str, object] = {"last_seen": t}
        if extend:
            limit = sessions.c.created_at + self.max_age
            values["expires_at"] = sa.case((limit < t + self.ttl, limit), else_=t + self.ttl)
        async with self.engine.begin() as conn:
            await conn.execute(sessions.update()
                               .where(sessions.c.id == token_hash(token), sessions.c.revoked.is_(False),
                                      sessions.c.expires_at > t)
                               .values(**values))

    async def revoke(self, token: str) -> bool:
        """End this session; True if it was live (or at least known and not yet revoked)."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                sessions.update().where(sessions.c.id == token_hash(token), sessions.c.revoked.is_(False))
                .values(revoked=True))
        return result.rowcount > 0

    async def revoke_all_for_user(self, user_id: int) -> int:
        """End every session of the user; returns how many were ended."""
        async with self.engine.begin() as conn:
            result = await conn.execute(sessions.update()
                                        .where(sessions.c.user_id == user_id, sessions.c.revoked.is_(False))
                                        .values(revoked=True))
        return result.rowcount

    async def list_for_user(self, user_id: int, now: float | None = None) -> list[Session]:
        """The user's live sessions, newest first."""
        query = (sa.select(sessions, users.c.username, users.c.role)
                 .join(users, users.c.id == sessions.c.user_id)
                 .where(sessions.c.user_id == user_id, sessions.c.revoked.is_(False),
                        sessions.c.expires_at > clock(now))
                 .order_by(sessions.c.created_at.desc()))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [Session(r.id, r.user_id, r.username, r.role, r.created_at, r.last_seen, r.expires_at)
                for r in rows]

    async def prune(self, older_than: float) -> int:
        """Delete sessions that expired before `older_than`; returns how many."""
        async with self.engine.begin() as conn:
            result = await conn.execute(sessions.delete().where(sessions.c.expires_at < older_than))
        return result.rowcount
