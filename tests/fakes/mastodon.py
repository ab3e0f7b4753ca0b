"""A Mastodon instance on 127.0.0.1: the SSE and WebSocket streaming API and the REST hashtag timeline."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from tests.fakes.server import Running, start

FIXTURES = Path(__file__).parent.parent / "fixtures" / "mastodon"


def headers_of(name: str) -> dict[str, str]:
    """The response headers recorded next to a fixture (its status line dropped)."""
    lines = (FIXTURES / f"{name}.headers").read_text().splitlines()[1:]
    return dict(line.split(": ", 1) for line in lines if line)


class _Status(web.HTTPException):
    def __init__(self, status: int) -> None:
        self.status_code = status
        super().__init__(text=f"{status}")


@dataclass
class Instance:
    token: str = "good-token"
    sse: bytes = field(default_factory=lambda: (FIXTURES / "streaming.sse").read_bytes())
    statuses: list[dict[str, object]] = field(default_factory=list)  # the tag timeline, any order
    throttle_once: bool = False  # the next timeline request answers 429 with Retry-After: 1
    fail_with: int | None = None  # every request answers this status
    cut_after: int | None = None  # end the SSE body in the middle of this event (counted from 0)
    extra_events: list[bytes] = field(default_factory=list)  # raw SSE text sent before the fixture
    requests: list[str] = field(default_factory=list)

    def _auth(self, request: web.Request) -> None:
        self.requests.append(request.path_qs)
        if self.fail_with:
            raise _Status(self.fail_with)
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            raise web.HTTPUnauthorized(
                text='{"error":"The access token is invalid"}', content_type="application/json"
            )

    async def streaming(self, request: web.Request) -> web.StreamResponse:
        self._auth(request)
        resp = web.StreamResponse(
            headers={k: v for k, v in headers_of("streaming.sse").items() if k != "Transfer-Encoding"}
        )
        await resp.prepare(request)
        for raw in self.extra_events:
            await resp.write(raw)
        body = self.sse
        if self.cut_after is not None:
            starts = [i for i in range(len(body)) if body.startswith(b"event: ", i)]
            body = body[: starts[self.cut_after] + 40]  # inside the event's data line
        await resp.write(body)
        if self.cut_after is None:
            with contextlib.suppress(ConnectionResetError):
                while True:  # stay open like the real stream, with its heartbeat, until the client leaves
                    await resp.write(b":thump\n")
                    await asyncio.sleep(0.2)
        return resp

    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        """One socket, streams picked by subscribe messages; each payload is JSON inside a JSON string."""
        self._auth(request)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        frames = (FIXTURES / "streaming_ws.jsonl").read_text().splitlines()
        async for msg in ws:
            sub = json.loads(msg.data)
            if sub.get("type") != "subscribe" or sub.get("stream") != "hashtag":
                await ws.send_str('{"error":"Unknown stream type","status":400}')
                continue
            for frame in frames:
                if json.loads(frame)["stream"] == ["hashtag", sub["tag"]]:
                    await ws.send_str(frame)
        return ws

    async def timeline(self, request: web.Request) -> web.Response:
        self._auth(request)
        if self.throttle_once:
            self.throttle_once = False
            return web.json_response({"error": "Too many requests"}, status=429, headers={"Retry-After": "1"})
        ordered = sorted(self.statuses, key=lambda s: int(str(s["id"])), reverse=True)
        limit = int(request.query.get("limit", "20"))
        if "max_id" in request.query:
            ordered = [s for s in ordered if int(str(s["id"])) < int(request.query["max_id"])]
        if "min_id" in request.query:
            # min_id: the page right after min_id, still newest first (as Mastodon does)
            newer = [s for s in ordered if int(str(s["id"])) > int(request.query["min_id"])]
            page = newer[-limit:]
        else:
            page = ordered[:limit]
        base = f"{request.scheme}://{request.host}{request.path}"
        link = []
        if page:
            link.append(f'<{base}?limit={limit}&max_id={page[-1]["id"]}>; rel="next"')
            link.append(f'<{base}?limit={limit}&min_id={page[0]["id"]}>; rel="prev"')
        headers = {
            k: v
            for k, v in headers_of("timelines_tag_nordlys.json").items()
            if k not in ("Link", "Content-Type")
        }
        if link:
            headers["Link"] = ", ".join(link)
        return web.json_response(page, headers=headers, dumps=lambda o: json.dumps(o, ensure_ascii=False))

    async def run(self) -> Running:
        app = web.Application()
        app.router.add_get("/api/v1/streaming/hashtag", self.streaming)
        app.router.add_get("/api/v1/streaming", self.websocket)
        app.router.add_get("/api/v1/timelines/tag/{tag}", self.timeline)
        return await start(app)
