"""Control tokens: what stage hardware (a Stream Deck through Bitfocus Companion, a foot switch) shows to
steer one wall through the control API (docs/control-api.md).

Contract: `issue` returns the raw token exactly once and stores only its sha256. A token belongs to one
wall and has one scope (a name the web node maps to the actions it allows); its name is what the audit
log shows as the actor, so a live token's name is unique on its wall (`NameTaken`). `find(raw)` answers
the token's record whatever its state, so the caller can say *why* it refuses it (revoked when and by
whom, expired when); `usable` says whether it may act now. `revoke` takes effect on the next request.
Nothing here is a person's data: names are chosen by admins ("stage left deck").
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from wall.store.base import clock, token_hash
from wall.store.schema import control_tokens

PREFIX = "wallctl_"  # says what a leaked string is (secret scanners, a log someone pasted)
NAME_MAX = 48


class NameTaken(ValueError):
    """A live token of the wall already has this name: the audit could not tell them apart."""


@dataclass(frozen=True, slots=True)
class ControlToken:
    id: int
    wall: str
    name: str
    scope: str
    created_at: float
    created_by: str
    expires_at: float | None
    revoked_at: float | None
    revoked_by: str | None
    last_used_at: float | None

    def usable(self, now: float) -> bool:
        """Neither revoked nor expired at `now`."""
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


class ControlTokens:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def issue(self, wall: str, name: str, scope: str, by: str, expires_at: float | None,
                    now: float | None = None) -> tuple[str, ControlToken]:
        """A new token: (the raw token, shown once; its record). ValueError for an empty or long name,
        NameTaken when a live token of the wall has it."""
        name = " ".join(name.split())
        if not 0 < len(name) <= NAME_MAX:
            raise ValueError(f"name: 1 to {NAME_MAX} characters, e.g. \"stage left deck\"")
        t = clock(now)
        raw = PREFIX + secrets.token_urlsafe(32)
        c = control_tokens.c
        async with self.engine.begin() as conn:
            rows = (await conn.execute(sa.select(control_tokens).where(c.wall == wall, c.name == name))).all()
            if any(_token(r).usable(t) for r in rows):
                raise NameTaken(f"name: the wall already has a live token named {name!r}; pick another "
                                "or revoke that one first")
            token_id = (await conn.execute(control_tokens.insert().values(
                wall=wall, name=name, scope=scope, token_hash=token_hash(raw), created_at=t, created_by=by,
                expires_at=expires_at, revoked_at=None, revoked_by=None, last_used_at=None)
                .returning(c.id))).scalar_one()
        return raw, ControlToken(token_id, wall, name, scope, t, by, expires_at, None, None, None)

    async def find(self, raw: str) -> ControlToken | None:
        """The token's record (revoked and expired ones too), or None when no token is this one."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(control_tokens).where(
                control_tokens.c.token_hash == token_hash(raw)))).first()
        return _token(row) if row else None

    async def used(self, token_id: int, now: float | None = None) -> None:
        """Note that the token acted (the console shows when each was last used)."""
        async with self.engine.begin() as conn:
            await conn.execute(control_tokens.update().where(control_tokens.c.id == token_id)
                               .values(last_used_at=clock(now)))

    async def revoke(self, token_id: int, by: str, now: float | None = None) -> ControlToken | None:
        """Revoke a token by id; its record, or None when there is no such unrevoked token."""
        c = control_tokens.c
        async with self.engine.begin() as conn:
            row = (await conn.execute(control_tokens.update().where(c.id == token_id, c.revoked_at.is_(None))
                                      .values(revoked_at=clock(now), revoked_by=by)
                                      .returning(control_tokens))).first()
        return _token(row) if row else None

    async def list(self, wall: str) -> list[ControlToken]:
        """The wall's tokens, live, expired and revoked, newest first."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(control_tokens).where(control_tokens.c.wall == wall)
                                       .order_by(control_tokens.c.id.desc()))).all()
        return [_token(r) for r in rows]


def _token(row: sa.Row[tuple[object, ...]]) -> ControlToken:
    m = row._mapping
    return ControlToken(m["id"], m["wall"], m["name"], m["scope"], m["created_at"], m["created_by"],
                        m["expires_at"], m["revoked_at"], m["revoked_by"], m["last_used_at"])
