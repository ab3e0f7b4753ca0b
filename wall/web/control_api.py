"""The control API for stage hardware: a Stream Deck (through Bitfocus Companion's generic HTTP module),
a foot switch, a show-control script steers one wall with `POST /api/v1/control/{wall}/{action}` and
`Authorization: Bearer <control token>` (docs/control-api.md).

- A token belongs to one wall and one scope (SCOPES: the actions it may take); admins make, name and
  revoke tokens on the console (wall/web/tokens.py); the store keeps only their sha256.
- Every action goes through the same service call as the console's presenter page
  (`Actions.control`, app[ACTIONS]), audited with the actor `token:<name>`.
- Refusals are JSON `{"error": ...}` that say what to do: 401 no, unknown, revoked or expired token; 403 a
  token of another wall, or a scope without the action; 429 too many actions from one token, or too many
  refused requests from one network (per node, RATES). No cookies and no CSRF: a browser page cannot send
  the header cross-site (no CORS), and the token is the whole permission.
- `token_scoped(action)` guards a handler and marks it (SCOPE_ATTR), so the route-guard test finds every
  control route and tries each refusal on it (tests/test_console_access.py).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from aiohttp import web

from wall.addresses import network
from wall.store.control_tokens import ControlToken
from wall.web.address import client_address
from wall.web.console import attempt
from wall.web.http import json_response
from wall.web.inputs import bearer, refusal
from wall.web.keys import STORE
from wall.web.moderation import ACTIONS

log = logging.getLogger(__name__)
PREFIX = "/api/v1/control/{wall}"
# API action -> the presenter's op (wall/curate/actions.py CONTROL_OPS) it is
OPS = {"next": "next", "pause": "pause", "resume": "resume", "scene": "scene", "run-of-show": "clear_scene",
       "spotlight-next": "spotlight_next", "panic": "panic", "release": "release",
       "rundown-next": "rundown_next", "rundown-prev": "rundown_prev", "qa-next": "qa_next",
       "poll-open": "poll_open", "poll-close": "poll_close", "poll-hide": "poll_hide",
       "meter-on": "meter_on", "meter-off": "meter_off"}
# scope -> the actions its tokens may take; every scope may read the state (GET)
SCOPES: dict[str, tuple[str, ...]] = {
    "presenter": tuple(OPS),
    "panic-only": ("panic", "release"),
}
READ = "read"  # the mark of the state route: any scope
SCOPE_ATTR = "control_action"  # set on every token-guarded handler; tests/test_console_access.py reads it
TOKEN = web.RequestKey("control_token", ControlToken)
NO_TOKEN = ("send a control token as Authorization: Bearer <token>; an admin makes one on the console "
            "(the wall's Control tokens page)")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Bucket:
    """Token buckets by key: `burst` at once, then `rate` a second (per node; a few keys, pruned)."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.levels: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def level(self, key: str, now: float) -> float:
        """What the key has left now."""
        tokens, at = self.levels.get(key, (self.burst, now))
        return min(self.burst, tokens + (now - at) * self.rate)

    def take(self, key: str, now: float) -> float:
        """0 when the request may go (one taken), else the seconds until it may."""
        tokens = self.level(key, now)
        if tokens < 1:
            return (1 - tokens) / self.rate
        self.levels[key] = (tokens - 1, now)
        if len(self.levels) > 10_000:  # forget keys that are full again
            full = self.burst / self.rate
            self.levels = {k: v for k, v in self.levels.items() if now - v[1] < full}
        return 0.0


class Rates:
    """The control API's limits on one node: a deck's button mashed stays usable (10 at once, then 2 a
    second), and a network sending wrong tokens is told to wait (20 refusals, then one every 3 s)."""

    def __init__(self) -> None:
        self.actions = Bucket(rate=2.0, burst=10)
        self.refused = Bucket(rate=1 / 3, burst=20)


RATES = web.AppKey("control_rates", Rates)


def too_many(message: str, wait: float) -> web.HTTPException:
    exc = refusal(429, message)
    exc.headers["Retry-After"] = str(max(1, round(wait + 0.5)))
    return exc


def utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


