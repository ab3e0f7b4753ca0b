"""YouTube live chat through the Data API v3 `liveChatMessages.list`, polled as the API says.

Each answer names the next page (`nextPageToken`, the cursor) and how long to wait before asking for it
(`pollingIntervalMillis`). Text messages (and Super Chat comments) become posts; a `messageDeletedEvent`
retracts the message it names; a `userBannedEvent` retracts what that viewer said (a bounded map of
channel id -> message ids, kept with the cursor). When the broadcast ends (`offlineAt`, or a 403
`liveChatEnded`) the source finishes. A spent quota (403 `quotaExceeded`) waits for the daily reset at
midnight Pacific time, a 429 for its Retry-After: both are reported as Throttled.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import msgspec

from ingest.connector import (
    Checkpoint,
    ConnectorSpec,
    Delete,
    Item,
    SourceContext,
    SourceError,
    Throttled,
    Upsert,
    guard,
)
from ingest.sources.http import host_of, status_error
from ingest.sources.jsonapi import Answer, get_json, maybe, string
from wall.models import Author, Post, post_id
from wall.text import find_entities

AUTHORS_KEY = "authors"  # in the source's state: channel id -> ids of its recent messages
KEEP_AUTHORS = 500
KEEP_PER_AUTHOR = 50
PACIFIC = ZoneInfo("America/Los_Angeles")  # YouTube's daily quota resets at midnight there
log = logging.getLogger(__name__)


class Options(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    live_chat_id: str = ""  # the chat to read, or:
    video_id: str = ""  # the live video whose active chat to read (one videos.list call, 1 quota unit)
    api_key_env: str = ""  # env var holding an API key (public chats), or:
    token_env: str = ""  # env var holding an OAuth access token
    backfill_limit: Annotated[int, msgspec.Meta(ge=0, le=200)] = 20  # messages a first run takes
    min_interval: Annotated[float, msgspec.Meta(ge=0)] = 1.0  # seconds between polls at the least
    api_url: str = "https://www.googleapis.com"


def reason_of(body: Any) -> str:
    """The first `reason` of a Google API error body ("quotaExceeded", "liveChatEnded"), or ""."""
    error = body.get("error") if isinstance(body, dict) else None
    errors = error.get("errors") if isinstance(error, dict) else None
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    return str(first.get("reason", ""))


def next_quota_day(now: datetime | None = None) -> float:
    """Epoch seconds of the next midnight, Pacific time."""
    local = (now or datetime.now(UTC)).astimezone(PACIFIC)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), PACIFIC)
    return midnight.timestamp()


def to_post(item: dict[str, Any]) -> Post | None:
    """A chat message as a Post; None for what is not something someone wrote (polls, memberships)."""
    snippet, who = item["snippet"], item.get("authorDetails") or {}
    kind = snippet.get("type")
    if kind == "textMessageEvent":
        text = string(snippet.get("displayMessage")) or string(snippet["textMessageDetails"]["messageText"])
    elif kind == "superChatEvent":
        text = string((snippet.get("superChatDetails") or {}).get("userComment"))
        if not text:
            return None
    else:
        return None
    native = string(item["id"])
    if not native:
        raise ValueError("a message without an id")
    channel = string(who.get("channelId") or snippet.get("authorChannelId"))
    return Post(id=post_id("youtube", native), source="youtube", source_id=native, text=text,
                created_at=datetime.fromisoformat(string(snippet["publishedAt"]).replace("Z", "+00:00")),
                author=Author(name=string(who.get("displayName")), handle=channel,
                              avatar_url=maybe(who.get("profileImageUrl"))),
                url=maybe(who.get("channelUrl")),
                entities=find_entities(text))


class YouTube:
    def __init__(self, name: str, options: Options, ctx: SourceContext) -> None:
        self.name, self.options, self.ctx = name, options, ctx
        self.base = options.api_url.rstrip("/") + "/youtube/v3"
        self.host = host_of(options.api_url)
        self.authors: dict[str, list[str]] = {}  # channel id -> message ids, oldest author first

    def headers(self) -> dict[str, str]:
        o, env = self.options, self.ctx.env
        headers = {"User-Agent": self.ctx.user_agent}
        if o.token_env and env.get(o.token_env):
            headers["Authorization"] = f"Bearer {env[o.token_env]}"
        elif o.api_key_env and env.get(o.api_key_env):
            headers["X-Goog-Api-Key"] = env[o.api_key_env]  # a header keeps the key out of every URL
        else:
            named = o.token_env or o.api_key_env or "api_key_env or token_env"
            raise SourceError(f"{named} must hold a YouTube Data API key or OAuth token; create one at "
                              "https://console.cloud.google.com/apis/credentials")
        return headers

    def refused(self, answer: Answer, url: str) -> SourceError:
        o = self.options
        if answer.status == 401 or (answer.status == 400 and "API_KEY_INVALID" in json.dumps(answer.body)):
            return SourceError(f"{answer.status} from {self.host}: the credentials in "
                               f"{o.token_env or o.api_key_env} were refused")
        if answer.status == 404:
            return SourceError(f"404 from {self.host}: no live chat {o.live_chat_id or o.video_id!r}; "
                               "check live_chat_id (or video_id)")
        if answer.status == 403 and (reason := reason_of(answer.body)):
            return SourceError(f"403 from {self.host}: {reason}")
        return status_error(url, answer.status, answer.headers)

    async def call(self, path: str, params: dict[str, str], box: list[Answer]) -> AsyncIterator[Throttled]:
        """GET until it is not throttled; the answer lands in `box` (a 403 `liveChatEnded` too)."""
        url = f"{self.base}/{path}"
        while True:
            answer = await get_json(self.ctx.http, url, params, self.headers())
            reason = reason_of(answer.body)
            if answer.status == 429 or reason in ("rateLimitExceeded", "userRateLimitExceeded"):
                yield Throttled(answer.wait_until(), f"{answer.status} from {self.host}: rate limited")
            elif reason in ("quotaExceeded", "dailyLimitExceeded"):
                yield Throttled(next_quota_day(), f"403 from {self.host}: the daily quota is spent "
                                                  "until midnight Pacific time")
            elif answer.status == 200 or reason == "liveChatEnded":
                box.append(answer)
                return
            else:
                raise self.refused(answer, url)

    async def chat_id(self) -> AsyncIterator[Throttled | str]:
        if self.options.live_chat_id:
            yield self.options.live_chat_id
            return
        box: list[Answer] = []
        params = {"part": "liveStreamingDetails", "id": self.options.video_id}
        async for throttled in self.call("videos", params, box):
            yield throttled
        items = box[0].body.get("items") if isinstance(box[0].body, dict) else None
        details = items[0].get("liveStreamingDetails") or {} if isinstance(items, list) and items else {}
        if not isinstance(details, dict) or not details.get("activeLiveChatId"):
            raise SourceError(f"video {self.options.video_id} on {self.host} has no active live chat "
                              "(not live yet, ended, or its chat is off)")
        yield str(details["activeLiveChatId"])

    def remember(self, post: Post) -> None:
        ids = self.authors.pop(post.author.handle, [])  # to the newest end
        self.authors[post.author.handle] = [*ids, post.source_id][-KEEP_PER_AUTHOR:]
        while len(self.authors) > KEEP_AUTHORS:
            del self.authors[next(iter(self.authors))]

    def event(self, item: dict[str, Any]) -> list[Upsert | Delete]:
        snippet = item["snippet"]
        kind = snippet.get("type")
        if kind == "messageDeletedEvent":
            gone = str(snippet["messageDeletedDetails"]["deletedMessageId"])
            return [Delete(post_id("youtube", gone))]
        if kind == "userBannedEvent":
            channel = str(snippet["userBannedDetails"]["bannedUserDetails"]["channelId"])
            return [Delete(post_id("youtube", m), "banned") for m in self.authors.pop(channel, [])]
        post = to_post(item)
        if post is None:
            return []
        self.remember(post)
        return [Upsert(post)]

    async def stream(self, cursor: str | None) -> AsyncIterator[Item]:
        saved = await self.ctx.state.get(AUTHORS_KEY)
        if saved:  # a ban after a restart still finds what that viewer said before it
            with contextlib.suppress(msgspec.DecodeError, msgspec.ValidationError):
                self.authors = msgspec.json.decode(saved, type=dict[str, list[str]])
        chat = ""
        async for found in self.chat_id():
            if isinstance(found, Throttled):
                yield found
            else:
                chat = found
        stored_chat, _, token = (cursor or "").partition(" ")
        token = token if stored_chat == chat else ""  # a new broadcast starts its chat afresh
        while True:
            box: list[Answer] = []
            params = {"liveChatId": chat, "part": "snippet,authorDetails", "maxResults": "2000"}
            if token:
                params["pageToken"] = token
            async for throttled in self.call("liveChat/messages", params, box):
                yield throttled
            if box[0].status != 200:  # 403 liveChatEnded
                log.info("youtube source %s: the live chat has ended; the source is finished", self.name)
                return
            body = box[0].body if isinstance(box[0].body, dict) else {}
            items: list[Any] = body["items"] if isinstance(body.get("items"), list) else []
            for item in items if token else first_run(items, self.options.backfill_limit):
                got = guard(self.event, item)
                for one in got if isinstance(got, list) else [got]:
                    yield one
            token = str(body.get("nextPageToken") or token)
            if token:
                await self.ctx.state.set(AUTHORS_KEY, json.dumps(self.authors))
                yield Checkpoint(f"{chat} {token}")
            if body.get("offlineAt"):
                log.info("youtube source %s: the broadcast went offline; the source is finished", self.name)
                return
            await asyncio.sleep(max(self.options.min_interval, interval(body)))


def interval(body: dict[str, Any]) -> float:
    """Seconds the API asked us to wait before the next poll (5 s when it did not say)."""
    millis = body.get("pollingIntervalMillis")
    return millis / 1000 if isinstance(millis, int | float) and 0 <= millis < 3_600_000 else 5.0


def _kind(item: Any) -> Any:
    snippet = item.get("snippet") if isinstance(item, dict) else None
    return snippet.get("type") if isinstance(snippet, dict) else None


def first_run(items: list[Any], cap: int) -> list[Any]:
    """A chat's history on a first run: what follows the newest `cap` messages someone wrote."""
    said = [i for i, item in enumerate(items) if _kind(item) in ("textMessageEvent", "superChatEvent")]
    if len(said) <= cap:
        return items
    return items[said[-cap]:] if cap else []


def build(name: str, options: Options, ctx: SourceContext) -> YouTube:
    if bool(options.live_chat_id) == bool(options.video_id):
        raise ValueError(f"source {name}: give either live_chat_id or video_id")
    return YouTube(name, options, ctx)


SPEC = ConnectorSpec(type="youtube", display_name="YouTube", network="youtube",
                     options=Options, build=build)
