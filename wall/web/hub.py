"""One hub per wall per web node: follows the wall's events on the bus and fans them out to its screens.

Each event is decoded once (to keep the wall's state) and its WebSocket frame built once; every screen
gets the same bytes (see client.py). A screen that cannot keep up is dropped (its page reconnects and
resumes), so one slow screen never slows the others. Frames nobody waits for (the live figures, keepalive
ticks) are paced: written to PACE_SLICE screens at a time, so that a post never waits behind thousands of
them, neither in this node's loop nor in the screens' queues.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable

import msgspec
from aiohttp import WSCloseCode

from wall import look
from wall.bus.base import Announcement, Bus, Gap, Live, Message, backoff
from wall.config import WallConfig
from wall.models import (
    POLL_KIND,
    ControlEvent,
    Event,
    Post,
    PostEvent,
    RetractEvent,
    UpdateEvent,
    decode_event,
    encode,
    frame,
    id_key,
    is_poll,
)
from wall.state import WallState
from wall.web.client import Client, ws_frame
from wall.web.metrics import Metrics

log = logging.getLogger(__name__)
RING = 2000  # recent frames kept for resuming screens without asking the bus
# WebSocket close code (private range 4000-4999) for "this node is going away: reconnect now, through the
# proxy, and resume"; the page does it after a short jitter, without showing itself offline (protocol.md).
MOVING = 4000
# Paced frames go to this many screens at a time, a slice every PACE_PAUSE s: 5,000 screens in 0.5 s, so
# a post published meanwhile is written to every screen after at most one slice (~1 ms of the loop).
PACE_SLICE = 100
PACE_PAUSE = 0.01
SENT_KEPT = 5000  # post ids a display report may name: far more than a minute of any wall shows


class Hub:
    def __init__(self, wall: WallConfig, bus: Bus, metrics: Metrics,
                 prefetch: Callable[[Post], None] | None = None) -> None:
        self.wall = wall
        self.bus = bus
        self.state = WallState()
        self.prefetch = prefetch  # warms this node's media cache for each new post as it arrives
        self.stats: bytes | None = None  # the latest announced stats event, for snapshots
        self.control: bytes | None = None  # the frame of the wall's latest control event, for snapshots
        self.poll: bytes | None = None  # the shown poll as the writer announced it, for new screens
        self.trends: bytes | None = None  # the wall's latest trends (wall/web/trends.py), for new screens
        self.look: look.Look | None = None  # the wall's published look, shown whatever this node's file says
        self._look_body: bytes | None = None  # as announced, to pass over the same one again
        self._looks_seen = 0  # looks taken so far: a recheck that raced a live one must not undo it
        self.clients: set[Client] = set()
        self.epoch = ""
        self.last_id: str | None = None
        self._last_key = (0, 0)  # id_key(last_id), kept to compare each event without parsing twice
        self.last_event_at: float | None = None
        # The node's feed of the wall is live (subscribed and caught up): /healthz is ok only then, since
        # a node whose feed is reconnecting holds its screens but shows them nothing new.
        self.live = False
        self.down_since: float | None = time.time()
        self._ring: deque[tuple[tuple[int, int], bytes]] = deque(maxlen=RING)
        # Ids of the posts this node sent the wall's screens lately: what a display report may name.
        self._sent: OrderedDict[str, None] = OrderedDict()
        self._task: asyncio.Task[None] | None = None
        self._paced: dict[str, asyncio.Task[None]] = {}  # kind of paced frame -> its pass over the screens
        # Labelled once: a labels() lookup per event would be on the hot path.
        self._events_in = metrics.events_in.labels(wall.name)
        self._frames_out = metrics.frames_out.labels(wall.name)
        self._bus_latency = metrics.bus_latency.labels(wall.name)
        self._dropped = metrics.dropped.labels(wall.name)
        self._clients = metrics.clients.labels(wall.name)

    async def start(self) -> None:
        await self._rebuild()
        self._task = asyncio.create_task(self._follow(), name=f"hub:{self.wall.name}")

    async def stop(self) -> None:
        for pass_ in self._paced.values():
            pass_.cancel()
        self._paced.clear()
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def close_clients(self) -> None:
        for client in self.clients:
            client.closing = True  # from now on nothing is written after the close frame
        await asyncio.gather(
            *(c.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown") for c in self.clients),
            return_exceptions=True,
        )

    async def move_clients(self, spread: float) -> int:
        """Tell every screen to reconnect elsewhere (MOVING), each at a random moment within `spread`
        seconds; it goes on getting live frames until its own close frame. Returns how many were told."""

        async def move(client: Client) -> None:
            await asyncio.sleep(random.uniform(0, spread))
            if not client.dropped:
                client.dropped = client.closing = True  # nothing is written after the close frame
                await client.ws.close(code=MOVING, message=b"moving")

        clients = list(self.clients)
        await asyncio.gather(*(move(c) for c in clients), return_exceptions=True)
        return len(clients)

    async def _rebuild(self) -> None:
        """(Re)load the wall's state from the bus history: at start and after a gap."""
        attempt = 0
        while True:
            try:
                self.epoch = await self.bus.epoch(self.wall.name)
                control = await self.bus.latest_control(self.wall.name)
                history = await self.bus.latest(self.wall.name, RING)
                self.stats = await self.bus.announced(self.wall.name)
                published = await self.bus.announced(self.wall.name, look.KIND)
                self.poll = await self.bus.announced(self.wall.name, POLL_KIND)
                break
            except Exception as e:  # the bus is down at start: keep serving, retry
                log.warning("wall %s: cannot read history from the bus: %s", self.wall.name, e)
                await asyncio.sleep(backoff(attempt, cap=5.0))
                attempt += 1
        self.state = WallState()
        self.control = control  # read before the history: a newer one in it replaces it below
        self._ring.clear()
        self.last_id, self._last_key = None, (0, 0)
        for msg in history:
            self._apply(msg, id_key(msg.id))
        self.adopt(published)

    async def _follow(self) -> None:
        while True:
            try:
                # "0-0" for a wall without history: also take what arrived since _rebuild() looked.
                async for item in self.bus.subscribe(self.wall.name, self.last_id or "0-0"):
                    if isinstance(item, Live):
                        self._link(item.up)
                    elif isinstance(item, Announcement) and look.is_look(item.body):
                        self.adopt(item.body)
                    elif isinstance(item, Announcement) and is_poll(item.body):
                        self.set_poll(item.body)
                    elif isinstance(item, Announcement):
                        self._announce(item.body)
                    elif isinstance(item, Gap):
                        log.warning("wall %s: events were lost on the bus; reloading screens", self.wall.name)
                        await self._rebuild()
                        self._reset_clients()
                    else:
                        self._deliver(item)
            except asyncio.CancelledError:
                raise
            except Exception:
                self._link(False)
                log.exception("wall %s: following the bus failed; restarting", self.wall.name)
                await asyncio.sleep(1.0)

    def _link(self, up: bool) -> None:
        if up != self.live:
            self.live = up
            self.down_since = None if up else time.time()

    def _apply(self, msg: Message, key: tuple[int, int], live: bool = False) -> bytes:
        event = decode_event(msg.body)
        self.state.apply(event)
        if live and self.prefetch and isinstance(event, PostEvent) and event.post.visible:
            self.prefetch(event.post)
        data = frame(msg.id, msg.body)
        if isinstance(event, ControlEvent):
            self.control = data
        self._remember(event)
        self._ring.append((key, data))
        self.last_id, self._last_key = msg.id, key
        return data

    def _remember(self, event: Event) -> None:
        match event:
            case PostEvent(post=post) | UpdateEvent(post=post) | ControlEvent(spotlight=Post() as post):
                self._sent[post.id] = None
                self._sent.move_to_end(post.id)
                if len(self._sent) > SENT_KEPT:
                    self._sent.popitem(last=False)
            case RetractEvent(post_id=post_id, reason="erased"):
                self._sent.pop(post_id, None)  # its seconds not yet written go too (display.py)

    def knows(self, post_id: str) -> bool:
        """Whether this node sent the wall's screens that post lately (the newest SENT_KEPT), and it was
        not erased since."""
        return post_id in self._sent

    def _deliver(self, msg: Message) -> None:
        key = id_key(msg.id)
        if key <= self._last_key:
            return  # already folded in by a rebuild that raced the subscription
        now = time.time()
        data = self._apply(msg, key, live=True)
        self.last_event_at = now
        self._events_in.inc()
        self._bus_latency.observe(max(0.0, now - key[0] / 1000))
        self._fan_out(ws_frame(data))

    def _announce(self, body: bytes) -> None:
        """Live-only data (stats): sent as it is, kept for the next snapshot, never in the ring."""
        self.stats = body
        self._pace("stats", ws_frame(body))

    def set_poll(self, body: bytes) -> None:
        """The shown poll's bars (docs/polls.md): to every screen, and to each new one."""
        self.poll = body
        self._pace("poll", ws_frame(body))

    def set_trends(self, body: bytes) -> None:
        """The wall's figures against its past, read by this node: to every screen, and to each new one."""
        self.trends = body
        self._pace("trends", ws_frame(body))

    def _fan_out(self, wire: bytes) -> None:
        self._frames_out.inc(self._write(self.clients, wire))

    def _write(self, clients: Iterable[Client], wire: bytes) -> int:
        """Write one frame to each screen; drop those too far behind. Returns the frames written."""
        sent = 0
        for client in clients:
            if client.dropped:
                continue
            if client.offer(wire):
                sent += 1
            else:
                client.drop(WSCloseCode.TRY_AGAIN_LATER, b"too slow")
                self._dropped.inc()
                log.info("wall %s: dropped a screen that could not keep up", self.wall.name)
        return sent

    def _pace(self, kind: str, wire: bytes, counted: bool = True) -> None:
        """Write a frame nobody waits for to every screen, PACE_SLICE screens at a time. A newer frame of the
        same kind replaces one still under way: the screens it had not reached get only the newer one."""
        if (running := self._paced.pop(kind, None)) is not None:
            running.cancel()
        clients = list(self.clients)
        if len(clients) <= PACE_SLICE:
            sent = self._write(clients, wire)
            if counted:
                self._frames_out.inc(sent)
            return
        task = asyncio.get_running_loop().create_task(self._paced_pass(clients, wire, counted))
        self._paced[kind] = task

        def forget(done: asyncio.Task[None]) -> None:
            if self._paced.get(kind) is done:
                del self._paced[kind]

        task.add_done_callback(forget)

    async def _paced_pass(self, clients: list[Client], wire: bytes, counted: bool) -> None:
        for start in range(0, len(clients), PACE_SLICE):
            if start:
                await asyncio.sleep(PACE_PAUSE)  # live frames published meanwhile go out to all first
            here = [c for c in clients[start:start + PACE_SLICE] if c in self.clients]  # still connected
            sent = self._write(here, wire)
            if counted:
                self._frames_out.inc(sent)

    def tick(self) -> None:
        """Proof of life for every screen (a page cannot see WebSocket pings): lets it spot a dead link."""
        self._pace("tick", ws_frame(encode({"type": "tick", "server_time": int(time.time() * 1000)})),
                   counted=False)

    def _reset_clients(self) -> None:
        """History changed under the screens: make every screen reconnect and take a fresh snapshot."""
        for client in self.clients:
            client.drop(WSCloseCode.SERVICE_RESTART, b"history reset")

    async def attach(self, client: Client, epoch: str | None, last_id: str | None) -> list[bytes]:
        """Register a screen; return what it must get before live frames: what it missed, or a snapshot,
        then the latest trends (not in the history: a resuming screen needs them as much as a new one)."""
        trends, poll = self.trends, self.poll
        frames = await self._catch_up(client, epoch, last_id)
        return [*frames, *(f for f in (trends, poll) if f is not None)]

    async def _catch_up(self, client: Client, epoch: str | None, last_id: str | None) -> list[bytes]:
        # Nothing below awaits before the client is registered, so live frames after `upto` are held by
        # the client and everything up to `upto` comes from the catch-up: no gap and no repeat.
        upto = self.last_id
        posts, stats, control = self.state.newest(self.wall.max_cards), self.stats, self.control
        self.clients.add(client)
        self._clients.set(len(self.clients))
        if epoch != self.epoch or not last_id or upto is None:
            return [self._snapshot(upto, posts, stats, control)]
        try:
            key = id_key(last_id)
        except ValueError:
            return [self._snapshot(upto, posts, stats, control)]
        if key >= id_key(upto):
            return []
        if self._ring and self._ring[0][0] <= key:
            return [data for k, data in self._ring if key < k <= id_key(upto)]
        try:
            missed = await self.bus.read_after(self.wall.name, last_id, upto)
        except Exception as e:
            log.warning("wall %s: cannot read history for a resuming screen: %s", self.wall.name, e)
            missed = None
        if missed is None:
            return [self._snapshot(upto, posts, stats, control)]
        return [frame(m.id, m.body) for m in missed]

    def detach(self, client: Client) -> None:
        self.clients.discard(client)
        self._clients.set(len(self.clients))

    def _snapshot(self, last_id: str | None, posts: list[Post], stats: bytes | None,
                  control: bytes | None) -> bytes:
        raw = None if stats is None else msgspec.Raw(stats)
        live = None if control is None else msgspec.Raw(control)
        return encode({"type": "snapshot", "id": last_id, "posts": posts, "stats": raw, "control": live,
                       "config": self.wall.screen.public()})

    def set_config(self, wall: WallConfig) -> None:
        """The wall's config was reloaded: every screen applies its new theme and show at once."""
        self.wall = wall
        self._fan_out(ws_frame(encode({"type": "config", **wall.screen.public()})))

    def adopt(self, body: bytes | None) -> None:
        """The wall's published look (any process's reload): every screen of the wall shows it."""
        if body is None or body == self._look_body:
            return
        self._look_body = body
        self._looks_seen += 1
        found = look.read(body)
        if found is None:
            log.warning("wall %s: ignored a published look this version cannot read", self.wall.name)
            return
        self.look = found
        if found.screen != self.wall.screen:
            self.set_config(dataclasses.replace(self.wall, screen=found.screen))

    async def recheck_look(self) -> bool:
        """Apply the published look if a live one was missed (at most once, like any announcement: a
        reconnect can lose one); False when none is published (new, or Redis lost it)."""
        seen = self._looks_seen
        body = await self.bus.announced(self.wall.name, look.KIND)
        if seen == self._looks_seen:
            self.adopt(body)
        return body is not None

    def status(self) -> dict[str, object]:
        age = None if self.last_event_at is None else round(time.time() - self.last_event_at, 1)
        down = None if self.down_since is None else round(time.time() - self.down_since, 1)
        return {"clients": len(self.clients), "last_event_id": self.last_id, "last_event_age_s": age,
                "live": self.live, "down_for_s": down}

