"""The curation console at /console: pages for people, JSON routes for the page scripts, the live queue.

Every route is guarded with `require(role)` (wall/web/auth.py); state changes also need the session's
CSRF token. Moderation goes through app[ACTIONS] (wall/web/moderation.py), which records the audit
trail; account and display-key changes made here are audited here.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, TypeVar
from weakref import WeakSet

import msgspec
import segno
from aiohttp import WSCloseCode, web

from wall.config import WallConfig
from wall.models import BadJSON, decode_untrusted, encode
from wall.store.audit import AuditFilter, Event
from wall.store.decisions import Conflict, Decision
from wall.store.users import ROLES, UnknownUser, UserExists
from wall.web.auth import Identity, identity, require
from wall.web.http import error, json_response
from wall.web.keys import CONFIG, STORE
from wall.web.moderation import ACTIONS, CONTROLS, DECISIONS, LABELS
from wall.web.pages import render
from wall.web.private import KEYED

log = logging.getLogger(__name__)
T = TypeVar("T")
MIN_PASSWORD = 12
SESSION_RECHECK = 2.0  # seconds: a console socket of a session that was logged out closes this soon
CONSOLE_SOCKETS = web.AppKey("console_sockets", WeakSet[web.WebSocketResponse])
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


# --- request bodies -------------------------------------------------------------------------------------

class DecideBody(msgspec.Struct, forbid_unknown_fields=True):
    post_id: str
    action: str
    expected_version: int | None = None
    seconds: float | None = None


class BulkItem(msgspec.Struct):
    post_id: str
    expected_version: int | None = None


class BulkBody(msgspec.Struct, forbid_unknown_fields=True):
    action: str
    items: list[BulkItem]
    seconds: float | None = None


class BanBody(msgspec.Struct, forbid_unknown_fields=True):
    author: str
    reason: str = ""
    undo: bool = False


class WordBody(msgspec.Struct, forbid_unknown_fields=True):
    word: str
    remove: bool = False


class PolicyBody(msgspec.Struct, forbid_unknown_fields=True):
    mode: str
    settings: dict[str, Any] = {}


class SentimentBody(msgspec.Struct, forbid_unknown_fields=True):
    post_id: str
    label: str


class ControlBody(msgspec.Struct, forbid_unknown_fields=True):
    op: str
    value: str | None = None


class BadBody(ValueError):
    """The request body is not what the route takes; the message names the problem."""


async def read(request: web.Request, type_: type[T]) -> T:
    """A JSON body (or a form, for the pages that work without scripts) as `type_`; raises BadBody."""
    try:
        if request.content_type in FORM_TYPES:
            form = {k: v for k, v in (await request.post()).items() if k != "csrf" and isinstance(v, str)}
            return msgspec.convert(form, type_, strict=False)
        body = await request.read()
        return decode_untrusted(body, type_)
    except (BadJSON, msgspec.ValidationError) as e:
        raise BadBody(str(e)) from None


def done(request: web.Request, data: Any, back: str) -> web.StreamResponse:
    """A form goes back to its page; a script gets JSON."""
    if request.content_type in FORM_TYPES:
        raise web.HTTPSeeOther(back)
    return json_response({"ok": True, "result": data})


def wall_of(request: web.Request) -> WallConfig:
    wall = request.app[CONFIG].walls.get(request.match_info["wall"])
    if wall is None:
        raise web.HTTPNotFound(text=f"no wall named {request.match_info['wall']!r}")
    return wall


def page(request: web.Request, template: str, **context: Any) -> web.Response:
    """A console page: who is logged in, the CSRF token for the scripts and forms, never cached."""
    ident = identity(request)
    walls = list(request.app[CONFIG].walls.values())
    response = render(request, template, user=ident, csrf=ident.csrf, walls=walls, **context)
    response.headers["Cache-Control"] = "no-store"
    return response


def ago(seconds: float) -> str:
    s = max(0, round(seconds))
    if s < 90:
        return f"{s} s"
    if s < 90 * 60:
        return f"{round(s / 60)} min"
    return f"{round(s / 3600)} h"


VERBS = {"approved": "approved", "rejected": "rejected", "hidden": "hid", "pending": "held"}


def conflict_message(current: Decision | None, now: float | None = None) -> str:
    """What a curator reads when someone else decided first: "ana rejected this 2 s ago"."""
    if current is None:
        return "this post's decision changed meanwhile; reload the queue"
    when = ago((now or time.time()) - current.decided_at)
    return f"{current.decided_by} {VERBS.get(current.status, 'changed')} this {when} ago"


def conflict_response(e: Conflict) -> web.Response:
    current = e.current
    shown = None if current is None else {
        "status": current.status, "pinned": current.pinned, "version": current.version,
        "decided_by": current.decided_by, "decided_at": current.decided_at}
    return error(409, conflict_message(current), current=shown)


# --- pages ----------------------------------------------------------------------------------------------

@require("presenter")
async def home(request: web.Request) -> web.Response:
    return page(request, "console/walls.html")


@require("curator")
async def queue_page(request: web.Request) -> web.Response:
    wall = wall_of(request)
    return page(request, "console/queue.html", wall=wall, decisions=DECISIONS, labels=LABELS)


@require("presenter")
async def present_page(request: web.Request) -> web.Response:
    return page(request, "console/present.html", wall=wall_of(request))


@require("curator")
async def rules_page(request: web.Request) -> web.Response:
    wall = wall_of(request)
    policy = await request.app[ACTIONS].policy(wall.name)
    return page(request, "console/rules.html", wall=wall, policy=policy, words=policy["blocked_words"],
                bans=policy["banned"])


# --- moderation (JSON) ----------------------------------------------------------------------------------

@require("curator")
async def queue_items(request: web.Request) -> web.Response:
    wall = wall_of(request)
    q = request.query.get("q") or None
    status = request.query.get("status") or None
    if q is not None and len(q) > 200:
        return error(400, "q: at most 200 characters")
    try:
        limit = min(500, max(1, int(request.query.get("limit", "200"))))
    except ValueError:
        return error(400, "limit: expected a whole number")
    items = await request.app[ACTIONS].queue(wall.name, limit=limit, q=q, status=status)
    return json_response({"wall": wall.name, "items": items, "server_time": time.time()})


@require("curator")
async def decide(request: web.Request) -> web.StreamResponse:
    wall = wall_of(request)
    try:
        body = await read(request, DecideBody)
    except BadBody as e:
        return error(400, str(e))
    if body.action not in DECISIONS:
        return error(400, f"action: one of {', '.join(DECISIONS)}")
    try:
        result = await request.app[ACTIONS].decide(wall.name, body.post_id, identity(request).username,
                                                   body.action, body.expected_version, body.seconds)
    except Conflict as e:
        return conflict_response(e)
    except LookupError as e:  # the wall no longer keeps the post
        return error(404, str(e))
    except ValueError as e:
        return error(400, str(e))
    return json_response({"ok": True, "result": result})


@require("curator")
async def bulk(request: web.Request) -> web.StreamResponse:
    """One action on many posts; each is decided on its own (a conflict on one stops none of the rest)."""
    wall = wall_of(request)
    try:
        body = await read(request, BulkBody)
    except BadBody as e:
        return error(400, str(e))
    if body.action not in DECISIONS:
        return error(400, f"action: one of {', '.join(DECISIONS)}")
    if not 1 <= len(body.items) <= 500:
        return error(400, "items: 1 to 500 posts")
    actor = identity(request).username
    results: list[dict[str, Any]] = []
    for item in body.items:
        try:
            result = await request.app[ACTIONS].decide(wall.name, item.post_id, actor, body.action,
                                                       item.expected_version, body.seconds)
            results.append({"post_id": item.post_id, "ok": True, "result": result})
        except Conflict as e:
            results.append({"post_id": item.post_id, "ok": False, "error": conflict_message(e.current)})
        except (ValueError, LookupError) as e:
            results.append({"post_id": item.post_id, "ok": False, "error": str(e)})
    return json_response({"ok": all(r["ok"] for r in results), "results": results})


@require("curator")
async def ban(request: web.Request) -> web.StreamResponse:
    wall = wall_of(request)
    try:
        body = await read(request, BanBody)
    except BadBody as e:
        return error(400, str(e))
    author = body.author.strip()
    if not author or len(author) > 200:
        return error(400, "author: network:handle, e.g. mastodon:troll@example.social")
    actions, actor = request.app[ACTIONS], identity(request).username
    try:
        if body.undo:
            result = await actions.unban(wall.name, author, actor)
        else:
            result = await actions.ban(wall.name, author, actor, body.reason[:500])
    except ValueError as e:
        return error(400, str(e))
    return done(request, result, f"/console/w/{wall.name}/rules")


@require("curator")
async def words(request: web.Request) -> web.StreamResponse:
    wall = wall_of(request)
    try:
        body = await read(request, WordBody)
    except BadBody as e:
        return error(400, str(e))
    word = body.word.strip()
    if not word or len(word) > 100:
        return error(400, "word: 1 to 100 characters")
    actions, actor = request.app[ACTIONS], identity(request).username
    if body.remove:
        result = await actions.unblock_word(wall.name, word, actor)
    else:
        result = await actions.block_word(wall.name, word, actor)
    return done(request, result, f"/console/w/{wall.name}/rules")


@require("curator")
async def policy(request: web.Request) -> web.StreamResponse:
    wall = wall_of(request)
    try:
        body = await read(request, PolicyBody)
    except BadBody as e:
        return error(400, str(e))
    if body.mode not in ("pre", "post"):
        return error(400, "mode: pre (nothing shows until approved) or post (everything shows unless held)")
    try:
        result = await request.app[ACTIONS].set_policy(wall.name, identity(request).username, body.mode,
                                                       body.settings)
    except ValueError as e:
        return error(400, str(e))
    return done(request, result, f"/console/w/{wall.name}/rules")


@require("curator")
async def sentiment(request: web.Request) -> web.StreamResponse:
    wall = wall_of(request)
    try:
        body = await read(request, SentimentBody)
    except BadBody as e:
        return error(400, str(e))
    if body.label not in LABELS:
        return error(400, f"label: one of {', '.join(LABELS)}")
    try:
        result = await request.app[ACTIONS].correct_sentiment(wall.name, body.post_id,
                                                              identity(request).username, body.label)
    except Conflict as e:
        return conflict_response(e)
    except LookupError as e:  # the wall no longer keeps the post
        return error(404, str(e))
    except ValueError as e:
        return error(400, str(e))
    return json_response({"ok": True, "result": result})


@require("curator")
async def labelled(request: web.Request) -> web.Response:
    """The wall's corrected labels as JSON lines, the input of `wall sentiment fit`."""
    wall = wall_of(request)
    lines = await request.app[ACTIONS].labelled_lines(wall.name)
    body = b"".join(encode(line) + b"\n" for line in lines)
    return web.Response(body=body, content_type="application/x-ndjson", headers={
        "Content-Disposition": f'attachment; filename="{wall.name}-labels.jsonl"'})


