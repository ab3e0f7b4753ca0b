"""The curation console at /console: pages for people, JSON routes for the page scripts, the live queue.

Every route is guarded with `require(role)` (wall/web/auth.py); state changes also need the session's
CSRF token. Moderation goes through app[ACTIONS] (wall/web/moderation.py), which records the audit
trail. The admin pages (display keys, audit log, users) are in wall/web/admin.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from typing import Any, TypeVar
from weakref import WeakSet

import msgspec
from aiohttp import WSCloseCode, WSMsgType, web

from wall.config import WallConfig
from wall.models import encode
from wall.screen import SCENES, WIDGETS
from wall.store.decisions import Conflict, Decision
from wall.web.auth import Identity, identity, require
from wall.web.http import error, json_response
from wall.web.hub import Hub
from wall.web.inputs import FORM_TYPES, form, json_body, query_int, refusal
from wall.web.keys import CONFIG, HUBS, NETWORKS, STORE
from wall.web.moderation import ACTIONS, CONTROLS, DECISIONS, LABELS
from wall.web.pages import render

log = logging.getLogger(__name__)
T = TypeVar("T")
SESSION_RECHECK = 2.0  # seconds: a console socket of a session that was logged out closes this soon
ALERTS_EVERY = 1.0  # seconds between looks at the wall's latest figures for spike alerts
CONTROL_EVERY = 0.25  # seconds between looks at the wall's latest control event for presenter pages
NO_MESSAGES = b"the queue socket takes no messages from the page"
CONSOLE_SOCKETS = web.AppKey("console_sockets", WeakSet[web.WebSocketResponse])


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


class OptOutBody(msgspec.Struct, forbid_unknown_fields=True):
    author: str
    days: float | None = None  # None: the wall's [walls.W.optout] days
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


async def read(request: web.Request, type_: type[T]) -> T:
    """A JSON body (or a form, for the pages that work without scripts) as `type_`; anything else is
    refused with a 4xx that names the problem (wall/web/inputs.py)."""
    if request.content_type not in FORM_TYPES:
        return await json_body(request, type_)
    fields = {k: v for k, v in (await form(request)).items() if k != "csrf"}
    try:
        return msgspec.convert(fields, type_, strict=False)
    except msgspec.ValidationError as e:
        raise refusal(422, str(e)) from None


def author_field(value: str) -> str:
    """A body's "network:handle", trimmed; 400 when empty or too long (the service checks the rest)."""
    author = value.strip()
    if not author or len(author) > 200:
        raise refusal(400, "author: network:handle, e.g. mastodon:aino@example.social")
    return author


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


def utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M")


VERBS = {"approved": "approved", "rejected": "rejected", "hidden": "hid", "pending": "held"}


def conflict_message(current: Decision | None, now: float | None = None) -> str:
    """What a curator reads when someone else decided first: "ana rejected this 2 s ago"."""
    if current is None:
        return "this post's decision changed meanwhile; reload the queue"
    when = ago((now or time.time()) - current.decided_at)
    return f"{current.decided_by} {VERBS.get(current.status, 'changed')} this {when} ago"


async def attempt(call: Awaitable[T]) -> T:
    """The moderation service's refusals as answers: a stale decision 409 (who decided, and when), a post
    the wall no longer keeps 404, a value it does not take 400."""
    try:
        return await call
    except Conflict as e:
        current = e.current
        shown = None if current is None else {
            "status": current.status, "pinned": current.pinned, "version": current.version,
            "decided_by": current.decided_by, "decided_at": current.decided_at}
        raise refusal(web.HTTPConflict, conflict_message(current), current=shown) from None
    except LookupError as e:
        raise refusal(web.HTTPNotFound, str(e)) from None
    except ValueError as e:
        raise refusal(web.HTTPBadRequest, str(e)) from None


# --- pages ----------------------------------------------------------------------------------------------

