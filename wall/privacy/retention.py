"""Retention (docs/retention.md): a wall's posts, authors and images leave every place that holds them once
older than the wall's limits ([walls.W.retention]); counts stay.

One job per wall, run every `every` by whichever process holds the wall's retention lease: every process
with the curate role competes for it (`wall demo`, `wall serve` on the memory engine, `wall ingest`,
`wall curate`), and the holder renews it while it lives, so one process runs the job at a time, and a
standby takes over within LEASE_TTL when it dies. The job removes, for each kind whose limit is not "keep":
- posts: the display stream's events, the recent posts and the known authors (Inbox.forget_before, both
  engines; the memory engine's state in the store too), the display log's rows of posts first shown
  before the limit (wall/store/display_log.py), the authors' counters in the roll-ups, and the votes of
  polls closed before the limit (wall/store/polls.py);
- audit, labels, screenshots: in the store (wall/store/retention.py), in short batches.
The media cache is on each web node's own disk, so each node forgets its own images (forget_media, no
lease). What a run removed goes to the log (counts only), to /healthz (`retention` in the wall's entry
of the node that ran it) and to the metric `wall_retention_removed_total{wall, place}`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter

from wall.bus.base import Engine, backoff, release
from wall.config import RETENTION_KINDS, Retention, WallConfig
from wall.media.cache import DiskCache
from wall.store import Store

log = logging.getLogger(__name__)
LEASE_TTL = 6.0  # seconds, as the writer's: a dead holder's job moves within about that
RENEW_EVERY = 2.0
STOP_GRACE = 1.0  # seconds a stopping process waits for its jobs to hand their leases over


def cutoffs(retention: Retention, now: float) -> dict[str, float]:
    """The time before which each kind goes (epoch seconds); a kind kept forever is left out."""
    found = {}
    for kind in RETENTION_KINDS:
        keep: float | None = getattr(retention, kind)
        if keep is not None:
            found[kind] = now - keep
    return found


def retention_lease(wall: str) -> str:
    return f"retention:{wall}"


@dataclass
class RetentionStatus:
    """This process's retention job of a wall, for /healthz."""

    leading: bool = False
    runs: int = 0
    last_run_at: float | None = None
    last_run_seconds: float | None = None
    removed: dict[str, int] = field(default_factory=dict)  # by place, at the last run
    error: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"leading": self.leading, "runs": self.runs, "last_run_at": self.last_run_at,
                "last_run_seconds": self.last_run_seconds, "removed": self.removed, "error": self.error}


