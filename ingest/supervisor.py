"""Runs the configured sources: each connector's items go to its wall's inbox, its cursor to the store."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass

import aiohttp

from ingest.connector import Checkpoint, Connector, Delete, SourceContext, SourceError, Throttled, Upsert
from ingest.pipeline import Pipeline
from ingest.registry import REGISTRY
from wall.bus.base import Store, backoff
from wall.config import Config, SourceConfig

log = logging.getLogger(__name__)


@dataclass
class SourceStatus:
    """What a running source last did, for /healthz and the logs."""

    wall: str
    name: str
    state: str = "starting"  # starting | running | throttled | failing | finished
    error: str | None = None
    posts: int = 0
    last_post_at: float | None = None
    retry_at: float | None = None

    def ok(self) -> None:
        self.state, self.error, self.retry_at = "running", None, None
        self.posts += 1
        self.last_post_at = time.time()

    def failed(self, error: str, retry_in: float | None = None) -> None:
        self.state, self.error = "failing", error
        self.retry_at = None if retry_in is None else time.time() + retry_in

    def as_dict(self) -> dict[str, object]:
        age = None if self.last_post_at is None else round(time.time() - self.last_post_at, 1)
        retry = None if self.retry_at is None else round(max(0.0, self.retry_at - time.time()), 1)
        return {"name": self.name, "state": self.state, "error": self.error, "posts": self.posts,
                "last_post_age_s": age, "retry_in_s": retry}


def make_connector(src: SourceConfig, ctx: SourceContext) -> Connector | None:
    """The connector for a source; None for sources that are not pulled (webhooks arrive at web nodes)."""
    connector: Connector | None = REGISTRY[src.type].build(src.name, src.options, ctx)
    return connector


class StoreState:
    """A connector's KeyValue in the engine's store, scoped to its source."""

    def __init__(self, store: Store, scope: str) -> None:
        self.store, self.scope = store, scope

    async def get(self, key: str) -> str | None:
        return await self.store.get_cursor(f"{self.scope}:state:{key}")

    async def set(self, key: str, value: str) -> None:
        await self.store.set_cursor(f"{self.scope}:state:{key}", value)


async def run_source(wall: str, connector: Connector, pipeline: Pipeline, store: Store,
                     status: SourceStatus) -> None:
    """Feed one connector into its wall's inbox forever, resuming from its cursor after any failure."""
    key = f"{wall}:{connector.name}"
    attempt = 0
    while True:
        try:
            saved = await store.get_cursor(key)
            async for item in connector.stream(saved):
                match item:
                    case Upsert(post=post):
                        await pipeline.submit(wall, post)
                        status.ok()
                        attempt = 0
                    case Delete(post_id=pid, reason=reason):
                        await pipeline.retract(wall, pid, reason)
                    case Checkpoint(cursor=cursor):
                        await store.set_cursor(key, cursor)
                    case Throttled(until=until, reason=reason):
                        status.state, status.error, status.retry_at = "throttled", reason, until
            status.state = "finished"
            log.info("source %s of wall %s finished", connector.name, wall)
            return
        except asyncio.CancelledError:
            raise
        except Exception as e:
            retry_after = e.retry_after if isinstance(e, SourceError) else None
            delay = retry_after if retry_after is not None else backoff(attempt, base=1.0, cap=60.0)
            said = str(e) if isinstance(e, SourceError) else f"{type(e).__name__}: {e}"
            status.failed(said, delay)
            log.warning("source %s of wall %s failed: %s; retrying in %.1f s",
                        connector.name, wall, said, delay)
            attempt += 1
            await asyncio.sleep(delay)


def start_sources(cfg: Config, pipeline: Pipeline, store: Store,
                  http: aiohttp.ClientSession) -> tuple[list[asyncio.Task[None]], list[SourceStatus]]:
    """Start a task per pulled source of every wall."""
    tasks, statuses = [], []
    for wall in cfg.walls.values():
        for src in wall.sources:
            status = SourceStatus(wall.name, src.name)
            try:
                ctx = SourceContext(http, StoreState(store, f"{wall.name}:{src.name}"), os.environ)
                connector = make_connector(src, ctx)
            except ValueError as e:  # a bad dataset or the like: say so, keep the other sources going
                log.error("source %s of wall %s cannot start: %s", src.name, wall.name, e)
                status.failed(str(e))
                statuses.append(status)
                continue
            if connector is None:
                continue
            statuses.append(status)
            tasks.append(asyncio.create_task(run_source(wall.name, connector, pipeline, store, status)))
    return tasks, statuses


class Sources:
    """The ingest role: every pulled source of the config, run while the context is open."""

    def __init__(self, cfg: Config, pipeline: Pipeline, store: Store) -> None:
        self.cfg, self.pipeline, self.store = cfg, pipeline, store
        self.tasks: list[asyncio.Task[None]] = []
        self.statuses: list[SourceStatus] = []
        self.http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Sources:
        self.http = aiohttp.ClientSession()  # one per process, shared by every connector
        self.tasks, self.statuses = start_sources(self.cfg, self.pipeline, self.store, self.http)
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.http is not None:
            await self.http.close()

    def wall_health(self, wall: str) -> dict[str, object]:
        return {"sources": [s.as_dict() for s in self.statuses if s.wall == wall]}

    def problems(self) -> list[str]:
        return [f"{s.wall}: source {s.name}: {s.error}" for s in self.statuses if s.state == "failing"]
