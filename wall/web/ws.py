"""The screens' WebSocket: hello, catch-up (missed events or a snapshot), then live frames; a screen's
time pings and display reports (wall/web/display.py) answered on the way."""

from __future__ import annotations

import time

import msgspec
from aiohttp import WSCloseCode, WSMsgType, web

from wall.models import BadJSON, decode_untrusted, encode
from wall.web.client import Client, ws_frame
from wall.web.display import REPORT_BYTES, Reports, kind_of
from wall.web.inputs import origin_host
from wall.web.keys import CONFIG, HUBS, TALLY
from wall.web.limits import socket_cap
from wall.web.pages import version
from wall.web.private import DISPLAY_KEY, KEYED

HELLO_TIMEOUT = 10.0


class Hello(msgspec.Struct):
    type: str
    epoch: str | None = None
    last_id: str | None = None


class TimePing(msgspec.Struct):
    """A screen measuring its clock against ours (NTP-style): t0 is its own clock, echoed back."""

    type: str
    t0: float = 0.0


# A page pings in a burst of five, then once a minute: a bucket of 10 answers refilled at one a second
# lets that (and a main thread that bunches timers) through, but not a flood.
TIME_BURST = 10
TIME_REFILL = 1.0
_time_decoder = msgspec.json.Decoder(TimePing)


def time_reply(data: str) -> bytes | None:
    """The answer to a screen's {"type":"time","t0":...}: its t0 and our time in ms; None for other frames."""
    try:
        ping = _time_decoder.decode(data)
    except (msgspec.DecodeError, RecursionError):
        return None
    if ping.type != "time":
        return None
    return encode({"type": "time", "t0": ping.t0, "t1": time.time() * 1000})


def origin_allowed(request: web.Request) -> bool:
    """Browsers always send Origin; only the wall's own host (or a configured one) may connect."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser (a kiosk agent, a benchmark): no cross-site risk
    allowed = request.app[CONFIG].web.allowed_origins
    return origin_host(origin) == request.host or origin in allowed


@socket_cap
async def wall_socket(request: web.Request) -> web.WebSocketResponse:
    hub = request.app[HUBS].get(request.match_info["wall"])
    if hub is None:
        raise web.HTTPNotFound(text=f"no wall named {request.match_info['wall']!r}")
    if not origin_allowed(request):
        raise web.HTTPForbidden(text="this Origin may not open the wall's socket; see web.allowed_origins")
    key = request.get(DISPLAY_KEY)  # a private wall's: checked by the private_walls middleware
    ws = web.WebSocketResponse(heartbeat=20.0, compress=False, max_msg_size=REPORT_BYTES)
    await ws.prepare(request)
    problem = 'expected {"type":"hello"} first'
    try:
        msg = await ws.receive(timeout=HELLO_TIMEOUT)
        hello = decode_untrusted(msg.data, Hello) if msg.type == WSMsgType.TEXT else None
    except (TimeoutError, BadJSON) as e:
        hello = None
        if isinstance(e, BadJSON):  # the reason says what was wrong (at most 123 bytes)
            problem = f"hello: {e}"
    if hello is None or hello.type != "hello":
        await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=problem.encode()[:120])
        return ws

    transport = request.transport
    if transport is None:  # the screen went away during the handshake
        return ws
    client = Client(ws, transport, request.app[CONFIG].web.client_buffer)
    if key is not None:
        request.app[KEYED].add(key.id, client)
    try:
        catchup = await hub.attach(client, hello.epoch, hello.last_id)
        welcome = {"type": "welcome", "wall": hub.wall.name, "version": version(request.app),
                   "epoch": hub.epoch, "server_time": int(time.time() * 1000),
                   "config": hub.wall.screen.public()}
        client.go_live([encode(welcome), *catchup])
        budget, since = float(TIME_BURST), time.monotonic()
        reports = Reports(request.app[TALLY], hub)
        # After hello a screen asks the time and reports what it showed; reading keeps pings and close
        # working. Answers share one budget, so a flood of frames gets at most one answer a second.
        async for msg in ws:
            now = time.monotonic()
            budget, since = min(TIME_BURST, budget + (now - since) * TIME_REFILL), now
            if msg.type != WSMsgType.TEXT or budget < 1:
                continue
            reply = reports.answer(msg.data) if kind_of(msg.data) == "shown" else time_reply(msg.data)
            if reply is not None and not client.dropped:
                budget -= 1
                client.offer(ws_frame(reply))
    finally:
        hub.detach(client)
        if key is not None:
            request.app[KEYED].discard(key.id, client)
    return ws
