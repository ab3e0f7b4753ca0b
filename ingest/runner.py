"""Runs the configured sources of the walls and publishes what they yield."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from ingest.base import Connector, SourceStatus
from ingest.pipeline import Pipeline
from ingest.replay import BUILTIN, ReplaySource
from wall.bus.base import backoff
from wall.config import Config, SourceConfig

log = logging.getLogger("wall.ingest")


def make_connector(src: SourceConfig) -> Connector | None:
    """The connector for a source; None for sources that are not pulled (webhooks arrive at web nodes)."""
    if src.type == "replay":
        dataset = src.options.get("dataset", "builtin")
        return ReplaySource(
            src.name,
            BUILTIN if dataset == "builtin" else Path(dataset),
            interval=float(src.options.get("interval", 3.0)),
            loop=bool(src.options.get("loop", True)),
        )
    return None


async def run_source(wall: str, connector: Connector, pipeline: Pipeline, status: SourceStatus) -> None:
    """Feed one connector into the pipeline forever, resuming from its cursor after any failure."""
    key = f"{wall}:{connector.name}"
    attempt = 0
    while True:
        try:
            saved = await pipeline.engine.get_cursor(key)
            async for post, cursor in connector.stream(saved):
                await pipeline.submit(wall, post)
                await pipeline.engine.set_cursor(key, cursor)
                status.ok()
                attempt = 0
            status.state = "finished"
            log.info("source %s of wall %s finished", connector.name, wall)
            return
        except asyncio.CancelledError:
            raise
        except Exception as e:
            status.failed(f"{type(e).__name__}: {e}")
            delay = backoff(attempt, base=1.0, cap=60.0)
            log.warning("source %s of wall %s failed: %s; retrying in %.1f s", connector.name, wall, e, delay)
            attempt += 1
            await asyncio.sleep(delay)


def start_sources(cfg: Config, pipeline: Pipeline) -> tuple[list[asyncio.Task[None]], list[SourceStatus]]:
    """Start a task per pulled source of every wall."""
    tasks, statuses = [], []
    for wall in cfg.walls.values():
        for src in wall.sources:
            status = SourceStatus(wall.name, src.name)
            try:
                connector = make_connector(src)
            except ValueError as e:  # a bad dataset or the like: say so, keep the other sources going
                log.error("source %s of wall %s cannot start: %s", src.name, wall.name, e)
                status.failed(str(e))
                statuses.append(status)
                continue
            if connector is None:
                continue
            statuses.append(status)
            tasks.append(asyncio.create_task(run_source(wall.name, connector, pipeline, status)))
    return tasks, statuses
