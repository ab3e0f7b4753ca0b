"""Console accounts on the web: login with throttling, server-side sessions, CSRF and role guards.

- The session cookie `wall_session` holds a random token; the store keeps only its sha256 (wall/store/
  sessions.py). It is HttpOnly, SameSite=Strict, scoped to /console, and Secure unless
  `[web] secure_cookies = false` (the demo, on plain HTTP). A login always makes a new session and ends
  the one the browser came with, so a planted cookie is never promoted (no session fixation).
- Login throttling lives in the store (wall/store/logins.py), one atomic reservation per attempt before
  argon2 runs. A good login sets `wall_device` (random, only its sha256 stored, HttpOnly, SameSite=Strict,
  path /console/login, 180 days): that browser then counts on its own (account, device) counter only, so
  strangers' failures from anywhere never slow its owner down.
- CSRF: every state-changing request of a session carries `X-CSRF-Token` (or the form field `csrf`), an
  HMAC of the session token: unforgeable without the HttpOnly cookie, per session, and the same on every
  web node without a shared secret. Browsers' `Sec-Fetch-Site` / `Origin` must also name this site.
- `require(role)` guards a handler (admin > curator > presenter) and marks it, so a test can enumerate
  the routes and find any state-changing one left unguarded.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from aiohttp import web

from wall.store.audit import Event
from wall.store.logins import DEVICE_MAX_AGE
from wall.store.sessions import Session
from wall.store.users import Role, User
from wall.web.address import client_address
from wall.web.http import error
from wall.web.inputs import cookies, form, origin_host
from wall.web.keys import CONFIG, STORE
from wall.web.limits import BUSY_RETRY_AFTER, Busy, password_check

log = logging.getLogger(__name__)

SESSION_COOKIE = "wall_session"
DEVICE_COOKIE = "wall_device"  # a browser that logged in here before: exempt from the account's ceiling
COOKIE_PATH = "/console"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf"
RANK: dict[str, int] = {"presenter": 1, "curator": 2, "admin": 3}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ROLE_ATTR = "required_role"  # set on every guarded handler; tests/test_console_access.py reads it
TOUCH_EVERY = 60.0  # seconds: record activity (and slide the expiry) at most this often, not per request
MAX_USERNAME, MAX_PASSWORD = 64, 1024  # argon2 over a megabyte "password" would be a cheap DoS

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Identity:
    """The person behind a request: their live session, its raw token (never logged) and CSRF token."""

    session: Session
    token: str = field(repr=False)
    csrf: str = field(repr=False)

    @property
    def username(self) -> str:
        return self.session.username

    @property
    def role(self) -> Role:
        return self.session.role

    def can(self, role: Role) -> bool:
        return RANK[self.session.role] >= RANK[role]


IDENTITY = web.RequestKey("identity", Identity)
CHECKED = web.RequestKey("identity_checked", bool)


def csrf_for(token: str) -> str:
    """The CSRF token of a session: HMAC-SHA256 keyed by the session token."""
    return hmac.new(token.encode(), b"wall console csrf v1", hashlib.sha256).hexdigest()


async def current(request: web.Request) -> Identity | None:
    """Who is logged in on this request (looked up once per request), or None."""
    if CHECKED in request:
        return request.get(IDENTITY)
    found: Identity | None = None
    sessions = request.app[STORE].sessions
    for token in session_tokens(request):
        session = await sessions.get(token)
        if session is not None:
            if time.time() - session.last_seen > TOUCH_EVERY:
                await sessions.touch(token)
            found = request[IDENTITY] = Identity(session, token, csrf_for(token))
            break
    request[CHECKED] = True
    return found


def session_tokens(request: web.Request) -> list[str]:
    """Every `wall_session` value the browser sent: a cookie planted for another path (or a sibling
    subdomain) arrives beside ours, and `request.cookies` would keep only one of them."""
    return cookies(request, SESSION_COOKIE)


def same_site(request: web.Request) -> bool:
    """A browser says where a request comes from: only this site (or a configured origin) may change
    state. Clients that send neither header are not browsers and still need the CSRF token."""
    site = request.headers.get("Sec-Fetch-Site")
    origin = request.headers.get("Origin")
    allowed = request.app[CONFIG].web.allowed_origins
    if site is not None:  # set by the browser alone (no page can forge it); Origin is "null" under our
        # Referrer-Policy: no-referrer, so Sec-Fetch-Site comes first
        return site in ("same-origin", "none") or (origin is not None and origin in allowed)
    if origin is None:
        return True
    if origin == "null":  # a sandboxed frame or a redirect chain: nobody we know
        return False
    return origin_host(origin) == request.host or origin in allowed


async def csrf_ok(request: web.Request, ident: Identity) -> bool:
    """The request carries this session's CSRF token, in the header or a form field, from this site."""
    if not same_site(request):
        return False
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        sent = (await form(request)).get(CSRF_FIELD)
    return sent is not None and hmac.compare_digest(sent.encode(), ident.csrf.encode())


