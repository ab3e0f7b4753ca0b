"""In-process engine for `wall demo` and single-box installs: history in a bounded deque per wall."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator

from wall.bus.base import BusStatus, Gap, Message
from wall.models import id_key


class _Channel:
    def __init__(self, maxlen: int) -> None:
        self.history: deque[Message] = deque(maxlen=maxlen)
        self.subscribers: set[asyncio.Queue[Message]] = set()
        self.last = (0, 0)


class MemoryEngine:
    engine = "memory"

    def __init__(self, stream_maxlen: int = 10_000, remember_max: int = 100_000) -> None:
        self._maxlen = stream_maxlen
        self._epoch = secrets.token_hex(8)
        self._channels: dict[str, _Channel] = {}
        self._digests: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._remember_max = remember_max
        self._cursors: dict[str, str] = {}

    def _channel(self, wall: str) -> _Channel:
        ch = self._channels.get(wall)
        if ch is None:
            ch = self._channels[wall] = _Channel(self._maxlen)
        return ch

    async def epoch(self, wall: str) -> str:
        return self._epoch

    async def publish(self, wall: str, body: bytes) -> str:
        ch = self._channel(wall)
        ms = int(time.time() * 1000)
        last_ms, last_seq = ch.last
        ch.last = (ms, 0) if ms > last_ms else (last_ms, last_seq + 1)
        msg = Message(f"{ch.last[0]}-{ch.last[1]}", body)
        ch.history.append(msg)
        for q in ch.subscribers:
            q.put_nowait(msg)
        return msg.id

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

    async def subscribe(self, wall: str, after: str | None) -> AsyncIterator[Message | Gap]:
        ch = self._channel(wall)
        queue: asyncio.Queue[Message] = asyncio.Queue()
        ch.subscribers.add(queue)  # before reading history, so nothing falls between the two
        try:
            backlog = self._after(ch, after)
            if backlog is None:
                yield Gap(self._epoch)
                backlog = []
            last = id_key(backlog[-1].id) if backlog else (id_key(after) if after else (0, 0))
            for msg in backlog:
                yield msg
            while True:
                msg = await queue.get()
                if id_key(msg.id) > last:
                    last = id_key(msg.id)
                    yield msg
        finally:
            ch.subscribers.discard(queue)

    def status(self) -> BusStatus:
        return BusStatus(self.engine, True)

    async def remember(self, wall: str, post_id: str, digest: str) -> str | None:
        key = (wall, post_id)
        before = self._digests.pop(key, None)
        self._digests[key] = digest
        if len(self._digests) > self._remember_max:
            self._digests.popitem(last=False)
        return before

    async def get_cursor(self, key: str) -> str | None:
        return self._cursors.get(key)

    async def set_cursor(self, key: str, value: str) -> None:
        self._cursors[key] = value

    async def lease(self, name: str, owner: str, ttl: float) -> bool:
        return True  # one process: it always holds every lease

    async def close(self) -> None:
        self._channels.clear()
