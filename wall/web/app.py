"""The web node's part of an application: pages, the screens' socket, the JSON API, health, metrics.

It knows nothing of ingest or curation: the composition root (wall/app.py) opens the engine, adds the
routes and background work of the other roles present, and their parts of /healthz.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from aiohttp import web

from wall.config import Config
from wall.media.proxy import MediaSettings
from wall.media.signing import MEDIA_SECRET
from wall.paths import STATIC as STATIC_DIR
from wall.web import api, feeds, pages, ws
from wall.web.admin import add_admin_routes
from wall.web.alerts import add_alerts_routes
from wall.web.auth import add_auth_routes
from wall.web.console import add_console_routes
from wall.web.control_api import add_control_routes
from wall.web.display import Tally, flushing
from wall.web.drain import add_drain
from wall.web.errors import errors
from wall.web.fleet import add_fleet_routes
from wall.web.hub import Hub
from wall.web.insights import add_insights_routes
from wall.web.keys import (
    CONFIG,
    ENGINE,
    HEALTH,
    HUBS,
    LOOKS,
    METRICS,
    STATIC,
    STORE,
    TALLY,
    TRENDS,
    HealthPart,
)
from wall.web.limits import add_limits, body_deadline
from wall.web.looks import Looks
from wall.web.media import MEDIA, add_media_routes, media_ctx
from wall.web.metrics import Metrics
from wall.web.openapi import add_openapi_route
from wall.web.password import add_password_routes
from wall.web.polls import add_poll_routes
from wall.web.private import keys_ctx, private_walls
from wall.web.qa import add_qa_routes
from wall.web.rundown import add_rundown_routes
from wall.web.security import security_headers
from wall.web.static import StaticFiles
from wall.web.tokens import add_token_routes
from wall.web.trends import TrendsTask

log = logging.getLogger(__name__)
TICK_INTERVAL = 15.0  # seconds; the page treats 45 s of silence as a dead connection

CleanupContext = Callable[[web.Application], AsyncIterator[None]]


def create_web_app(cfg: Config, metrics: Metrics, before: list[CleanupContext]) -> web.Application:
    """A web node for the configured walls; `before` are the contexts that set app[ENGINE], app[STORE]
    and the like."""
    app = web.Application(middlewares=[security_headers, errors, body_deadline, private_walls],
                          client_max_size=cfg.web.max_body_bytes)
    app[CONFIG] = cfg
    app[METRICS] = metrics
    app[STATIC] = StaticFiles(STATIC_DIR)
    hubs: dict[str, Hub] = {}
    app[HUBS] = hubs
    app[LOOKS] = looks = Looks(cfg, hubs)
    app[TALLY] = Tally(metrics.registry)
    health: list[HealthPart] = [looks]  # the roles present add theirs
    app[HEALTH] = health
    add_limits(app)
    add_drain(app)
    app.cleanup_ctx.extend(before)
    app.cleanup_ctx.append(keys_ctx)
    app.cleanup_ctx.append(_media_ctx)
    app.cleanup_ctx.append(_hubs_ctx)
    app.cleanup_ctx.append(_looks_ctx)
    app.cleanup_ctx.append(_tick_ctx)
    app.cleanup_ctx.append(_display_ctx)
    app.cleanup_ctx.append(_trends_ctx)
    app.on_shutdown.append(_close_screens)

    r = app.router
    r.add_get("/", pages.index)
    r.add_get("/w/{wall}", pages.wall_page)
    r.add_get("/w/{wall}/ws", ws.wall_socket)
    r.add_get("/w/{wall}/ticker", pages.ticker_page)
    r.add_get("/w/{wall}/qr.svg", pages.qr_code)
    r.add_get("/w/{wall}/sw.js", pages.service_worker)
    r.add_get("/w/{wall}/feed.json", feeds.json_feed)
    r.add_get("/w/{wall}/feed.xml", feeds.rss_feed)
    r.add_get("/static/{digest}/{path:.+}", pages.static)
    r.add_get("/demo/media/{name}", pages.demo_media)
    r.add_get("/api/v1/walls/{wall}/posts", api.recent_posts)
    r.add_get("/healthz", api.healthz)
    r.add_get("/metrics", api.metrics)
    add_media_routes(app)
    add_auth_routes(app)
    add_console_routes(app)
    add_admin_routes(app)
    add_insights_routes(app)
    add_password_routes(app)
    add_fleet_routes(app)
    add_control_routes(app)
    add_rundown_routes(app)
    add_qa_routes(app)
    add_poll_routes(app)
    add_token_routes(app)
    add_alerts_routes(app)
    add_openapi_route(app)
    return app


def media_settings(cfg: Config, secret: str) -> MediaSettings:
    cache = Path(cfg.media.cache_dir) if cfg.media.cache_dir else Path(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "wall" / "media"
    return MediaSettings(cache, cfg.media.cache_bytes, secret, cfg.media.allow_hosts, cfg.media.max_bytes,
                         cfg.media.timeout)


async def _media_ctx(app: web.Application) -> AsyncIterator[None]:
    """The media proxy, with the installation's shared signing secret (configured, or made on the bus)."""
    cfg = app[CONFIG]
    secret = cfg.media.secret or await app[ENGINE].shared_secret(MEDIA_SECRET)
    inner = media_ctx(media_settings(cfg, secret), app[METRICS].registry)(app)
    await inner.__anext__()
    yield
    with contextlib.suppress(StopAsyncIteration):
        await inner.__anext__()


async def _hubs_ctx(app: web.Application) -> AsyncIterator[None]:
    for wall in app[CONFIG].walls.values():
        hub = Hub(wall, app[ENGINE], app[METRICS], prefetch=app[MEDIA].prefetch_shown)
        await hub.start()
        app[HUBS][wall.name] = hub
    yield
    for hub in app[HUBS].values():
        await hub.stop()


async def _looks_ctx(app: web.Application) -> AsyncIterator[None]:
    """Every wall shows its published look on this node (wall/web/looks.py)."""
    task = asyncio.create_task(app[LOOKS].keep(), name="looks")
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def _tick_ctx(app: web.Application) -> AsyncIterator[None]:
    """Keepalive ticks are each node's own: proof that this node's link to the screen is alive."""

    async def tick() -> None:
        while True:
            await asyncio.sleep(TICK_INTERVAL)
            for hub in app[HUBS].values():
                hub.tick()

    task = asyncio.create_task(tick())
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def _display_ctx(app: web.Application) -> AsyncIterator[None]:
    """What the screens showed goes to the store's display log every [web] display_flush seconds, and
    once more when the node stops (its screens are closed by then, the store still open)."""
    async with flushing(app[TALLY], app[STORE], app[HUBS], app[CONFIG].web.display_flush):
        yield


async def _trends_ctx(app: web.Application) -> AsyncIterator[None]:
    """Each wall's figures against its past, from the store's roll-ups, once a minute for all its screens."""
    hubs = app[HUBS]
    walls = app[CONFIG].walls
    task = TrendsTask(app[STORE].rollups, {name: hub.set_trends for name, hub in hubs.items()},
                      {name: w.screen.night.timezone for name, w in walls.items()})
    app[TRENDS] = task
    task.start()
    yield
    await task.stop()


async def _close_screens(app: web.Application) -> None:
    for hub in app[HUBS].values():
        await hub.close_clients()
