"""The console's page for control tokens (admins only): make one for a wall (a name, a scope, how long it
lasts), see it once with what to type into Bitfocus Companion, revoke it. Each change is audited.
The API those tokens open is wall/web/control_api.py; docs/control-api.md tells both stories.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from wall.store.audit import Event
from wall.store.control_tokens import NAME_MAX, ControlToken, NameTaken
from wall.web.auth import identity, require
from wall.web.console import page, wall_of
from wall.web.control_api import SCOPES, paths
from wall.web.http import error
from wall.web.inputs import form, path_id
from wall.web.keys import STORE

DAY = 86_400.0
# what the form offers, and the default: an event's token should not outlive the event by a year
LIFETIMES = {"1d": ("1 day", DAY), "7d": ("7 days", 7 * DAY), "30d": ("30 days", 30 * DAY),
             "365d": ("1 year", 365 * DAY), "never": ("until revoked", None)}
DEFAULT_LIFETIME = "30d"


@require("admin")
async def tokens_page(request: web.Request) -> web.Response:
    return await _page(request)


@require("admin")
async def issue_token(request: web.Request) -> web.Response:
    """A new control token, shown once with the requests a deck sends, never again."""
    wall = wall_of(request)
    fields = await form(request)
    name, scope = fields.get("name", "").strip(), fields.get("scope", "")
    lifetime = fields.get("lifetime", DEFAULT_LIFETIME)
    if scope not in SCOPES:
        return await _page(request, f"scope: one of {', '.join(SCOPES)}", 400)
    if lifetime not in LIFETIMES:
        return await _page(request, f"lifetime: one of {', '.join(LIFETIMES)}", 400)
    seconds = LIFETIMES[lifetime][1]
    store, actor = request.app[STORE], identity(request).username
    try:
        raw, token = await store.control_tokens.issue(
            wall.name, name, scope, actor, None if seconds is None else time.time() + seconds)
    except (NameTaken, ValueError) as e:
        return await _page(request, str(e), 400)
    await store.audit.record(Event("control_token.issue", actor, wall.name, str(token.id), after={
        "name": token.name, "scope": token.scope, "expires_at": token.expires_at}))
    base = f"{request.url.origin()}/api/v1/control/{wall.name}"
    buttons = [{"action": action, "url": str(request.url.origin()) + path.replace("{wall}", wall.name)
                .replace("{scene}", "stats")} for action, path in paths().items() if action in SCOPES[scope]]
    return await _page(request, new={"raw": raw, "token": token, "base": base, "buttons": buttons,
                                     "header": f'{{"Authorization": "Bearer {raw}"}}'})


@require("admin")
async def revoke_token(request: web.Request) -> web.StreamResponse:
    token_id = path_id(request, "token_id")
    if token_id is None:
        return error(404, "no such control token")
    store, actor = request.app[STORE], identity(request).username
    token = await store.control_tokens.revoke(token_id, actor)
    if token is None:
        return error(404, "no unrevoked control token with this id")
    await store.audit.record(Event("control_token.revoke", actor, token.wall, str(token.id),
                                   before={"name": token.name, "scope": token.scope},
                                   after={"revoked_at": token.revoked_at}))
    raise web.HTTPSeeOther(f"/console/w/{token.wall}/tokens")


async def _page(request: web.Request, message: str = "", status: int = 200,
                new: dict[str, Any] | None = None) -> web.Response:
    wall = wall_of(request)
    tokens = await request.app[STORE].control_tokens.list(wall.name)
    now = time.time()
    response = page(request, "console/tokens.html", wall=wall, message=message, new=new, scopes=SCOPES,
                    lifetimes=LIFETIMES, default_lifetime=DEFAULT_LIFETIME, name_max=NAME_MAX,
                    rows=[{"t": t, "state": _state(t, now), "created": _utc(t.created_at),
                           "expires": "never" if t.expires_at is None else _utc(t.expires_at),
                           "used": "never" if t.last_used_at is None else _utc(t.last_used_at)}
                          for t in tokens])
    response.set_status(status)
    return response


def _utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M")


def _state(token: ControlToken, now: float) -> str:
    if token.revoked_at is not None:
        return f"revoked by {token.revoked_by}"
    if not token.usable(now):
        return "expired"
    return "live"


def add_token_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/console/w/{wall}/tokens", tokens_page)
    r.add_post("/console/w/{wall}/tokens", issue_token)
    r.add_post("/console/tokens/{token_id}/revoke", revoke_token)
