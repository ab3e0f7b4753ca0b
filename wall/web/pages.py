"""HTML pages: the list of walls and the full-screen wall."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from functools import lru_cache

import jinja2
import segno
from aiohttp import web

from wall import __version__
from wall.config import WallConfig
from wall.paths import DEMO_MEDIA, TEMPLATES
from wall.screen import SCENES
from wall.web.keys import CONFIG, HUBS, NETWORKS, STATIC
from wall.web.security import framable_by
from wall.web.static import serve_file

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
)


@dataclass(frozen=True)
class WallLink:
    name: str
    title: str
    url: str


def version(app: web.Application) -> str:
    """Changes whenever the code or the page's files change: screens reload when it does."""
    return f"{__version__}+{app[STATIC].digest[:8]}"


def render(request: web.Request, template: str, **context: object) -> web.Response:
    app = request.app
    html = _env.get_template(template).render(static=app[STATIC].prefix, version=version(app), **context)
    return web.Response(text=html, content_type="text/html", headers={"Cache-Control": "no-cache"})


async def index(request: web.Request) -> web.Response:
    # Private walls are not listed: their names are nobody's business but their screens'.
    walls = [WallLink(w.name, w.title, f"/w/{w.name}") for w in request.app[CONFIG].walls.values()
             if not w.private]
    return render(request, "index.html", walls=walls)


def _wall(request: web.Request) -> WallConfig:
    """The wall as its hub has it now: a reloaded config's theme and show apply to new pages too."""
    name = request.match_info["wall"]
    hub = request.app[HUBS].get(name)
    if hub is None or name not in request.app[CONFIG].walls:
        raise web.HTTPNotFound(text=f"no wall named {name!r}")
    return hub.wall


def _int(request: web.Request, name: str, lo: int, hi: int, default: int) -> int:
    try:
        return min(hi, max(lo, int(request.query.get(name, default))))
    except ValueError:
        return default


def _page(request: web.Request, wall: WallConfig, scene: str) -> web.Response:
    """The wall page. ?screen=k&of=n (k from 1) shows screen k's part of an n-screen wall; ?bezel=px adds
    the hidden width of the frames between screens (design pixels); ?scene= pins one scene."""
    of = _int(request, "of", 1, 16, 1)
    asked = request.query.get("scene", "")
    return render(
        request, "wall.html", wall=wall.name, title=wall.title, ws_path=f"/w/{wall.name}/ws",
        max_cards=wall.max_cards, config=json.dumps(wall.screen.public()), scene=scene or
        (asked if asked in SCENES else ""), screen=_int(request, "screen", 1, of, 1), of=of,
        bezel=_int(request, "bezel", 0, 400, 0), base=f"/w/{wall.name}",
        networks=json.dumps(request.app[NETWORKS]),
    )


async def wall_page(request: web.Request) -> web.Response:
    return _page(request, _wall(request), "")


async def ticker_page(request: web.Request) -> web.Response:
    """The lower third, on a transparent background: the one page another site may frame (an allow-list
    in [walls.W.ticker] frame_ancestors), e.g. a streaming tool's browser source."""
    wall = _wall(request)
    response = _page(request, wall, "ticker")
    framable_by(response, wall.screen.frame_ancestors)
    return response


@lru_cache(maxsize=64)
def qr_svg(url: str) -> bytes:
    """The QR code as SVG, dark on white whatever the theme: phones read that best."""
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=10, border=4, dark="#000000", light="#ffffff",
                                    xmldecl=False, title="QR code")
    return out.getvalue()


async def qr_code(request: web.Request) -> web.Response:
    """The spotlight scene's call to action, drawn here: the screen loads nothing from another origin."""
    wall = _wall(request)
    if not wall.screen.show.qr_url:
        raise web.HTTPNotFound(text=f"wall {wall.name!r} has no [walls.{wall.name}.show] qr_url")
    return web.Response(body=qr_svg(wall.screen.show.qr_url), content_type="image/svg+xml",
                        headers={"Cache-Control": "no-cache"})


async def service_worker(request: web.Request) -> web.Response:
    """The offline shell (static/js/sw.js), served under the wall's path so that it may control the page
    /w/{wall} (docs/page.md). Never cached by HTTP: a new version must reach the kiosk."""
    wall = _wall(request)
    data, _ = request.app[STATIC].files["js/sw.js"]
    return web.Response(body=data, content_type="text/javascript", headers={
        "Cache-Control": "no-cache", "Service-Worker-Allowed": f"/w/{wall.name}"})


async def demo_media(request: web.Request) -> web.FileResponse:
    return await serve_file(request, DEMO_MEDIA, request.match_info["name"])


async def static(request: web.Request) -> web.Response:
    return await request.app[STATIC].handle(request)