@require("presenter")
async def home(request: web.Request) -> web.Response:
    # Admins are told here when accounts are being guessed at; the Users page has the details and Unlock.
    alerts = await request.app[STORE].logins.throttled() if identity(request).can("admin") else []
    return page(request, "console/walls.html", login_alerts=[a.username for a in alerts])


@require("curator")
async def queue_page(request: web.Request) -> web.Response:
    wall = wall_of(request)
    return page(request, "console/queue.html", wall=wall, decisions=DECISIONS, labels=LABELS,
                networks=json.dumps(request.app[NETWORKS]))


@require("presenter")
async def present_page(request: web.Request) -> web.Response:
    """The stage tool: a button per scene (those of the wall's run of show marked), the live controls."""
    wall = wall_of(request)
    screen = request.app[HUBS][wall.name].wall.screen  # the wall's published look, as its screens have it
    in_show = {slot.scene for slot in screen.show.playlist}
    return page(request, "console/present.html", wall=wall,
                scenes=[{"name": name, "in_show": name in in_show} for name in SCENES
                        if name != "leaders" or screen.show.leaderboard],  # opt-in: no button unless on
                widgets=WIDGETS)


@require("curator")
async def rules_page(request: web.Request) -> web.Response:
    wall = wall_of(request)
    policy = await request.app[ACTIONS].policy(wall.name)
    optouts = [{**o, "since_utc": utc(o["since"]), "until_utc": utc(o["until"])}
               for o in await request.app[ACTIONS].optouts(wall.name)]
    return page(request, "console/rules.html", wall=wall, policy=policy, words=policy["blocked_words"],
                bans=policy["banned"], optouts=optouts, optout=wall.optout,
                model=await request.app[ACTIONS].sentiment_model(wall.name))


# --- moderation (JSON) ----------------------------------------------------------------------------------

@require("curator")
async def queue_items(request: web.Request) -> web.Response:
    wall = wall_of(request)
    q = request.query.get("q") or None
    status = request.query.get("status") or None
    if q is not None and len(q) > 200:
        return error(400, "q: at most 200 characters")
    limit = query_int(request, "limit", 200, 1, 500)
    items = await request.app[ACTIONS].queue(wall.name, limit=limit, q=q, status=status)
    return json_response({"wall": wall.name, "items": items, "server_time": time.time()})


@require("curator")
async def decide(request: web.Request) -> web.StreamResponse:
    wall = wall_of(request)
    body = await read(request, DecideBody)
    if body.action not in DECISIONS:
        return error(400, f"action: one of {', '.join(DECISIONS)}")
    result = await attempt(request.app[ACTIONS].decide(wall.name, body.post_id, identity(request).username,
                                                       body.action, body.expected_version, body.seconds))
    return json_response({"ok": True, "result": result})


@require("curator")
async def bulk(request: web.Request) -> web.StreamResponse:
    """One action on many posts; each is decided on its own (a conflict on one stops none of the rest)."""
    wall = wall_of(request)
    body = await read(request, BulkBody)
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
    body = await read(request, BanBody)
    author = author_field(body.author)
    actions, actor = request.app[ACTIONS], identity(request).username
    result = await attempt(actions.unban(wall.name, author, actor) if body.undo
                           else actions.ban(wall.name, author, actor, body.reason[:500]))
    return done(request, result, f"/console/w/{wall.name}/rules")


@require("curator")
async def optouts(request: web.Request) -> web.Response:
    wall = wall_of(request)
    return json_response({"wall": wall.name, "optouts": await request.app[ACTIONS].optouts(wall.name)})


@require("admin")
async def optout(request: web.Request) -> web.StreamResponse:
    """An admin adds an author to the wall's opt-out list at their request, or ends an opt-out early."""
    wall = wall_of(request)
    body = await read(request, OptOutBody)
    author = author_field(body.author)
    actions, actor = request.app[ACTIONS], identity(request).username
    result = await attempt(actions.opt_in(wall.name, author, actor) if body.undo
                           else actions.opt_out(wall.name, author, actor, body.days))
    return done(request, result, f"/console/w/{wall.name}/rules")


