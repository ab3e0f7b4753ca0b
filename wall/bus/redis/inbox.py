"""The wall inboxes on Redis: admit and enqueue (ingest, consoles), read and commit (the one writer).

A commit goes to its Lua script as ONE argument, the msgpack of a typed Struct (CommitArgs) that the script
reads field by field, instead of a positional list of counted lists that both sides had to agree on.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from wall.bus.base import (
    BUCKETS_KEPT,
    RECENT_KEPT,
    Commit,
    Fenced,
    Forgotten,
    Message,
    Outcome,
    writer_lease,
)
from wall.bus.redis import durable
from wall.bus.redis.keys import Keys
from wall.bus.redis.link import COMMAND_TIMEOUT, LINK_ERRORS, Link, decode
from wall.bus.redis.stream import messages
from wall.bus.redis.target import until_up

SEEN_TTL = 7 * 24 * 3600  # dedupe digests outlive any source's replay window
# A backstop only: the writer trims what it committed. Reached only when no writer ran for a long while.
INBOX_MAXLEN = 100_000
RETENTION_BATCH = 1000  # known authors forgotten per script call


class CommitArgs(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One commit as commit.lua reads it. Bodies travel as msgpack str, which Redis's cmsgpack reads (it
    has no bin type): they are UTF-8 JSON, as every event, recent post and queue message is."""

    owner: str  # the writer: it must hold the lease
    token: int  # and its token must be the lease's current one
    inbox_id: str  # the stored position moves to it; the inbox is trimmed up to it
    now: float  # seconds since the epoch: shown-set and recent-index scores
    maxlen: int  # the display stream's cap
    epoch: str  # the epoch to set if the wall has none (Redis lost its data)
    channel: str  # the wall's live channel
    queue_channel: str  # the consoles' channel
    bucket_ttl: int  # seconds a stats bucket and a post's record are kept
    recent_kept: int  # recent posts kept per wall
    record_prefix: str  # + post id: what a post added to the stats
    bucket_prefix: str  # + minute: a stats bucket
    events: tuple[str, ...]
    shown: tuple[str, ...]
    unshown: tuple[str, ...]
    counts: tuple[tuple[str, tuple[tuple[str, int], ...]], ...]
    uncounted: tuple[str, ...]
    recent: tuple[tuple[str, str], ...]
    queue: tuple[str, ...]
    authors: tuple[str, ...]
    control: bool

    @classmethod
    def of(cls, wall: str, owner: str, token: int, commit: Commit, maxlen: int) -> CommitArgs:
        return cls(
            owner=owner, token=token, inbox_id=commit.inbox_id, now=time.time(), maxlen=maxlen,
            epoch=secrets.token_hex(8), channel=Keys.live(wall), queue_channel=Keys.queue(wall),
            bucket_ttl=BUCKETS_KEPT * 60, recent_kept=RECENT_KEPT, record_prefix=Keys.counted(wall, ""),
            bucket_prefix=Keys.bucket(wall, ""), events=tuple(e.decode() for e in commit.events),
            shown=commit.shown, unshown=commit.unshown, counts=commit.counts, uncounted=commit.uncounted,
            recent=tuple((pid, body.decode()) for pid, body in commit.recent),
            queue=tuple(m.decode() for m in commit.queue), authors=commit.authors, control=commit.control)


ENCODER = msgspec.msgpack.Encoder()


