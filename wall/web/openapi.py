"""GET /api/openapi.json: an OpenAPI 3.1 description of every JSON route (webhook, public API, console
API, fleet API).

Request bodies are the msgspec Structs the routes decode into (msgspec.json.schema_components), so the
description cannot drift from what a route accepts; replies are described here, loosely where a reply
carries a record whose fields grow (a post, a kiosk's status). A role that adds routes (the webhook, from
ingest) adds its operations with `describe()`. tests/test_openapi.py checks the description against
docs/api.md and runs schemathesis over it against a live node.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec
from aiohttp import web

from wall import __version__
from wall.web import console, control_api, fleet, password, polls, qa, rundown
from wall.web.http import json_response

PATH = "/api/openapi.json"
JSON = "application/json"

ERROR: dict[str, Any] = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}
WHY = {400: "the body, a parameter or a header is not usable; the message says what",
       401: "not authenticated (no or wrong token, no session)",
       403: "not allowed (a role, the CSRF token, a private wall's display key)",
       404: "no such wall, post, kiosk or code", 408: "the body did not arrive in time",
       409: "someone changed it first", 410: "expired",
       413: "body too large", 415: "the body is not JSON", 422: "valid JSON of the wrong shape, or a value "
       "out of range; the message names the field", 429: "too many requests; wait", 503: "the bus is down"}
WALL = {"name": "wall", "in": "path", "required": True, "schema": {"type": "string"}, "example": "lobby"}
OBJECT: dict[str, Any] = {"type": "object"}


def obj(*required: str, **properties: Any) -> dict[str, Any]:
    """An object reply with these keys always present (more may be added without breaking clients)."""
    props = {name: {} for name in required} | properties
    return {"type": "object", "required": list(required), "properties": props}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    ok: int = 200
    reply: dict[str, Any] = field(default_factory=lambda: OBJECT)
    body: Any = None  # the msgspec type the route decodes its JSON body into (a tuple: any one of them)
    errors: tuple[int, ...] = ()
    security: tuple[str, ...] = ()
    parameters: tuple[dict[str, Any], ...] = ()
    media_type: str = JSON  # of the successful reply


OPERATIONS = web.AppKey("openapi_operations", list[Operation])
SESSION = ("session", "csrf")  # a console session; POSTs also need the session's CSRF token
CONSOLE_ERRORS = (401, 403, 404)
BODY_ERRORS = (400, 408, 413, 415, 422)  # 408: the body did not arrive in time ([web] body_timeout)
OK_RESULT = obj("ok", "result", ok={"type": "boolean"})


def _wall_route(method: str, tail: str, summary: str, body: Any = None, reply: dict[str, Any] = OK_RESULT,
                errors: tuple[int, ...] = (), query: tuple[dict[str, Any], ...] = (), **kw: Any) -> Operation:
    """A console route of one wall: a session of the right role; a body's errors when it takes one."""
    errs = CONSOLE_ERRORS + (BODY_ERRORS if body is not None else ()) + errors
    return Operation(method, f"/console/api/w/{{wall}}/{tail}", summary, reply=reply, body=body,
                     errors=errs, security=SESSION if method == "POST" else ("session",),
                     parameters=(WALL, *query), **kw)


