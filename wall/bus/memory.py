"""In-process engine for `wall demo` and single-box installs: history in a bounded deque per wall."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections import Counter, OrderedDict, deque
from collections.abc import AsyncIterator

from wall.bus.base import (
    BUCKETS_KEPT,
    RECENT_KEPT,
    Announcement,
    BusStatus,
    Commit,
    Gap,
    Live,
    Message,
    Outcome,
)
from wall.models import frame, id_key


class _Channel:
    def __init__(self, maxlen: int) -> None:
        self.history: deque[Message] = deque(maxlen=maxlen)
        self.subscribers: set[asyncio.Queue[Message | Announcement]] = set()
        self.last = (0, 0)
        self.announced: bytes | None = None


def _next_id(last: tuple[int, int]) -> tuple[int, int]:
    ms = int(time.time() * 1000)
    return (ms, 0) if ms > last[0] else (last[0], last[1] + 1)


class _Inbox:
    """A wall's inbox and what its writer committed. Entries stay until committed (none is dropped)."""

    def __init__(self) -> None:
        self.entries: deque[Message] = deque()
        self.last = (0, 0)
        self.position = "0-0"
        self.arrived = asyncio.Event()
        self.shown: set[str] = set()
        self.buckets: dict[int, Counter[str]] = {}
        self.total = 0
        self.recent: OrderedDict[str, bytes] = OrderedDict()  # oldest first, by first arrival
        self.control: bytes | None = None
        self.authors: set[str] = set()
        self.queue_subscribers: set[asyncio.Queue[bytes | None]] = set()
        self.counted: OrderedDict[str, tuple[int, tuple[tuple[str, int], ...]]] = OrderedDict()