@require("curator")
async def words(request: web.Request) -> web.StreamResponse:
    wall = wall_of(request)
    body = await read(request, WordBody)
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
    body = await read(request, PolicyBody)
    if body.mode not in ("pre", "post"):
        return error(400, "mode: pre (nothing shows until approved) or post (everything shows unless held)")
    result = await attempt(request.app[ACTIONS].set_policy(wall.name, identity(request).username, body.mode,
                                                           body.settings))
    return done(request, result, f"/console/w/{wall.name}/rules")


@require("curator")
async def sentiment(request: web.Request) -> web.StreamResponse:
    wall = wall_of(request)
    body = await read(request, SentimentBody)
    if body.label not in LABELS:
        return error(400, f"label: one of {', '.join(LABELS)}")
    result = await attempt(request.app[ACTIONS].correct_sentiment(wall.name, body.post_id,
                                                                  identity(request).username, body.label))
    return json_response({"ok": True, "result": result})


@require("curator")
async def labelled(request: web.Request) -> web.Response:
    """The wall's corrected labels as JSON lines, the input of `wall sentiment fit`."""
    wall = wall_of(request)
    lines = await request.app[ACTIONS].labelled_lines(wall.name)
    body = b"".join(encode(line) + b"\n" for line in lines)
    return web.Response(body=body, content_type="application/x-ndjson", headers={
        "Content-Disposition": f'attachment; filename="{wall.name}-labels.jsonl"'})


@require("admin")
async def model_rollback(request: web.Request) -> web.StreamResponse:
    """Stop using the wall's current sentiment model version (the one before it scores again)."""
    wall = wall_of(request)
    result = await attempt(request.app[ACTIONS].roll_back_model(wall.name, identity(request).username))
    return done(request, result, f"/console/w/{wall.name}/rules")


@require("presenter")
async def control(request: web.Request) -> web.StreamResponse:
    wall = wall_of(request)
    body = await read(request, ControlBody)
    if body.op not in CONTROLS:
        return error(400, f"op: one of {', '.join(CONTROLS)}")
    if body.value is not None and len(body.value) > 500:
        return error(400, "value: at most 500 characters")
    result = await attempt(request.app[ACTIONS].control(wall.name, identity(request).username, body.op,
                                                        body.value))
    return json_response({"ok": True, "result": result})


@require("presenter")
async def control_state(request: web.Request) -> web.Response:
    wall = wall_of(request)
    return json_response(await request.app[ACTIONS].control_state(wall.name))


@require("curator")
async def queue_socket(request: web.Request) -> web.WebSocketResponse:
    """The live queue: every new post and every curator's decision, as JSON text frames."""
    wall = wall_of(request)
    return await _console_socket(request, lambda ws: (
        _pump(ws, request.app[ACTIONS].subscribe_queue(wall.name)),
        _alerts(ws, request.app[HUBS][wall.name])))


@require("presenter")
async def present_socket(request: web.Request) -> web.WebSocketResponse:
    """The presenter page's live state: the wall's control state as its screens have it, as
    `{"type": "control", ...}` frames, now and at each change (whoever made it: another presenter, a
    curator's spotlight, stage hardware through the control API)."""
    wall = wall_of(request)
    return await _console_socket(request, lambda ws: (_controls(ws, request.app[HUBS][wall.name]),))


Feed = Coroutine[Any, Any, None]


async def _console_socket(request: web.Request, feeds: Callable[[web.WebSocketResponse], tuple[Feed, ...]]
                          ) -> web.WebSocketResponse:
    """A console socket: `feeds` write to it until it closes; it takes no messages and lives no longer
    than its session."""
    ident = identity(request)
    ws = web.WebSocketResponse(heartbeat=20.0, max_msg_size=4096)
    await ws.prepare(request)
    request.app[CONSOLE_SOCKETS].add(ws)
    tasks = (*(asyncio.create_task(feed) for feed in feeds(ws)),
             asyncio.create_task(_watch_session(ws, request, ident)))
    try:
        async for msg in ws:  # reading keeps pings and close working; the page itself sends nothing
            if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=NO_MESSAGES)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return ws


