"""Leaving the rotation before stopping: SIGTERM on a web node (docs/restarts.md).

1. `/healthz` answers 503 `{"status": "draining"}` and every answer carries `Connection: close`, so the
   proxy's health check takes the node out and no kept-alive connection brings it new requests, while it
   keeps serving everything for `[web] drain_seconds`;
2. each screen is told to move (close code MOVING, "moving"), each at a random moment within MOVE_SPREAD so
   the other nodes do not take them all in the same instant; the page reconnects through the proxy after
   a jitter of its own and resumes by id, without showing itself offline (docs/protocol.md);
3. the runner stops (wall/web/runner.py): the listener closes, requests in flight finish, cleanup runs.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from wall.web.keys import CONFIG, HUBS

log = logging.getLogger(__name__)
MOVE_SPREAD = 2.0  # seconds over which a node's screens are told to move


class Drain:
    """Whether this node is on its way out (read by /healthz and every response)."""

    def __init__(self) -> None:
        self.draining = False


DRAIN = web.AppKey("drain", Drain)


async def drain(app: web.Application) -> None:
    """Steps 1 and 2: fail the health check for drain_seconds while serving, then move the screens."""
    app[DRAIN].draining = True
    seconds = app[CONFIG].web.drain_seconds
    log.info("draining: /healthz says 503 for %g s while this node serves on, then its screens move", seconds)
    await asyncio.sleep(seconds)
    moved = await asyncio.gather(*(hub.move_clients(MOVE_SPREAD) for hub in app[HUBS].values()))
    log.info("drained: %d screen(s) told to move; stopping", sum(moved))


async def _connection_close(request: web.Request, response: web.StreamResponse) -> None:
    # A socket's upgrade is left alone: that connection ends with the socket anyway. The header is set
    # here too: aiohttp has written its Connection header into the response before this hook runs.
    if request.app[DRAIN].draining and not isinstance(response, web.WebSocketResponse):
        response.force_close()
        response.headers["Connection"] = "close"


def add_drain(app: web.Application) -> None:
    app[DRAIN] = Drain()
    app.on_response_prepare.append(_connection_close)
