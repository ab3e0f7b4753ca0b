"""A Lemmy 0.19 instance on 127.0.0.1: `/api/v3/search` (posts and comments, per community, newest
first), `couldnt_find_community` and 429 answers."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.fakes.server import Running, start

FIXTURES = Path(__file__).parent.parent / "fixtures" / "lemmy"


class LemmyInstance:
    def __init__(self) -> None:
        answer = json.loads((FIXTURES / "search_all.json").read_text())
        self.posts: list[dict[str, Any]] = copy.deepcopy(answer["posts"])
        self.comments: list[dict[str, Any]] = copy.deepcopy(answer["comments"])
        self.throttle_next = 0
        self.requests: list[dict[str, str]] = []

    def view(self, ap_id: str) -> dict[str, Any]:
        """The post or comment (its inner object) with this ActivityPub id."""
        for v in self.posts + self.comments:
            inner: dict[str, Any] = v.get("comment") or v["post"]
            if inner["ap_id"] == ap_id:
                return inner
        raise KeyError(ap_id)

    async def search(self, request: web.Request) -> web.Response:
        self.requests.append(dict(request.query))
        if self.throttle_next:
            self.throttle_next -= 1
            return web.json_response(json.loads((FIXTURES / "rate_limit_error_429.json").read_text()),
                                     status=429, headers={"Retry-After": "1"})
        community = request.query.get("community_name")
        if community not in (None, "nordlys"):
            return web.json_response(json.loads((FIXTURES / "couldnt_find_community_404.json").read_text()),
                                     status=404)
        kind = request.query.get("type_", "All")
        limit = int(request.query.get("limit", "10"))
        newest = lambda views: sorted(  # noqa: E731
            views, key=lambda v: str((v.get("comment") or v["post"])["published"]), reverse=True)[:limit]
        return web.json_response({
            "type_": kind,
            "posts": newest(self.posts) if kind in ("All", "Posts") else [],
            "comments": newest(self.comments) if kind in ("All", "Comments") else [],
            "communities": [], "users": []})

    async def run(self) -> Running:
        app = web.Application()
        app.router.add_get("/api/v3/search", self.search)
        return await start(app)
