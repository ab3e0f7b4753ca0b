"""A small Chrome DevTools protocol client: list the targets, talk to one page over its WebSocket."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from typing import Any

import aiohttp

log = logging.getLogger(__name__)


class DevToolsError(Exception):
    """The DevTools endpoint did not answer, or answered a call with an error."""


async def targets(session: aiohttp.ClientSession, devtools: str, timeout: float) -> list[dict[str, Any]]:
    """The browser's targets from `GET /json`; raises DevToolsError when the port does not answer."""
    url = f"{devtools.rstrip('/')}/json"
    try:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
            found = await resp.json(content_type=None)
    except (TimeoutError, aiohttp.ClientError, ValueError) as e:
        raise DevToolsError(f"DevTools at {url} does not answer ({str(e) or type(e).__name__})") from e
    if not isinstance(found, list):
        raise DevToolsError(f"DevTools at {url} answered something that is not a target list")
    return [t for t in found if isinstance(t, dict)]


class Tab:
    """One page target. Calls are matched to answers by id; events of interest set flags."""

    def __init__(self, target_id: str, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.target_id = target_id
        self.crashed = False
        self._ws = ws
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, session: aiohttp.ClientSession, target: dict[str, Any], timeout: float) -> Tab:
        url = str(target.get("webSocketDebuggerUrl", ""))
        if not url:
            raise DevToolsError(f"target {target.get('id')} has no webSocketDebuggerUrl "
                                "(another client attached?)")
        try:
            ws = await session.ws_connect(url, timeout=aiohttp.ClientWSTimeout(ws_close=timeout),
                                          max_msg_size=0)
        except (TimeoutError, aiohttp.ClientError) as e:
            raise DevToolsError(f"cannot connect to {url} ({str(e) or type(e).__name__})") from e
        return cls(str(target.get("id")), ws)

    @property
    def closed(self) -> bool:
        return self._ws.closed or self._reader.done()

    async def call(self, method: str, params: dict[str, Any] | None = None,
                   timeout: float = 5.0) -> dict[str, Any]:
        """Send a command and wait for its result; asyncio.TimeoutError when the page does not answer."""
        if self.closed:
            raise DevToolsError(f"the connection to target {self.target_id} is closed")
        msg_id = next(self._ids)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[msg_id] = fut
        try:
            await self._ws.send_str(json.dumps({"id": msg_id, "method": method, "params": params or {}}))
            return await asyncio.wait_for(fut, timeout)
        finally:
            self._waiting.pop(msg_id, None)

    async def close(self) -> None:
        self._reader.cancel()
        await self._ws.close()

    async def _read(self) -> None:
        try:
            async for msg in self._ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                if "id" in data:
                    fut = self._waiting.get(data["id"])
                    if fut is not None and not fut.done():
                        if "error" in data:
                            fut.set_exception(DevToolsError(f"{data['error'].get('message')}"))
                        else:
                            fut.set_result(data.get("result", {}))
                elif data.get("method") == "Inspector.targetCrashed":
                    self.crashed = True
                elif data.get("method") == "Inspector.detached":
                    log.warning("DevTools detached from target %s: %s", self.target_id,
                                data.get("params", {}).get("reason"))
        finally:
            for fut in self._waiting.values():
                if not fut.done():
                    fut.set_exception(DevToolsError(f"the connection to target {self.target_id} closed"))
