"""The console's admin pages: display keys of private walls, the audit log (browse, filter, CSV) and
users. Every route needs the admin role; every change is audited here.
"""

from __future__ import annotations

import io
import logging
import time
from datetime import UTC, datetime
from typing import Any

import segno
from aiohttp import web

from wall.models import encode
from wall.store.audit import AuditFilter, Event
from wall.store.users import ROLES, UnknownUser, UserExists
from wall.web.auth import identity, require
from wall.web.console import done, page, wall_of
from wall.web.digests import add_digest_routes
from wall.web.http import error
from wall.web.inputs import form, path_id, query_int
from wall.web.keys import STORE
from wall.web.privacy import add_privacy_routes
from wall.web.private import KEYED

log = logging.getLogger(__name__)
MIN_PASSWORD = 12


@require("admin")
async def keys_page(request: web.Request) -> web.Response:
    wall = wall_of(request)
    keys = await request.app[STORE].display_keys.list(wall.name)
    return page(request, "console/keys.html", wall=wall, keys=keys, new_key=None, new_url=None, qr=None)


@require("admin")
async def issue_key(request: web.Request) -> web.Response:
    """A new display key, shown once (with the screen's URL and a QR code of it), never again."""
    wall = wall_of(request)
    label = (await form(request)).get("label", "").strip()[:100] or "screen"
    store, actor = request.app[STORE], identity(request).username
    raw, key = await store.display_keys.issue(wall.name, label)
    await store.audit.record(Event("key.issue", actor, wall.name, str(key.id), after={"label": label}))
    url = f"{request.url.origin()}/w/{wall.name}?key={raw}"
    qr = segno.make(url, error="m").svg_data_uri(scale=4, dark="#000", light="#fff")
    return page(request, "console/keys.html", wall=wall, keys=await store.display_keys.list(wall.name),
                new_key=raw, new_url=url, qr=qr)


@require("admin")
async def revoke_key(request: web.Request) -> web.StreamResponse:
    key_id = path_id(request, "key_id")
    if key_id is None:
        return error(404, "no such key")
    store = request.app[STORE]
    key = await store.display_keys.revoke(key_id)
    if key is None:
        return error(404, "no live key with this id")
    closed = request.app[KEYED].close_key(key.id)  # other nodes close theirs within a second
    await store.audit.record(Event("key.revoke", identity(request).username, key.wall, str(key.id),
                                   before={"label": key.label}, after={"revoked_at": key.revoked_at}))
    log.info("display key %d of wall %s revoked; %d screen(s) closed here", key.id, key.wall, closed)
    return done(request, {"id": key.id, "closed": closed}, f"/console/w/{key.wall}/keys")


def audit_filter(query: Any) -> tuple[AuditFilter, list[str]]:
    """The audit page's filter from its query string; dates are YYYY-MM-DD (UTC)."""
    problems: list[str] = []

    def day(name: str) -> float | None:
        value = query.get(name) or ""
        if not value:
            return None
        try:
            return datetime.fromisoformat(value).replace(tzinfo=UTC).timestamp()
        except ValueError:
            problems.append(f"{name}: expected a date like 2026-12-02")
            return None

    until = day("until")
    return AuditFilter(wall=query.get("wall") or None, actor=query.get("actor") or None,
                       action=query.get("action") or None, since=day("since"),
                       until=None if until is None else until + 86400), problems


@require("admin")
async def audit_page(request: web.Request) -> web.Response:
    where, problems = audit_filter(request.query)
    before_id = query_int(request, "before", 0, 1, 2**63 - 1) or None
    records = await request.app[STORE].audit.browse(where, limit=100, before_id=before_id)
    rows = [{"r": r, "when": datetime.fromtimestamp(r.at, UTC).strftime("%Y-%m-%d %H:%M:%S"),
             "before": "" if r.before is None else encode(r.before).decode(),
             "after": "" if r.after is None else encode(r.after).decode()} for r in records]
    query = {k: v for k, v in request.query.items() if k != "before"}
    return page(request, "console/audit.html", rows=rows, problems=problems, query=query,
                more=records[-1].id if len(records) == 100 else None)


