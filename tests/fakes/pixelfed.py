"""A Pixelfed instance on 127.0.0.1: the Mastodon-compatible hashtag timeline with `min_id` and `limit`,
newest first, Link headers, 429 with Retry-After; one status by id (404 once it is deleted)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.fakes.server import Running, start

FIXTURES = Path(__file__).parent.parent / "fixtures" / "pixelfed"


class PixelfedInstance:
    def __init__(self) -> None:
        self.statuses: list[dict[str, Any]] = copy.deepcopy(
            json.loads((FIXTURES / "timelines_tag_nordlys.json").read_text()))  # any order
        self.throttle_next = 0
        self.requests: list[dict[str, str]] = []

    async def tag(self, request: web.Request) -> web.Response:
        self.requests.append(dict(request.query))
        if self.throttle_next:
            self.throttle_next -= 1
            return web.json_response({"error": "Too Many Attempts."}, status=429,
                                     headers={"Retry-After": "1"})
        if request.match_info["tag"] != "nordlys":
            return web.json_response([])
        key = lambda s: (len(s["id"]), s["id"])  # noqa: E731
        newest = sorted(self.statuses, key=key, reverse=True)
        limit = int(request.query.get("limit", "20"))
        if min_id := request.query.get("min_id"):
            # min_id: the oldest ones after it, newest first (as Mastodon and Pixelfed answer)
            newer = [s for s in newest if key(s) > (len(min_id), min_id)]
            page = newer[-limit:]
        else:
            page = newest[:limit]
        headers = {}
        if page:
            base = f"{request.url.origin()}{request.path}"
            headers["Link"] = (f'<{base}?limit={limit}&max_id={page[-1]["id"]}>; rel="next", '
                               f'<{base}?limit={limit}&min_id={page[0]["id"]}>; rel="prev"')
        return web.json_response(page, headers=headers)

    async def status(self, request: web.Request) -> web.Response:
        self.requests.append({"status": request.match_info["id"]})
        for s in self.statuses:
            if s["id"] == request.match_info["id"]:
                return web.json_response(s)
        return web.json_response({"error": "Record not found"}, status=404)

    def edit(self, local: str, html: str) -> None:
        status = next(s for s in self.statuses if s["id"] == local)
        status.update(content=html, edited_at="2026-03-12T08:30:00.000000Z")

    def delete(self, local: str) -> None:
        self.statuses = [s for s in self.statuses if s["id"] != local]

    async def run(self) -> Running:
        app = web.Application()
        app.router.add_get("/api/v1/statuses/{id}", self.status)
        app.router.add_get("/api/v1/timelines/tag/{tag}", self.tag)
        return await start(app)
