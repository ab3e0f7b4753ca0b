"""The console's rundown: curators write the run of show of an event (items of scene, duration, title and
speaker notes) on a phone; presenters read it, notes included, on the presenter page and step through it
with the control ops `rundown_next`/`rundown_prev`/`rundown_go` (wall/curate/stage.py). Notes stay in the
console: the screens' control event carries only the current item's id (docs/rundown.md)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from aiohttp import web

from wall.screen import SCENES
from wall.web.auth import identity, require
from wall.web.console import attempt, page, read, wall_of
from wall.web.http import json_response
from wall.web.moderation import ACTIONS


class RundownBody(msgspec.Struct, forbid_unknown_fields=True):
    change: str  # add | edit | remove | move
    id: Annotated[int, msgspec.Meta(ge=1, le=2**31)] | None = None
    scene: str = ""
    seconds: float = 0.0
    title: str = ""
    notes: Annotated[str, msgspec.Meta(max_length=8000)] = ""
    position: Annotated[int, msgspec.Meta(ge=0, le=10_000)] | None = None


@require("curator")
async def rundown_page(request: web.Request) -> web.Response:
    """The rundown editor (phone-friendly): the items in order, a form to add one, each editable."""
    wall = wall_of(request)
    return page(request, "console/rundown.html", wall=wall, scenes=SCENES)


@require("presenter")
async def rundown_items(request: web.Request) -> web.Response:
    wall = wall_of(request)
    return json_response({"wall": wall.name, "items": await attempt(request.app[ACTIONS].rundown(wall.name))})


@require("curator")
async def rundown_edit(request: web.Request) -> web.StreamResponse:
    wall = wall_of(request)
    body = await read(request, RundownBody)
    fields: dict[str, Any] = {"scene": body.scene, "seconds": body.seconds, "title": body.title,
                              "notes": body.notes}
    result = await attempt(request.app[ACTIONS].edit_rundown(
        wall.name, identity(request).username, body.change, body.id, fields, body.position))
    return json_response({"ok": True, "result": result})


def add_rundown_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/console/w/{wall}/rundown", rundown_page)
    r.add_get("/console/api/w/{wall}/rundown", rundown_items)
    r.add_post("/console/api/w/{wall}/rundown", rundown_edit)