KIOSK_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
BUILT_IN = [
    Operation("GET", PATH, "this description (OpenAPI 3.1)"),
    Operation("GET", "/api/v1/walls/{wall}/posts", "the wall's newest visible posts, newest first",
              reply=obj("wall", "last_event_id", "posts", posts={"type": "array"}), errors=(400, 403, 404),
              parameters=(WALL, {"name": "limit", "in": "query", "schema": {
                  "type": "integer", "minimum": 1, "maximum": 200, "default": 20}})),
    Operation("GET", "/healthz", "ok or degraded, and why; 503 while the node drains (SIGTERM)",
              reply=obj("status"), errors=(503,)),
    Operation("POST", "/api/v1/kiosks/enroll", "a new kiosk asks for a pairing code", ok=201,
              body=fleet.EnrollBody, errors=(*BODY_ERRORS, 429),
              reply=obj("code", "poll_token", "expires_in", "poll_interval", "pair_url")),
    Operation("POST", "/api/v1/kiosks/claim", "a pairing kiosk's poll (its poll token)",
              reply=obj("state"), errors=(401, 404, 410), security=("kiosk",)),
    Operation("POST", "/api/v1/kiosks/report", "a paired kiosk's report; the commands queued for it",
              body=fleet.ReportBody, errors=(401, *BODY_ERRORS), security=("kiosk",),
              reply=obj("commands", "report_interval", "screenshot_interval", commands={"type": "array"})),
    _wall_route("GET", "queue", "the wall's recent posts for curators (held ones too)",
                reply=obj("wall", "items", "server_time", items={"type": "array"}), errors=(400,),
                query=({"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 200}},
                            {"name": "status", "in": "query", "schema": {"type": "string"}},
                            {"name": "limit", "in": "query", "schema": {
                                "type": "integer", "minimum": 1, "maximum": 500, "default": 200}})),
    _wall_route("POST", "decide", "approve, reject, hide, pin, spotlight… one post", console.DecideBody,
                errors=(409,)),
    _wall_route("POST", "bulk", "one action on many posts", console.BulkBody,
                reply=obj("ok", "results", results={"type": "array"})),
    _wall_route("POST", "ban", "ban or unban an author", console.BanBody),
    _wall_route("POST", "words", "block or unblock a word", console.WordBody),
    _wall_route("GET", "optouts", "who is opted out of the wall now (docs/optout.md)",
                reply=obj("wall", "optouts", optouts={"type": "array"})),
    _wall_route("POST", "optout", "an admin opts an author out at their request, or ends an opt-out",
                console.OptOutBody),
    _wall_route("POST", "policy", "pre- or post-moderation and the rules' settings", console.PolicyBody),
    _wall_route("POST", "sentiment", "correct a post's sentiment label", console.SentimentBody),
    _wall_route("GET", "labelled", "the corrected labels as JSON lines (`wall sentiment fit`)",
                reply={"type": "string"}, media_type="application/x-ndjson"),
    _wall_route("POST", "sentiment/rollback", "admin: stop using the wall's current sentiment model version",
                errors=(400,)),
    _wall_route("GET", "control", "the wall's live controls", reply=OBJECT),
    _wall_route("POST", "control", "pause, resume, next, scene, panic, announce…", console.ControlBody),
    _wall_route("GET", "rundown", "presenter: the rundown's items in order, speaker notes included",
                reply=obj("wall", "items")),
    _wall_route("POST", "rundown", "curator: add, edit, move or remove a rundown item (docs/rundown.md)",
                rundown.RundownBody),
    _wall_route("GET", "qa", "the Q&A queue: the wall's questions and their votes", reply=OBJECT),
    _wall_route("POST", "qa", "approve, reject, merge, order, show or mark answered a Q&A question",
                qa.QaBody),
    _wall_route("GET", "polls", "the wall's polls with their votes per option (docs/polls.md)",
                reply=obj("wall", "polls", polls={"type": "array"})),
    _wall_route("POST", "polls", "prepare a poll (and open it with \"open\": true)", polls.PollBody,
                reply=obj("ok", "poll", ok={"type": "boolean"})),
    Operation("POST", "/console/api/password", "change one's own password (the current one required); "
              "every other session ends", body=password.PasswordChange,
              reply=obj("ok", "result", ok={"type": "boolean"}),
              errors=(*CONSOLE_ERRORS, *BODY_ERRORS, 429, 503), security=SESSION),
    Operation("GET", "/console/api/fleet", "every kiosk, the pairing codes waiting, the alerts",
              reply=obj("kiosks", "pending", "alerts", "offline_after", "walls"), errors=CONSOLE_ERRORS,
              security=("session",)),
    Operation("POST", "/console/api/fleet/approve", "approve a pairing code: the kiosk shows a wall", ok=201,
              body=fleet.ApproveBody, reply=obj("id", "name", "wall", "screen", "of"),
              errors=(*CONSOLE_ERRORS, *BODY_ERRORS, 410), security=SESSION),
    Operation("POST", "/console/api/fleet/pending/clear", "drop every waiting pairing request",
              reply=obj("ok", "cleared", ok={"type": "boolean"}, cleared={"type": "integer"}),
              errors=CONSOLE_ERRORS, security=SESSION),
    Operation("POST", "/console/api/fleet/kiosks/{id}/{op}", "reload, identify, assign (with a body) or "
              "revoke a kiosk", body=fleet.AssignBody, errors=(*CONSOLE_ERRORS, *BODY_ERRORS, 409),
              security=SESSION, parameters=(KIOSK_ID, {"name": "op", "in": "path", "required": True,
                                                       "schema": {"type": "string", "enum": [
                                                           "reload", "identify", "assign", "revoke"]}})),
    Operation("GET", "/console/api/fleet/kiosks/{id}/screenshot", "the kiosk's latest screenshot",
              reply={"type": "string", "format": "binary"}, media_type="image/jpeg", errors=CONSOLE_ERRORS,
              security=("session",), parameters=(KIOSK_ID,)),
]
CONTROL_ERRORS = (401, 403, 429)
SCENE = {"name": "scene", "in": "path", "required": True, "schema": {"type": "string"}, "example": "stats"}
POLL = {"name": "poll", "in": "path", "required": True, "schema": {"type": "integer"}, "example": 1}
BUILT_IN += [
    Operation("GET", control_api.PREFIX, "stage hardware: the wall's live controls, and what this control "
              "token may do", reply=obj("wall", "token", "scope", "actions", "state"),
              errors=(*CONTROL_ERRORS, 404), security=("control",), parameters=(WALL,)),
    *(Operation("POST", path, f"stage hardware: {action} (docs/control-api.md)",
                reply=obj("ok", "action", "by", "state", ok={"type": "boolean"}),
                errors=(*CONTROL_ERRORS, 400, 404, 409), security=("control",),
                parameters=(WALL, SCENE) if "{scene}" in path else
                (WALL, POLL) if "{poll}" in path else (WALL,))
      for action, path in control_api.paths().items()),
]
SECURITY_SCHEMES = {
    "token": {"type": "http", "scheme": "bearer", "description": "the wall's webhook token (or sign the "
              "body: X-Wall-Signature: sha256=<HMAC-SHA256 of the body>)"},
    "kiosk": {"type": "http", "scheme": "bearer", "description": "a kiosk's poll token or its own token"},
    "control": {"type": "http", "scheme": "bearer", "description": "a control token of the wall (the "
                "console's Control tokens page); its scope names the actions it may take"},
    "session": {"type": "apiKey", "in": "cookie", "name": "wall_session", "description": "a console login"},
    "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token", "description": "the session's CSRF "
             "token (the console pages' csrf-token meta element); needed on every POST"},
}


