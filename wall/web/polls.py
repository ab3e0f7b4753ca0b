"""The console's polls (docs/polls.md): list and prepare a wall's polls, and export their results as CSV.
Opening, closing and hiding one are presenter controls (ops poll_open VALUE=id, poll_close, poll_hide) on
the console's control route and the control API, so the audit and the writer see them one way."""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from wall.web.auth import identity, require
from wall.web.console import attempt, read, wall_of
from wall.web.http import json_response
from wall.web.moderation import ACTIONS


class PollBody(msgspec.Struct, forbid_unknown_fields=True):
    question: str
    options: list[dict[str, Any]]
    open: bool = False  # open it at once (the presenter page's "Open now")


@require("presenter")
async def polls(request: web.Request) -> web.Response:
    wall = wall_of(request)
    return json_response({"wall": wall.name, "polls": await request.app[ACTIONS].polls(wall.name)})


@require("presenter")
async def create_poll(request: web.Request) -> web.Response:
    """Prepare a poll, and open it when the body says so."""
    wall = wall_of(request)
    body = await read(request, PollBody)
    actions, actor = request.app[ACTIONS], identity(request).username
    poll = await attempt(actions.create_poll(wall.name, actor, body.question, body.options))
    if body.open:
        poll = (await attempt(actions.control(wall.name, actor, "poll_open", str(poll["id"]))))["poll"]
    return json_response({"ok": True, "poll": poll})


@require("presenter")
async def polls_csv(request: web.Request) -> web.Response:
    """Every poll's result, one row per option; no voter is named."""
    wall = wall_of(request)
    body = await request.app[ACTIONS].polls_csv(wall.name)
    return web.Response(text=body, content_type="text/csv", charset="utf-8", headers={
        "Content-Disposition": f'attachment; filename="{wall.name}-polls.csv"', "Cache-Control": "no-store"})


def add_poll_routes(app: web.Application) -> None:
    app.router.add_get("/console/api/w/{wall}/polls", polls)
    app.router.add_post("/console/api/w/{wall}/polls", create_poll)
    app.router.add_get("/console/w/{wall}/polls.csv", polls_csv)
