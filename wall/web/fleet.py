"""The kiosk fleet over HTTP: pairing, the kiosks' reports and commands, the admins' fleet view.

Two kinds of caller, never mixed:
- kiosks (`/api/v1/kiosks/...`): no cookie, no CSRF; the pairing poll token or the kiosk's own token as
  `Authorization: Bearer …`. A revoked token is a 401 whose message the agent puts on the screen.
- admins (`/console/fleet`, `/console/api/fleet/...`): `require("admin")`, so a live admin session and,
  for changes, the session's CSRF token from this site (wall/web/auth.py).

The FleetWatch background task reads the store every few seconds, so a kiosk silent for longer than
`kiosks.offline_after` is named in /healthz's problems and on the console's fleet page.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import re
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import msgspec
from aiohttp import web

from wall.addresses import network
from wall.config import Config, KioskConfig
from wall.store import Store
from wall.store.audit import Event
from wall.store.kiosks import ClaimState, CodeExpired, Kiosk, UnknownCode
from wall.web.address import client_address
from wall.web.auth import identity, require
from wall.web.console import page
from wall.web.http import error, json_response
from wall.web.inputs import bearer, json_body, path_id, refusal
from wall.web.keys import CONFIG, HEALTH, STORE
from wall.web.pages import render
from wall.web.private import KEYED

log = logging.getLogger(__name__)
CODE = re.compile(r"^[A-Z0-9]{2}-[A-Z0-9]{3}$")
MAX_SCREENSHOT = 256 * 1024  # bytes of JPEG; a 480 px wide screenshot at quality 50 is about 20 KB
ENROLLS_PER_MINUTE = 20  # per /24 or /64: a kiosk asks once per code, every 15 min
POLL_INTERVAL = 3.0  # seconds between a pairing kiosk's polls


class EnrollBody(msgspec.Struct, forbid_unknown_fields=True):
    hostname: str = ""
    version: str = ""


class ReportBody(msgspec.Struct):
    """What an agent tells about its kiosk. Unknown fields are ignored: newer agents may say more."""

    version: str = ""
    uptime: float | None = None  # seconds since the device booted
    agent_uptime: float | None = None
    heartbeat_age: float | None = None  # seconds since the page's last heartbeat, as the agent saw it
    memory: dict[str, float] = {}  # "heap_mb", "available_mb", "total_mb"
    url: str = ""  # what the browser shows
    state: str = ""  # the agent's own words: "healthy", "the page crashed: reloading", …
    screenshot: str | None = None  # base64 JPEG


class ApproveBody(msgspec.Struct, forbid_unknown_fields=True):
    code: str
    wall: str
    screen: int = 1
    of: int = 1
    name: str | None = None


class AssignBody(msgspec.Struct, forbid_unknown_fields=True):
    wall: str
    screen: int = 1
    of: int = 1


# --- what kiosks call ------------------------------------------------------------------------------------

class EnrollLimit:
    """At most ENROLLS_PER_MINUTE pairing requests per network (/24, /64) and minute (per node)."""

    def __init__(self) -> None:
        self.seen: dict[str, deque[float]] = {}

    def allow(self, ip: str, now: float) -> bool:
        times = self.seen.setdefault(ip, deque())
        while times and now - times[0] > 60:
            times.popleft()
        if len(times) >= ENROLLS_PER_MINUTE:
            return False
        times.append(now)
        if len(self.seen) > 10_000:  # forget quiet addresses
            self.seen = {k: v for k, v in self.seen.items() if v and now - v[-1] < 60}
        return True


ENROLL_LIMIT = web.AppKey("enroll_limit", EnrollLimit)


async def enroll(request: web.Request) -> web.Response:
    """A new kiosk asks for a pairing code."""
    body = await json_body(request, EnrollBody)
    ip = client_address(request)
    if not request.app[ENROLL_LIMIT].allow(network(ip), time.monotonic()):
        return error(429, f"too many pairing requests from {network(ip)}: wait a minute")
    kcfg = request.app[CONFIG].kiosks
    poll, req = await request.app[STORE].kiosks.enroll(body.hostname or "kiosk", ip, kcfg.pairing_ttl)
    log.info("kiosk %s at %s asks to pair with code %s", req.hostname, ip, req.code)
    return json_response({"code": req.code, "poll_token": poll, "expires_in": kcfg.pairing_ttl,
                          "poll_interval": POLL_INTERVAL,
                          "pair_url": f"/kiosk/pair?{urlencode({'code': req.code})}"}, 201)


async def claim(request: web.Request) -> web.Response:
    """A pairing kiosk's poll: waiting, approved (its token and its wall's URL), or expired."""
    poll = bearer(request)
    if poll is None:
        return error(401, "send the pairing poll token as Authorization: Bearer <poll_token>")
    store = request.app[STORE]
    found = await store.kiosks.claim(poll)
    if found.state is ClaimState.UNKNOWN:
        return error(404, "the server knows no such pairing request: ask for a new code", state="unknown")
    if found.state is ClaimState.EXPIRED:
        return error(410, "the pairing code expired before an admin approved it: ask for a new code",
                     state="expired")
    if found.state is ClaimState.WAITING:
        return json_response({"state": "waiting"})
    kiosk = found.kiosk
    assert kiosk is not None and found.token is not None
    log.info("kiosk %d (%s) paired: screen %d of %d of %s", kiosk.id, kiosk.name, kiosk.screen,
             kiosk.screens, kiosk.wall)
    return json_response({"state": "approved", "token": found.token, "kiosk": _kiosk_self(kiosk),
                          "url": await _wall_url(request, kiosk),
                          "report_interval": request.app[CONFIG].kiosks.report_interval,
                          "screenshot_interval": request.app[CONFIG].kiosks.screenshot_interval})


async def _authenticated(request: web.Request) -> Kiosk:
    token = bearer(request)
    if token is None:
        raise refusal(401, "send this kiosk's token as Authorization: Bearer <token>")
    kiosk = await request.app[STORE].kiosks.authenticate(token)
    if kiosk is None:
        raise refusal(401, "the wall server does not know this kiosk's token: pair the kiosk again "
                         "(a new code appears on its screen after `wall kiosk-agent --reset`)")
    if kiosk.revoked_at is not None:
        raise refusal(401, f"an admin revoked this kiosk ({kiosk.name}) on "
                         f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(kiosk.revoked_at))}: "
                         "it shows nothing until it is paired again")
    return kiosk


async def report(request: web.Request) -> web.Response:
    """A kiosk's heartbeat: its status in, the commands queued for it out."""
    kiosk = await _authenticated(request)
    body = await json_body(request, ReportBody)
    kcfg = request.app[CONFIG].kiosks
    shot: bytes | None = None
    if body.screenshot:
        try:
            shot = base64.b64decode(body.screenshot, validate=True)
        except (binascii.Error, ValueError):
            return error(422, "screenshot: expected base64 JPEG")
        if len(shot) > MAX_SCREENSHOT or not shot.startswith(b"\xff\xd8\xff"):
            return error(422, f"screenshot: expected a JPEG of at most {MAX_SCREENSHOT // 1024} KB")
        recent = kiosk.screenshot_at is not None and time.time() - kiosk.screenshot_at < \
            kcfg.screenshot_interval / 2
        if recent:
            shot = None  # rate limit: a chatty agent does not fill the database
    status = {"version": body.version[:64], "uptime": body.uptime, "agent_uptime": body.agent_uptime,
              "heartbeat_age": body.heartbeat_age,
              "memory": {k[:32]: float(v) for k, v in list(body.memory.items())[:8]},
              "url": _without_key(body.url)[:500], "state": _without_key(body.state)[:300]}
    ops = await request.app[STORE].kiosks.report(kiosk.id, status, shot)
    commands: list[dict[str, Any]] = []
    for op in ops:
        if op == "assign":
            kiosk = await request.app[STORE].kiosks.get(kiosk.id) or kiosk
            commands.append({"op": "assign", "url": await _wall_url(request, kiosk),
                             "kiosk": _kiosk_self(kiosk)})
        elif op == "identify":
            commands.append({"op": "identify", "kiosk": _kiosk_self(kiosk)})
        else:
            commands.append({"op": op})
    return json_response({"commands": commands, "report_interval": kcfg.report_interval,
                          "screenshot_interval": kcfg.screenshot_interval})