@require("admin")
async def audit_csv(request: web.Request) -> web.Response:
    where, problems = audit_filter(request.query)
    if problems:
        return error(400, "; ".join(problems))
    out = io.StringIO()
    await request.app[STORE].audit.export_csv(out, where)
    return web.Response(body=out.getvalue().encode(), content_type="text/csv", charset="utf-8", headers={
        "Content-Disposition": 'attachment; filename="wall-audit.csv"', "Cache-Control": "no-store"})


@require("admin")
async def users_page(request: web.Request) -> web.Response:
    return await _users(request)


async def _users(request: web.Request, message: str = "", status: int = 200) -> web.Response:
    store = request.app[STORE]
    response = page(request, "console/users.html", users=await store.users.list(), roles=ROLES,
                    message=message, throttled=await store.logins.throttled(), now=time.time())
    response.set_status(status)
    return response


@require("admin")
async def add_user(request: web.Request) -> web.StreamResponse:
    fields = await form(request)
    username = fields.get("username", "").strip()
    password = fields.get("password", "")
    role = fields.get("role", "")
    if role not in ROLES:
        return await _users_message(request, f"role: one of {', '.join(ROLES)}")
    if not MIN_PASSWORD <= len(password) <= 1024:
        return await _users_message(request, f"a password needs at least {MIN_PASSWORD} characters")
    store = request.app[STORE]
    try:
        user = await store.users.add(username, password, role)
    except (UserExists, ValueError) as e:
        return await _users_message(request, str(e))
    await store.audit.record(Event("user.add", identity(request).username, target=user.username,
                                   after={"role": user.role}))
    raise web.HTTPSeeOther("/console/users")


@require("admin")
async def change_user(request: web.Request) -> web.StreamResponse:
    """One change to an account: role, disable, enable, end sessions, unlock (failed-login delays),
    remove. Not to one's own account (an admin who demotes or removes themselves would lock the console;
    `wall user` can)."""
    name = request.match_info["username"]
    fields = await form(request)
    op = fields.get("op", "")
    store, me = request.app[STORE], identity(request)
    user = await store.users.get(name)
    if user is None:
        return await _users_message(request, f"no user {name!r}", 404)
    if user.username == me.username and op in ("role", "disable", "remove"):
        return await _users_message(request, "not on your own account here; another admin or `wall user` can")
    before: dict[str, Any] = {"role": user.role, "disabled": user.disabled}
    after: dict[str, Any]
    try:
        if op == "role":
            role = fields.get("role", "")
            await store.users.set_role(user.username, role)  # type: ignore[arg-type]
            await store.sessions.revoke_all_for_user(user.id)  # a new role starts with a new login
            after = {"role": role}
        elif op in ("disable", "enable"):
            await store.users.set_disabled(user.username, op == "disable")
            await store.sessions.revoke_all_for_user(user.id)
            after = {"disabled": op == "disable"}
        elif op == "logout":
            after = {"sessions_ended": await store.sessions.revoke_all_for_user(user.id)}
        elif op == "remove":
            await store.users.remove(user.username)
            after = {}
        elif op == "unlock":
            after = {"counters": await store.logins.unlock(user.username)}
        else:
            return await _users_message(request, "op: role, disable, enable, logout, unlock or remove")
    except (UnknownUser, ValueError) as e:
        return await _users_message(request, str(e))
    await store.audit.record(Event(f"user.{op}", me.username, target=user.username, before=before,
                                   after=after))
    raise web.HTTPSeeOther("/console/users")


async def _users_message(request: web.Request, message: str, status: int = 400) -> web.Response:
    return await _users(request, message, status)


def add_admin_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/console/w/{wall}/keys", keys_page)
    r.add_post("/console/w/{wall}/keys", issue_key)
    r.add_post("/console/keys/{key_id}/revoke", revoke_key)
    r.add_get("/console/audit", audit_page)
    r.add_get("/console/audit.csv", audit_csv)
    r.add_get("/console/users", users_page)
    r.add_post("/console/users", add_user)
    r.add_post("/console/users/{username}", change_user)
    add_privacy_routes(app)
    add_digest_routes(app)
