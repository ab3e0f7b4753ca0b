"""A real origin server on a loopback port serving the images (and the traps) the media tests need."""

from __future__ import annotations

import asyncio
import io
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web
from PIL import Image

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
GPS_LAT = (51.0, 30.0, 0.0)


def jpeg_with_gps(size: tuple[int, int] = (400, 200)) -> bytes:
    """A phone-like photo: GPS coordinates in EXIF, stored sideways with Orientation 6 (rotate 90)."""
    im = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the camera was held upright
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", GPS_LAT, "W", (0.0, 7.0, 0.0)
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif)
    return out.getvalue()


def png_bomb() -> bytes:
    """A few kB of PNG that decodes to 100 megapixels."""
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, "PNG", optimize=True)
    return out.getvalue()


def animated_gif() -> bytes:
    frames = [Image.new("P", (64, 48), i) for i in (1, 2, 3)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'


def _set(event: asyncio.Event) -> asyncio.Event:
    event.set()
    return event


@dataclass
class Origin:
    port: int = 0
    hits: Counter[str] = field(default_factory=Counter)
    big_sent: int = 0
    # The images answer once this is set (it is, unless a test holds them so requests pile up).
    released: asyncio.Event = field(default_factory=lambda: _set(asyncio.Event()))

    def url(self, path: str, host: str = "localhost") -> str:
        return f"http://{host}:{self.port}{path}"


@asynccontextmanager
async def origin_server() -> AsyncIterator[Origin]:
    origin = Origin()
    jpeg, bomb, gif = jpeg_with_gps(), png_bomb(), animated_gif()

    def static(body: bytes, ctype: str) -> Handler:
        async def handler(request: web.Request) -> web.Response:
            origin.hits[request.path] += 1
            await origin.released.wait()
            return web.Response(body=body, content_type=ctype)

        return handler

    async def big(request: web.Request) -> web.StreamResponse:
        origin.hits[request.path] += 1
        resp = web.StreamResponse()
        resp.content_type = "image/jpeg"
        await resp.prepare(request)
        chunk = b"\xff\xd8\xff" + b"\0" * (64 * 1024 - 3)
        try:
            while origin.big_sent < 30_000_000:
                await resp.write(chunk)
                origin.big_sent += len(chunk)
                await asyncio.sleep(0)
        except (ConnectionResetError, ConnectionError):
            pass
        return resp

    async def slow(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(request)
        for _ in range(100):
            await resp.write(b"\x89")
            await asyncio.sleep(0.2)
        return resp

    def redirect(target: str) -> Handler:
        async def handler(request: web.Request) -> web.Response:
            raise web.HTTPFound(target)

        return handler

    app = web.Application()
    app.router.add_get("/gps.jpg", static(jpeg, "image/jpeg"))
    app.router.add_get("/bomb.png", static(bomb, "image/png"))
    app.router.add_get("/anim.gif", static(gif, "image/gif"))
    app.router.add_get("/script.svg", static(SVG, "image/png"))  # lies about its type
    app.router.add_get("/text.png", static(b"just some text, not a picture\n" * 10, "image/png"))
    app.router.add_get("/big.jpg", big)
    app.router.add_get("/slow.png", slow)
    app.router.add_get("/to-redis", redirect("http://127.0.0.1:6379/"))
    app.router.add_get("/to-metadata", redirect("http://169.254.169.254/latest/meta-data/"))
    app.router.add_get("/hop", redirect("/gps.jpg"))
    app.router.add_get("/loop", redirect("/loop"))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    origin.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield origin
    finally:
        await runner.cleanup()