def _kiosk_self(kiosk: Kiosk) -> dict[str, Any]:
    return {"id": kiosk.id, "name": kiosk.name, "wall": kiosk.wall, "screen": kiosk.screen,
            "of": kiosk.screens}


def _without_key(url: str) -> str:
    """A reported URL as the console shows it: a private wall's display key is a secret."""
    return re.sub(r"([?&]key=)[^&#]*", r"\1…", url)


async def _wall_url(request: web.Request, kiosk: Kiosk) -> str:
    """The path the kiosk loads; for a private wall with a fresh display key (the kiosk's old one revoked)."""
    store = request.app[STORE]
    query: dict[str, str | int] = {"screen": kiosk.screen, "of": kiosk.screens} if kiosk.screens > 1 else {}
    if kiosk.display_key_id is not None:
        await _revoke_key(request, kiosk.display_key_id)
        await store.kiosks.set_display_key(kiosk.id, None)
    wall = request.app[CONFIG].walls.get(kiosk.wall)
    if wall is not None and getattr(wall, "private", False):
        raw, key = await store.display_keys.issue(kiosk.wall, f"kiosk {kiosk.id} {kiosk.name}"[:255])
        await store.kiosks.set_display_key(kiosk.id, key.id)
        query["key"] = raw
    return f"/w/{kiosk.wall}" + (f"?{urlencode(query)}" if query else "")


