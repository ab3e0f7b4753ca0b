"""JSON API: recent posts, health and metrics."""

from __future__ import annotations

import hmac
import logging
import time
from collections import Counter

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from wall.bus.base import Engine, writer_lease
from wall.health import shown
from wall.web.auth import current, session_tokens
from wall.web.drain import DRAIN
from wall.web.http import error, json_response
from wall.web.inputs import query_int
from wall.web.keys import CONFIG, ENGINE, HEALTH, HUBS, METRICS
from wall.web.metrics import without_private_walls
from wall.web.pages import version

log = logging.getLogger(__name__)
NO_WRITER = ("no curation writer holds this wall's lease: its posts wait in the inbox; "
             "run `wall ingest --config FILE` (it runs the writers)")


async def recent_posts(request: web.Request) -> web.Response:
    hub = request.app[HUBS].get(request.match_info["wall"])
    if hub is None:
        return error(404, f"no wall named {request.match_info['wall']!r}")
    limit = query_int(request, "limit", 20, 1, 200)
    return json_response({"wall": hub.wall.name, "last_event_id": hub.last_id,
                          "posts": hub.state.newest(limit)})


async def writer_health(engine: Engine, wall: str) -> dict[str, object]:
    """Who writes the wall, and how much waits for it; an error if nobody does."""
    holder = await engine.holder(writer_lease(wall))
    found: dict[str, object] = {"holder": holder, "backlog": await engine.inbox_backlog(wall)}
    if holder is None:
        found["error"] = NO_WRITER
    return found


async def trusted(request: web.Request) -> bool:
    """A monitor with the health token (`Authorization: Bearer`) or an admin's console session: who may
    see sources, errors, kiosks and private walls by name."""
    token = request.app[CONFIG].web.health_token
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(errors="replace"), f"Bearer {token}".encode()):
        return True
    if not session_tokens(request):
        return False
    try:
        ident = await current(request)
    except Exception:  # the store is down: no session can be checked, and the health answer must go out
        return False
    return ident is not None and ident.can("admin")


async def healthz(request: web.Request) -> web.Response:
    """ok/degraded for anyone, with counts only; the full report for a monitor or an admin. A node on
    its way out (SIGTERM) says 503 "draining", so the proxy's health check stops routing to it."""
    app = request.app
    if app[DRAIN].draining:
        return json_response({"status": "draining", "version": version(app)}, 503)
    engine = app[ENGINE]
    walls: dict[str, dict[str, object]] = {}
    problems: list[str] = []
    for name, hub in app[HUBS].items():
        walls[name] = hub.status()
        if not hub.live:
            problems.append(f"{name}: this node's feed from the bus is not live (reconnecting): its screens "
                            "keep their posts but get nothing new")
        try:
            walls[name]["writer"] = writer = await writer_health(engine, name)
            if "error" in writer:
                problems.append(f"{name}: {NO_WRITER}")
        except Exception as e:  # the bus is down: that is said below
            walls[name]["writer"] = {"error": f"cannot ask the bus: {e}"}
        for part in app[HEALTH]:
            walls[name].update(part.wall_health(name))
    for part in app[HEALTH]:
        problems += part.problems()
    try:
        records = await engine.health_records()
    except Exception:  # the bus is down: said below
        records = {}
    now = time.time()
    for name in walls:
        walls[name]["sources"] = []
    states: Counter[str] = Counter()
    for raw in records.values():
        record = shown(raw, now)
        states[str(record["state"])] += 1
        for wall in record["walls"]:  # type: ignore[attr-defined]
            if wall in walls:
                walls[wall]["sources"].append(record)  # type: ignore[attr-defined]
        if record["state"] in ("failing", "stale"):
            problems.append(f"source {record['name']}: {record['error']}")
    bus = engine.status()
    if not bus.connected:
        problems.append(f"bus: {bus.error or 'not connected'}")
    if not await trusted(request):
        return json_response({
            "status": "degraded" if problems else "ok",
            "version": version(app),
            "engine": bus.engine,
            "bus": {"connected": bus.connected},
            "counts": {"walls": len(walls), "screens": sum(len(h.clients) for h in app[HUBS].values()),
                       "sources": dict(states), "problems": len(problems)},
        })
    return json_response({
        "status": "degraded" if problems else "ok",
        "version": version(app),
        "engine": bus.engine,
        "bus": {"connected": bus.connected, "error": bus.error},
        "problems": problems,
        "walls": walls,
    })


async def metrics(request: web.Request) -> web.Response:
    """The node's series; a private wall's are summed under wall="private" unless the caller is trusted."""
    registry = request.app[METRICS].registry
    if not await trusted(request):
        private = {w.name for w in request.app[CONFIG].walls.values() if w.private}
        registry = without_private_walls(registry, private)
    body = generate_latest(registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
