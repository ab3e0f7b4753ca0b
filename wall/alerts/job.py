"""The alerts job (docs/alerts.md): looks at every wall that has alert targets, queues what it finds in the
outbox (wall/store/alerts.py: deduplicated, rate-limited per target) and sends what is due, with retries.

One process sends at a time: every web node competes for the "alerts" lease and the holder renews it
while it lives, so a standby node takes over within LEASE_TTL when it dies. The web role, not the
curate role: "no writer holds the wall" must be noticed by a process other than the writers', and the
web nodes are the ones the kiosks report to. The outbox is in the store, so a delivery queued before a
restart or a lease move is sent by the next holder.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

import aiohttp

from wall.alerts.config import Target
from wall.alerts.detect import Alert, Held, kiosks_offline, sources_down, spikes, writer_down
from wall.alerts.send import MAX_ATTEMPTS, attempt, retry_in
from wall.bus.base import Engine, backoff, release, writer_lease
from wall.config import Config, WallConfig
from wall.store import Store
from wall.store.alerts import Delivery

log = logging.getLogger(__name__)
LEASE = "alerts"
LEASE_TTL = 6.0  # seconds, as the writer's
RENEW_EVERY = 2.0
LOOK_EVERY = 5.0  # seconds between looks at the walls (their figures: at every SEND_EVERY)
SEND_EVERY = 1.0  # seconds between looks at the outbox
KEEP = 30 * 86400.0  # settled deliveries are kept this long for the console, then removed
FORGET_EVERY = 3600.0


@dataclass
class AlertsStatus:
    """This process's alerts job, for /healthz."""

    leading: bool = False
    queued: int = 0
    sent: int = 0
    failed: int = 0
    error: str | None = None
    last_look_at: float | None = None

    def as_dict(self) -> dict[str, object]:
        return {"leading": self.leading, "queued": self.queued, "sent": self.sent, "failed": self.failed,
                "last_look_at": self.last_look_at, "error": self.error}


@dataclass
class _Wall:
    cfg: WallConfig
    held: dict[str, Held] = field(default_factory=dict)  # by kind: conditions that must hold a while

    def held_for(self, kind: str) -> Held:
        return self.held.setdefault(kind, Held())