class RetentionJob:
    def __init__(self, wall: str, retention: Retention, engine: Engine, store: Store, owner: str,
                 removed: Counter | None = None) -> None:
        self.wall, self.retention, self.engine, self.store, self.owner = wall, retention, engine, store, owner
        self.status = RetentionStatus()
        self._removed = removed
        self.stopping = asyncio.Event()

    async def run_once(self, now: float | None = None) -> dict[str, int]:
        """Remove what is older than the wall's limits, now; what went, by place."""
        started = time.time()
        cut = cutoffs(self.retention, started if now is None else now)
        removed: dict[str, int] = {}
        if "posts" in cut:
            forgotten = await self.engine.forget_before(self.wall, cut["posts"])
            removed.update(forgotten._asdict())
            removed["display_log"] = await self.store.display_log.forget_before(self.wall, cut["posts"])
            # the roll-ups' top authors name people: they go with the posts (docs/rollups.md)
            rollups = self.store.rollups
            removed["rollup_authors"] = await rollups.forget_before(self.wall, "author:", cut["posts"])
            # Q&A questions quote posts and votes name people: they go with the posts (docs/qa.md)
            removed["qa"] = await self.store.qa.before(self.wall, cut["posts"])
            # a closed poll's votes name people; its frozen result stays (docs/polls.md)
            removed["poll_votes"] = await self.store.polls.purge(self.wall, cut["posts"])
        sql = self.store.retention
        for kind, forget in (("audit", sql.audit_before), ("labels", sql.labels_before),
                             ("screenshots", sql.screenshots_before)):
            if kind in cut:
                removed[kind] = await forget(self.wall, cut[kind])
        st = self.status
        st.runs, st.last_run_at, st.removed, st.error = st.runs + 1, started, removed, None
        st.last_run_seconds = round(time.time() - started, 3)
        for place, n in removed.items():
            if self._removed is not None and n:
                self._removed.labels(self.wall, place).inc(n)
        log.info("wall %s: retention removed %s in %.1f s", self.wall,
                 ", ".join(f"{n} {place}" for place, n in removed.items()) or "nothing", st.last_run_seconds)
        return removed

    async def run(self) -> None:
        """Hold the wall's retention lease whenever it is free and run the job every `every`, until stop()."""
        name, attempt, due = retention_lease(self.wall), 0, 0.0
        while not self.stopping.is_set():
            try:
                token = await self.engine.lease(name, self.owner, LEASE_TTL)
                self.status.leading = token is not None
                if token is not None and time.time() >= due:
                    due = time.time() + self.retention.every
                    await self._run_leased(name, token)
                attempt = 0
            except asyncio.CancelledError:
                raise
            except Exception as e:
                # Tried again soon, not in `every`: a Redis or store outage of seconds must not leave the
                # node degraded (/healthz) until the next scheduled run.
                self.status.error, due = f"{type(e).__name__}: {e}", 0.0
                wait = backoff(attempt, base=1.0, cap=10.0)
                log.warning("wall %s: retention job failed (tried again in %.0f s): %s", self.wall, wait, e)
                await asyncio.sleep(wait)
                attempt += 1
            pause = min(RENEW_EVERY, max(0.0, due - time.time())) if self.status.leading else RENEW_EVERY
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), pause)
        if self.status.leading:
            with contextlib.suppress(Exception):  # the bus is down: the lease lapses on its own
                await release(self.engine, name, self.owner)

    async def _run_leased(self, name: str, token: int) -> None:
        """run_once() while renewing the lease beside it; stopped if the lease is lost or the process stops
        (every batch is its own transaction: what was done stays done, the next holder does the rest)."""
        job = asyncio.create_task(self.run_once())
        stopping = asyncio.create_task(self.stopping.wait())
        try:
            while not job.done() and not self.stopping.is_set():
                await asyncio.wait({job, stopping}, timeout=RENEW_EVERY, return_when=asyncio.FIRST_COMPLETED)
                if job.done() or self.stopping.is_set():
                    break
                if await self.engine.lease(name, self.owner, LEASE_TTL) != token:
                    log.warning("wall %s: retention lease lost mid-run; its next holder goes on", self.wall)
                    break
        finally:
            stopping.cancel()
            if not job.done():
                job.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await job

    def stop(self) -> None:
        self.stopping.set()


class RetentionJobs:
    """Each wall's retention job, run while the context is open; a part of /healthz (wall/web/keys.py)."""

    def __init__(self, walls: Iterable[WallConfig], engine: Engine, store: Store, owner: str,
                 registry: CollectorRegistry | None = None) -> None:
        removed = None if registry is None else Counter(
            "wall_retention_removed", "What retention removed, by wall and place", ["wall", "place"],
            registry=registry)
        self.jobs = [RetentionJob(w.name, w.retention, engine, store, owner, removed) for w in walls]
        self.tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> RetentionJobs:
        self.tasks = [asyncio.create_task(j.run(), name=f"retention:{j.wall}") for j in self.jobs]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for job in self.jobs:
            job.stop()
        if self.tasks:  # a run under way stops between batches: its next holder does the rest
            _, late = await asyncio.wait(self.tasks, timeout=STOP_GRACE)
            for task in late:
                task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def wall_health(self, wall: str) -> dict[str, object]:
        here = next((j for j in self.jobs if j.wall == wall), None)
        return {} if here is None else {"retention": here.status.as_dict()}

    def problems(self) -> list[str]:
        return [f"{j.wall}: retention job: {j.status.error}" for j in self.jobs if j.status.error]


async def forget_media(cache: DiskCache, walls: Iterable[WallConfig]) -> None:
    """Forever: every shortest `every`, remove the images older than the shortest media limit of any
    wall (a cached image belongs to no one wall). Each web node runs it on its own cache."""
    walls = list(walls)
    keep = [w.retention.media for w in walls if w.retention.media is not None]
    if not keep:
        return
    every = min(w.retention.every for w in walls)
    while True:
        try:
            if n := await cache.forget_before(time.time() - min(keep)):
                log.info("retention removed %d images from the media cache", n)
        except OSError as e:
            log.warning("retention could not clear the media cache (it tries again in %.0f s): %s", every, e)
        await asyncio.sleep(every)
