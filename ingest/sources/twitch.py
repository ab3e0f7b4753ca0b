"""Twitch chat, read anonymously over IRC on a WebSocket: no account, no token, live only."""

from __future__ import annotations

import logging
import random
import re
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated

import aiohttp
import msgspec

from ingest.connector import (
    Checkpoint,
    ConnectorSpec,
    Delete,
    Item,
    Skipped,
    SourceContext,
    SourceError,
    Upsert,
    guard,
)
from wall.models import Author, Post, post_id
from wall.redact import redact_url
from wall.text import find_entities

log = logging.getLogger(__name__)

RECENT_PER_USER = 50  # message ids kept per chatter, so a CLEARCHAT (timeout/ban) can retract them
RECENT_USERS = 5_000


class Options(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    channels: Annotated[tuple[str, ...], msgspec.Meta(min_length=1)]
    terms: tuple[str, ...] = ()  # empty: every chat line
    server: str = "wss://irc-ws.chat.twitch.tv:443"


@dataclass(frozen=True)
class Line:
    """One IRC line: IRCv3 tags, prefix, command, params (the trailing one included)."""

    tags: dict[str, str]
    prefix: str
    command: str
    params: list[str]


_ESCAPES = {"\\:": ";", "\\s": " ", "\\\\": "\\", "\\r": "\r", "\\n": "\n"}


def _unescape(value: str) -> str:
    return re.sub(r"\\.", lambda m: _ESCAPES.get(m.group(0), m.group(0)[1]), value)


def parse(raw: str) -> Line:
    """Parse `@tags :prefix COMMAND params :trailing` (IRCv3 message tags, values unescaped)."""
    tags: dict[str, str] = {}
    rest = raw.rstrip("\r\n")
    if rest.startswith("@"):
        head, _, rest = rest.partition(" ")
        for pair in head[1:].split(";"):
            key, _, value = pair.partition("=")
            tags[key] = _unescape(value)
    prefix = ""
    if rest.startswith(":"):
        prefix, _, rest = rest[1:].partition(" ")
    trailing = None
    if " :" in rest:
        rest, _, trailing = rest.partition(" :")
    parts = rest.split()
    params = parts[1:] + ([trailing] if trailing is not None else [])
    return Line(tags, prefix, parts[0] if parts else "", params)


@dataclass
class Chat:
    """PRIVMSG -> Upsert, CLEARMSG -> Delete, CLEARCHAT of a user -> Delete of their recent lines."""

    terms: tuple[str, ...]
    recent: OrderedDict[str, deque[str]] = field(default_factory=OrderedDict)
    _match: re.Pattern[str] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.terms:
            words = "|".join(re.escape(t) for t in self.terms if t)
            self._match = re.compile(rf"(?<!\w)(?:{words})(?!\w)", re.IGNORECASE)

    def handle(self, line: Line) -> list[Upsert | Delete]:
        if line.command == "PRIVMSG" and len(line.params) == 2:
            return self._message(line)
        if line.command == "CLEARMSG" and line.tags.get("target-msg-id"):
            return [Delete(post_id("twitch", line.tags["target-msg-id"]), "removed")]
        if line.command == "CLEARCHAT" and line.tags.get("target-user-id"):
            ids = self.recent.pop(line.tags["target-user-id"], deque())
            return [Delete(post_id("twitch", i), "banned") for i in ids]
        return []

    def _message(self, line: Line) -> list[Upsert | Delete]:
        msg_id, user_id = line.tags.get("id", ""), line.tags.get("user-id", "")
        channel, text = line.params[0].lstrip("#"), line.params[1]
        if text.startswith("\x01ACTION "):
            text = text[8:].rstrip("\x01")  # /me
        if not msg_id or not text:
            return []
        if user_id:
            ids = self.recent.setdefault(user_id, deque(maxlen=RECENT_PER_USER))
            ids.append(msg_id)
            self.recent.move_to_end(user_id)
            if len(self.recent) > RECENT_USERS:
                self.recent.popitem(last=False)
        if self._match is not None and not self._match.search(text):
            return []
        login = line.prefix.partition("!")[0]
        sent = line.tags.get("tmi-sent-ts", "")
        created = datetime.fromtimestamp(int(sent) / 1000, UTC) if sent.isdigit() else datetime.now(UTC)
        post = Post(
            id=post_id("twitch", msg_id),
            source="twitch",
            source_id=msg_id,
            text=text,
            created_at=created,
            author=Author(name=line.tags.get("display-name") or login, handle=login),
            url=f"https://www.twitch.tv/{channel}",
            entities=find_entities(text),
        )
        return [Upsert(post)]


class Twitch:
    def __init__(self, name: str, options: Options, ctx: SourceContext) -> None:
        self.name = name
        self.options = options
        self.ctx = ctx
        self.chat = Chat(options.terms)

    async def stream(self, cursor: str | None) -> AsyncIterator[Item]:
        """Chat is live only: the cursor is not used, a checkpoint just marks progress."""
        server = self.options.server
        try:
            ws = await self.ctx.http.ws_connect(
                server, headers={"User-Agent": self.ctx.user_agent}, heartbeat=60
            )
        except aiohttp.WSServerHandshakeError as e:
            raise SourceError(f"{e.status} from {redact_url(server)}: the chat server refused the "
                              "connection") from e
        async with ws:
            await ws.send_str("CAP REQ :twitch.tv/tags twitch.tv/commands")
            await ws.send_str("PASS SCHMOOPIIE")  # anonymous read-only login
            await ws.send_str(f"NICK justinfan{random.randint(10_000, 99_999)}")
            for channel in self.options.channels:
                await ws.send_str(f"JOIN #{channel.lstrip('#').lower()}")
            last = time.monotonic()
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    break
                for raw in msg.data.split("\r\n"):
                    if not raw:
                        continue
                    line = guard(parse, raw)
                    if isinstance(line, Skipped):
                        yield line
                    elif line.command == "PING":
                        await ws.send_str("PONG :" + (line.params[0] if line.params else "tmi.twitch.tv"))
                    elif line.command == "RECONNECT":
                        raise SourceError(f"{redact_url(server)} asked us to reconnect", retry_after=0.5)
                    elif line.command == "NOTICE" and "Login" in (line.params[-1] if line.params else ""):
                        raise SourceError(f"{redact_url(server)} refused the anonymous login: "
                                          f"{line.params[-1]}")
                    else:
                        items = guard(self.chat.handle, line)
                        for item in [items] if isinstance(items, Skipped) else items:
                            yield item
                if time.monotonic() - last >= 10:
                    yield Checkpoint(str(int(time.time())))
                    last = time.monotonic()
        raise SourceError(f"the chat connection to {redact_url(server)} closed; reconnecting", retry_after=1)


def build(name: str, options: Options, ctx: SourceContext) -> Twitch:
    return Twitch(name, options, ctx)


SPEC = ConnectorSpec(type="twitch", display_name="Twitch", network="twitch",
                     options=Options, build=build)
