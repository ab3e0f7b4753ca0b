"""Start an aiohttp app on a free 127.0.0.1 port for a fake upstream."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web


@dataclass
class Running:
    runner: web.AppRunner
    port: int

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start(app: web.Application) -> Running:
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return Running(runner, port)