class RedisInbox:
    """The Inbox contract (wall/bus/base.py) over one Link."""

    link: Link
    maxlen: int

    async def admit(self, wall: str, post_id: str, digest: str, body: bytes) -> tuple[Outcome, str | None]:
        seen = Keys.seen(wall, post_id)
        outcome, inbox_id = await self.link.call(lambda r: durable.admit(
            r, self.link.scripts["admit"], [seen, Keys.inbox(wall)], [digest, SEEN_TTL, body, INBOX_MAXLEN],
            seen, SEEN_TTL, self.link.target))
        said = decode(outcome)
        if said == "duplicate":
            return "duplicate", None
        return ("new" if said == "new" else "updated"), decode(inbox_id)

    async def enqueue(self, wall: str, body: bytes) -> str:
        inbox_id = await self.link.call(
            lambda r: r.xadd(Keys.inbox(wall), {"b": body}, maxlen=INBOX_MAXLEN, approximate=True))
        return decode(inbox_id)

    async def read_inbox(self, wall: str, after: str, count: int, timeout: float) -> list[Message]:
        block = max(1, int(timeout * 1000))
        try:
            async with asyncio.timeout(timeout + COMMAND_TIMEOUT):
                reply: Any = await self.link.client().xread({Keys.inbox(wall): after}, count=count,
                                                            block=block)
        except TimeoutError as e:
            raise RedisTimeoutError(f"Redis at {self.link.safe_url} did not answer XREAD") from e
        except LINK_ERRORS as e:
            self.link.down(e)
            raise
        self.link.up()
        return messages(reply[0][1]) if reply else []

    async def inbox_backlog(self, wall: str) -> int:
        after = await self.position(wall)
        entries = await self.link.call(lambda r: r.xrange(Keys.inbox(wall), f"({after}", "+", count=10_000))
        return len(entries)

    async def position(self, wall: str) -> str:
        value = await self.link.call(lambda r: r.get(Keys.position(wall)))
        return "0-0" if value is None else decode(value)

    async def commit(self, wall: str, owner: str, token: int, commit: Commit) -> list[str]:
        payload = ENCODER.encode(CommitArgs.of(wall, owner, token, commit, self.maxlen))
        lease = writer_lease(wall)
        keys = [Keys.lease(lease), Keys.fence(lease), Keys.events(wall), Keys.epoch(wall),
                Keys.position(wall), Keys.inbox(wall), Keys.shown(wall), Keys.bucket(wall, commit.minute),
                Keys.total(wall), Keys.recent(wall), Keys.recent_index(wall), Keys.control(wall),
                Keys.authors(wall), Keys.authors_at(wall)]
        try:
            ids = await self.link.script("commit", keys, [payload])
        except ResponseError as e:
            if str(e).startswith("FENCED"):
                raise Fenced(f"wall {wall}: {e}") from None
            raise
        return [decode(i) for i in ids]

    async def shown(self, wall: str, post_ids: list[str]) -> set[str]:
        if not post_ids:
            return set()
        scores = await self.link.call(lambda r: r.zmscore(Keys.shown(wall), post_ids))
        return {pid for pid, score in zip(post_ids, scores, strict=True) if score is not None}

    async def counts(self, wall: str, minutes: list[int]) -> dict[int, dict[str, int]]:
        async def read(r: Redis) -> list[Any]:
            pipe = r.pipeline(transaction=False)
            for m in minutes:
                pipe.hgetall(Keys.bucket(wall, m))
            found: list[Any] = await pipe.execute()
            return found

        found = await self.link.call(read)
        return {m: {decode(k): int(v) for k, v in h.items()}
                for m, h in zip(minutes, found, strict=True) if h}

    async def total(self, wall: str) -> int:
        value = await self.link.call(lambda r: r.get(Keys.total(wall)))
        return 0 if value is None else int(value)

    async def recent(self, wall: str, count: int) -> list[bytes]:
        async def read(r: Redis) -> list[Any]:
            ids: list[Any] = await r.zrevrange(Keys.recent_index(wall), 0, count - 1)
            found: list[Any] = await r.hmget(Keys.recent(wall), ids) if ids else []
            return found

        return [bytes(b) for b in await self.link.call(read) if b is not None]

    async def recent_of(self, wall: str, post_ids: list[str]) -> dict[str, bytes]:
        if not post_ids:
            return {}
        found = await self.link.call(lambda r: r.hmget(Keys.recent(wall), post_ids))
        return {pid: bytes(b) for pid, b in zip(post_ids, found, strict=True) if b is not None}

    async def subscribe_queue(self, wall: str) -> AsyncIterator[bytes | None]:
        link = self.link
        attempt = 0
        while not link.closed:
            pubsub: PubSub | None = None
            try:
                pubsub = await link.subscribed(Keys.queue(wall))
                if attempt:
                    yield None  # messages may have been missed while the link was down
                attempt = 0
                while True:
                    yield await link.next_message(pubsub)
            except Exception as e:
                if link.closed:
                    return
                if not isinstance(e, LINK_ERRORS):
                    raise
                link.down(e)
            finally:
                if pubsub is not None:
                    await link.unsubscribe(pubsub)
            await until_up(link.client, attempt, lambda: link.closed)
            attempt += 1

    async def known_authors(self, wall: str, authors: list[str]) -> set[str]:
        if not authors:
            return set()
        found = await self.link.call(lambda r: r.smismember(Keys.authors(wall), authors))
        return {a for a, yes in zip(authors, found, strict=True) if yes}

    async def forget_before(self, wall: str, cutoff: float) -> Forgotten:
        # One script: the stream holds at most [bus] stream_maxlen events and a wall RECENT_KEPT recent
        # posts, so it is short; the authors go RETENTION_BATCH at a time, Redis serving others between.
        keys = [Keys.events(wall), Keys.recent(wall), Keys.recent_index(wall), Keys.authors(wall),
                Keys.authors_at(wall), Keys.inbox(wall), Keys.position(wall)]
        events, recent, authors, inbox = await self.link.script("forget", keys,
                                                                [int(cutoff * 1000), cutoff, 0])
        while True:
            _, _, more, _ = await self.link.script("forget", keys, [0, cutoff, RETENTION_BATCH])
            authors += more
            if more < RETENTION_BATCH:
                return Forgotten(events, recent, authors, inbox)
