"""Private walls: the page, the screens' socket and the JSON API need a display key.

A screen opens `/w/W?key=K` once: the key is checked, set as an HttpOnly cookie scoped to the wall's page
and API paths, and the browser is sent on to `/w/W`, so the key leaves the address bar (and the history).
Every request after that is checked against the store again, so a revoked key is refused at once; sockets
already open with it are closed by the node that revoked it at once and by every other node within
`RECHECK` seconds (each node rechecks the keys of its open sockets).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from http.cookies import SimpleCookie
from urllib.parse import urlencode

from aiohttp import WSCloseCode, web

from wall.config import WallConfig
from wall.store.display_keys import DisplayKey
from wall.web.client import Client
from wall.web.inputs import cookies
from wall.web.keys import CONFIG, STORE

log = logging.getLogger(__name__)
KEY_COOKIE = "wall_key"
KEY_PARAM = "key"
RECHECK = 1.0  # seconds between each node's recheck of its open sockets' keys
REVOKED = b"display key revoked"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class KeyedScreens:
    """The sockets of this node opened with a display key, by key id, so a revocation can close them."""

    def __init__(self) -> None:
        self.by_key: dict[int, set[Client]] = {}

    def add(self, key_id: int, client: Client) -> None:
        self.by_key.setdefault(key_id, set()).add(client)

    def discard(self, key_id: int, client: Client) -> None:
        clients = self.by_key.get(key_id)
        if clients is not None:
            clients.discard(client)
            if not clients:
                del self.by_key[key_id]

    def close_key(self, key_id: int) -> int:
        """Close every socket of the key; returns how many."""
        clients = self.by_key.pop(key_id, set())
        for client in clients:
            client.drop(WSCloseCode.POLICY_VIOLATION, REVOKED)
        return len(clients)


KEYED = web.AppKey("keyed_screens", KeyedScreens)


def private_wall(request: web.Request) -> WallConfig | None:
    """The request's wall when it is private, else None (public or unknown walls need no key)."""
    wall = request.app[CONFIG].walls.get(request.match_info.get("wall", ""))
    return wall if wall is not None and wall.private else None


async def check_key(request: web.Request, wall: WallConfig) -> DisplayKey | None:
    """The live display key this request carries for the wall (query first, then the cookie), or None."""
    raw = request.query.get(KEY_PARAM) or next(iter(cookies(request, KEY_COOKIE)), "")
    if not 0 < len(raw) <= 128 or not raw.isascii():
        return None
    return await request.app[STORE].display_keys.check(wall.name, raw)


def forbidden(wall: WallConfig) -> web.HTTPForbidden:
    return web.HTTPForbidden(text=f"wall {wall.name!r} is private: open it with a display key from the "
                                  "console (Display keys), e.g. /w/NAME?key=...")


DISPLAY_KEY = web.RequestKey("display_key", DisplayKey)
WALL_PATHS = ("/w/", "/api/v1/walls/")


@web.middleware
async def private_walls(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every read of a private wall (its page, socket and any JSON route under /api/v1/walls/W, now or
    added later) needs a live display key; the webhook's POST keeps its own token."""
    wall = private_wall(request)
    if wall is None or request.method not in ("GET", "HEAD") or not request.path.startswith(WALL_PATHS):
        return await handler(request)
    key = await check_key(request, wall)
    if key is None:
        raise forbidden(wall)
    request[DISPLAY_KEY] = key
    if request.path == f"/w/{wall.name}" and KEY_PARAM in request.query:
        raise key_cookies(request, wall, request.query[KEY_PARAM])
    return await handler(request)


def key_cookies(request: web.Request, wall: WallConfig, raw: str) -> web.HTTPSeeOther:
    """The key in the URL becomes cookies for the wall's page and API, and a redirect to the bare URL."""
    rest = {k: v for k, v in request.query.items() if k != KEY_PARAM}
    redirect = web.HTTPSeeOther(request.path + (f"?{urlencode(rest)}" if rest else ""))
    secure = request.app[CONFIG].web.secure_cookies
    for path in (f"/w/{wall.name}", f"/api/v1/walls/{wall.name}"):
        # One header each: aiohttp keeps one cookie per name. Lax, not Strict: a kiosk launcher or a
        # link from the console must bring the cookie along.
        cookie = SimpleCookie()
        cookie[KEY_COOKIE] = raw
        morsel = cookie[KEY_COOKIE]
        morsel["path"], morsel["samesite"], morsel["max-age"] = path, "Lax", str(400 * 86400)
        morsel["httponly"] = True
        if secure:
            morsel["secure"] = True
        redirect.headers.add("Set-Cookie", morsel.OutputString())
    redirect.headers["Cache-Control"] = "no-store"
    return redirect


async def keys_ctx(app: web.Application) -> AsyncIterator[None]:
    """The node's registry of keyed sockets and the task that closes those whose key was revoked."""
    keyed = app[KEYED] = KeyedScreens()

    async def recheck() -> None:
        while True:
            await asyncio.sleep(RECHECK)
            if not keyed.by_key:
                continue
            try:
                live = await app[STORE].display_keys.live(keyed.by_key)
            except Exception as e:  # the database is briefly away: check again next round
                log.warning("cannot recheck display keys: %s", e)
                continue
            for key_id in set(keyed.by_key) - live:
                log.info("display key %d was revoked: closed %d screen(s)", key_id, keyed.close_key(key_id))

    task = asyncio.create_task(recheck(), name="display-key-recheck")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
