"""A feed server on 127.0.0.1: the fixture feeds with their headers, ETag/304, edits, a broken feed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp import web

from tests.fakes.server import start

FIXTURES = Path(__file__).parent.parent / "fixtures" / "rss"


def read_headers(path: Path) -> tuple[int, dict[str, str]]:
    """Status and headers from a fixture's .headers file (status line, then `Name: value` lines)."""
    lines = path.read_text().split("\r\n") if "\r\n" in path.read_text() else path.read_text().splitlines()
    status = int(lines[0].split()[1])
    headers = dict(line.split(": ", 1) for line in lines[1:] if line)
    headers.pop("Content-Length", None)
    headers.pop("Transfer-Encoding", None)
    return status, headers


class FeedServer:
    def __init__(self) -> None:
        names = ("feed.rss", "feed.atom", "broken.xml", "feed_cp1251.rss", "feed_undeclared.rss",
                 "feed.atom03")
        self.bodies = {name: (FIXTURES / name).read_bytes() for name in names}
        self.requests: list[tuple[str, int]] = []
        self.throttle_next = 0  # answers 429 with Retry-After: 1 this many times
        self.url = ""

    def edit(self, name: str, old: str, new: str) -> None:
        """Change an item of a feed; its ETag changes with it."""
        self.bodies[name] = self.bodies[name].replace(old.encode(), new.encode())
        self.bodies[name + ".edited"] = b"1"

    async def handle(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self.bodies:
            raise web.HTTPNotFound()
        if self.throttle_next:
            self.throttle_next -= 1
            self.requests.append((name, 429))
            return web.Response(status=429, headers={"Retry-After": "1"}, text="slow down")
        status, headers = read_headers(FIXTURES / f"{name}.headers")
        if name + ".edited" in self.bodies:
            headers["ETag"] = '"edited-1"'
            headers["Last-Modified"] = "Thu, 12 Mar 2026 09:00:00 GMT"
        if request.headers.get("If-None-Match") == headers.get("ETag"):
            _, h304 = read_headers(FIXTURES / f"{name}.304.headers")
            self.requests.append((name, 304))
            return web.Response(status=304, headers=h304)
        self.requests.append((name, status))
        return web.Response(status=status, body=self.bodies[name], headers=headers)


@asynccontextmanager
async def feed_server() -> AsyncIterator[FeedServer]:
    server = FeedServer()
    app = web.Application()
    app.router.add_get("/{name}", server.handle)
    running = await start(app)
    server.url = running.http
    try:
        yield server
    finally:
        await running.stop()