@require("presenter")
async def control(request: web.Request) -> web.StreamResponse:
    wall = wall_of(request)
    try:
        body = await read(request, ControlBody)
    except BadBody as e:
        return error(400, str(e))
    if body.op not in CONTROLS:
        return error(400, f"op: one of {', '.join(CONTROLS)}")
    if body.value is not None and len(body.value) > 500:
        return error(400, "value: at most 500 characters")
    try:
        result = await request.app[ACTIONS].control(wall.name, identity(request).username, body.op,
                                                    body.value)
    except ValueError as e:
        return error(400, str(e))
    return json_response({"ok": True, "result": result})


@require("curator")
async def queue_socket(request: web.Request) -> web.WebSocketResponse:
    """The live queue: every new post and every curator's decision, as JSON text frames."""
    wall = wall_of(request)
    ident = identity(request)
    ws = web.WebSocketResponse(heartbeat=20.0, max_msg_size=4096)
    await ws.prepare(request)
    request.app[CONSOLE_SOCKETS].add(ws)
    feed = asyncio.create_task(_pump(ws, request.app[ACTIONS].subscribe_queue(wall.name)))
    watch = asyncio.create_task(_watch_session(ws, request, ident))
    try:
        async for _ in ws:  # the page sends nothing; reading keeps pings and close working
            pass
    finally:
        for task in (feed, watch):
            task.cancel()
        await asyncio.gather(feed, watch, return_exceptions=True)
    return ws


