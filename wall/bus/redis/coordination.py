"""Coordination on Redis: leases with fencing tokens, connector cursors, shared secrets, health records."""

from __future__ import annotations

import secrets

from wall.bus.redis.keys import Keys
from wall.bus.redis.link import Link, decode


class RedisCoordination:
    """The Coordination contract (wall/bus/base.py) over one Link."""

    link: Link

    async def get_cursor(self, key: str) -> str | None:
        value = await self.link.call(lambda r: r.hget(Keys.CURSORS, key))
        return None if value is None else decode(value)

    async def set_cursor(self, key: str, value: str) -> None:
        await self.link.call(lambda r: r.hset(Keys.CURSORS, key, value))

    async def lease(self, name: str, owner: str, ttl: float) -> int | None:
        token = await self.link.script("lease", [Keys.lease(name), Keys.fence(name)],
                                       [owner, max(1, int(ttl * 1000))])
        return int(token) or None

    async def holder(self, name: str) -> str | None:
        value = await self.link.call(lambda r: r.get(Keys.lease(name)))
        return None if value is None else decode(value)

    async def shared_secret(self, name: str) -> str:
        candidate = secrets.token_urlsafe(32)
        await self.link.call(lambda r: r.hsetnx(Keys.SECRETS, name, candidate))  # the first one wins
        return decode(await self.link.call(lambda r: r.hget(Keys.SECRETS, name)))

    async def put_health(self, key: str, record: bytes) -> None:
        await self.link.call(lambda r: r.hset(Keys.HEALTH, key, record))

    async def health_records(self) -> dict[str, bytes]:
        found = await self.link.call(lambda r: r.hgetall(Keys.HEALTH))
        return {decode(k): bytes(v) for k, v in found.items()}
