"""Cursors and seen digests in SQL, for the deployment without Redis (one process, memory bus), so a
restart neither loses nor repeats posts.

Contract:
- `Cursors` implements ingest.connector.KeyValue (async get/set of short strings); `scoped(prefix)` gives
  the view one source uses, its keys stored as "<prefix>:<key>".
- `Seen.swap(wall, post_id, digest)` stores the post's digest and returns the previous one (None when the
  post is new), like Redis `SET … GET`: equal means duplicate, different means an update. `put_back`
  restores the previous digest when publishing failed, so a retry is not taken for a duplicate.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from wall.store.base import clock, upsert
from wall.store.schema import cursors, seen


class Cursors:
    def __init__(self, engine: AsyncEngine, prefix: str = "") -> None:
        self.engine = engine
        self.prefix = prefix

    def scoped(self, prefix: str) -> Cursors:
        """The same table seen through `prefix` (e.g. "source:lobby-rss")."""
        return Cursors(self.engine, self._key(prefix))

    def _key(self, key: str) -> str:
        return f"{self.prefix}:{key}" if self.prefix else key

    async def get(self, key: str) -> str | None:
        async with self.engine.connect() as conn:
            return (await conn.execute(sa.select(cursors.c.value).where(cursors.c.key == self._key(key))
                                       )).scalar()

    async def set(self, key: str, value: str) -> None:
        async with self.engine.begin() as conn:
            await upsert(conn, cursors, {"key": self._key(key), "value": value}, keys=("key",))

    async def delete(self, key: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(cursors.delete().where(cursors.c.key == self._key(key)))


class Seen:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def swap(self, wall: str, post_id: str, digest: str, now: float | None = None) -> str | None:
        """Store the digest; return the one stored before (None if the post was not seen)."""
        key = (seen.c.wall == wall) & (seen.c.post_id == post_id)
        async with self.engine.begin() as conn:
            # A write first: SQLite takes its write lock (waiting up to busy_timeout) and PostgreSQL locks
            # the row, so two swaps of one post cannot both read the same previous digest.
            await conn.execute(seen.update().where(key).values(digest=seen.c.digest))
            previous = (await conn.execute(sa.select(seen.c.digest).where(key))).scalar()
            await upsert(conn, seen, {"wall": wall, "post_id": post_id, "digest": digest, "at": clock(now)},
                         keys=("wall", "post_id"))
        return previous

    async def put_back(self, wall: str, post_id: str, previous: str | None, now: float | None = None) -> None:
        """Undo a swap whose publish failed: restore `previous` (forget the post when it was None)."""
        async with self.engine.begin() as conn:
            if previous is None:
                await conn.execute(seen.delete().where(seen.c.wall == wall, seen.c.post_id == post_id))
            else:
                await upsert(conn, seen, {"wall": wall, "post_id": post_id, "digest": previous,
                                          "at": clock(now)}, keys=("wall", "post_id"))

    async def prune(self, older_than: float) -> int:
        """Forget digests not touched since `older_than` (Redis keeps them 7 days)."""
        async with self.engine.begin() as conn:
            return (await conn.execute(seen.delete().where(seen.c.at < older_than))).rowcount
