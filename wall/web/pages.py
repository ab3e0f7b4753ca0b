"""HTML pages: the list of walls and the full-screen wall."""

from __future__ import annotations

from dataclasses import dataclass

import jinja2
from aiohttp import web

from wall import __version__
from wall.paths import DEMO_MEDIA, TEMPLATES
from wall.web.keys import CONFIG, STATIC
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


async def wall_page(request: web.Request) -> web.Response:
    wall = request.app[CONFIG].walls.get(request.match_info["wall"])
    if wall is None:
        raise web.HTTPNotFound(text=f"no wall named {request.match_info['wall']!r}")
    return render(
        request, "wall.html", wall=wall.name, title=wall.title, ws_path=f"/w/{wall.name}/ws",
        max_cards=wall.max_cards,
    )


async def demo_media(request: web.Request) -> web.FileResponse:
    return await serve_file(request, DEMO_MEDIA, request.match_info["name"])


async def static(request: web.Request) -> web.Response:
    return await request.app[STATIC].handle(request)
