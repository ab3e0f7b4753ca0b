"""The console's Alerts page (admins): each wall's alert targets (by name, type and host: their URLs are
secrets) and every delivery's state (pending, sent, failed and why, attempts); a test alert per target
(docs/alerts.md). The alerts job (wall/alerts/job.py) sends what is queued here."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from aiohttp import web

from wall.alerts.detect import Alert
from wall.redact import redact_url
from wall.store.audit import Event
from wall.web.auth import identity, require
from wall.web.console import page
from wall.web.http import error
from wall.web.inputs import form
from wall.web.keys import CONFIG, STORE

SHOWN = 200  # deliveries on the page, newest first


def _when(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S")


@require("admin")
async def alerts_page(request: web.Request) -> web.Response:
    walls = request.app[CONFIG].walls
    chosen = request.query.get("wall", "")
    if chosen and chosen not in walls:
        return error(404, f"no wall named {chosen[:64]!r}")
    targets = [{"wall": w.name, "name": t.name, "type": t.type, "where": redact_url(t.url),
                "kinds": ", ".join(sorted(t.kinds)), "per_hour": t.per_hour}
               for w in walls.values() for t in w.alerts.targets]
    found = await request.app[STORE].alerts.recent([chosen] if chosen else None, SHOWN)
    rows = [{"d": d, "title": str(d.body.get("title", d.key)), "created": _when(d.created_at),
             "updated": _when(d.updated_at),
             "next": _when(d.next_at) if d.state == "pending" else ""} for d in found]
    return page(request, "console/alerts.html", targets=targets, rows=rows, chosen=chosen,
                queued=request.query.get("queued", ""))


@require("admin")
async def test_alert(request: web.Request) -> web.StreamResponse:
    """POST wall + target: a test alert queued for that target now (no dedupe), sent like any other."""
    fields = await form(request)
    wall = request.app[CONFIG].walls.get(fields.get("wall", ""))
    target = None if wall is None else next(
        (t for t in wall.alerts.targets if t.name == fields.get("target")), None)
    if wall is None or target is None:
        return error(404, "no such wall, or the wall has no alert target of that name")
    actor, now = identity(request).username, time.time()
    alert = Alert("test", f"test:{now:.6f}", wall.name, wall.title, f"Test alert for {wall.title}",
                  f"{actor} sent this from the console to check that alerts reach {target.name}.", now)
    store = request.app[STORE]
    await store.alerts.queue(wall.name, target.name, alert.key, alert.kind, alert.body(), dedupe=0.0,
                             per_hour=target.per_hour, now=now)
    await store.audit.record(Event("alert.test", actor, wall.name, target.name))
    raise web.HTTPSeeOther(f"/console/alerts?wall={wall.name}&queued={target.name}")


def add_alerts_routes(app: web.Application) -> None:
    app.router.add_get("/console/alerts", alerts_page)
    app.router.add_post("/console/alerts/test", test_alert)