class MemoryEngine:
    engine = "memory"

    def __init__(self, stream_maxlen: int = 10_000, remember_max: int = 100_000) -> None:
        self._maxlen = stream_maxlen
        self._epoch = secrets.token_hex(8)
        self._channels: dict[str, _Channel] = {}
        self._digests: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._remember_max = remember_max
        self._cursors: dict[str, str] = {}
        self._inboxes: dict[str, _Inbox] = {}
        self._health: dict[str, bytes] = {}
        self._secrets: dict[str, str] = {}

    def _channel(self, wall: str) -> _Channel:
        ch = self._channels.get(wall)
        if ch is None:
            ch = self._channels[wall] = _Channel(self._maxlen)
        return ch

    async def epoch(self, wall: str) -> str:
        return self._epoch

    async def publish(self, wall: str, body: bytes) -> str:
        ch = self._channel(wall)
        ch.last = _next_id(ch.last)
        msg = Message(f"{ch.last[0]}-{ch.last[1]}", body)
        ch.history.append(msg)
        for q in ch.subscribers:
            q.put_nowait(msg)
        return msg.id

    async def announce(self, wall: str, body: bytes) -> None:
        ch = self._channel(wall)
        ch.announced = body
        for q in ch.subscribers:
            q.put_nowait(Announcement(body))

    async def announced(self, wall: str) -> bytes | None:
        return self._channel(wall).announced

    def _after(self, ch: _Channel, after: str | None) -> list[Message] | None:
        if after is None:
            return []
        key = id_key(after)
        if ch.history and id_key(ch.history[0].id) > key and len(ch.history) == ch.history.maxlen:
            return None  # trimmed past the id
        return [m for m in ch.history if id_key(m.id) > key]

    async def read_after(self, wall: str, after: str, upto: str | None = None) -> list[Message] | None:
        found = self._after(self._channel(wall), after)
        if found is None or upto is None:
            return found
        limit = id_key(upto)
        return [m for m in found if id_key(m.id) <= limit]

    async def latest(self, wall: str, count: int) -> list[Message]:
        history = self._channel(wall).history
        return list(history)[-count:] if count else []

    async def subscribe(self, wall: str,
                        after: str | None) -> AsyncIterator[Message | Gap | Announcement | Live]:
        ch = self._channel(wall)
        queue: asyncio.Queue[Message | Announcement] = asyncio.Queue()
        ch.subscribers.add(queue)  # before reading history, so nothing falls between the two
        try:
            backlog = self._after(ch, after)
            if backlog is None:
                yield Gap(self._epoch)
                backlog = []
            last = id_key(backlog[-1].id) if backlog else (id_key(after) if after else (0, 0))
            for msg in backlog:
                yield msg
            yield Live(True)  # in-process: live from here on, never down
            while True:
                item = await queue.get()
                if isinstance(item, Announcement):
                    yield item
                elif id_key(item.id) > last:
                    last = id_key(item.id)
                    yield item
        finally:
            ch.subscribers.discard(queue)

    def status(self) -> BusStatus:
        return BusStatus(self.engine, True)

    # -- inbox ------------------------------------------------------------------------------------

    def _inbox(self, wall: str) -> _Inbox:
        box = self._inboxes.get(wall)
        if box is None:
            box = self._inboxes[wall] = _Inbox()
        return box

    async def admit(self, wall: str, post_id: str, digest: str, body: bytes) -> tuple[Outcome, str | None]:
        key = (wall, post_id)
        before = self._digests.get(key)
        if before == digest:
            return "duplicate", None
        self._digests.pop(key, None)
        self._digests[key] = digest
        if len(self._digests) > self._remember_max:
            self._digests.popitem(last=False)
        return ("new" if before is None else "updated"), await self.enqueue(wall, body)

    async def enqueue(self, wall: str, body: bytes) -> str:
        box = self._inbox(wall)
        box.last = _next_id(box.last)
        msg = Message(f"{box.last[0]}-{box.last[1]}", body)
        box.entries.append(msg)
        box.arrived.set()
        return msg.id

    async def read_inbox(self, wall: str, after: str, count: int, timeout: float) -> list[Message]:
        box, key = self._inbox(wall), id_key(after)
        found = [m for m in box.entries if id_key(m.id) > key][:count]
        if not found:
            box.arrived.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await box.arrived.wait()
            found = [m for m in box.entries if id_key(m.id) > key][:count]
        return found

    async def inbox_backlog(self, wall: str) -> int:
        box = self._inbox(wall)
        return sum(1 for m in box.entries if id_key(m.id) > id_key(box.position))

    async def position(self, wall: str) -> str:
        return self._inbox(wall).position

    async def commit(self, wall: str, token: int, commit: Commit) -> list[str]:
        box = self._inbox(wall)
        ids = [await self.publish(wall, body) for body in commit.events]
        box.position = commit.inbox_id
        done = id_key(commit.inbox_id)
        while box.entries and id_key(box.entries[0].id) <= done:
            box.entries.popleft()  # committed: the display stream has it now
        box.shown.update(commit.shown)
        box.shown.difference_update(commit.unshown)
        for post_id in commit.uncounted:
            minute, counts = box.counted.pop(post_id, (0, ()))
            self._add(box, minute, counts, -1)
        for post_id, counters in commit.counts:
            self._add(box, commit.minute, counters, 1)
            box.counted.pop(post_id, None)
            box.counted[post_id] = (commit.minute, counters)
        if commit.counts:
            for old in [m for m in box.buckets if m < commit.minute - BUCKETS_KEPT]:
                del box.buckets[old]
            while box.counted and next(iter(box.counted.values()))[0] < commit.minute - BUCKETS_KEPT:
                box.counted.popitem(last=False)
        for pid, body in commit.recent:
            box.recent[pid] = body  # an existing key keeps its place: ordered by first arrival
        while len(box.recent) > RECENT_KEPT:
            box.recent.popitem(last=False)
        box.authors.update(commit.authors)
        if commit.control and ids:
            box.control = frame(ids[-1], commit.events[-1])
        for message in commit.queue:
            for q in box.queue_subscribers:
                q.put_nowait(message)
        return ids

    @staticmethod
    def _add(box: _Inbox, minute: int, counts: tuple[tuple[str, int], ...], sign: int) -> None:
        bucket = box.buckets.get(minute) if sign < 0 else box.buckets.setdefault(minute, Counter())
        for name, n in counts:
            if name == "posts":
                box.total += sign * n
            if bucket is not None:
                bucket[name] += sign * n
                if bucket[name] <= 0:
                    del bucket[name]
        if bucket is not None and not bucket:
            del box.buckets[minute]  # as a Redis hash goes with its last field

    async def shown(self, wall: str, post_ids: list[str]) -> set[str]:
        return self._inbox(wall).shown.intersection(post_ids)

    async def counts(self, wall: str, minutes: list[int]) -> dict[int, dict[str, int]]:
        buckets = self._inbox(wall).buckets
        return {m: dict(buckets[m]) for m in minutes if m in buckets}

    async def total(self, wall: str) -> int:
        return self._inbox(wall).total

    async def recent(self, wall: str, count: int) -> list[bytes]:
        return list(reversed(self._inbox(wall).recent.values()))[:count]

    async def recent_of(self, wall: str, post_ids: list[str]) -> dict[str, bytes]:
        recent = self._inbox(wall).recent
        return {pid: recent[pid] for pid in post_ids if pid in recent}

    async def subscribe_queue(self, wall: str) -> AsyncIterator[bytes | None]:
        box = self._inbox(wall)
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        box.queue_subscribers.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            box.queue_subscribers.discard(queue)

    async def latest_control(self, wall: str) -> bytes | None:
        return self._inbox(wall).control

    async def known_authors(self, wall: str, authors: list[str]) -> set[str]:
        return self._inbox(wall).authors.intersection(authors)

    # -- store --------------------------------------------------------------------------------------

    async def get_cursor(self, key: str) -> str | None:
        return self._cursors.get(key)

    async def set_cursor(self, key: str, value: str) -> None:
        self._cursors[key] = value

    async def lease(self, name: str, owner: str, ttl: float) -> int | None:
        return 1  # one process: it always holds every lease

    async def holder(self, name: str) -> str | None:
        return "this process"

    async def shared_secret(self, name: str) -> str:
        return self._secrets.setdefault(name, secrets.token_urlsafe(32))

    async def put_health(self, key: str, record: bytes) -> None:
        self._health[key] = record

    async def health_records(self) -> dict[str, bytes]:
        return dict(self._health)

    async def close(self) -> None:
        self._channels.clear()