async def _revoke_key(request: web.Request, key_id: int) -> None:
    """Revoke a kiosk's display key; its screens on this node close now, on the others within a second."""
    if await request.app[STORE].display_keys.revoke(key_id) is not None:
        request.app[KEYED].close_key(key_id)


async def pair_page(request: web.Request) -> web.Response:
    """What a pairing kiosk shows: its code, big enough to read from across the room."""
    code = request.query.get("code", "")
    if not CODE.match(code):
        raise web.HTTPBadRequest(text="code: expected a pairing code like K7-4QX")
    return render(request, "kiosk/pair.html", code=code, console=f"{request.scheme}://{request.host}/console/fleet")


# --- what admins call ------------------------------------------------------------------------------------

def _position(cfg: Config, wall: str, screen: int, of: int) -> str | None:
    """What is wrong with a wall and position an admin typed, or None."""
    if wall not in cfg.walls:
        return f"wall: no wall named {wall!r}; the config has {', '.join(cfg.walls)}"
    if not 1 <= of <= 64:
        return f"of: {of} screens? Use 1 to 64"
    if not 1 <= screen <= of:
        return f"screen: {screen} of {of}? The screen must be between 1 and {of}"
    return None


@require("admin")
async def fleet_page(request: web.Request) -> web.Response:
    return page(request, "console/fleet.html", offline_after=request.app[CONFIG].kiosks.offline_after)


@require("admin")
async def fleet_list(request: web.Request) -> web.Response:
    """Every kiosk with online or offline, the pairing codes waiting, and the alerts."""
    watch = request.app[FLEET_WATCH]
    kiosks = await request.app[STORE].kiosks.all()
    pending = await request.app[STORE].kiosks.pending()
    now = time.time()
    watch.update(kiosks, now)
    return json_response({
        "now": now,
        "offline_after": watch.cfg.offline_after,
        "kiosks": [watch.shown(k, now) for k in kiosks],
        "pending": [{"code": p.code, "hostname": p.hostname, "ip": p.ip,
                     "expires_in": round(p.expires_at - now)} for p in pending],
        "alerts": watch.problems(),
        "walls": [{"name": w.name, "title": w.title} for w in request.app[CONFIG].walls.values()],
    })


