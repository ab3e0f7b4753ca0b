"""One connected screen, written to without a task or a queue of its own.

A server's WebSocket frames are not masked, so a frame is the same bytes for every screen: the hub builds
it once and writes it straight to each screen's transport (as the `websockets` library's broadcast does).
The transport's write buffer is the screen's bounded queue: a screen that lets it grow past its limit is
too slow and is dropped; its page reconnects and resumes by id.
"""

from __future__ import annotations

import asyncio
import struct

from aiohttp import WSCloseCode, web


def ws_frame(payload: bytes) -> bytes:
    """A final, unmasked WebSocket text frame (RFC 6455 section 5.2) carrying payload."""
    n = len(payload)
    if n < 126:
        return struct.pack("!BB", 0x81, n) + payload
    if n < 1 << 16:
        return struct.pack("!BBH", 0x81, 126, n) + payload
    return struct.pack("!BBQ", 0x81, 127, n) + payload


class Client:
    def __init__(self, ws: web.WebSocketResponse, transport: asyncio.Transport, limit: int) -> None:
        self.ws = ws
        self.transport = transport
        self.limit = limit
        self.dropped = False
        self.closing = False  # a close frame is on its way: no data frame may follow it
        # Live frames that arrive while the catch-up is being written wait here, in order.
        self._pending: list[bytes] | None = []

    def offer(self, wire: bytes) -> bool:
        """Send a frame now, or hold it until the catch-up is out; False if the screen is too slow."""
        if self._pending is not None:
            self._pending.append(wire)
            return len(self._pending) * len(wire) <= self.limit
        if self.closing:
            return True  # going away anyway: not "too slow"
        if self.transport.is_closing() or self.transport.get_write_buffer_size() > self.limit:
            return False
        self.transport.write(wire)
        return True

    def go_live(self, catchup: list[bytes]) -> None:
        """Write the catch-up frames, then what arrived meanwhile; from now on frames go straight out."""
        pending, self._pending = self._pending or [], None
        if self.closing:
            return
        for payload in catchup:
            self.transport.write(ws_frame(payload))
        for wire in pending:
            self.transport.write(wire)

    def drop(self, code: WSCloseCode, reason: bytes) -> None:
        if not self.dropped:
            self.dropped = self.closing = True
            asyncio.get_running_loop().create_task(self.ws.close(code=code, message=reason))
