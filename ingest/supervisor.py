"""Runs the configured sources: one owner per source at a time (a lease), items to the inboxes of the walls
they feed, cursors to the store, and a health record every node shows in /healthz.

Several `wall ingest` workers may run against one Redis: each source runs in one of them; when its worker
dies, another takes it over within about LEASE_TTL seconds and resumes from the stored cursor (what came
after the last checkpoint comes again, and the dedupe step absorbs it).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import deque
from dataclasses import dataclass, field

import aiohttp
import msgspec

from ingest.connector import (
    Checkpoint,
    Connector,
    Delete,
    Skipped,
    SourceContext,
    SourceError,
    Throttled,
    Upsert,
)
from ingest.pipeline import Pipeline
from ingest.registry import REGISTRY
from ingest.routing import Router
from ingest.sanitize import Refused, sanitize
from wall.bus.base import Coordination, backoff, release
from wall.config import Config, SourceConfig
from wall.health import SourceHealth
from wall.redact import redact_urls, without_values

log = logging.getLogger(__name__)
LEASE_TTL = 6.0
RENEW_EVERY = 2.0  # also how often the health record is refreshed
MAX_THROTTLE = 3600.0  # a Retry-After further away than this is a mistake, not a plan


@dataclass
class SourceStatus:
    """What a source last did, for /healthz and the logs; published as a health record."""

    name: str
    walls: tuple[str, ...]
    state: str = "starting"  # starting | standby | running | throttled | failing | finished
    error: str | None = None
    posts: int = 0
    skipped: int = 0  # messages passed over: unparsable, or refused by the sanitizer
    connected_since: float | None = None
    last_post_at: float | None = None
    retry_at: float | None = None
    worker: str = ""
    minute: deque[float] = field(default_factory=deque)  # arrival times in the last minute

    def ok(self) -> None:
        now = time.time()
        if self.state != "running":
            self.connected_since = now
        self.state, self.error, self.retry_at = "running", None, None
        self.posts += 1
        self.last_post_at = now
        self.minute.append(now)
        while self.minute[0] <= now - 60:
            self.minute.popleft()

    def failed(self, error: str, retry_in: float | None = None) -> None:
        self.state, self.error, self.connected_since = "failing", error, None
        self.retry_at = None if retry_in is None else time.time() + retry_in

    def record(self) -> bytes:
        now = time.time()
        # An error from a library may quote the URL it fetched, token and all: only its host goes out.
        error = None if self.error is None else redact_urls(self.error)
        return msgspec.json.encode(SourceHealth(
            self.name, self.walls, self.state, error, self.posts,
            sum(1 for t in self.minute if t > now - 60), self.connected_since, self.last_post_at,
            self.retry_at, self.worker, now, self.skipped))


class StoreState:
    """A connector's KeyValue in the engine's store, scoped to its source."""

    def __init__(self, store: Coordination, scope: str) -> None:
        self.store, self.scope = store, scope

    async def get(self, key: str) -> str | None:
        return await self.store.get_cursor(f"{self.scope}:state:{key}")

    async def set(self, key: str, value: str) -> None:
        await self.store.set_cursor(f"{self.scope}:state:{key}", value)


class Supervisor:
    """One source: holds its lease, runs its connector, routes what it yields, keeps its health record."""

    def __init__(self, src: SourceConfig, connector: Connector, pipeline: Pipeline, store: Coordination,
                 router: Router, owner: str) -> None:
        self.src, self.connector, self.pipeline, self.store = src, connector, pipeline, store
        self.router, self.owner = router, owner
        self.status = SourceStatus(src.name, src.walls, worker=owner)
        self.lease = f"source:{src.key}"
        self.holding = False  # the lease is ours: hand it over when the worker stops

    async def run(self) -> None:
        """Own the source whenever its lease is free, forever (or until it finishes)."""
        lease = self.lease
        while True:
            try:
                token = await self.store.lease(lease, self.owner, LEASE_TTL)
            except Exception as e:
                log.warning("source %s: cannot reach the store for its lease: %s", self.src.name, e)
                await asyncio.sleep(RENEW_EVERY)
                continue
            if token is None:  # another worker runs it; its record is the one to show
                self.status.state = "standby"
                await asyncio.sleep(1.0)
                continue
            log.info("source %s: %s runs it (lease token %d)", self.src.name, self.owner, token)
            self.holding = True
            stream = asyncio.create_task(self._stream())
            try:
                while not stream.done():
                    await self._report()
                    await asyncio.wait({stream}, timeout=RENEW_EVERY)
                    if not stream.done() and await self.store.lease(lease, self.owner, LEASE_TTL) != token:
                        log.warning("source %s: lost its lease; another worker takes it", self.src.name)
                        break
            except Exception as e:
                log.warning("source %s: cannot renew its lease: %s", self.src.name, e)
            finally:
                stream.cancel()
                await asyncio.gather(stream, return_exceptions=True)
            self.holding = False
            if stream.done() and not stream.cancelled() and self.status.state == "finished":
                await self._report()
                return

    async def _report(self) -> None:
        try:
            await self.store.put_health(self.src.key, self.status.record())
        except Exception as e:  # the store is down: the record goes stale, which says so
            log.debug("source %s: cannot publish its health: %s", self.src.name, e)

    def _skip(self, reason: str) -> None:
        """One poison message: one log line (its id or why, never its text) and the health counter."""
        self.status.skipped += 1
        log.warning("source %s: skipped a message: %s", self.src.name, reason)

    async def _stream(self) -> None:
        """Feed the connector into the inboxes, resuming from its cursor after any failure."""
        status, name = self.status, self.src.name
        attempt = 0
        while True:
            try:
                saved = await self.store.get_cursor(self.src.key)
                async for item in self.connector.stream(saved):
                    match item:
                        case Upsert(post=raw):
                            try:
                                post = sanitize(raw)
                            except Refused as e:
                                self._skip(f"post {raw.id} refused: {e}")
                                continue
                            for wall in self.router.walls_for(post, self.src.walls):
                                await self.pipeline.submit(wall, post)
                            was = status.state
                            status.ok()
                            attempt = 0
                            if was != "running":  # say so now, not at the next refresh
                                await self._report()
                        case Delete(post_id=pid, reason=reason):
                            for wall in self.src.walls:  # a wall that never showed it ignores it
                                await self.pipeline.retract(wall, pid, reason)
                        case Checkpoint(cursor=cursor):
                            await self.store.set_cursor(self.src.key, cursor)
                        case Throttled(until=until, reason=reason):
                            status.state, status.error, status.retry_at = "throttled", reason, until
                            await self._report()
                            log.info("source %s throttled: %s", name, reason)
                            # the connector is suspended at its yield: it resumes after the wait
                            await asyncio.sleep(min(max(0.0, until - time.time()), MAX_THROTTLE))
                        case Skipped(reason=reason):
                            self._skip(reason)
                status.state = "finished"
                log.info("source %s finished", name)
                return
            except asyncio.CancelledError:
                raise
            except Exception as e:
                retry_after = e.retry_after if isinstance(e, SourceError) else None
                delay = retry_after if retry_after is not None else backoff(attempt, base=1.0, cap=60.0)
                # Our own SourceError says it plainly; anything else may quote the message it choked on.
                said = redact_urls(str(e) if isinstance(e, SourceError)
                                   else f"{type(e).__name__}: {without_values(str(e))}")
                status.failed(said, delay)
                await self._report()
                log.warning("source %s failed: %s; retrying in %.1f s", name, said, delay)
                attempt += 1
                await asyncio.sleep(delay)


class Sources:
    """The ingest role: every pulled source of the config, run while the context is open."""

    def __init__(self, cfg: Config, pipeline: Pipeline, store: Coordination, owner: str) -> None:
        self.cfg, self.pipeline, self.store, self.owner = cfg, pipeline, store, owner
        self.supervisors: list[Supervisor] = []
        self.broken: list[tuple[str, SourceStatus]] = []  # (source key, status) of those that cannot start
        self.tasks: list[asyncio.Task[None]] = []
        self.http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Sources:
        self.http = aiohttp.ClientSession()  # one per process, shared by every connector
        router = Router({w.name: w.terms for w in self.cfg.walls.values()})
        for src in self.cfg.sources.values():
            build = REGISTRY[src.type].build
            if build is None:  # not pulled: webhooks arrive at web nodes
                continue
            ctx = SourceContext(self.http, StoreState(self.store, src.key), os.environ)
            try:
                connector = build(src.name, src.options, ctx)
            except ValueError as e:  # a bad dataset or the like: say so, keep the other sources going
                log.error("source %s cannot start: %s", src.name, e)
                status = SourceStatus(src.name, src.walls, worker=self.owner)
                status.failed(str(e))
                self.broken.append((src.key, status))
                await self.store.put_health(src.key, status.record())
                continue
            self.supervisors.append(Supervisor(src, connector, self.pipeline, self.store, router, self.owner))
        self.tasks = [asyncio.create_task(s.run(), name=f"source:{s.src.key}") for s in self.supervisors]
        if self.broken:
            self.tasks.append(asyncio.create_task(self._report_broken()))
        return self

    async def _report_broken(self) -> None:
        """Sources that cannot start keep saying why (a record nobody refreshes would turn 'stale')."""
        while True:
            await asyncio.sleep(RENEW_EVERY)
            for key, status in self.broken:
                try:
                    await self.store.put_health(key, status.record())
                except Exception as e:
                    log.debug("source %s: cannot publish its health: %s", status.name, e)

    async def __aexit__(self, *exc: object) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        # Stopping (SIGTERM): hand each source over now; a standby worker takes it at its next try and
        # resumes from the stored cursor, instead of waiting out LEASE_TTL.
        for sup in self.supervisors:
            if sup.holding:
                try:
                    await release(self.store, sup.lease, self.owner)
                    log.info("source %s: %s handed its lease over", sup.src.name, self.owner)
                except Exception as e:  # the store is down: the lease lapses on its own
                    log.warning("source %s: could not hand its lease over: %s", sup.src.name, e)
        if self.http is not None:
            await self.http.close()