@require("admin")
async def approve(request: web.Request) -> web.Response:
    body = await json_body(request, ApproveBody)
    wrong = _position(request.app[CONFIG], body.wall, body.screen, body.of)
    if wrong:
        return error(422, wrong)
    store = request.app[STORE]
    try:
        kiosk = await store.kiosks.approve(body.code, body.wall, body.screen, body.of,
                                           identity(request).username, name=(body.name or "").strip() or None)
    except CodeExpired as e:
        return error(410, str(e))
    except UnknownCode as e:
        return error(404, str(e))
    await _audit(request, "kiosk.approve", kiosk, after=_kiosk_self(kiosk))
    return json_response(_kiosk_self(kiosk), 201)


@require("admin")
async def clear_pending(request: web.Request) -> web.Response:
    """Drop every pairing request waiting for approval (after a flood); kiosks still pairing ask again."""
    actor = identity(request).username
    cleared = await request.app[STORE].kiosks.clear_pending()
    await request.app[STORE].audit.record(Event("kiosk.clear_pending", actor, None, None,
                                                after={"cleared": cleared}))
    log.info("%d pairing requests cleared by %s", cleared, actor)
    return json_response({"ok": True, "cleared": cleared})


async def _kiosk_arg(request: web.Request) -> Kiosk:
    kiosk_id = path_id(request, "id")
    if kiosk_id is None:
        raise refusal(404, "no such kiosk")
    kiosk = await request.app[STORE].kiosks.get(kiosk_id)
    if kiosk is None:
        raise refusal(404, f"no kiosk {kiosk_id}")
    return kiosk


@require("admin")
async def kiosk_command(request: web.Request) -> web.Response:
    """reload, identify, assign (with a wall and position) or revoke one kiosk."""
    kiosk = await _kiosk_arg(request)
    op = request.match_info["op"]
    store = request.app[STORE]
    if kiosk.revoked_at is not None:
        return error(409, f"kiosk {kiosk.name} is revoked: pair it again")
    if op == "revoke":
        await store.kiosks.revoke(kiosk.id, identity(request).username)
        if kiosk.display_key_id is not None:
            await _revoke_key(request, kiosk.display_key_id)
        await _audit(request, "kiosk.revoke", kiosk)
        log.info("kiosk %d (%s) revoked by %s", kiosk.id, kiosk.name, identity(request).username)
        return json_response({"ok": True})
    if op == "assign":
        body = await json_body(request, AssignBody)
        wrong = _position(request.app[CONFIG], body.wall, body.screen, body.of)
        if wrong:
            return error(422, wrong)
        moved = await store.kiosks.assign(kiosk.id, body.wall, body.screen, body.of,
                                          identity(request).username)
        assert moved is not None
        await _audit(request, "kiosk.assign", kiosk, before=_kiosk_self(kiosk), after=_kiosk_self(moved))
        return json_response(_kiosk_self(moved))
    if op not in ("reload", "identify"):
        return error(404, f"no kiosk command {op!r}: use reload, identify, assign or revoke")
    await store.kiosks.command(kiosk.id, op, identity(request).username)
    await _audit(request, f"kiosk.{op}", kiosk)
    return json_response({"ok": True, "queued": op})


@require("admin")
async def kiosk_screenshot(request: web.Request) -> web.Response:
    kiosk = await _kiosk_arg(request)
    found = await request.app[STORE].kiosks.screenshot(kiosk.id)
    if found is None:
        return error(404, f"kiosk {kiosk.name} has sent no screenshot yet")
    return web.Response(body=found[1], content_type="image/jpeg", headers={"Cache-Control": "no-store"})