async def _pump(ws: web.WebSocketResponse, items: AsyncIterator[dict[str, Any]]) -> None:
    try:
        async for item in items:
            await ws.send_str(encode(item).decode())
    except ConnectionResetError:
        pass
    finally:
        aclose = getattr(items, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()


async def _watch_session(ws: web.WebSocketResponse, request: web.Request, ident: Identity) -> None:
    """A socket lives no longer than its session: logout (here or everywhere) closes it."""
    while not ws.closed:
        await asyncio.sleep(SESSION_RECHECK)
        if await request.app[STORE].sessions.get(ident.token) is None:
            await ws.close(code=4401, message=b"session ended")
            return


async def close_console_sockets(app: web.Application) -> None:
    sockets: WeakSet[web.WebSocketResponse] = app[CONSOLE_SOCKETS]
    await asyncio.gather(*(ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
                           for ws in list(sockets)), return_exceptions=True)


# --- admin: display keys, audit, users -----------------------------------------------------------------

@require("admin")
async def keys_page(request: web.Request) -> web.Response:
    wall = wall_of(request)
    keys = await request.app[STORE].display_keys.list(wall.name)
    return page(request, "console/keys.html", wall=wall, keys=keys, new_key=None, new_url=None, qr=None)


@require("admin")
async def issue_key(request: web.Request) -> web.Response:
    """A new display key, shown once (with the screen's URL and a QR code of it), never again."""
    wall = wall_of(request)
    form = await request.post()
    label = str(form.get("label", "")).strip()[:100] or "screen"
    store, actor = request.app[STORE], identity(request).username
    raw, key = await store.display_keys.issue(wall.name, label)
    await store.audit.record(Event("key.issue", actor, wall.name, str(key.id), after={"label": label}))
    url = f"{request.url.origin()}/w/{wall.name}?key={raw}"
    qr = segno.make(url, error="m").svg_data_uri(scale=4, dark="#000", light="#fff")
    return page(request, "console/keys.html", wall=wall, keys=await store.display_keys.list(wall.name),
                new_key=raw, new_url=url, qr=qr)


@require("admin")
async def revoke_key(request: web.Request) -> web.StreamResponse:
    try:
        key_id = int(request.match_info["key_id"])
    except ValueError:
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
    before = request.query.get("before")
    before_id = int(before) if before and before.isdigit() else None
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
    response = page(request, "console/users.html", users=await request.app[STORE].users.list(), roles=ROLES,
                    message=message)
    response.set_status(status)
    return response


@require("admin")
async def add_user(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    role = str(form.get("role", ""))
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
    """One change to an account: role, disable, enable, end sessions, remove. Not to one's own account
    (an admin who demotes or removes themselves would lock the console; `wall user` can)."""
    name = request.match_info["username"]
    form = await request.post()
    op = str(form.get("op", ""))
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
            role = str(form.get("role", ""))
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
        else:
            return await _users_message(request, "op: role, disable, enable, logout or remove")
    except (UnknownUser, ValueError) as e:
        return await _users_message(request, str(e))
    await store.audit.record(Event(f"user.{op}", me.username, target=user.username, before=before,
                                   after=after))
    raise web.HTTPSeeOther("/console/users")


async def _users_message(request: web.Request, message: str, status: int = 400) -> web.Response:
    return await _users(request, message, status)


def add_console_routes(app: web.Application) -> None:
    app[CONSOLE_SOCKETS] = WeakSet()
    app.on_shutdown.append(close_console_sockets)
    r = app.router
    r.add_get("/console", home)
    r.add_get("/console/w/{wall}", queue_page)
    r.add_get("/console/w/{wall}/ws", queue_socket)
    r.add_get("/console/w/{wall}/present", present_page)
    r.add_get("/console/w/{wall}/rules", rules_page)
    r.add_get("/console/w/{wall}/keys", keys_page)
    r.add_post("/console/w/{wall}/keys", issue_key)
    r.add_post("/console/keys/{key_id}/revoke", revoke_key)
    r.add_get("/console/api/w/{wall}/queue", queue_items)
    r.add_post("/console/api/w/{wall}/decide", decide)
    r.add_post("/console/api/w/{wall}/bulk", bulk)
    r.add_post("/console/api/w/{wall}/ban", ban)
    r.add_post("/console/api/w/{wall}/words", words)
    r.add_post("/console/api/w/{wall}/policy", policy)
    r.add_post("/console/api/w/{wall}/sentiment", sentiment)
    r.add_get("/console/api/w/{wall}/labelled", labelled)
    r.add_post("/console/api/w/{wall}/control", control)
    r.add_get("/console/audit", audit_page)
    r.add_get("/console/audit.csv", audit_csv)
    r.add_get("/console/users", users_page)
    r.add_post("/console/users", add_user)
    r.add_post("/console/users/{username}", change_user)
