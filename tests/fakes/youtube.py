"""The YouTube Data API v3 live chat on 127.0.0.1: liveChatMessages.list with page tokens and the polling
interval, videos.list for a video's live chat, API key checks, 429, quotaExceeded and liveChatEnded."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.fakes.server import Running, start

FIXTURES = Path(__file__).parent.parent / "fixtures" / "youtube"
KEY = "yt-api-key"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


class LiveChat:
    """A chat's messages in order; a page token names the index the next page starts at."""

    def __init__(self, items: list[Any] | None = None) -> None:
        self.page = fixture("live_chat_messages.json")
        self.items: list[Any] = copy.deepcopy(self.page["items"]) if items is None else items
        self.chat_id: str = self.page["items"][0]["snippet"]["liveChatId"]
        self.interval_ms = 10  # the fixture's 5073 ms, shortened
        self.plan: list[str] = []  # answers to give first: "429", "quota", "ended"
        self.offline = False  # once a poll has read everything: offlineAt, the broadcast is over
        self.requests: list[dict[str, str]] = []
        self.times: list[float] = []  # monotonic time of each request

    def text(self, native: str, text: str, channel: str = "UCq4Sara0000000000000003") -> dict[str, Any]:
        """A text message in the fixture's format (its fourth message as the template)."""
        item = copy.deepcopy(self.page["items"][3])
        item["id"] = native
        item["snippet"].update(displayMessage=text, textMessageDetails={"messageText": text},
                               authorChannelId=channel)
        item["authorDetails"]["channelId"] = channel
        return item

    def refused(self, request: web.Request) -> web.Response | None:
        self.requests.append(dict(request.query))
        self.times.append(time.monotonic())
        if request.headers.get("X-Goog-Api-Key") != KEY:
            return web.json_response(fixture("key_invalid_400.json"), status=400)
        if self.plan:
            match self.plan.pop(0):
                case "429":
                    return web.json_response({"error": {"code": 429, "message": "Too many requests"}},
                                             status=429, headers={"Retry-After": "1"})
                case "quota":
                    return web.json_response(fixture("quota_exceeded_403.json"), status=403)
                case "ended":
                    return web.json_response(fixture("live_chat_ended_403.json"), status=403)
        return None

    async def messages(self, request: web.Request) -> web.Response:
        if refused := self.refused(request):
            return refused
        if request.query.get("liveChatId") != self.chat_id or "snippet" not in request.query.get("part", ""):
            return web.json_response({"error": {"code": 404, "message": "liveChatNotFound",
                                                "errors": [{"reason": "liveChatNotFound"}]}}, status=404)
        start = int(request.query.get("pageToken", "tok0").removeprefix("tok"))
        items = self.items[start:]
        body = {**{k: v for k, v in self.page.items() if k != "items"}, "items": items,
                "pollingIntervalMillis": self.interval_ms, "nextPageToken": f"tok{len(self.items)}",
                "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)}}
        if self.offline and start >= len(self.items):
            body["offlineAt"] = "2026-03-12T09:30:00.000Z"
        return web.json_response(body)

    async def videos(self, request: web.Request) -> web.Response:
        if refused := self.refused(request):
            return refused
        body = fixture("videos_live_streaming_details.json")
        wanted = request.query.get("id") == body["items"][0]["id"]
        if not wanted or request.query.get("part") != "liveStreamingDetails":
            body["items"] = []
        return web.json_response(body)

    async def run(self) -> Running:
        app = web.Application()
        app.router.add_get("/youtube/v3/liveChat/messages", self.messages)
        app.router.add_get("/youtube/v3/videos", self.videos)
        return await start(app)