class AlertJob:
    """Run while the context is open (a part of /healthz: wall/web/keys.py)."""

    def __init__(self, cfg: Config, engine: Engine, store: Store, owner: str) -> None:
        self.cfg, self.engine, self.store, self.owner = cfg, engine, store, owner
        self.walls = {w.name: _Wall(w) for w in cfg.walls.values() if w.alerts.targets}
        self.status = AlertsStatus()
        self.stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # --- looking ---------------------------------------------------------------------------------------

    async def look(self, now: float | None = None, spikes_only: bool = False) -> list[Delivery]:
        """Find each wall's alerts now and queue them for its targets; the deliveries queued. Spikes are
        looked at every second (a spike lasts its minute), the rest every LOOK_EVERY (`spikes_only`)."""
        now = time.time() if now is None else now
        records = [] if spikes_only else list((await self.engine.health_records()).values())
        kiosks = await self.store.kiosks.all() if self.walls and not spikes_only else []
        queued: list[Delivery] = []
        for name, wall in self.walls.items():
            title, cfg = wall.cfg.title, wall.cfg.alerts
            found = spikes(name, title, await self.engine.announced(name), now)
            if not spikes_only:
                found += wall.held_for("source_down").look(sources_down(name, title, records, now),
                                                          cfg.source_down_after, now)
                holder = await self.engine.holder(writer_lease(name))
                found += wall.held_for("writer_down").look(writer_down(name, title, holder, now),
                                                          cfg.writer_down_after, now)
                found += kiosks_offline(name, title, kiosks, self.cfg.kiosks.offline_after, now)
            for alert in found:
                queued += await self.queue(wall.cfg, alert, now)
        if not spikes_only:
            self.status.last_look_at = now
        return queued

    async def queue(self, wall: WallConfig, alert: Alert, now: float | None = None,
                    dedupe: float | None = None) -> list[Delivery]:
        """Queue an alert for each of the wall's targets that takes its kind (a test alert: all)."""
        queued = []
        for target in wall.alerts.targets:
            if alert.kind != "test" and alert.kind not in target.kinds:
                continue
            found = await self.store.alerts.queue(
                wall.name, target.name, alert.key, alert.kind, alert.body(),
                dedupe=wall.alerts.dedupe if dedupe is None else dedupe, per_hour=target.per_hour, now=now)
            if found is not None:
                queued.append(found)
                self.status.queued += 1
                log.info("wall %s: alert %s queued for %s (%s)", wall.name, alert.key, target.name,
                         found.state if found.error is None else found.error)
        return queued

    # --- sending ---------------------------------------------------------------------------------------

    async def send_due(self, session: aiohttp.ClientSession, now: float | None = None) -> int:
        """Attempt every delivery that is due, at once (each bounded by its timeout); how many were."""
        due = await self.store.alerts.due(now)
        await asyncio.gather(*(self._send(session, d) for d in due))
        return len(due)

    async def _send(self, session: aiohttp.ClientSession, d: Delivery) -> None:
        target = self._target(d)
        alerts = self.store.alerts
        if target is None:
            await alerts.failed(d.id, f"target {d.target} of wall {d.wall} is no longer in the config")
            self.status.failed += 1
            return
        outcome = await attempt(session, target, d)
        tried = d.attempts + 1
        if outcome.sent:
            await alerts.sent(d.id)
            self.status.sent += 1
            log.info("wall %s: alert %s sent to %s (attempt %d)", d.wall, d.key, d.target, tried)
        elif outcome.again and tried < MAX_ATTEMPTS:
            wait = retry_in(tried, outcome.retry_after)
            await alerts.retry(d.id, str(outcome.error), time.time() + wait)
            log.warning("wall %s: alert %s to %s failed (attempt %d, again in %.0f s): %s", d.wall, d.key,
                        d.target, tried, wait, outcome.error)
        else:
            why = str(outcome.error) + (f" (gave up after {tried} attempts)" if outcome.again else "")
            await alerts.failed(d.id, why)
            self.status.failed += 1
            log.warning("wall %s: alert %s to %s failed: %s", d.wall, d.key, d.target, why)

    def _target(self, d: Delivery) -> Target | None:
        wall = self.cfg.walls.get(d.wall)
        return None if wall is None else next((t for t in wall.alerts.targets if t.name == d.target), None)

    # --- running ---------------------------------------------------------------------------------------

    async def run(self) -> None:
        """Hold the alerts lease whenever it is free; while holding it, look and send until stop()."""
        attempt_no = 0
        async with aiohttp.ClientSession() as session:
            while not self.stopping.is_set():
                try:
                    token = await self.engine.lease(LEASE, self.owner, LEASE_TTL)
                    self.status.leading = token is not None
                    if token is not None:
                        await self._while_leading(token, session)
                    attempt_no = 0
                except Exception as e:
                    self.status.error = f"{type(e).__name__}: {e}"
                    wait = backoff(attempt_no, base=1.0, cap=10.0)
                    log.warning("alerts job failed (tried again in %.0f s): %s", wait, e)
                    await asyncio.sleep(wait)
                    attempt_no += 1
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), RENEW_EVERY)
        if self.status.leading:
            with contextlib.suppress(Exception):  # the bus is down: the lease lapses on its own
                await release(self.engine, LEASE, self.owner)

    async def _while_leading(self, token: int, session: aiohttp.ClientSession) -> None:
        renew_at = time.monotonic() + RENEW_EVERY
        look_at = forget_at = 0.0
        while not self.stopping.is_set():
            if time.monotonic() >= renew_at:
                if await self.engine.lease(LEASE, self.owner, LEASE_TTL) != token:
                    self.status.leading = False
                    log.warning("alerts lease lost; its next holder sends what is due")
                    return
                renew_at = time.monotonic() + RENEW_EVERY
            everything = time.monotonic() >= look_at
            await self.look(spikes_only=not everything)
            if everything:
                look_at = time.monotonic() + LOOK_EVERY
            if time.monotonic() >= forget_at:
                if n := await self.store.alerts.forget_before(time.time() - KEEP):
                    log.info("alerts: removed %d settled deliveries older than %.0f days", n, KEEP / 86400)
                forget_at = time.monotonic() + FORGET_EVERY
            # Sending runs beside the lease's renewal: a slow target must not let the lease lapse.
            sending = asyncio.create_task(self.send_due(session))
            while not sending.done():
                await asyncio.wait({sending}, timeout=RENEW_EVERY)
                if not sending.done() and await self.engine.lease(LEASE, self.owner, LEASE_TTL) != token:
                    sending.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await sending
                    self.status.leading = False
                    return
            sending.result()
            self.status.error = None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), SEND_EVERY)

    async def __aenter__(self) -> AlertJob:
        self._task = asyncio.create_task(self.run(), name="alerts")
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stopping.set()
        if self._task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._task), 2.0)
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def wall_health(self, wall: str) -> dict[str, object]:
        return {"alerts": self.status.as_dict()} if wall in self.walls else {}

    def problems(self) -> list[str]:
        return [f"alerts job: {self.status.error}"] if self.status.error else []
