"""A node shutting down while posts flow: each screen gets a close frame, and nothing after it."""

from __future__ import annotations

import asyncio
import base64
import os
import struct
from datetime import UTC, datetime

from aiohttp import web

from tests.helpers import WAIT, make_config
from wall.app import ALL, create_app
from wall.bus.memory import MemoryEngine
from wall.models import Post, PostEvent, encode


def frames(data: bytes) -> list[tuple[int, bytes]]:
    """(opcode, payload) of each whole unmasked server frame in the bytes (RFC 6455 section 5.2)."""
    out, i = [], 0
    while i + 2 <= len(data):
        opcode, n = data[i] & 0x0F, data[i + 1] & 0x7F
        i += 2
        size = {126: 2, 127: 8}.get(n, 0)
        if i + size > len(data):
            break
        if size:
            (n,) = struct.unpack("!H" if size == 2 else "!Q", data[i : i + size])
            i += size
        if i + n > len(data):
            break  # cut by the end of what was read so far
        out.append((opcode, data[i : i + n]))
        i += n
    return out


async def test_no_data_frame_follows_the_close_frame_on_shutdown():
    engine = MemoryEngine()
    runner = web.AppRunner(create_app(make_config(), ALL, engine=engine), shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write((f"GET /w/lobby/ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    await reader.readuntil(b"\r\n\r\n")
    hello = b'{"type":"hello"}'
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(hello))
    writer.write(bytes([0x81, 0x80 | len(hello)]) + mask + masked)

    async def flood() -> None:  # the wall keeps publishing while the node goes down
        n = 0
        while True:
            post = Post(f"p{n}", "test", str(n), f"post {n}", datetime.now(UTC))
            await engine.publish("lobby", encode(PostEvent(post)))
            n += 1
            await asyncio.sleep(0)  # as fast as the loop goes: every await of the shutdown is a window

    flooding = asyncio.create_task(flood())
    received = b""
    async with asyncio.timeout(WAIT):  # the node goes down once posts are flowing to the screen
        while sum(op == 0x1 for op, _ in frames(received)) <= 12:
            received += await reader.read(65536)
    await runner.cleanup()
    flooding.cancel()
    received += await asyncio.wait_for(reader.read(), timeout=WAIT)
    writer.close()

    opcodes = [op for op, _ in frames(received)]
    assert 0x8 in opcodes, "the screen was told the server is going away"
    assert opcodes.count(0x1) > 10  # posts were flowing until then
    assert all(op != 0x1 for op in opcodes[opcodes.index(0x8) :])
