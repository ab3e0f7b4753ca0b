"""The console's Insights page (curators and admins): a wall and a time range, its figures, charts and
tables (wall/insights/), each table as CSV and the whole as a PDF made in a thread (docs/insights.md)."""

from __future__ import annotations

import asyncio
import time
from typing import NamedTuple
from urllib.parse import urlencode

from aiohttp import web

from wall.config import WallConfig
from wall.insights import Insights, csv_bytes, gather, render_pdf
from wall.insights.model import TABLES
from wall.insights.report import figures
from wall.insights.timefmt import PRESETS, resolve
from wall.web.auth import require
from wall.web.console import page
from wall.web.keys import CONFIG, ENGINE, STORE

PDF_AT_ONCE = 2  # PDFs rendered at the same time per node: each takes a core for a second or more
PDF_SLOTS = web.AppKey("insights_pdf_slots", asyncio.Semaphore)


class Choice(NamedTuple):
    """What the form asked for, as the links carry it on."""

    wall: WallConfig
    preset: str
    start: str
    end: str

    def query(self) -> str:
        return urlencode({"wall": self.wall.name, "range": self.preset, "from": self.start, "to": self.end})


def _choice(request: web.Request) -> Choice | None:
    """The query's wall and range; None when no wall is named yet; 400 for a wall that does not exist."""
    q = request.query
    name = q.get("wall", "")
    if not name:
        return None
    wall = request.app[CONFIG].walls.get(name)
    if wall is None:
        raise web.HTTPBadRequest(text=f"wall: no wall named {name[:64]!r}")
    return Choice(wall, q.get("range", "today")[:16], q.get("from", "")[:32], q.get("to", "")[:32])


async def _insights(request: web.Request, choice: Choice) -> Insights:
    tz = choice.wall.screen.night.timezone
    try:
        start, end = resolve(choice.preset, choice.start, choice.end, tz, time.time())
    except ValueError as e:
        raise web.HTTPBadRequest(text=str(e)) from None
    return await gather(request.app[STORE], choice.wall.name, start, end, tz=tz, recent=request.app[ENGINE])


@require("curator")
async def insights_page(request: web.Request) -> web.Response:
    try:
        choice = _choice(request)
        insights = await _insights(request, choice) if choice else None
    except web.HTTPBadRequest as e:
        response = page(request, "console/insights.html", choice=None, presets=PRESETS, message=e.text,
                        csv=None, query="")
        response.set_status(400)
        return response
    context = figures(insights) if insights else {}
    query = choice.query() if choice else ""
    return page(request, "console/insights.html", choice=choice, presets=PRESETS, message="", query=query,
                csv=lambda name: f"/console/insights/csv/{name}?{query}", **context)


@require("curator")
async def insights_csv(request: web.Request) -> web.Response:
    name = request.match_info["table"]
    if name not in TABLES:
        raise web.HTTPNotFound(text=f"no table named {name[:32]!r}; one of {', '.join(TABLES)}")
    choice = _choice(request)
    if choice is None:
        raise web.HTTPBadRequest(text="wall: name the wall, e.g. ?wall=lobby&range=today")
    insights = await _insights(request, choice)
    filename = f"{_stem(insights)}-{name}.csv"
    return web.Response(body=csv_bytes(insights.table(name)), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"',
                                 "Cache-Control": "no-store"})


@require("curator")
async def insights_pdf(request: web.Request) -> web.Response:
    choice = _choice(request)
    if choice is None:
        raise web.HTTPBadRequest(text="wall: name the wall, e.g. ?wall=lobby&range=today")
    insights = await _insights(request, choice)
    title = f"{choice.wall.title or choice.wall.name}: {PRESETS.get(choice.preset, choice.preset)}"
    async with request.app[PDF_SLOTS]:
        pdf = await asyncio.get_running_loop().run_in_executor(None, render_pdf, insights, title)
    return web.Response(body=pdf, content_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{_stem(insights)}.pdf"', "Cache-Control": "no-store"})


def _stem(i: Insights) -> str:
    """wall-2026-05-14 or wall-2026-05-14-2026-05-20: the wall's name is [a-z0-9_-] (config check)."""
    first, last = time.strftime("%Y-%m-%d", time.gmtime(i.start)), time.strftime("%Y-%m-%d",
                                                                                 time.gmtime(i.end - 1))
    return f"{i.wall}-{first}" if first == last else f"{i.wall}-{first}-{last}"


def add_insights_routes(app: web.Application) -> None:
    app[PDF_SLOTS] = asyncio.Semaphore(PDF_AT_ONCE)
    app.router.add_get("/console/insights", insights_page)
    app.router.add_get("/console/insights/csv/{table}", insights_csv)
    app.router.add_get("/console/insights/report.pdf", insights_pdf)
