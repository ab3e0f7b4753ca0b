"""Redis engine: each wall's history is a capped Redis Stream, announced live on a pub/sub channel.

One Lua script appends to the stream and publishes, so pub/sub order is stream order whatever the number of
publishers; a subscriber catches up from the stream and then follows pub/sub, dropping ids it already gave.
Each pub/sub message carries the epoch, so a subscriber notices at once when Redis lost its data.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from wall.bus import durable
from wall.bus.base import (
    BUCKETS_KEPT,
    RECENT_KEPT,
    Announcement,
    BusStatus,
    Commit,
    Fenced,
    Gap,
    Live,
    Message,
    Outcome,
    writer_lease,
)
from wall.bus.connect import Link, client, until_up
from wall.models import id_key

log = logging.getLogger(__name__)

SEEN_TTL = 7 * 24 * 3600  # dedupe digests outlive any source's replay window
# A backstop only: the writer trims what it committed. Reached only when no writer ran for a long while.
INBOX_MAXLEN = 100_000
CHUNK = 500  # stream entries per catch-up read
HEARTBEAT = 5.0  # seconds of pub/sub silence before a PING; no answer in as long again means the link is dead
COMMAND_TIMEOUT = 10.0  # seconds for one command, connecting included
# Errors that mean "Redis is unreachable": the subscriber reconnects, status() says disconnected.
LINK_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)

# KEYS: stream, epoch key. ARGV: maxlen, body, epoch candidate, channel.
PUBLISH = """
local epoch = redis.call('SET', KEYS[2], ARGV[3], 'NX', 'GET') or ARGV[3]
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'b', ARGV[2])
redis.call('PUBLISH', ARGV[4], id .. '\\n' .. epoch .. '\\n' .. ARGV[2])
return id
"""

# KEYS: stream, epoch key. ARGV: exclusive start ("(id"), end, count (0: all).
# Returns {epoch or '', length, entries-added, first id or '', entries}, read in one atomic step.
RANGE = """
local epoch = redis.call('GET', KEYS[2]) or ''
if redis.call('EXISTS', KEYS[1]) == 0 then return {epoch, 0, 0, '', {}} end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local length, added, first = 0, 0, ''
for i = 1, #info, 2 do
  local k = info[i]
  if k == 'length' then length = info[i + 1]
  elseif k == 'entries-added' then added = info[i + 1]
  elseif k == 'first-entry' and info[i + 1] then first = info[i + 1][1] end
end
local entries
if tonumber(ARGV[3]) > 0 then
  entries = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[2], 'COUNT', ARGV[3])
else
  entries = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[2])
end
return {epoch, length, added, first, entries}
"""

# KEYS: lease key, fence key. ARGV: owner, ttl in ms. Returns the fencing token, or 0 when not held.
LEASE = """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
if not holder then redis.call('INCR', KEYS[2]) end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return tonumber(redis.call('GET', KEYS[2]))
"""

# KEYS: seen key, inbox. ARGV: digest, ttl s, body, inbox maxlen. The dedupe decision and the write it
# guards in one step: a sender is never told "duplicate" for a post that was not written.
ADMIT = """
local before = redis.call('GET', KEYS[1])
if before == ARGV[1] then return {'duplicate', ''} end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'b', ARGV[3])
if before then return {'updated', id} end
return {'new', id}
"""

# KEYS: lease (declared, not read), fence, events, epoch, position, inbox, shown, bucket, total, recent
# hash, recent index, latest control, known authors.
# ARGV: (unused), token, inbox id, now (s), maxlen, epoch candidate, channel, bucket ttl, queue channel,
# recent kept, now (s, float), record key prefix, bucket key prefix, then counted lists: events, shown ids,
# unshown ids, counted posts (each: post id, then its (counter, amount) pairs as a counted list), uncounted
# post ids, (post id, recent body) pairs, queue messages, authors; then the control flag.
# A post's record (a hash: counter -> amount, '' -> minute) and a retracted post's bucket are named from the
# prefixes inside the script, since which bucket only the record says: one Redis, not a cluster.
COMMIT = """
-- Only the fence decides: it grows whenever the lease changes hands or lapses, so a writer that
-- stalled past its lease is refused as soon as anyone else took the wall.
if redis.call('GET', KEYS[2]) ~= ARGV[2] then
  return redis.error_reply('FENCED the writer lease moved to another process')
