"""One hub per wall per web node: follows the wall's events on the bus and fans them out to its screens.

Each event is decoded once (to keep the wall's state) and its frame built once; every client gets the
same bytes in a bounded queue. A client whose queue is full is dropped (its page reconnects and resumes),
so one slow screen never slows the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from dataclasses import dataclass

from aiohttp import WSCloseCode, WSMsgType, web

from wall.bus.base import Bus, Gap, Message, backoff
from wall.config import WallConfig
from wall.models import decode_event, encode, encode_event, frame, id_key
from wall.state import StatsCounter, WallState
from wall.web.metrics import Metrics

log = logging.getLogger("wall.web")
RING = 2000  # recent frames kept for resuming screens without asking the bus


class Client:
    """One connected screen: its socket and its bounded queue of frames."""

    def __init__(self, ws: web.WebSocketResponse, size: int) -> None:
        self.ws = ws
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(size)
        self.dropped = False

    async def pump(self) -> None:
        """Write queued frames until the socket closes; a write error closes it."""
        try:
            while True:
                data = await self.queue.get()
                await self.ws.send_frame(data, WSMsgType.TEXT)
        except (ConnectionError, RuntimeError) as e:
            log.debug("screen write failed: %s", e)
            await self.ws.close()


@dataclass(frozen=True)
class Catchup:
    """What a (re)connecting screen gets before live frames: the missed frames, or a snapshot."""

    frames: list[bytes]


class Hub:
    def __init__(self, wall: WallConfig, bus: Bus, metrics: Metrics, queue_size: int) -> None:
        self.wall = wall
        self.bus = bus
        self.metrics = metrics
        self.queue_size = queue_size
        self.state = WallState()
        self.stats = StatsCounter()
        self.clients: set[Client] = set()
        self.epoch = ""
        self.last_id: str | None = None
        self.last_event_at: float | None = None
        self._ring: deque[tuple[tuple[int, int], bytes]] = deque(maxlen=RING)
        self._task: asyncio.Task[None] | None = None
        self._labels = {"wall": wall.name}

    async def start(self) -> None:
        await self._rebuild()
        self._task = asyncio.create_task(self._follow(), name=f"hub:{self.wall.name}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def close_clients(self) -> None:
        for client in list(self.clients):
            await client.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")

    async def _rebuild(self) -> None:
        """(Re)load the wall's state from the bus history: at start and after a gap."""
        attempt = 0
        while True:
            try:
                self.epoch = await self.bus.epoch(self.wall.name)
                history = await self.bus.latest(self.wall.name, RING)
                break
            except Exception as e:  # the bus is down at start: keep serving, retry
                log.warning("wall %s: cannot read history from the bus: %s", self.wall.name, e)
                await asyncio.sleep(backoff(attempt, cap=5.0))
                attempt += 1
        self.state = WallState()
        self.stats = StatsCounter()
        self._ring.clear()
        self.last_id = None
        for msg in history:
            self._apply(msg)

    async def _follow(self) -> None:
        while True:
            try:
                async for item in self.bus.subscribe(self.wall.name, self.last_id):
                    if isinstance(item, Gap):
                        log.warning("wall %s: events were lost on the bus; reloading screens", self.wall.name)
                        await self._rebuild()
                        self._reset_clients()
                    else:
                        self._deliver(item)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("wall %s: following the bus failed; restarting", self.wall.name)
                await asyncio.sleep(1.0)

    def _apply(self, msg: Message) -> bytes:
        event = decode_event(msg.body)
        key = id_key(msg.id)
        self.state.apply(event)
        self.stats.observe(event, key[0] / 1000)
        data = frame(msg.id, msg.body)
        self._ring.append((key, data))
        self.last_id = msg.id
        return data

    def _deliver(self, msg: Message) -> None:
        now = time.time()
        data = self._apply(msg)
        self.last_event_at = now
        self.metrics.events_in.labels(**self._labels).inc()
        self.metrics.bus_latency.labels(**self._labels).observe(max(0.0, now - id_key(msg.id)[0] / 1000))
        for client in self.clients:
            try:
                client.queue.put_nowait(data)
            except asyncio.QueueFull:
                self._drop(client)
        self.metrics.frames_out.labels(**self._labels).inc(len(self.clients))

    def _drop(self, client: Client) -> None:
        if client.dropped:
            return
        client.dropped = True
        self.metrics.dropped.labels(**self._labels).inc()
        log.info("wall %s: dropping a screen that fell %d frames behind", self.wall.name, self.queue_size)
        asyncio.get_running_loop().create_task(
            client.ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"too slow")
        )

    def _reset_clients(self) -> None:
        """History changed under the screens: make every screen reconnect and take a fresh snapshot."""
        for client in list(self.clients):
            client.dropped = True
            asyncio.get_running_loop().create_task(
                client.ws.close(code=WSCloseCode.SERVICE_RESTART, message=b"history reset")
            )

    async def attach(self, client: Client, epoch: str | None, last_id: str | None) -> Catchup:
        """Register a screen and work out what it must be sent before the live frames."""
        # Nothing below awaits before the client is registered, so live frames after `upto` reach its
        # queue and everything up to `upto` comes from the catch-up: no gap and no repeat.
        upto = self.last_id
        snapshot = self._snapshot()
        self.clients.add(client)
        self.metrics.clients.labels(**self._labels).set(len(self.clients))
        if epoch != self.epoch or not last_id or upto is None:
            return Catchup([snapshot()])
        try:
            key = id_key(last_id)
        except ValueError:
            return Catchup([snapshot()])
        if key >= id_key(upto):
            return Catchup([])
        if self._ring and self._ring[0][0] <= key:
            return Catchup([data for k, data in self._ring if key < k <= id_key(upto)])
        try:
            missed = await self.bus.read_after(self.wall.name, last_id, upto)
        except Exception as e:
            log.warning("wall %s: cannot read history for a resuming screen: %s", self.wall.name, e)
            missed = None
        if missed is None:
            return Catchup([snapshot()])
        return Catchup([frame(m.id, m.body) for m in missed])

    def detach(self, client: Client) -> None:
        self.clients.discard(client)
        self.metrics.clients.labels(**self._labels).set(len(self.clients))

    def _snapshot(self):  # type: ignore[no-untyped-def]
        """Capture the state now; encode it only if it is needed."""
        posts = self.state.newest(self.wall.max_cards)
        stats, last_id = self.state.stats, self.last_id

        def encoded() -> bytes:
            return encode({"type": "snapshot", "id": last_id, "posts": posts, "stats": stats})

        return encoded

    def publish_stats_body(self) -> bytes:
        return encode_event(self.stats.snapshot())

    def status(self) -> dict[str, object]:
        age = None if self.last_event_at is None else round(time.time() - self.last_event_at, 1)
        return {"clients": len(self.clients), "last_event_id": self.last_id, "last_event_age_s": age}