def wants_html(request: web.Request) -> bool:
    return request.method == "GET" and "text/html" in request.headers.get("Accept", "")


def refused(request: web.Request, status: int, message: str) -> web.StreamResponse:
    """A JSON error for scripts, a short page for a person's browser."""
    if wants_html(request) or request.content_type == "application/x-www-form-urlencoded":
        return web.Response(status=status, text=message, content_type="text/plain")
    return error(status, message)


def require(role: Role) -> Callable[[Handler], Handler]:
    """Guard a console handler: a live session of at least `role`, and on a state-changing request (or
    a WebSocket) the CSRF token / this site's origin. Anonymous pages are sent to the login page."""
    needed = RANK[role]

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            ident = await current(request)
            if ident is None:
                if wants_html(request) and request.headers.get("Upgrade", "").lower() != "websocket":
                    raise web.HTTPSeeOther(f"/console/login?next={quote(request.path_qs, safe='')}")
                return refused(request, 401, "log in to the console first")
            if RANK[ident.role] < needed:
                return refused(request, 403, f"this needs the {role} role; {ident.username} is {ident.role}")
            if request.headers.get("Upgrade", "").lower() == "websocket":
                if not same_site(request):
                    return refused(request, 403, "this Origin may not open console sockets")
            elif request.method not in SAFE_METHODS and not await csrf_ok(request, ident):
                return refused(request, 403, "missing or wrong CSRF token; reload the page")
            return await handler(request)

        setattr(guarded, ROLE_ATTR, role)
        return guarded

    return wrap


def identity(request: web.Request) -> Identity:
    """The identity a `require` guard already established for this request."""
    assert IDENTITY in request, "identity() called in a handler without a require() guard"
    return request[IDENTITY]


