"""The console's Q&A queue of a wall (docs/qa.md): a phone-friendly page that lists the questions the
curation writer found, and the JSON routes its buttons call. Curators approve, reject, merge and order;
presenters (and curators) show one on the "qa" scene and mark it answered. Every action goes through
`Actions.qa_act` (app[ACTIONS]), audited with the user's name."""

from __future__ import annotations

import time
from typing import Annotated

import msgspec
from aiohttp import web

from wall.web.auth import identity, require
from wall.web.console import attempt, page, read, wall_of
from wall.web.http import error, json_response
from wall.web.moderation import ACTIONS, QA_MODERATE, QA_PRESENT

Number = Annotated[int, msgspec.Meta(ge=1, le=10_000_000, description="a question's number (Q3: 3)")]


class QaBody(msgspec.Struct, forbid_unknown_fields=True):
    number: Number
    action: Annotated[str, msgspec.Meta(max_length=20)]
    into: Number | None = None  # merge: the question this one duplicates


@require("presenter")
async def qa_page(request: web.Request) -> web.Response:
    wall = wall_of(request)
    return page(request, "console/qa.html", wall=wall,
                moderator=identity(request).can("curator"))


@require("presenter")
async def qa_items(request: web.Request) -> web.Response:
    wall = wall_of(request)
    questions = await attempt(request.app[ACTIONS].qa_queue(wall.name))
    return json_response({"wall": wall.name, "questions": questions, "server_time": time.time()})


@require("presenter")
async def qa_act(request: web.Request) -> web.StreamResponse:
    wall = wall_of(request)
    body = await read(request, QaBody)
    if body.action not in (*QA_MODERATE, *QA_PRESENT):
        return error(400, f"action: one of {', '.join((*QA_MODERATE, *QA_PRESENT))}")
    if body.action in QA_MODERATE and not identity(request).can("curator"):
        return error(403, f"{body.action}: a curator's action (presenters show and mark answered)")
    result = await attempt(request.app[ACTIONS].qa_act(wall.name, identity(request).username, body.number,
                                                       body.action, body.into))
    return json_response({"ok": True, "result": result})


def add_qa_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/console/w/{wall}/qa", qa_page)
    r.add_get("/console/api/w/{wall}/qa", qa_items)
    r.add_post("/console/api/w/{wall}/qa", qa_act)
