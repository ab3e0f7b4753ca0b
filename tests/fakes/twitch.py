"""Twitch chat on 127.0.0.1: IRC over WebSocket, as irc-ws.chat.twitch.tv speaks it to an anonymous reader."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from tests.fakes.server import Running, start


@dataclass
class ChatServer:
    lines: list[str]  # sent once the client joined, in one frame each
    received: list[str] = field(default_factory=list)
    pong: str = ""

    async def irc(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            for line in msg.data.split("\r\n"):
                if not line:
                    continue
                self.received.append(line)
                if line.startswith("NICK "):
                    nick = line[5:]
                    await ws.send_str(f":tmi.twitch.tv 001 {nick} :Welcome, GLHF!\r\n")
                    await ws.send_str("PING :tmi.twitch.tv\r\n")
                elif line.startswith("PONG"):
                    self.pong = line
                    await ws.send_str("".join(line + "\r\n" for line in self.lines))
                elif line.startswith("JOIN "):
                    await ws.send_str(f":{nick}!{nick}@{nick}.tmi.twitch.tv JOIN {line[5:]}\r\n")
        return ws

    async def run(self) -> Running:
        app = web.Application()
        app.router.add_get("/", self.irc)
        return await start(app)
