"""A Reddit API on 127.0.0.1: tokens, search with pages, /api/info, 429s and rate-limit headers."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.fakes.rss import read_headers
from tests.fakes.server import start

FIXTURES = Path(__file__).parent.parent / "fixtures" / "reddit"


class RedditServer:
    def __init__(self, client_id: str, secret: str) -> None:
        self.basic = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        self.page1 = json.loads((FIXTURES / "search_new.json").read_text())
        self.page2 = json.loads((FIXTURES / "search_new_page2.json").read_text())
        self.tokens: set[str] = set()
        self.token_requests = 0
        self.rate_limit_next = 0
        self.fail_next = 0
        self.exhaust_next = 0  # answers that say no request is left in this window
        self.requests: list[str] = []
        self.url = ""

    def post(self, name: str) -> dict[str, Any]:
        return next(c["data"] for c in self.page1["data"]["children"] if c["data"]["name"] == name)

    def edit(self, name: str, selftext: str) -> None:
        self.post(name).update(selftext=selftext, edited=1773306000.0)

    def remove(self, name: str) -> None:
        self.post(name).update(selftext="[removed]", removed_by_category="moderator")

    def expire_tokens(self) -> None:
        self.tokens.clear()

    async def token(self, request: web.Request) -> web.Response:
        self.token_requests += 1
        form = await request.post()
        granted = form.get("grant_type") == "client_credentials"
        if request.headers.get("Authorization") != self.basic or not granted:
            return web.json_response({"message": "Unauthorized", "error": 401}, status=401)
        token = f"tok-{self.token_requests}"
        self.tokens.add(token)
        return web.json_response({"access_token": token, "token_type": "bearer", "expires_in": 86400,
                                  "scope": "*"})

    def check(self, request: web.Request) -> web.Response | None:
        self.requests.append(request.path_qs)
        if request.headers.get("Authorization", "").removeprefix("bearer ") not in self.tokens:
            return web.json_response({"message": "Unauthorized", "error": 401}, status=401)
        if self.rate_limit_next:
            self.rate_limit_next -= 1
            _, headers = read_headers(FIXTURES / "rate_limited_429.json.headers")
            headers.update({"x-ratelimit-reset": "1", "Retry-After": "1"})  # the fixture's 118 s, shortened
            body = (FIXTURES / "rate_limited_429.json").read_bytes()
            return web.Response(status=429, body=body, headers=headers)
        if self.fail_next:
            self.fail_next -= 1
            return web.Response(status=503, text="<html>upstream busy</html>", content_type="text/html")
        return None

    async def search(self, request: web.Request) -> web.Response:
        if refused := self.check(request):
            return refused
        page = self.page2 if request.query.get("after") == self.page1["data"]["after"] else self.page1
        _, headers = read_headers(FIXTURES / "search_new.json.headers")
        if self.exhaust_next:
            self.exhaust_next -= 1
            headers.update({"x-ratelimit-remaining": "0.0", "x-ratelimit-used": "100",
                            "x-ratelimit-reset": "1"})
        return web.Response(body=json.dumps(page).encode(), headers=headers)

    async def info(self, request: web.Request) -> web.Response:
        if refused := self.check(request):
            return refused
        names = request.query.get("id", "").split(",")
        children = [c for c in self.page1["data"]["children"] if c["data"]["name"] in names]
        _, headers = read_headers(FIXTURES / "search_new.json.headers")
        body = {"kind": "Listing", "data": {"after": None, "dist": len(children), "children": children}}
        return web.Response(body=json.dumps(body).encode(), headers=headers)


@asynccontextmanager
async def reddit_server(client_id: str = "app-id", secret: str = "app-secret") -> AsyncIterator[RedditServer]:
    server = RedditServer(client_id, secret)
    app = web.Application()
    app.router.add_post("/api/v1/access_token", server.token)
    app.router.add_get("/search.json", server.search)
    app.router.add_get("/api/info", server.info)
    running = await start(app)
    server.url = running.http
    try:
        yield server
    finally:
        await running.stop()
