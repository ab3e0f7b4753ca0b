"""Accounts: add, change password, remove, list, verify a login.

Contract:
- Usernames are case-insensitive (stored lowercased) and unique; `add` raises UserExists otherwise.
- Passwords are hashed with argon2id (argon2-cffi); hashing and verifying run in a thread, since argon2 is
  CPU-heavy by design and would stall every screen on this event loop.
- `verify` returns the user for a right password of an enabled account and None otherwise (unknown user,
  wrong password, disabled): the caller cannot tell which, and an unknown user costs as long as a known
  one. A hash made with older parameters is rehashed on the next good login.
- Removing a user ends their sessions (foreign key, ON DELETE CASCADE).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.ext.asyncio import AsyncEngine

from wall.store.base import clock
from wall.store.schema import users

Role = Literal["admin", "curator", "presenter"]
ROLES: tuple[Role, ...] = get_args(Role)


class UserExists(Exception):
    """A user with this name already exists."""


class UnknownUser(LookupError):
    """No user has this name."""


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    role: Role
    created_at: float
    disabled: bool


def normalize_username(username: str) -> str:
    """The stored form of a username: trimmed and lowercased."""
    return username.strip().lower()


class Users:
    def __init__(self, engine: AsyncEngine, hasher: PasswordHasher | None = None) -> None:
        self.engine = engine
        self.hasher = hasher or PasswordHasher()
        self._dummy: str | None = None  # a hash verified for unknown users, so timing says nothing

    async def add(self, username: str, password: str, role: Role, now: float | None = None) -> User:
        """Create an account; raises UserExists if the name is taken, ValueError for a bad role or name."""
        name = normalize_username(username)
        if not name or len(name) > 64:
            raise ValueError("a username is 1 to 64 characters")
        if role not in ROLES:
            raise ValueError(f"role {role!r} is not one of {', '.join(ROLES)}")
        hashed = await asyncio.to_thread(self.hasher.hash, password)
        created = clock(now)
        row = {"username": name, "password_hash": hashed, "role": role, "created_at": created,
               "disabled": False}
        try:
            async with self.engine.begin() as conn:
                result = await conn.execute(users.insert().values(**row).returning(users.c.id))
                user_id = result.scalar_one()
        except sa.exc.IntegrityError as e:
            raise UserExists(f"user {name!r} already exists") from e
        return User(user_id, name, role, created, False)

    async def passwd(self, username: str, password: str) -> None:
        """Set a new password; raises UnknownUser."""
        hashed = await asyncio.to_thread(self.hasher.hash, password)
        await self._update(username, password_hash=hashed)

    async def set_role(self, username: str, role: Role) -> None:
        """Change a user's role; raises UnknownUser or ValueError."""
        if role not in ROLES:
            raise ValueError(f"role {role!r} is not one of {', '.join(ROLES)}")
        await self._update(username, role=role)

    async def set_disabled(self, username: str, disabled: bool) -> None:
        """Disable (or enable again) an account without removing it; raises UnknownUser."""
        await self._update(username, disabled=disabled)

    async def remove(self, username: str) -> None:
        """Delete the account and its sessions; raises UnknownUser."""
        name = normalize_username(username)
        async with self.engine.begin() as conn:
            result = await conn.execute(users.delete().where(users.c.username == name))
        if result.rowcount == 0:
            raise UnknownUser(f"no user {name!r}")

    async def get(self, username: str) -> User | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(users).where(users.c.username == normalize_username(username))
                                      )).first()
        return _user(row) if row else None

    async def get_by_id(self, user_id: int) -> User | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(users).where(users.c.id == user_id))).first()
        return _user(row) if row else None

    async def list(self) -> list[User]:
        """Every account, by username."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(users).order_by(users.c.username))).all()
        return [_user(r) for r in rows]

    async def verify(self, username: str, password: str) -> User | None:
        """The user if the password is right and the account enabled, else None (see the module doc)."""
        name = normalize_username(username)
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(users).where(users.c.username == name))).first()
        if row is None:
            if self._dummy is None:
                self._dummy = await asyncio.to_thread(self.hasher.hash, "not a password of anyone")
            await asyncio.to_thread(self._check, self._dummy, password)
            return None
        if not await asyncio.to_thread(self._check, row.password_hash, password) or row.disabled:
            return None
        if self.hasher.check_needs_rehash(row.password_hash):
            hashed = await asyncio.to_thread(self.hasher.hash, password)
            async with self.engine.begin() as conn:
                await conn.execute(users.update().where(users.c.id == row.id).values(password_hash=hashed))
        return _user(row)

    def _check(self, hashed: str, password: str) -> bool:
        try:
            return self.hasher.verify(hashed, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def _update(self, username: str, **values: object) -> None:
        name = normalize_username(username)
        async with self.engine.begin() as conn:
            result = await conn.execute(users.update().where(users.c.username == name).values(**values))
        if result.rowcount == 0:
            raise UnknownUser(f"no user {name!r}")


def _user(row: sa.Row[Any]) -> User:
    return User(row.id, row.username, cast(Role, row.role), row.created_at, bool(row.disabled))
