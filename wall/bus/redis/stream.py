"""The bus on Redis: each wall's history is a capped Redis Stream, announced live on a pub/sub channel.

One Lua script appends to the stream and publishes, so pub/sub order is stream order whatever the number of
publishers; a subscriber catches up from the stream and then follows pub/sub, dropping ids it already gave.
Each pub/sub message carries the epoch, so a subscriber notices at once when Redis lost its data.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio.client import PubSub

from wall.bus.base import Announcement, Gap, Live, Message
from wall.bus.redis.keys import Keys
from wall.bus.redis.link import LINK_ERRORS, Link, decode, describe
from wall.bus.redis.target import until_up
from wall.models import id_key

log = logging.getLogger(__name__)
CHUNK = 500  # stream entries per catch-up read


def messages(entries: list[Any]) -> list[Message]:
    """Entries as redis-py parses XRANGE/XREAD: (id, {field: value})."""
    return [Message(decode(eid), fields[b"b"]) for eid, fields in entries]


def script_entries(raw: list[Any]) -> list[Message]:
    """Entries as a script returns them: [id, [field, value, ...]]."""
    out = []
    for eid, fields in raw:
        body = dict(zip(fields[::2], fields[1::2], strict=True))[b"b"]
        out.append(Message(decode(eid), body))
    return out


class TooOld(Exception):
    """The stream no longer reaches back to the id: events after it were trimmed."""


class RedisBus:
    """The Bus contract (wall/bus/base.py) over one Link."""

    link: Link
    maxlen: int

    async def epoch(self, wall: str) -> str:
        token = secrets.token_hex(8)
        before = await self.link.call(lambda r: r.set(Keys.epoch(wall), token, nx=True, get=True))
        return token if before is None else decode(before)

    async def publish(self, wall: str, body: bytes) -> str:
        args = [self.maxlen, body, secrets.token_hex(8), Keys.live(wall)]
        return decode(await self.link.script("publish", [Keys.events(wall), Keys.epoch(wall)], args))

    async def _range(self, wall: str, after: str, upto: str | None,
                     count: int = 0) -> tuple[str, list[Message]]:
        """The epoch and the events after `after`; raises TooOld when the stream was trimmed past it."""
        id_key(after)  # a malformed id is the caller's mistake, not Redis's
        epoch, length, added, first, raw = await self.link.script(
            "range", [Keys.events(wall), Keys.epoch(wall)], [f"({after}", upto or "+", count])
        if added > length and first and id_key(decode(first)) > id_key(after):
            raise TooOld(after)
        return decode(epoch), script_entries(raw)

    async def read_after(self, wall: str, after: str, upto: str | None = None) -> list[Message] | None:
        try:
            return (await self._range(wall, after, upto))[1]
        except TooOld:
            return None

    async def latest(self, wall: str, count: int) -> list[Message]:
        if count <= 0:
            return []
        entries = await self.link.call(lambda r: r.xrevrange(Keys.events(wall), count=count))
        return messages(entries)[::-1]

    async def _newest_id(self, wall: str) -> str:
        entries = await self.link.call(lambda r: r.xrevrange(Keys.events(wall), count=1))
        return decode(entries[0][0]) if entries else "0-0"

    async def subscribe(self, wall: str,
                        after: str | None) -> AsyncIterator[Message | Gap | Announcement | Live]:
        """Every event after `after` (None: from now on), once and in order, across reconnects."""
        link = self.link
        last = after
        epoch: str | None = None
        attempt = 0
        while True:
            pubsub: PubSub | None = None
            try:
                if last is None:  # "from now on": everything after the newest event when we began
                    last = await self._newest_id(wall)
                pubsub = await link.subscribed(Keys.live(wall))
                current = await self.epoch(wall)
                gap = epoch is not None and current != epoch
                epoch = current
                if attempt:
                    log.info("redis bus %s: wall %s: connected again", link.safe_url, wall)
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
                    parts = (await link.next_message(pubsub)).split(b"\n", 2)
                    if len(parts) != 3:
                        log.debug("redis bus %s: wall %s: ignored a stray message", link.safe_url, wall)
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
                if link.closed:
                    return  # close() pulled the connection from under us: that is the end, not an outage
                if not isinstance(e, LINK_ERRORS):
                    raise
                link.down(e)
                yield Live(False)
                if attempt == 0:
                    log.warning("redis bus %s: wall %s: lost the connection (%s); reconnecting",
                                link.safe_url, wall, describe(e))
                else:
                    log.debug("redis bus %s: wall %s: still no connection (%s)",
                              link.safe_url, wall, describe(e))
            finally:
                if pubsub is not None:
                    await link.unsubscribe(pubsub)
            if link.closed:
                return
            await until_up(link.client, attempt, lambda: link.closed)
            attempt += 1

    async def announce(self, wall: str, body: bytes, kind: str = "stats") -> None:
        await self.link.script("announce", [Keys.announced(wall, kind)], [body, Keys.live(wall)])

    async def announced(self, wall: str, kind: str = "stats") -> bytes | None:
        value = await self.link.call(lambda r: r.get(Keys.announced(wall, kind)))
        return None if value is None else bytes(value)

    async def latest_control(self, wall: str) -> bytes | None:
        value = await self.link.call(lambda r: r.get(Keys.control(wall)))
        return None if value is None else bytes(value)