end
local epoch = redis.call('SET', KEYS[4], ARGV[6], 'NX', 'GET') or ARGV[6]
local function take_back(record)
  local rec = redis.call('HGETALL', record)
  if #rec == 0 then return end
  local minute = ''
  for k = 1, #rec, 2 do if rec[k] == '' then minute = rec[k + 1] end end
  local bucket = ARGV[13] .. minute
  local kept = redis.call('EXISTS', bucket) == 1
  for k = 1, #rec, 2 do
    local name, by = rec[k], tonumber(rec[k + 1])
    if name ~= '' then
      if name == 'posts' then redis.call('INCRBY', KEYS[9], -by) end
      if kept and redis.call('HINCRBY', bucket, name, -by) <= 0 then redis.call('HDEL', bucket, name) end
    end
  end
  redis.call('DEL', record)
end
local i = 14
local n = tonumber(ARGV[i])
local ids = {}
local last_body = nil
for j = 1, n do
  local body = ARGV[i + j]
  local id = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', 'b', body)
  redis.call('PUBLISH', ARGV[7], id .. '\\n' .. epoch .. '\\n' .. body)
  ids[#ids + 1] = id
  last_body = body
end
i = i + n + 1
n = tonumber(ARGV[i])
for j = 1, n do redis.call('ZADD', KEYS[7], ARGV[4], ARGV[i + j]) end
i = i + n + 1
n = tonumber(ARGV[i])
for j = 1, n do redis.call('ZREM', KEYS[7], ARGV[i + j]) end
i = i + n + 1
-- The counted posts are read after the uncounted ones are taken back (a post can be both).
local counted, posts = i + 1, tonumber(ARGV[i])
i = i + 1
for _ = 1, posts do i = i + 2 + 2 * tonumber(ARGV[i + 1]) end
n = tonumber(ARGV[i])
for j = 1, n do take_back(ARGV[12] .. ARGV[i + j]) end
i = i + n + 1
local k = counted
for _ = 1, posts do
  local key, m = ARGV[12] .. ARGV[k], tonumber(ARGV[k + 1])
  local record = {}
  for j = 1, m do
    local name, by = ARGV[k + 2 * j], tonumber(ARGV[k + 2 * j + 1])
    redis.call('HINCRBY', KEYS[8], name, by)
    if name == 'posts' then redis.call('INCRBY', KEYS[9], by) end
    record[#record + 1] = name
    record[#record + 1] = by
  end
  redis.call('DEL', key)
  redis.call('HSET', key, '', string.sub(KEYS[8], #ARGV[13] + 1), unpack(record))
  redis.call('EXPIRE', key, ARGV[8])
  k = k + 2 + 2 * m
end
if posts > 0 then redis.call('EXPIRE', KEYS[8], ARGV[8]) end
n = tonumber(ARGV[i])
for j = 1, n do
  local pid, body = ARGV[i + 2 * j - 1], ARGV[i + 2 * j]
  redis.call('HSET', KEYS[10], pid, body)
  -- NX: a post keeps its place (first arrival) when it is decided or edited again
  redis.call('ZADD', KEYS[11], 'NX', tonumber(ARGV[11]) + j / 1e6, pid)
end
if n > 0 then
  local over = redis.call('ZCARD', KEYS[11]) - tonumber(ARGV[10])
  if over > 0 then
    for _, old in ipairs(redis.call('ZRANGE', KEYS[11], 0, over - 1)) do redis.call('HDEL', KEYS[10], old) end
    redis.call('ZREMRANGEBYRANK', KEYS[11], 0, over - 1)
  end
end
i = i + 2 * n + 1
n = tonumber(ARGV[i])
local queue = {}
for j = 1, n do queue[j] = ARGV[i + j] end
i = i + n + 1
n = tonumber(ARGV[i])
for j = 1, n do redis.call('SADD', KEYS[13], ARGV[i + j]) end
i = i + n + 1
if ARGV[i] == '1' and last_body then
  redis.call('SET', KEYS[12], '{"id":"' .. ids[#ids] .. '",' .. string.sub(last_body, 2))
end
redis.call('SET', KEYS[5], ARGV[3])
redis.call('XTRIM', KEYS[6], 'MINID', '~', ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[7], '-inf', tonumber(ARGV[4]) - 604800)
for _, message in ipairs(queue) do redis.call('PUBLISH', ARGV[9], message) end
return ids
"""

# KEYS: latest key. ARGV: body, channel. An empty id marks an announcement on the live channel.
ANNOUNCE = """
redis.call('SET', KEYS[1], ARGV[1])
redis.call('PUBLISH', ARGV[2], '\\n\\n' .. ARGV[1])
"""


class Keys:
    """Every Redis key and channel the engine uses, built in one place."""

    CURSORS = "wall:cursors"
    HEALTH = "wall:health"
    SECRETS = "wall:secrets"

    @staticmethod
    def events(wall: str) -> str:
        return f"wall:{wall}:events"

    @staticmethod
    def live(wall: str) -> str:
        return f"wall:{wall}:live"

    @staticmethod
    def epoch(wall: str) -> str:
        return f"wall:{wall}:epoch"

    @staticmethod
    def seen(wall: str, post_id: str) -> str:
        return f"wall:{wall}:seen:{post_id}"

    @staticmethod
    def lease(name: str) -> str:
        return f"wall:lease:{name}"

    @staticmethod
    def fence(name: str) -> str:
        return f"wall:fence:{name}"

    @staticmethod
    def inbox(wall: str) -> str:
        return f"wall:{wall}:inbox"

    @staticmethod
    def position(wall: str) -> str:
        return f"wall:{wall}:position"

    @staticmethod
    def shown(wall: str) -> str:
        return f"wall:{wall}:shown"

    @staticmethod
    def bucket(wall: str, minute: int | str) -> str:
        return f"wall:{wall}:stats:{minute}"

    @staticmethod
    def counted(wall: str, post_id: str) -> str:
        """What a post added to the stats, to take it back when it is retracted."""
        return f"wall:{wall}:counted:{post_id}"

    @staticmethod
    def total(wall: str) -> str:
        return f"wall:{wall}:stats:total"

    @staticmethod
    def announced(wall: str) -> str:
        return f"wall:{wall}:announced"

    @staticmethod
    def recent(wall: str) -> str:
        return f"wall:{wall}:recent"

    @staticmethod
    def recent_index(wall: str) -> str:
        return f"wall:{wall}:recent:index"

    @staticmethod
    def control(wall: str) -> str:
        return f"wall:{wall}:control"

    @staticmethod
    def authors(wall: str) -> str:
        return f"wall:{wall}:authors"

    @staticmethod
    def queue(wall: str) -> str:
        return f"wall:{wall}:queue"


def describe(error: BaseException) -> str:
    """The error as status() and the logs show it: redis-py's own words, without the context we add."""
    said = getattr(error, "bus_said", None)
    if said is not None:
        return str(said)
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _decode(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _messages(entries: list[Any]) -> list[Message]:
    return [Message(_decode(eid), fields[b"b"]) for eid, fields in entries]


def _entries(raw: list[Any]) -> list[Message]:
    """Entries as a script returns them: [id, [field, value, ...]]."""
    out = []
    for eid, fields in raw:
        body = dict(zip(fields[::2], fields[1::2], strict=True))[b"b"]
        out.append(Message(_decode(eid), body))
    return out


class TooOld(Exception):
    """The stream no longer reaches back to the id: events after it were trimmed."""


class RedisEngine:
    engine = "redis"

    def __init__(self, url: str, stream_maxlen: int = 10_000, link: Link | None = None) -> None:
        self.url = url
        self.link = link or Link(url)  # the URL, or the sentinels that name the primary (connect.py)
        self._safe_url = self.link.name()
        self._maxlen = stream_maxlen
        self._redis: Redis | None = None
        self._scripts: dict[str, Any] = {}
        self._status = BusStatus(self.engine, False, None)
        self._pubsubs: set[PubSub] = set()
        self._closed = False
        self.heartbeat = HEARTBEAT

    # -- connection and status --------------------------------------------------------------------

    def _client(self) -> Redis:
        if self._closed:
            raise RuntimeError(f"the Redis bus at {self._safe_url} is closed")
        if self._redis is None:
            self._redis = client(self.link)  # no retries inside redis-py: see connect.py
            self._scripts = {name: self._redis.register_script(src)
                             for name, src in (("publish", PUBLISH), ("range", RANGE), ("lease", LEASE),
                                               ("admit", ADMIT), ("commit", COMMIT), ("announce", ANNOUNCE))}
        return self._redis

    def _up(self) -> None:
        if not self._status.connected:
            self._status = BusStatus(self.engine, True, None)

    def _down(self, error: BaseException) -> None:
        self._status = BusStatus(self.engine, False, describe(error))

    async def _call(self, op: Callable[[Redis], Awaitable[Any]]) -> Any:
        """Run one command, keeping status() up to date; errors propagate to the caller. redis-py's
        replies are loosely typed (bytes, str, lists of either): callers decode what they expect."""
        try:
            async with asyncio.timeout(COMMAND_TIMEOUT):
                result = await op(self._client())
        except TimeoutError as e:  # ours, from asyncio.timeout
            said = f"TimeoutError: no answer within {COMMAND_TIMEOUT:g} s"
            error = RedisTimeoutError(f"Redis at {self._safe_url} is unreachable: {said}")
            error.bus_said = said  # type: ignore[attr-defined]
            self._down(error)
            raise error from e
        except LINK_ERRORS as e:
            self._down(e)
            # redis-py's message may not say which server ("Connection closed by server."): add it.
            said = describe(e)
            lost: Exception = type(e)(f"Redis at {self._safe_url} is unreachable: {said}")
            lost.bus_said = said  # type: ignore[attr-defined]
            raise lost from e
        self._up()
        return result

    def status(self) -> BusStatus:
        return self._status

    async def close(self) -> None:
        self._closed = True
        for pubsub in list(self._pubsubs):
            await pubsub.aclose()  # type: ignore[no-untyped-call]
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None
        self._status = BusStatus(self.engine, False, "closed")

    # -- bus ----------------------------------------------------------------------------------------

    async def epoch(self, wall: str) -> str:
        token = secrets.token_hex(8)
        before = await self._call(lambda r: r.set(Keys.epoch(wall), token, nx=True, get=True))
        return token if before is None else _decode(before)

    async def publish(self, wall: str, body: bytes) -> str:
        args = [self._maxlen, body, secrets.token_hex(8), Keys.live(wall)]
        event_id = await self._call(
            lambda r: self._scripts["publish"](keys=[Keys.events(wall), Keys.epoch(wall)], args=args))
        return _decode(event_id)

    async def _range(self, wall: str, after: str, upto: str | None,
                     count: int = 0) -> tuple[str, list[Message]]:
        """The epoch and the events after `after`; raises TooOld when the stream was trimmed past it."""
        id_key(after)  # a malformed id is the caller's mistake, not Redis's
        args = [f"({after}", upto or "+", count]
        epoch, length, added, first, raw = await self._call(
            lambda r: self._scripts["range"](keys=[Keys.events(wall), Keys.epoch(wall)], args=args))
        if added > length and first and id_key(_decode(first)) > id_key(after):
            raise TooOld(after)
        return _decode(epoch), _entries(raw)

    async def read_after(self, wall: str, after: str, upto: str | None = None) -> list[Message] | None:
        try:
            return (await self._range(wall, after, upto))[1]
        except TooOld:
            return None

    async def latest(self, wall: str, count: int) -> list[Message]:
        if count <= 0:
            return []
        entries = await self._call(lambda r: r.xrevrange(Keys.events(wall), count=count))
        return _messages(entries)[::-1]

    async def _newest_id(self, wall: str) -> str:
        entries = await self._call(lambda r: r.xrevrange(Keys.events(wall), count=1))
        return _decode(entries[0][0]) if entries else "0-0"

    async def subscribe(self, wall: str,
                        after: str | None) -> AsyncIterator[Message | Gap | Announcement | Live]:
        """Every event after `after` (None: from now on), once and in order, across reconnects."""
        last = after
        epoch: str | None = None
        attempt = 0
        while True:
            pubsub: PubSub | None = None
            try:
                if last is None:  # "from now on": everything after the newest event when we began
                    last = await self._newest_id(wall)
                pubsub = await self._subscribed(Keys.live(wall))
                current = await self.epoch(wall)
                gap = epoch is not None and current != epoch
                epoch = current
                if attempt:
                    log.info("redis bus %s: wall %s: connected again", self._safe_url, wall)
                attempt = 0
                # Catch up from the stream; pub/sub holds everything published since we subscribed.
                while not gap:
                    try:
                        chunk_epoch, chunk = await self._range(wall, last, None, CHUNK)
                    except TooOld:
                        gap = True
                        break
                    if chunk_epoch != epoch:
                        gap = True
                        break
                    for msg in chunk:
                        last = msg.id
                        yield msg
                    if len(chunk) < CHUNK:
                        break
                yield Live(True)
                while True:
                    if gap:
                        # History cannot fill the hole: the consumer rebuilds from latest(); go on from here.
                        last = await self._newest_id(wall)
                        epoch = await self.epoch(wall)
                        gap = False
                        yield Gap(epoch)
                    parts = (await self._next(pubsub)).split(b"\n", 2)
                    if len(parts) != 3:
                        log.debug("redis bus %s: wall %s: ignored a stray message", self._safe_url, wall)
                        continue
                    msg_id, msg_epoch, body = parts[0].decode(), parts[1].decode(), parts[2]
                    if not msg_id:
                        yield Announcement(body)
                    elif msg_epoch != epoch:  # Redis lost its data (flushed, or came back empty)
                        gap = True
                    elif id_key(msg_id) > id_key(last):
                        last = msg_id
                        yield Message(msg_id, body)
            except Exception as e:
                if self._closed:
                    return  # close() pulled the connection from under us: that is the end, not an outage
                if not isinstance(e, LINK_ERRORS):
                    raise
                self._down(e)
                yield Live(False)
                if attempt == 0:
                    log.warning("redis bus %s: wall %s: lost the connection (%s); reconnecting",
                                self._safe_url, wall, describe(e))
                else:
                    log.debug("redis bus %s: wall %s: still no connection (%s)",
                              self._safe_url, wall, describe(e))
            finally:
                if pubsub is not None:
                    self._pubsubs.discard(pubsub)
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            if self._closed:
                return
            await until_up(self._client, attempt, lambda: self._closed)
            attempt += 1

    async def _subscribed(self, channel: str) -> PubSub:
        """A pub/sub connection whose SUBSCRIBE Redis has confirmed: from then on nothing is missed."""
        pubsub = self._client().pubsub()
        self._pubsubs.add(pubsub)
        try:
            async with asyncio.timeout(self.heartbeat * 2):
                await pubsub.subscribe(channel)
                while True:
                    reply = await pubsub.get_message(timeout=self.heartbeat)
                    if reply is not None and reply["type"] == "subscribe":
                        break
        except BaseException as e:
            self._pubsubs.discard(pubsub)
            await pubsub.aclose()  # type: ignore[no-untyped-call]
            if isinstance(e, TimeoutError):
                raise RedisTimeoutError(
                    f"Redis did not take the subscription within {self.heartbeat * 2:g} s") from e
            raise
        self._up()
        return pubsub

    async def _next(self, pubsub: PubSub) -> bytes:
        """The next published payload; PINGs a quiet connection and raises if it stays silent."""
        pinged_at: float | None = None
        while True:
            reply = await pubsub.get_message(timeout=self.heartbeat)
            if reply is None:
                if pinged_at is not None and time.monotonic() - pinged_at >= self.heartbeat:
                    raise RedisTimeoutError(f"Redis did not answer a PING within {self.heartbeat:g} s")
                if pinged_at is None:
                    async with asyncio.timeout(self.heartbeat):
                        await pubsub.ping()
                    pinged_at = time.monotonic()
                continue
            pinged_at = None
            if reply["type"] == "message":
                return bytes(reply["data"])
            if reply["type"] == "subscribe":
                # redis-py re-subscribed behind our back: events may have been missed meanwhile.
                raise RedisConnectionError("the pub/sub connection was re-established")

    # -- store --------------------------------------------------------------------------------------

    async def announce(self, wall: str, body: bytes) -> None:
        await self._call(lambda r: self._scripts["announce"](keys=[Keys.announced(wall)],
                                                              args=[body, Keys.live(wall)]))

    async def announced(self, wall: str) -> bytes | None:
        value = await self._call(lambda r: r.get(Keys.announced(wall)))
        return None if value is None else bytes(value)

    # -- inbox --------------------------------------------------------------------------------------

    async def admit(self, wall: str, post_id: str, digest: str, body: bytes) -> tuple[Outcome, str | None]:
        seen = Keys.seen(wall, post_id)
        outcome, inbox_id = await self._call(lambda r: durable.admit(
            r, self._scripts["admit"], [seen, Keys.inbox(wall)], [digest, SEEN_TTL, body, INBOX_MAXLEN],
            seen, SEEN_TTL, self.link))
        said = _decode(outcome)
        if said == "duplicate":
            return "duplicate", None
        return ("new" if said == "new" else "updated"), _decode(inbox_id)

    async def enqueue(self, wall: str, body: bytes) -> str:
        inbox_id = await self._call(
            lambda r: r.xadd(Keys.inbox(wall), {"b": body}, maxlen=INBOX_MAXLEN, approximate=True))
        return _decode(inbox_id)

    async def read_inbox(self, wall: str, after: str, count: int, timeout: float) -> list[Message]:
        block = max(1, int(timeout * 1000))
        try:
            async with asyncio.timeout(timeout + COMMAND_TIMEOUT):
                reply: Any = await self._client().xread({Keys.inbox(wall): after}, count=count, block=block)
        except TimeoutError as e:
            raise RedisTimeoutError(f"Redis at {self._safe_url} did not answer XREAD") from e
        except LINK_ERRORS as e:
            self._down(e)
            raise
        self._up()
        return _messages(reply[0][1]) if reply else []

    async def inbox_backlog(self, wall: str) -> int:
        after = await self.position(wall)
        entries = await self._call(lambda r: r.xrange(Keys.inbox(wall), f"({after}", "+", count=10_000))
        return len(entries)

    async def position(self, wall: str) -> str:
        value = await self._call(lambda r: r.get(Keys.position(wall)))
        return "0-0" if value is None else _decode(value)

    async def commit(self, wall: str, token: int, commit: Commit) -> list[str]:
        now = time.time()
        args: list[Any] = ["", token, commit.inbox_id, int(now), self._maxlen,
                           secrets.token_hex(8), Keys.live(wall), BUCKETS_KEPT * 60, Keys.queue(wall),
                           RECENT_KEPT, repr(now), Keys.counted(wall, ""), Keys.bucket(wall, "")]
        for items in (commit.events, commit.shown, commit.unshown):
            args += [len(items), *items]
        args.append(len(commit.counts))
        for post_id, counters in commit.counts:
            args += [post_id, len(counters)]
            for name, n in counters:
                args += [name, n]
        args += [len(commit.uncounted), *commit.uncounted, len(commit.recent)]
        for pid, body in commit.recent:
            args += [pid, body]
        for items in (commit.queue, commit.authors):
            args += [len(items), *items]
        args.append("1" if commit.control else "0")
        keys = [Keys.lease(writer_lease(wall)), Keys.fence(writer_lease(wall)), Keys.events(wall),
                Keys.epoch(wall), Keys.position(wall), Keys.inbox(wall), Keys.shown(wall),
                Keys.bucket(wall, commit.minute), Keys.total(wall), Keys.recent(wall),
                Keys.recent_index(wall), Keys.control(wall), Keys.authors(wall)]
        try:
            ids = await self._call(lambda r: self._scripts["commit"](keys=keys, args=args))
        except ResponseError as e:
            if str(e).startswith("FENCED"):
                raise Fenced(f"wall {wall}: {e}") from None
            raise
        return [_decode(i) for i in ids]

    async def shown(self, wall: str, post_ids: list[str]) -> set[str]:
        if not post_ids:
            return set()
        scores = await self._call(lambda r: r.zmscore(Keys.shown(wall), post_ids))
        return {pid for pid, score in zip(post_ids, scores, strict=True) if score is not None}

    async def counts(self, wall: str, minutes: list[int]) -> dict[int, dict[str, int]]:
        async def read(r: Redis) -> list[Any]:
            pipe = r.pipeline(transaction=False)
            for m in minutes:
                pipe.hgetall(Keys.bucket(wall, m))
            found: list[Any] = await pipe.execute()
            return found

        found = await self._call(read)
        return {m: {_decode(k): int(v) for k, v in h.items()}
                for m, h in zip(minutes, found, strict=True) if h}

    async def total(self, wall: str) -> int:
        value = await self._call(lambda r: r.get(Keys.total(wall)))
        return 0 if value is None else int(value)

    async def recent(self, wall: str, count: int) -> list[bytes]:
        async def read(r: Redis) -> list[Any]:
            ids: list[Any] = await r.zrevrange(Keys.recent_index(wall), 0, count - 1)
            found: list[Any] = await r.hmget(Keys.recent(wall), ids) if ids else []
            return found

        return [bytes(b) for b in await self._call(read) if b is not None]

    async def recent_of(self, wall: str, post_ids: list[str]) -> dict[str, bytes]:
        if not post_ids:
            return {}
        found = await self._call(lambda r: r.hmget(Keys.recent(wall), post_ids))
        return {pid: bytes(b) for pid, b in zip(post_ids, found, strict=True) if b is not None}

    async def subscribe_queue(self, wall: str) -> AsyncIterator[bytes | None]:
        attempt = 0
        while not self._closed:
            pubsub: PubSub | None = None
            try:
                pubsub = await self._subscribed(Keys.queue(wall))
                if attempt:
                    yield None  # messages may have been missed while the link was down
                attempt = 0
                while True:
                    yield await self._next(pubsub)
            except Exception as e:
                if self._closed:
                    return
                if not isinstance(e, LINK_ERRORS):
                    raise
                self._down(e)
            finally:
                if pubsub is not None:
                    self._pubsubs.discard(pubsub)
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            await until_up(self._client, attempt, lambda: self._closed)
            attempt += 1

    async def latest_control(self, wall: str) -> bytes | None:
        value = await self._call(lambda r: r.get(Keys.control(wall)))
        return None if value is None else bytes(value)

    async def known_authors(self, wall: str, authors: list[str]) -> set[str]:
        if not authors:
            return set()
        found = await self._call(lambda r: r.smismember(Keys.authors(wall), authors))
        return {a for a, yes in zip(authors, found, strict=True) if yes}

    # -- store --------------------------------------------------------------------------------------

    async def get_cursor(self, key: str) -> str | None:
        value = await self._call(lambda r: r.hget(Keys.CURSORS, key))
        return None if value is None else _decode(value)

    async def set_cursor(self, key: str, value: str) -> None:
        await self._call(lambda r: r.hset(Keys.CURSORS, key, value))

    async def lease(self, name: str, owner: str, ttl: float) -> int | None:
        token = await self._call(lambda r: self._scripts["lease"](
            keys=[Keys.lease(name), Keys.fence(name)], args=[owner, max(1, int(ttl * 1000))]))
        return int(token) or None

    async def holder(self, name: str) -> str | None:
        value = await self._call(lambda r: r.get(Keys.lease(name)))
        return None if value is None else _decode(value)

    async def shared_secret(self, name: str) -> str:
        candidate = secrets.token_urlsafe(32)
        await self._call(lambda r: r.hsetnx(Keys.SECRETS, name, candidate))  # the first one wins
        return _decode(await self._call(lambda r: r.hget(Keys.SECRETS, name)))

    async def put_health(self, key: str, record: bytes) -> None:
        await self._call(lambda r: r.hset(Keys.HEALTH, key, record))

    async def health_records(self) -> dict[str, bytes]:
        found = await self._call(lambda r: r.hgetall(Keys.HEALTH))
        return {_decode(k): bytes(v) for k, v in found.items()}
