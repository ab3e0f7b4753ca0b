"""GET /media/{sig}/{key}?w=480|960|1920: signed, cached, re-encoded post images and avatars."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from aiohttp import web
from prometheus_client import CollectorRegistry

from wall.media.fetch import MediaError
from wall.media.images import WIDTHS
from wall.media.proxy import MediaProxy, MediaSettings
from wall.media.signing import decode_key, verify

MEDIA = web.AppKey("media", MediaProxy)
CACHE_CONTROL = "public, max-age=31536000, immutable"
STATUS = {
    "scheme": 403,
    "address": 403,
    "size": 422,
    "type": 415,
    "timeout": 504,
    "decode": 422,
    "status": 502,
}


def add_media_routes(app: web.Application, proxy: MediaProxy | None = None) -> None:
    """Register GET /media/...; the proxy comes from `proxy` or from app[MEDIA] (set by media_ctx)."""
    if proxy is not None:
        app[MEDIA] = proxy

    async def handle(request: web.Request) -> web.StreamResponse:
        media = request.app[MEDIA]
        sig, key = request.match_info["sig"], request.match_info["key"]
        if not verify(media.settings.secret, sig, key):
            raise web.HTTPForbidden(text="bad media signature")
        try:
            url, width = decode_key(key), int(request.query.get("w", "960"))
        except ValueError as e:
            raise web.HTTPBadRequest(text="bad media key or width") from e
        if width not in WIDTHS:
            raise web.HTTPBadRequest(text=f"w must be one of {WIDTHS}")
        try:
            image = await media.get(url, width)
        except MediaError as e:
            # The card falls back to text or initials; Cache-Control keeps screens from retrying hot.
            raise _error(e) from e
        headers = {"ETag": image.etag, "Cache-Control": CACHE_CONTROL}
        if image.etag in request.headers.get("If-None-Match", ""):
            return web.Response(status=304, headers=headers)
        return web.Response(body=image.body, content_type="image/webp", headers=headers)

    app.router.add_get("/media/{sig}/{key}", handle)


def _error(e: MediaError) -> web.HTTPException:
    exc = web.HTTPException(
        text=f"media refused: {e.reason}", headers={"Cache-Control": "public, max-age=300"}
    )
    exc.set_status(STATUS[e.reason])
    return exc


def media_ctx(
    settings: MediaSettings, registry: CollectorRegistry | None = None
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context that puts a MediaProxy in app[MEDIA] for the app's lifetime."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        app[MEDIA] = MediaProxy(settings, registry)
        yield
        await app[MEDIA].close()

    return ctx
