"""The web node: one aiohttp application per process, built by create_app()."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator

from aiohttp import web

from ingest.pipeline import Pipeline
from ingest.runner import start_sources
from wall.bus import open_engine
from wall.bus.base import Engine
from wall.config import Config
from wall.paths import STATIC as STATIC_DIR
from wall.web import api, pages, ws
from wall.web.hub import Hub
from wall.web.keys import CONFIG, ENGINE, HUBS, METRICS, NODE, PIPELINE, SOURCES, STATIC
from wall.web.metrics import Metrics
from wall.web.security import security_headers
from wall.web.static import StaticFiles

log = logging.getLogger("wall.web")
TICK_INTERVAL = 15.0  # seconds; the page treats 45 s of silence as a dead connection


def create_app(cfg: Config, *, run_sources: bool = False, engine: Engine | None = None) -> web.Application:
    """A web node for the configured walls. With run_sources it also runs their pulled sources (the demo)."""
    app = web.Application(middlewares=[security_headers], client_max_size=cfg.web.max_body_bytes)
    app[CONFIG] = cfg
    app[METRICS] = Metrics()
    app[STATIC] = StaticFiles(STATIC_DIR)
    app[NODE] = secrets.token_hex(6)
    app[HUBS] = {}
    app[SOURCES] = []
    app.cleanup_ctx.append(_engine_ctx(engine))
    app.cleanup_ctx.append(_hubs_ctx)
    app.cleanup_ctx.append(_background_ctx)
    if run_sources:
        app.cleanup_ctx.append(_sources_ctx)
    app.on_shutdown.append(_close_screens)

    r = app.router
    r.add_get("/", pages.index)
    r.add_get("/w/{wall}", pages.wall_page)
    r.add_get("/w/{wall}/ws", ws.wall_socket)
    r.add_get("/static/{digest}/{path:.+}", pages.static)
    r.add_get("/demo/media/{name}", pages.demo_media)
    r.add_post("/api/v1/walls/{wall}/posts", api.webhook)
    r.add_get("/api/v1/walls/{wall}/posts", api.recent_posts)
    r.add_get("/healthz", api.healthz)
    r.add_get("/metrics", api.metrics)
    return app


def _engine_ctx(given: Engine | None):  # type: ignore[no-untyped-def]
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        app[ENGINE] = given or open_engine(app[CONFIG].bus)
        app[PIPELINE] = Pipeline(app[ENGINE])
        yield
        if given is None:  # an engine handed in belongs to the caller
            await app[ENGINE].close()

    return ctx


async def _hubs_ctx(app: web.Application) -> AsyncIterator[None]:
    cfg = app[CONFIG]
    for wall in cfg.walls.values():
        hub = Hub(wall, app[ENGINE], app[METRICS])
        await hub.start()
        app[HUBS][wall.name] = hub
    yield
    for hub in app[HUBS].values():
        await hub.stop()


async def _background_ctx(app: web.Application) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(_publish_stats(app)), asyncio.create_task(_tick(app))]
    yield
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _tick(app: web.Application) -> None:
    while True:
        await asyncio.sleep(TICK_INTERVAL)
        for hub in app[HUBS].values():
            hub.tick()


async def _publish_stats(app: web.Application) -> None:
    """Every node counts what it sees; the node holding a wall's lease publishes the figures for all."""
    cfg, engine = app[CONFIG], app[ENGINE]
    published: dict[str, bytes] = {}
    while True:
        await asyncio.sleep(cfg.stats_interval)
        for name, hub in app[HUBS].items():
            try:
                if not await engine.lease(f"stats:{name}", app[NODE], cfg.stats_interval * 3):
                    continue
                body = hub.stats_body()
                if published.get(name) != body:
                    await engine.publish(name, body)
                    published[name] = body
            except Exception as e:
                log.warning("wall %s: cannot publish stats: %s", name, e)


async def _sources_ctx(app: web.Application) -> AsyncIterator[None]:
    tasks, statuses = start_sources(app[CONFIG], app[PIPELINE])
    app[SOURCES].extend(statuses)
    yield
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _close_screens(app: web.Application) -> None:
    for hub in app[HUBS].values():
        await hub.close_clients()
