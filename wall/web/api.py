"""JSON API: recent posts, health and metrics."""

from __future__ import annotations

import logging
import time

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from wall.bus.base import Engine, writer_lease
from wall.health import shown
from wall.web.http import error, json_response
from wall.web.inputs import query_int
from wall.web.keys import ENGINE, HEALTH, HUBS, METRICS
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


async def healthz(request: web.Request) -> web.Response:
    app = request.app
    engine = app[ENGINE]
    walls: dict[str, dict[str, object]] = {}
    problems: list[str] = []
    for name, hub in app[HUBS].items():
        walls[name] = hub.status()
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
    for raw in records.values():
        record = shown(raw, now)
        for wall in record["walls"]:  # type: ignore[attr-defined]
            if wall in walls:
                walls[wall]["sources"].append(record)  # type: ignore[attr-defined]
        if record["state"] in ("failing", "stale"):
            problems.append(f"source {record['name']}: {record['error']}")
    bus = engine.status()
    if not bus.connected:
        problems.append(f"bus: {bus.error or 'not connected'}")
    return json_response({
        "status": "degraded" if problems else "ok",
        "version": version(app),
        "engine": bus.engine,
        "bus": {"connected": bus.connected, "error": bus.error},
        "problems": problems,
        "walls": walls,
    })


async def metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[METRICS].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