def describe(app: web.Application, *operations: Operation) -> None:
    """Add a role's routes to the description (the app's own are there from the start)."""
    app[OPERATIONS].extend(operations)


def document(operations: list[Operation]) -> dict[str, Any]:
    """The OpenAPI 3.1 document for these operations."""
    bodies = [t for op in operations for t in _types(op.body)]
    schemas, components = msgspec.json.schema_components(bodies, ref_template="#/components/schemas/{name}")
    schema_of = dict(zip(map(id, bodies), schemas, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        responses: dict[str, Any] = {str(op.ok): {"description": "done", "content": {
            op.media_type: {"schema": op.reply}}}}
        for status in sorted(set(op.errors)):
            responses[str(status)] = {"description": WHY[status], "content": {JSON: {"schema": ERROR}}}
        entry: dict[str, Any] = {"summary": op.summary, "operationId": f"{op.method} {op.path}",
                                 "parameters": list(op.parameters), "responses": responses}
        if op.body is not None:
            alternatives = [schema_of[id(t)] for t in _types(op.body)]
            schema = alternatives[0] if len(alternatives) == 1 else {"anyOf": alternatives}
            entry["requestBody"] = {"required": op.method == "POST" and "{op}" not in op.path,
                                    "content": {JSON: {"schema": schema}}}
        if op.security:
            entry["security"] = [{name: [] for name in op.security}]
        paths.setdefault(op.path, {})[op.method.lower()] = entry
    return {"openapi": "3.1.0",
            "info": {"title": "Live social wall", "version": __version__,
                     "description": "Errors are {\"error\": \"<what is wrong and how to fix it>\"}; "
                                    "see docs/api.md."},
            "paths": paths,
            "components": {"schemas": components, "securitySchemes": SECURITY_SCHEMES}}


def _types(body: Any) -> tuple[Any, ...]:
    return () if body is None else body if isinstance(body, tuple) else (body,)


async def openapi(request: web.Request) -> web.Response:
    return json_response(document(request.app[OPERATIONS]), headers={"Cache-Control": "no-cache"})


def add_openapi_route(app: web.Application) -> None:
    app[OPERATIONS] = list(BUILT_IN)
    app.router.add_get(PATH, openapi)
