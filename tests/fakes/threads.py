"""The Threads API keyword search on 127.0.0.1: `keyword_search` with `since`, its access token in the
query, Graph API errors (an expired token, code 4 when the query limit is reached)."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.fakes.server import Running, start

FIXTURES = Path(__file__).parent.parent / "fixtures" / "threads"
TOKEN = "threads-token"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def _epoch(post: dict[str, Any]) -> float:
    try:
        return datetime.fromisoformat(post["timestamp"]).timestamp()
    except ValueError:  # a malformed post a test put in: the search still lists it
        return float("inf")


class ThreadsApi:
    def __init__(self) -> None:
        self.answer = fixture("keyword_search.json")
        self.posts: list[dict[str, Any]] = copy.deepcopy(self.answer["data"])  # newest first
        self.plan: list[str] = []  # answers to give first: "limit"
        self.requests: list[dict[str, str]] = []

    def post(self, native: str) -> dict[str, Any]:
        return next(p for p in self.posts if p["id"] == native)

    async def search(self, request: web.Request) -> web.Response:
        self.requests.append(dict(request.query))
        if request.query.get("access_token") != TOKEN:
            return web.json_response(fixture("token_expired_400.json"), status=400)
        if self.plan and self.plan.pop(0) == "limit":
            return web.json_response(fixture("request_limit_403.json"), status=403)
        if request.query.get("search_type") != "RECENT" or not request.query.get("q"):
            return web.json_response({"error": {"message": "Invalid parameter", "code": 100}}, status=400)
        since = int(request.query.get("since", "0"))
        limit = int(request.query.get("limit", "25"))
        data = [p for p in self.posts if since == 0 or _epoch(p) >= since][:limit]
        return web.json_response({**self.answer, "data": data})

    async def run(self) -> Running:
        app = web.Application()
        app.router.add_get("/v1.0/keyword_search", self.search)
        return await start(app)