def safe_next(value: str | None, default: str = "/console") -> str:
    """Where to go after login: a path on this site only. Anything that a browser could read as another
    host (`//evil`, `/\\evil`, `https://evil`, control characters it would strip) becomes the default."""
    if not value or len(value) > 2000 or not value.startswith("/") or value.startswith("//"):
        return default
    if any(c == "\\" or ord(c) < 0x21 or ord(c) == 0x7F for c in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def set_session_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    response.set_cookie(SESSION_COOKIE, token, path=COOKIE_PATH, httponly=True, samesite="Strict",
                        secure=request.app[CONFIG].web.secure_cookies,
                        max_age=int(request.app[STORE].sessions.max_age))


def clear_session_cookie(request: web.Request, response: web.StreamResponse) -> None:
    response.del_cookie(SESSION_COOKIE, path=COOKIE_PATH, secure=request.app[CONFIG].web.secure_cookies,
                        httponly=True, samesite="Strict")


def client_ip(request: web.Request) -> str:
    """The client's address (X-Forwarded-For only from `[web] trusted_proxies`: wall/web/address.py)."""
    return client_address(request)


def device_token(request: web.Request) -> str | None:
    """The device cookie this browser got at its last good login here, if any."""
    value = request.cookies.get(DEVICE_COOKIE)
    return value if value and len(value) <= 128 else None


@dataclass(frozen=True)
class LoginResult:
    ok: bool
    status: int = 200
    message: str = ""
    token: str = field(default="", repr=False)
    retry_after: int = 0
    device: str = field(default="", repr=False)


async def verify_throttled(request: web.Request, username: str, password: str) -> User | LoginResult:
    """The password checked under the login throttle (wall/store/logins.py): the user, or the refusal to
    answer (429 while a delay runs, 401 for a wrong password or an unknown or disabled account)."""
    store = request.app[STORE]
    ip = client_ip(request)
    held = await store.logins.reserve(username, ip, device_token(request))
    if not held.allowed:
        wait = math.ceil(held.retry_after)
        log.warning("login refused for %s from %s: throttled by %s for %d s",
                    await _logged_name(request, username), ip, held.reason, wait)
        return LoginResult(False, 429, f"too many failed attempts: try again in {waiting(wait)}",
                           retry_after=wait)
    try:
        async with password_check(request):  # argon2 is CPU- and memory-heavy: a few at once
            user = await store.users.verify(username, password)
    except Busy:  # the password was never checked: the attempt counts for nothing
        await store.logins.release(held)
        return LoginResult(False, 503, "the server is busy checking other logins: try again in a moment",
                           retry_after=BUSY_RETRY_AFTER)
    await store.logins.settle(held, user is not None)
    if user is None:
        log.info("failed login for %s from %s", await _logged_name(request, username), ip)
        if held.started:  # this failure starts a delay: the admins' notice and the audit log say so
            account = await store.users.get(username)  # never a typed name that is no account: a password?
            await store.audit.record(Event("login.throttled", "system",
                                           target=account.username if account else None,
                                           after={"ip": ip, "scopes": list(held.started)}))
        return LoginResult(False, 401, "wrong username or password")
    return user


def waiting(seconds: int) -> str:
    """A wait in words: "20 s", "5 min"."""
    return f"{seconds} s" if seconds < 90 else f"{round(seconds / 60)} min"


async def log_in(request: web.Request, username: str, password: str) -> LoginResult:
    """The throttle, then the password; a new session on success (the old one, if any, ended) and the
    device cookie that exempts this browser from the account's ceiling next time."""
    store = request.app[STORE]
    if not username or len(username) > MAX_USERNAME or len(password) > MAX_PASSWORD:
        return LoginResult(False, 401, "wrong username or password")
    user = await verify_throttled(request, username, password)
    if isinstance(user, LoginResult):
        return user
    ip = client_ip(request)
    for old in session_tokens(request):
        await store.sessions.revoke(old)  # never carry a session (a planted one) across a login
    token, _ = await store.sessions.create(user.id)
    device = await store.logins.remember_device(user.id, device_token(request))
    await store.audit.record(Event("login", user.username, target=user.username, after={"ip": ip}))
    log.info("login: %s (%s) from %s", user.username, user.role, ip)
    return LoginResult(True, token=token, device=device)


async def _logged_name(request: web.Request, username: str) -> str:
    """The username for the log only when it is an account: people type their password into the
    username field, and a failed login must not write it to the log."""
    found = await request.app[STORE].users.get(username)
    return repr(found.username) if found else "an unknown username"


# --- routes -------------------------------------------------------------------------------------------

async def login_page(request: web.Request, message: str = "", status: int = 200,
                     username: str = "") -> web.Response:
    from wall.web.pages import render  # pages imports nothing of the console

    cfg = request.app[CONFIG]
    insecure = cfg.web.secure_cookies and request.scheme == "http" and request.host.split(":")[0] not in (
        "localhost", "127.0.0.1", "[::1]")
    response = render(request, "console/login.html", next=safe_next(request.query.get("next")),
                      message=message, username=username, insecure_http=insecure, csrf="", user=None)
    response.set_status(status)
    return response


async def login_form(request: web.Request) -> web.Response:
    if await current(request) is not None:
        raise web.HTTPSeeOther(safe_next(request.query.get("next")))
    return await login_page(request)


async def login(request: web.Request) -> web.StreamResponse:
    """POST /console/login: anonymous by nature; guarded by the origin check and the throttle instead."""
    if not same_site(request):
        return refused(request, 403, "log in from the console's own page")
    fields = await form(request)
    username = fields.get("username", "").strip()
    password = fields.get("password", "")
    target = safe_next(fields.get("next", ""))
    result = await log_in(request, username, password)
    if not result.ok:
        response = await login_page(request, result.message, result.status, username[:MAX_USERNAME])
        if result.retry_after:
            response.headers["Retry-After"] = str(result.retry_after)
        return response
    redirect = web.HTTPSeeOther(target)
    set_session_cookie(request, redirect, result.token)
    redirect.set_cookie(DEVICE_COOKIE, result.device, path="/console/login", httponly=True, samesite="Strict",
                        secure=request.app[CONFIG].web.secure_cookies, max_age=int(DEVICE_MAX_AGE))
    raise redirect


@require("presenter")
async def logout(request: web.Request) -> web.StreamResponse:
    ident = identity(request)
    store = request.app[STORE]
    await store.sessions.revoke(ident.token)
    await store.audit.record(Event("logout", ident.username, target=ident.username))
    redirect = web.HTTPSeeOther("/console/login")
    clear_session_cookie(request, redirect)
    raise redirect


@require("presenter")
async def logout_everywhere(request: web.Request) -> web.StreamResponse:
    ident = identity(request)
    store = request.app[STORE]
    ended = await store.sessions.revoke_all_for_user(ident.session.user_id)
    await store.audit.record(Event("logout.everywhere", ident.username, target=ident.username,
                                   after={"sessions": ended}))
    redirect = web.HTTPSeeOther("/console/login")
    clear_session_cookie(request, redirect)
    raise redirect


def add_auth_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/console/login", login_form)
    r.add_post("/console/login", login)
    r.add_post("/console/logout", logout)
    r.add_post("/console/logout-everywhere", logout_everywhere)
