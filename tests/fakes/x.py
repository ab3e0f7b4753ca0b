"""The X API v2 filtered stream on 127.0.0.1: rules kept in memory, the fixture stream and its failures."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp import web

from tests.fakes.rss import read_headers
from tests.fakes.server import start

FIXTURES = Path(__file__).parent.parent / "fixtures" / "x"


class XServer:
    """`plan` says what each next stream connection gets; once it is empty, keep-alives forever.

    full: the fixture body (keep-alives, posts, then operational-disconnect and close)
    cut: the first post and half of the second, then close; malformed: a broken line, then one post
    stall: one post, then silence; 429: too many connections; 503: an upstream error
    """

    def __init__(self, token: str) -> None:
        self.token = token
        self.body = (FIXTURES / "filtered_stream.jsonl").read_bytes()
        self.rules = {r["id"]: (r["value"], r["tag"])
                      for r in json.loads((FIXTURES / "stream_rules.json").read_text())["data"]}
        self.next_rule_id = 1
        self.plan: list[str] = []
        self.connections: list[str] = []
        self.compliance = (FIXTURES / "compliance_stream.jsonl").read_bytes()
        self.partitions: list[str] = []  # the partition of every compliance stream connection
        self.url = ""

    def authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.token}"

    async def get_rules(self, request: web.Request) -> web.Response:
        if not self.authorized(request):
            return web.json_response({"title": "Unauthorized", "status": 401}, status=401)
        data = [{"id": i, "value": v, "tag": t} for i, (v, t) in self.rules.items()]
        return web.json_response({"data": data, "meta": {"sent": "2026-03-12T07:59:58.412Z",
                                                         "result_count": len(data)}} if data else
                                 {"meta": {"sent": "2026-03-12T07:59:58.412Z", "result_count": 0}})

    async def post_rules(self, request: web.Request) -> web.Response:
        if not self.authorized(request):
            return web.json_response({"title": "Unauthorized", "status": 401}, status=401)
        body = await request.json()
        for rid in body.get("delete", {}).get("ids", []):
            self.rules.pop(rid, None)
        added = []
        for rule in body.get("add", []):
            rid = f"20000000000000000{self.next_rule_id:02d}"
            self.next_rule_id += 1
            self.rules[rid] = (rule["value"], rule.get("tag", ""))
            added.append({"id": rid, **rule})
        return web.json_response({"data": added, "meta": {"sent": "2026-03-12T08:00:00.000Z"}},
                                 status=201 if added else 200)

    async def stream(self, request: web.Request) -> web.StreamResponse:
        if not self.authorized(request):
            return web.json_response({"title": "Unauthorized", "status": 401}, status=401)
        step = self.plan.pop(0) if self.plan else "hold"
        self.connections.append(step)
        if step == "429":
            _, headers = read_headers(FIXTURES / "too_many_connections_429.json.headers")
            return web.Response(status=429, headers=headers,
                                body=(FIXTURES / "too_many_connections_429.json").read_bytes())
        if step == "503":
            return web.json_response({"title": "Service Unavailable", "status": 503}, status=503)
        _, headers = read_headers(FIXTURES / "filtered_stream.jsonl.headers")
        resp = web.StreamResponse(headers=headers)
        await resp.prepare(request)
        lines = self.body.split(b"\r\n")
        posts = [line + b"\r\n" for line in lines if line.startswith(b'{"data"')]
        if step == "full":
            for i in range(0, len(self.body), 700):  # chunks that split messages, as TCP does
                await resp.write(self.body[i:i + 700])
        elif step == "cut":
            await resp.write(posts[0] + posts[1][: len(posts[1]) // 2])
        elif step == "malformed":
            await resp.write(b'{"data": {"id": "1", "text": \r\n' + b"\r\n" + posts[2])
            await asyncio.sleep(3600)
        elif step == "stall":
            await resp.write(posts[3])
            await asyncio.sleep(3600)
        else:
            while True:
                await resp.write(b"\r\n")
                await asyncio.sleep(0.05)
        return resp


    async def compliance_stream(self, request: web.Request) -> web.StreamResponse:
        """The Post compliance stream: the fixture's events on partition 1, then keep-alives."""
        if not self.authorized(request):
            return web.json_response({"title": "Unauthorized", "status": 401}, status=401)
        partition = request.query.get("partition", "")
        if partition not in ("1", "2", "3", "4"):
            problem = {"parameters": {"partition": [partition]},
                       "message": "The `partition` query parameter value is invalid"}
            kind = "https://api.twitter.com/2/problems/invalid-request"
            return web.json_response({"errors": [problem], "title": "Invalid Request", "type": kind},
                                     status=400)
        self.partitions.append(partition)
        _, headers = read_headers(FIXTURES / "compliance_stream.jsonl.headers")
        resp = web.StreamResponse(headers=headers)
        await resp.prepare(request)
        if partition == "1":
            await resp.write(self.compliance)
        while True:
            await resp.write(b"\r\n")
            await asyncio.sleep(0.05)


@asynccontextmanager
async def x_server(token: str = "x-bearer") -> AsyncIterator[XServer]:
    server = XServer(token)
    app = web.Application()
    app.router.add_get("/2/tweets/search/stream/rules", server.get_rules)
    app.router.add_post("/2/tweets/search/stream/rules", server.post_rules)
    app.router.add_get("/2/tweets/search/stream", server.stream)
    app.router.add_get("/2/tweets/compliance/stream", server.compliance_stream)
    running = await start(app)
    server.url = running.http
    try:
        yield server
    finally:
        await running.stop()