class _Alerts(msgspec.Struct):
    alerts: list[dict[str, Any]] = []


_alerts_decoder = msgspec.json.Decoder(_Alerts)


async def _alerts(ws: web.WebSocketResponse, hub: Hub) -> None:
    """Spike alerts of the wall's live figures, as `{"type": "alerts", "alerts": [...]}` whenever they
    change: curators always see them, whether or not the wall shows them on screen."""
    sent: list[dict[str, Any]] | None = None
    seen: bytes | None = None
    while not ws.closed:
        if hub.stats is not None and hub.stats is not seen:
            seen = hub.stats
            with contextlib.suppress(msgspec.DecodeError, msgspec.ValidationError):
                alerts = _alerts_decoder.decode(seen).alerts
                if alerts != sent:
                    sent = alerts
                    with contextlib.suppress(ConnectionResetError):
                        await ws.send_str(encode({"type": "alerts", "alerts": alerts}).decode())
        await asyncio.sleep(ALERTS_EVERY)


class _Control(msgspec.Struct):
    """What the presenter page shows of a control event (the spotlit post itself stays out)."""

    paused: bool = False
    panic: bool = False
    scene: str | None = None
    announcement: str | None = None
    spotlight_until: float | None = None
    next_seq: int = 0
    countdown_to: float | None = None
    countdown_title: str = ""
    widgets: list[str] = []
    rundown_item: int | None = None
    rundown_auto: bool = False
    meter: bool = False


_control_decoder = msgspec.json.Decoder(_Control)


async def _controls(ws: web.WebSocketResponse, hub: Hub) -> None:
    """The hub's latest control event whenever it changes (first: the one it has, or the default)."""
    seen, first = hub.control, True
    while not ws.closed:
        if first or hub.control is not seen:
            seen, first = hub.control, False
            with contextlib.suppress(msgspec.DecodeError, msgspec.ValidationError, ConnectionResetError):
                state = _Control() if seen is None else _control_decoder.decode(seen)
                await ws.send_str(encode({"type": "control", **msgspec.structs.asdict(state)}).decode())
        await asyncio.sleep(CONTROL_EVERY)


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


def add_console_routes(app: web.Application) -> None:
    app[CONSOLE_SOCKETS] = WeakSet()
    app.on_shutdown.append(close_console_sockets)
    r = app.router
    r.add_get("/console", home)
    r.add_get("/console/w/{wall}", queue_page)
    r.add_get("/console/w/{wall}/ws", queue_socket)
    r.add_get("/console/w/{wall}/present", present_page)
    r.add_get("/console/w/{wall}/present/ws", present_socket)
    r.add_get("/console/w/{wall}/rules", rules_page)
    r.add_get("/console/api/w/{wall}/queue", queue_items)
    r.add_post("/console/api/w/{wall}/decide", decide)
    r.add_post("/console/api/w/{wall}/bulk", bulk)
    r.add_post("/console/api/w/{wall}/ban", ban)
    r.add_post("/console/api/w/{wall}/words", words)
    r.add_get("/console/api/w/{wall}/optouts", optouts)
    r.add_post("/console/api/w/{wall}/optout", optout)
    r.add_post("/console/api/w/{wall}/policy", policy)
    r.add_post("/console/api/w/{wall}/sentiment", sentiment)
    r.add_get("/console/api/w/{wall}/labelled", labelled)
    r.add_post("/console/api/w/{wall}/sentiment/rollback", model_rollback)
    r.add_get("/console/api/w/{wall}/control", control_state)
    r.add_post("/console/api/w/{wall}/control", control)
