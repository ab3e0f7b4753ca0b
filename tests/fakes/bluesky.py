"""A Jetstream server on 127.0.0.1 (/subscribe honours `cursor` and `wantedCollections`) and an AppView."""

from __future__ import annotations

import asyncio
import json
import time
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


@dataclass
class AppView:
    """The public AppView's `app.bsky.actor.getProfiles`: known DIDs from the fixture, others left out
    (as the real one does for deleted or taken-down accounts), more than 25 actors refused with 400."""

    profiles: dict[str, dict[str, object]]
    gate: asyncio.Event = field(default_factory=asyncio.Event)  # cleared: calls wait until it is set
    throttle_once: bool = False  # the next call answers 429 with RateLimit-Reset one second ahead
    calls: list[list[str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.gate.set()

    async def get_profiles(self, request: web.Request) -> web.Response:
        actors = request.query.getall("actors", [])
        self.calls.append(actors)
        await self.gate.wait()
        if self.throttle_once:
            self.throttle_once = False
            reset = str(int(time.time()) + 1)
            return web.json_response(
                {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}, status=429,
                headers={"RateLimit-Limit": "3000", "RateLimit-Remaining": "0", "RateLimit-Reset": reset,
                         "RateLimit-Policy": "3000;w=300"},
            )
        if not actors or len(actors) > 25:
            return web.json_response(
                {"error": "InvalidRequest", "message": "Error: actors must not have more than 25 elements"},
                status=400,
            )
        found = [self.profiles[a] for a in actors if a in self.profiles]
        return web.json_response({"profiles": found}, dumps=lambda o: json.dumps(o, ensure_ascii=False))

    async def run(self) -> Running:
        app = web.Application()
        app.router.add_get("/xrpc/app.bsky.actor.getProfiles", self.get_profiles)
        return await start(app)