async def authenticated(request: web.Request, action: str) -> ControlToken:
    """The request's live token of this wall, whose scope allows `action` (READ: any); else the refusal."""
    rates, now = request.app[RATES], time.monotonic()
    token = await _token(request)
    if token is None or not token.usable(time.time()):
        # Only refusals count against a network: a live deck is never held back by a broken one nearby.
        where = network(client_address(request))
        if wait := rates.refused.take(where, now):
            raise too_many(f"too many refused control requests from {where}: wait, then check the token",
                           wait)
        raise refusal(401, _why(token, bearer(request) is None))
    wall = request.match_info["wall"]
    if token.wall != wall:
        raise refusal(403, f"this control token ({token.name}) is for wall {token.wall!r}, not {wall!r}")
    allowed = SCOPES.get(token.scope, ())
    if action != READ and action not in allowed:
        raise refusal(403, f"this control token ({token.name}) has the scope {token.scope!r}, which allows "
                           f"{', '.join(allowed) or 'nothing'}; not {action}. An admin can make one with "
                           "the presenter scope")
    if wait := rates.actions.take(str(token.id), now):
        raise too_many(f"too many actions from this control token ({token.name}): at most "
                       f"{rates.actions.burst:g} at once, then {rates.actions.rate:g} a second", wait)
    return token


async def _token(request: web.Request) -> ControlToken | None:
    raw = bearer(request)
    if raw is None or len(raw) > 200:
        return None
    return await request.app[STORE].control_tokens.find(raw)


def _why(token: ControlToken | None, missing: bool) -> str:
    if missing:
        return NO_TOKEN
    if token is None:
        return ("the wall server knows no such control token (a typo, or another server's): an admin makes "
                "one on the console (the wall's Control tokens page)")
    if token.revoked_at is not None:
        return (f"this control token ({token.name}) was revoked by {token.revoked_by} on "
                f"{utc(token.revoked_at)}: ask an admin for a new one")
    assert token.expires_at is not None
    return f"this control token ({token.name}) expired on {utc(token.expires_at)}: ask an admin for a new one"


def token_scoped(action: str) -> Callable[[Handler], Handler]:
    """Guard a control handler: a live token of the path's wall whose scope allows `action`."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            request[TOKEN] = await authenticated(request, action)
            return await handler(request)

        setattr(guarded, SCOPE_ATTR, action)
        return guarded

    return wrap


def actor(token: ControlToken) -> str:
    """Who the audit log and the control state say acted: the token's name."""
    return f"token:{token.name}"


def _acting(action: str) -> Handler:
    """The handler of one action: the presenter's op, as the console's presenter page does it."""

    @token_scoped(action)
    async def act(request: web.Request) -> web.Response:
        token = request[TOKEN]
        value = request.match_info.get("scene" if action == "scene" else "poll")
        state = await attempt(request.app[ACTIONS].control(token.wall, actor(token), OPS[action], value))
        await request.app[STORE].control_tokens.used(token.id)
        log.info("control API: %s on wall %s by control token %d", action, token.wall, token.id)
        return json_response({"ok": True, "action": action, "by": actor(token), "state": state})

    act.__name__ = act.__qualname__ = f"control_{action.replace('-', '_')}"
    return act


@token_scoped(READ)
async def state(request: web.Request) -> web.Response:
    """The wall's live controls, and what this token may do (a deck's feedback; a check that it works)."""
    token = request[TOKEN]
    controls = await attempt(request.app[ACTIONS].control_state(token.wall))
    return json_response({"wall": token.wall, "token": token.name, "scope": token.scope,
                          "actions": list(SCOPES.get(token.scope, ())), "state": controls})


def paths() -> dict[str, str]:
    """Each action's route."""
    special = {"scene": f"{PREFIX}/scene/{{scene}}", "poll-open": f"{PREFIX}/poll/{{poll}}/open"}
    return {action: special.get(action, f"{PREFIX}/{action}") for action in OPS}


def add_control_routes(app: web.Application) -> None:
    """The control API (no session: its own tokens) on a web node."""
    app[RATES] = Rates()
    app.router.add_get(PREFIX, state, name="control_state")
    for action, path in paths().items():
        app.router.add_post(path, _acting(action), name=f"control_{action.replace('-', '_')}")
