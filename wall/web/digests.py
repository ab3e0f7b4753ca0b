"""The console's Digests page (admins): each wall's digest schedule and what became of the latest
digests, sent or failed and why (wall/store/digests.py, docs/digests.md)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from aiohttp import web

from wall.web.auth import require
from wall.web.console import ago, page
from wall.web.keys import CONFIG, STORE

SHOWN = 100


@require("admin")
async def digests_page(request: web.Request) -> web.Response:
    cfg, now = request.app[CONFIG], time.time()
    schedules = [(w, w.digest) for w in cfg.walls.values() if w.digest is not None]
    rows = [{"d": d, "when": datetime.fromtimestamp(d.updated_at, UTC).strftime("%Y-%m-%d %H:%M"),
             "ago": ago(now - d.updated_at)} for d in await request.app[STORE].digests.recent(SHOWN)]
    return page(request, "console/digests.html", schedules=schedules, rows=rows, smtp=cfg.smtp)


def add_digest_routes(app: web.Application) -> None:
    app.router.add_get("/console/digests", digests_page)
