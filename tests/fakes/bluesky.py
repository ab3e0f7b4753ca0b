"""A Jetstream server on 127.0.0.1: /subscribe honours `cursor` (time_us) and `wantedCollections`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from aiohttp import web

from tests.fakes.server import Running, start


@dataclass
class Jetstream:
    messages: list[bytes]
    refuse: bool = False  # answer 503 to every connect, like an instance that is down
    close_after: int | None = None  # close the socket after this many messages (once)
    cursors: list[str | None] = field(default_factory=list)

    async def subscribe(self, request: web.Request) -> web.StreamResponse:
        if self.refuse:
            raise web.HTTPServiceUnavailable()
        self.cursors.append(request.query.get("cursor"))
        wanted = set(request.query.getall("wantedCollections", []))
        cursor = int(request.query.get("cursor", "0"))
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        sent = 0
        for raw in self.messages:
            msg = json.loads(raw)
            if msg["time_us"] <= cursor:
                continue
            # identity and account events come whatever wantedCollections says
            if msg["kind"] == "commit" and wanted and msg["commit"]["collection"] not in wanted:
                continue
            await ws.send_str(raw.decode())
            sent += 1
            if self.close_after is not None and sent >= self.close_after:
                self.close_after = None
                await ws.close()
                return ws
        await ws.receive()  # stay open until the client leaves
        return ws

    async def run(self) -> Running:
        app = web.Application()
        app.router.add_get("/subscribe", self.subscribe)
        return await start(app)