async def _audit(request: web.Request, name: str, kiosk: Kiosk, before: Any = None,
                 after: Any = None) -> None:
    actor = identity(request).username
    await request.app[STORE].audit.record(Event(name, actor, kiosk.wall, f"kiosk {kiosk.id}", before, after))


# --- silent kiosks ---------------------------------------------------------------------------------------

class FleetWatch:
    """Which kiosks went silent, for /healthz and the console; logs each change once."""

    def __init__(self, store: Store, cfg: KioskConfig) -> None:
        self.store = store
        self.cfg = cfg
        self.offline: dict[int, str] = {}  # kiosk id -> the alert

    def update(self, kiosks: list[Kiosk], now: float) -> None:
        offline: dict[int, str] = {}
        for k in kiosks:
            silent = None if k.last_seen is None else now - k.last_seen
            if k.revoked_at is None and silent is not None and silent > self.cfg.offline_after:
                offline[k.id] = (f"kiosk {k.name} (screen {k.screen} of {k.screens} of {k.wall}) is "
                                 f"offline: no report for {silent:.0f} s; is it powered and on the network?")
        for kid in offline.keys() - self.offline.keys():
            log.warning("%s", offline[kid])
        for kid in self.offline.keys() - offline.keys():
            log.info("kiosk %d reports again", kid)
        self.offline = offline

    def shown(self, k: Kiosk, now: float) -> dict[str, Any]:
        state = ("revoked" if k.revoked_at is not None else "pairing" if k.last_seen is None
                 else "offline" if k.id in self.offline else "online")
        return {**_kiosk_self(k), "state": state, "online": state == "online",
                "last_seen_age": None if k.last_seen is None else round(now - k.last_seen, 1),
                "status": k.status, "screenshot_age": None if k.screenshot_at is None
                else round(now - k.screenshot_at, 1), "alert": self.offline.get(k.id)}

    def wall_health(self, wall: str) -> dict[str, object]:
        return {}

    def problems(self) -> list[str]:
        return list(self.offline.values())

    async def run(self) -> None:
        interval = min(5.0, self.cfg.offline_after / 4)
        while True:
            try:
                self.update(await self.store.kiosks.all(), time.time())
            except Exception as e:  # the database is down: /healthz says so through the store's ping
                log.warning("cannot read the kiosk fleet from the store: %s", e)
            await asyncio.sleep(interval)


FLEET_WATCH = web.AppKey("fleet_watch", FleetWatch)


async def fleet_ctx(app: web.Application) -> AsyncIterator[None]:
    watch = app[FLEET_WATCH] = FleetWatch(app[STORE], app[CONFIG].kiosks)
    app[HEALTH].append(watch)
    task = asyncio.create_task(watch.run())
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def add_fleet_routes(app: web.Application) -> None:
    """Kiosk routes (their own token, exempt from sessions and CSRF) and the admins' fleet routes."""
    app[ENROLL_LIMIT] = EnrollLimit()
    app.cleanup_ctx.append(fleet_ctx)
    r = app.router
    # kiosks
    r.add_post("/api/v1/kiosks/enroll", enroll, name="kiosk_enroll")
    r.add_post("/api/v1/kiosks/claim", claim, name="kiosk_claim")
    r.add_post("/api/v1/kiosks/report", report, name="kiosk_report")
    r.add_get("/kiosk/pair", pair_page, name="kiosk_pair")
    # admins
    r.add_get("/console/fleet", fleet_page, name="console_fleet")
    r.add_get("/console/api/fleet", fleet_list, name="fleet_list")
    r.add_post("/console/api/fleet/approve", approve, name="fleet_approve")
    r.add_post("/console/api/fleet/pending/clear", clear_pending, name="fleet_clear_pending")
    r.add_post("/console/api/fleet/kiosks/{id}/{op}", kiosk_command, name="fleet_kiosk_command")
    r.add_get("/console/api/fleet/kiosks/{id}/screenshot", kiosk_screenshot, name="fleet_kiosk_screenshot")
