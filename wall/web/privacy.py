"""The console's Privacy page (admins): a person's data as JSON, and their erasure after a confirmation
step that shows what was found (wall/privacy/, docs/erasure.md). Forms carry the CSRF token."""

from __future__ import annotations

from aiohttp import web

from wall.privacy.erasure import author_posts, erase, parse_author
from wall.privacy.export import encode_export, export
from wall.web.auth import identity, require
from wall.web.console import page
from wall.web.inputs import form
from wall.web.keys import CONFIG, ENGINE, STORE
from wall.web.media import MEDIA


@require("admin")
async def privacy_page(request: web.Request) -> web.Response:
    return page(request, "console/privacy.html", author="", found=None, report=None, message="")


@require("admin")
async def export_author(request: web.Request) -> web.Response:
    """GET ?author=NETWORK:HANDLE: the download, audited (an admin read a person's data), never cached."""
    try:
        author = parse_author(request.query.get("author", ""))
    except ValueError as e:
        return _message(request, str(e), 400)
    app = request.app
    document = await export(app[ENGINE], app[STORE], app[CONFIG].walls, author, app[CONFIG].bus.stream_maxlen,
                            identity(request).username)
    return web.Response(body=encode_export(document), content_type="application/json", headers={
        "Content-Disposition": 'attachment; filename="wall-export.json"', "Cache-Control": "no-store"})


@require("admin")
async def erase_author(request: web.Request) -> web.Response:
    """POST author: the confirmation (posts found per wall); POST author + confirm=erase: the erasure."""
    fields = await form(request)
    try:
        author = parse_author(fields.get("author", ""))
    except ValueError as e:
        return _message(request, str(e), 400)
    app = request.app
    walls, history = app[CONFIG].walls, app[CONFIG].bus.stream_maxlen
    if fields.get("confirm") != "erase":
        found = {w: len(await author_posts(app[ENGINE], w, author, history)) for w in walls}
        return page(request, "console/privacy.html", author=author, found=found, report=None, message="")
    report = await erase(app[ENGINE], app[STORE], walls, author, identity(request).username,
                         app[MEDIA].cache.dir, history)
    return page(request, "console/privacy.html", author="", found=None, report=report, message="")


def _message(request: web.Request, message: str, status: int) -> web.Response:
    response = page(request, "console/privacy.html", author="", found=None, report=None, message=message)
    response.set_status(status)
    return response


def add_privacy_routes(app: web.Application) -> None:
    app.router.add_get("/console/privacy", privacy_page)
    app.router.add_get("/console/privacy/export", export_author)
    app.router.add_post("/console/privacy/erase", erase_author)


