"""Every connector the registry knows keeps the same contract (ingest/connector.py), shown against a local
server speaking its network's protocol with recorded real-format payloads (tests/fixtures/):

- posts arrive, an edit comes again under the same id, a delete names a post it showed;
- a malformed message and a poison message are passed over (a Skipped item, or a post the sanitizer
  refuses or repairs) and what follows them still arrives: no message stalls a source;
- a restart from the last checkpoint repeats nothing; a first run takes only the newest few;
- a rate limit is reported as Throttled (the supervisor waits), and the source goes on afterwards;
- a refusal is a SourceError naming the host and nothing secret.

Each connector provides what the contract needs through a small adapter below (its fake server and how
to put a message in). A capability a network does not have is named as such, with the reason.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import aiohttp
import pytest
from aiohttp import web

from ingest.connector import (
    Checkpoint,
    Connector,
    Delete,
    Item,
    Skipped,
    SourceContext,
    SourceError,
    Throttled,
    Upsert,
)
from ingest.pipeline import digest
from ingest.registry import REGISTRY
from ingest.sanitize import EARLIEST, Refused, sanitize
from ingest.sources import bluesky, lemmy, mastodon, pixelfed, reddit, rss, threads, twitch, x, youtube
from tests.fakes import youtube as yt
from tests.fakes.bluesky import Jetstream
from tests.fakes.lemmy import LemmyInstance
from tests.fakes.mastodon import Instance
from tests.fakes.pixelfed import PixelfedInstance
from tests.fakes.reddit import RedditServer, reddit_server
from tests.fakes.rss import FeedServer, feed_server
from tests.fakes.server import Running, start
from tests.fakes.state import Memory
from tests.fakes.threads import TOKEN as THREADS_TOKEN
from tests.fakes.threads import ThreadsApi
from tests.fakes.twitch import ChatServer
from tests.fakes.x import XServer, x_server
from wall.models import Post, post_id

FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "s3cr3t-token-never-shown"
NOT_NETWORKS = {"replay": "plays a bundled file: no server, edits, deletes or limits (tests/test_replay.py)"}


@dataclass
class Run:
    """What a supervisor would make of a connector's items (the sanitizer included), without Redis."""

    posts: list[Post] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    throttled: list[Throttled] = field(default_factory=list)
    checkpoints: list[str] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)

    def ids(self) -> list[str]:
        return [p.id for p in self.posts]


async def drive(connector: Connector, cursor: str | None, done: Callable[[Run], bool],
                run: Run | None = None, timeout: float = 20.0) -> Run:
    """Items until `done`; a SourceError ends the run only when `done` already holds."""
    run = run or Run()
    try:
        async with asyncio.timeout(timeout):
            async for item in connector.stream(cursor):
                run.items.append(item)
                match item:
                    case Upsert(post=raw):
                        try:
                            run.posts.append(sanitize(raw))
                        except Refused as e:
                            run.skipped.append(str(e))
                    case Delete(post_id=pid):
                        run.deletes.append(pid)
                    case Skipped(reason=reason):
                        run.skipped.append(reason)
                    case Throttled():
                        run.throttled.append(item)
                    case Checkpoint(cursor=c):
                        run.checkpoints.append(c)
                if done(run):
                    return run
    except SourceError:
        if not done(run):
            raise
    return run


def checkpointed(run: Run) -> bool:
    return bool(run.items) and isinstance(run.items[-1], Checkpoint)


class Adapter:
    """One connector under the contract: its fake server, how to build it, how to put messages in."""

    type: ClassVar[str]
    edited: str | None = None  # post id the lifecycle edits (None: the network has no edits)
    deleted: str | None = None  # post id the lifecycle deletes
    sentinel: str = ""  # post id that comes after the malformed and the poison message
    repaired: str | None = None  # post id of a poison message the sanitizer repairs rather than refuses
    overlap: ClassVar[int] = 0  # posts a resume may send again, unchanged (the connector's documented rewind)
    no_resume: ClassVar[str] = ""  # why a restart cannot repeat anything (a live-only stream)
    no_throttle: ClassVar[str] = ""  # why the network has no rate limit to report
    no_cap: ClassVar[str] = ""  # why a first run has no cap to honour

    def __init__(self) -> None:
        self.stack = AsyncExitStack()
        self.state = Memory()
        self.http: aiohttp.ClientSession

    async def __aenter__(self) -> Adapter:
        self.http = await self.stack.enter_async_context(aiohttp.ClientSession())
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stack.aclose()

    def ctx(self, env: dict[str, str] | None = None) -> SourceContext:
        return SourceContext(http=self.http, state=self.state, env=env or {})

    async def running(self, run: Callable[[], Any]) -> Running:
        running: Running = await run()
        self.stack.push_async_callback(running.stop)
        return running

    async def lifecycle(self) -> Run:
        raise NotImplementedError

    async def resume(self) -> tuple[Run, Run]:
        raise NotImplementedError

    async def throttle(self) -> Run:
        raise NotImplementedError

    async def refuse(self) -> SourceError:
        raise NotImplementedError

    async def first_run(self, cap: int) -> Run:
        raise NotImplementedError


# ---- Bluesky: Jetstream over a WebSocket ----

JETSTREAM = [json.loads(line) for line in (FIXTURES / "bluesky" / "jetstream.jsonl").read_text().splitlines()]
T0 = 1773302535104240


def jetstream(i: int, op: str, rkey: str, text: str = "", created: str = "2026-03-12T08:02:13.669Z") -> bytes:
    """A commit in Jetstream's format (the fixture's first post as the template), 10 s apart."""
    msg = copy.deepcopy(JETSTREAM[0])
    msg["time_us"] = T0 + i * 10_000_000
    commit = msg["commit"]
    commit.update(operation=op, rkey=rkey)
    if op == "delete":
        for key in ("record", "cid"):
            commit.pop(key, None)
    else:
        commit["record"].update(text=text, createdAt=created, facets=[])
    return json.dumps(msg, ensure_ascii=False).encode()


class BlueskyAdapter(Adapter):
    type = "bluesky"
    overlap = 1  # REWIND_US: the last 5 s before the cursor, one message 10 s apart here
    no_throttle = "Jetstream sets no rate limit on reading"
    no_cap = "a first run is live only: Jetstream sends what is new from the connection on"

    def uri(self, rkey: str) -> str:
        return post_id("bluesky", bluesky.at_uri(JETSTREAM[0]["did"], rkey))

    def messages(self) -> list[bytes]:
        self.edited, self.deleted, self.sentinel = self.uri("a"), self.uri("b"), self.uri("s")
        self.repaired = self.uri("p")
        malformed = json.loads(jetstream(2, "create", "m", "#Nordlys"))
        malformed["commit"]["record"]["text"] = 5  # a number where the text goes
        return [
            jetstream(0, "create", "a", "First #Nordlys post"),
            jetstream(1, "create", "b", "Second #Nordlys post"),
            json.dumps(malformed).encode(),
            jetstream(3, "create", "p", "#Nordlys from year one", "0001-01-01T00:00:00+05:00"),  # poison
            jetstream(4, "update", "a", "First #Nordlys post, edited"),
            jetstream(5, "delete", "b"),
            jetstream(6, "create", "s", "Last #Nordlys post"),
        ]

    def build(self, fake: Running) -> Connector:
        options = bluesky.Options(endpoints=(f"{fake.ws}/subscribe",), hashtags=("nordlys",))
        return bluesky.build("bsky", options, self.ctx())

    async def lifecycle(self) -> Run:
        messages = self.messages()
        fake = await self.running(Jetstream(messages, close_after=len(messages)).run)
        return await drive(self.build(fake), None, lambda r: self.sentinel in r.ids() and checkpointed(r))

    async def resume(self) -> tuple[Run, Run]:
        messages = self.messages()
        server = Jetstream(messages, close_after=len(messages))
        fake = await self.running(server.run)
        first = await drive(self.build(fake), None, lambda r: self.sentinel in r.ids() and checkpointed(r))
        server.messages.append(jetstream(7, "create", "n", "A new #Nordlys post"))
        new = self.uri("n")
        return first, await drive(self.build(fake), first.checkpoints[-1], lambda r: new in r.ids())

    async def refuse(self) -> SourceError:
        fake = await self.running(Jetstream([], refuse=True).run)
        with pytest.raises(SourceError) as e:
            await drive(self.build(fake), None, lambda r: False)
        return e.value


# ---- Mastodon: the streaming API (SSE) and the REST timeline ----

SSE = (FIXTURES / "mastodon" / "streaming.sse").read_text()
TIMELINE: list[dict[str, Any]] = json.loads(
    (FIXTURES / "mastodon" / "timelines_tag_nordlys.json").read_text())


def sse_events() -> list[tuple[str, str]]:
    events = []
    for block in SSE.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in lines:
            events.append((lines["event"], lines["data"]))
    return events


class MastodonAdapter(Adapter):
    type = "mastodon"

    def __init__(self) -> None:
        super().__init__()
        events = sse_events()
        uris = {json.loads(d)["id"]: json.loads(d)["uri"] for e, d in events if e != "delete"}
        edit = next(d for e, d in events if e == "status.update")
        self.edited = post_id("mastodon", json.loads(edit)["uri"])
        self.deleted = post_id("mastodon", uris[next(d for e, d in events if e == "delete")])
        self.sentinel = post_id("mastodon", json.loads(events[-1][1])["uri"])

    def build(self, fake: Running, token: str = "good-token", backfill: int = 0) -> Connector:
        options = mastodon.Options(instance=fake.http, hashtags=("nordlys",), token_env="WALL_MASTODON_TOKEN",
                                   backfill_limit=backfill)
        return mastodon.build("fedi", options, self.ctx({"WALL_MASTODON_TOKEN": token}))

    async def lifecycle(self) -> Run:
        poison = dict(TIMELINE[0], id="116215100000000001", uri="https://toot.example/statuses/poison",
                      created_at="0001-01-01T00:00:00+05:00")
        extra = [b'event: update\ndata: {"id": not json\n\n',
                 f"event: update\ndata: {json.dumps(poison)}\n\n".encode()]
        fake = await self.running(Instance(extra_events=extra).run)
        return await drive(self.build(fake), "1", lambda r: self.sentinel in r.ids())

    async def resume(self) -> tuple[Run, Run]:
        server = Instance(statuses=list(TIMELINE))
        fake = await self.running(server.run)
        first = await drive(self.build(fake, backfill=40), None, checkpointed)
        newer = dict(TIMELINE[0], id="116215999999999999", uri="https://toot.example/statuses/new")
        server.statuses.append(newer)
        new = post_id("mastodon", newer["uri"])
        return first, await drive(self.build(fake, backfill=40), first.checkpoints[-1],
                                  lambda r: new in r.ids() and checkpointed(r))

    async def throttle(self) -> Run:
        fake = await self.running(Instance(statuses=list(TIMELINE), throttle_once=True).run)
        return await drive(self.build(fake, backfill=5), None, checkpointed)

    async def refuse(self) -> SourceError:
        fake = await self.running(Instance().run)
        with pytest.raises(SourceError) as e:
            await drive(self.build(fake, token=SECRET), None, lambda r: False)
        return e.value

    async def first_run(self, cap: int) -> Run:
        fake = await self.running(Instance(statuses=list(TIMELINE)).run)
        return await drive(self.build(fake, backfill=cap), None, checkpointed)


# ---- RSS and Atom ----

RSS_REVIEW = "https://gadgetnorth.example/reviews/nordlys-x3-review/"


def one_round(feeds: int) -> Callable[[Run], bool]:
    return lambda r: len(r.checkpoints) >= feeds


class RssAdapter(Adapter):
    type = "rss"
    deleted = None  # a feed does not say what it removed

    def __init__(self) -> None:
        super().__init__()
        self.edited = self.sentinel = post_id("rss", RSS_REVIEW)

    async def server(self) -> FeedServer:
        server = await self.stack.enter_async_context(feed_server())
        return server

    def build(self, url: str, cap: int = 50) -> Connector:
        return rss.build("news", rss.Options(feeds=[url], max_items_per_poll=cap), self.ctx())

    async def lifecycle(self) -> Run:
        server = await self.server()
        extra = (b"<item><title>no guid, no link</title></item>"  # malformed: nothing to know it by
                 b"<item><title>&#8203;&#8203;</title><guid>poison-1</guid></item>")  # nothing visible
        server.bodies["feed.rss"] = server.bodies["feed.rss"].replace(b"</channel>", extra + b"</channel>")
        url = f"{server.url}/feed.rss"
        run = await drive(self.build(url), None, one_round(1))
        title = "Nordlys X3 review: the winter phone"
        server.edit("feed.rss", title, title.replace("review:", "review (updated):"))
        return await drive(self.build(url), None, one_round(2), run)

    async def resume(self) -> tuple[Run, Run]:
        server = await self.server()
        url = f"{server.url}/feed.rss"
        first = await drive(self.build(url), None, one_round(1))
        self.state.data = {k: v for k, v in self.state.data.items()
                           if not k.startswith(("etag:", "modified:"))}  # a 200 again: the seen set decides
        return first, await drive(self.build(url), first.checkpoints[-1], one_round(1))

    async def throttle(self) -> Run:
        server = await self.server()
        server.throttle_next = 1
        return await drive(self.build(f"{server.url}/feed.rss"), None, one_round(1))

    async def refuse(self) -> SourceError:
        server = await self.server()
        url = server.url.replace("http://", f"http://reader:{SECRET}@") + "/gone.xml"
        with pytest.raises(SourceError) as e:
            await drive(self.build(url), None, lambda r: False)
        return e.value

    async def first_run(self, cap: int) -> Run:
        server = await self.server()
        return await drive(self.build(f"{server.url}/feed.rss", cap), None, one_round(1))


# ---- Reddit ----

REDDIT_NEWEST, REDDIT_REMOVED = "t3_1jb7x2q", "t3_1jb6s8w"


class RedditAdapter(Adapter):
    type = "reddit"
    no_cap = "a first run reads one listing page, Reddit's own cap"

    def __init__(self) -> None:
        super().__init__()
        self.edited = self.sentinel = post_id("reddit", REDDIT_NEWEST)
        self.deleted = post_id("reddit", REDDIT_REMOVED)

    async def server(self, secret: str = "app-secret") -> tuple[RedditServer, Connector]:
        server = await self.stack.enter_async_context(reddit_server())
        options = reddit.Options(client_id_env="REDDIT_ID", client_secret_env="REDDIT_SECRET",
                                 query="nordlys",
                                 auth_url=f"{server.url}/api/v1/access_token", api_url=server.url)
        env = {"REDDIT_ID": "app-id", "REDDIT_SECRET": secret}
        return server, reddit.build("reddit", options, self.ctx(env))

    async def lifecycle(self) -> Run:
        server, source = await self.server()
        children = server.page1["data"]["children"]
        oldest = min(float(c["data"]["created_utc"]) for c in children)
        template = children[0]["data"]
        malformed = dict(template, name="t3_bad", created_utc=oldest + 1,
                         preview={"images": [{"source": "x"}]})  # a string where an object goes
        poison = dict(template, name="t3_poison", created_utc=oldest + 2, title="\u200b", selftext="")
        children[:0] = [{"kind": "t3", "data": malformed}, {"kind": "t3", "data": poison}]
        run = await drive(source, None, checkpointed)
        server.edit(REDDIT_NEWEST, "Update: battery is fine after the 1.0.3 patch.")
        server.remove(REDDIT_REMOVED)
        return await drive(source, run.checkpoints[-1], lambda r: len(r.checkpoints) == 2, run)

    async def resume(self) -> tuple[Run, Run]:
        _, source = await self.server()
        first = await drive(source, None, checkpointed)
        return first, await drive(source, first.checkpoints[-1], checkpointed)

    async def throttle(self) -> Run:
        server, source = await self.server()
        server.rate_limit_next = 1
        return await drive(source, None, checkpointed)

    async def refuse(self) -> SourceError:
        _, source = await self.server(secret=SECRET)
        with pytest.raises(SourceError) as e:
            await drive(source, None, lambda r: False)
        return e.value


# ---- Twitch chat: IRC over a WebSocket ----


def privmsg(msg_id: str, text: str, sent: str = "1773302535104") -> str:
    tags = (f"@badge-info=;color=#1E90FF;display-name=Aino;emotes=;id={msg_id};mod=0;room-id=1;"
            f"tmi-sent-ts={sent};user-id=101")
    return f"{tags} :aino!aino@aino.tmi.twitch.tv PRIVMSG #nordlysphones :{text}"


class TwitchAdapter(Adapter):
    type = "twitch"
    edited = None  # chat lines cannot be edited
    no_resume = "chat is live only: the server never sends a line again after a reconnect"
    no_throttle = "anonymous chat reading has no rate limit to report"
    no_cap = "chat is live only: there is no history to cap"

    def __init__(self) -> None:
        super().__init__()
        self.deleted, self.sentinel = post_id("twitch", "b"), post_id("twitch", "s")

    def build(self, fake: Running) -> Connector:
        return twitch.build("chat", twitch.Options(channels=("nordlysphones",), server=fake.ws), self.ctx())

    async def lifecycle(self) -> Run:
        lines = [privmsg("a", "First #Nordlys line"), privmsg("b", "Second line"),
                 privmsg("m", "a date past the year 9999", sent="9" * 20),  # malformed
                 privmsg("p", "\u200b\u200b"),  # poison: nothing visible
                 "@login=aino;room-id=1;target-msg-id=b;tmi-sent-ts=1773302536000"
                 " :tmi.twitch.tv CLEARMSG #nordlysphones :Second line",
                 privmsg("s", "Last line"), ":tmi.twitch.tv RECONNECT"]
        fake = await self.running(ChatServer(lines).run)
        return await drive(self.build(fake), None, lambda r: self.sentinel in r.ids())

    async def refuse(self) -> SourceError:
        fake = await self.running(lambda: start(web.Application()))  # no chat endpoint: 404
        with pytest.raises(SourceError) as e:
            await drive(self.build(fake), None, lambda r: False)
        return e.value


# ---- X: the filtered stream ----

X_LINES = [json.loads(line) for line in (FIXTURES / "x" / "filtered_stream.jsonl").read_text().splitlines()
           if line.startswith('{"data"')]


class XAdapter(Adapter):
    type = "x"
    edited = None  # an edit on X is a new post replacing the old one: the old one is deleted
    no_resume = "the filtered stream is live only; X has no cursor to resume from"
    no_cap = "the filtered stream is live only: there is no history to cap"

    def __init__(self) -> None:
        super().__init__()
        self.deleted = post_id("x", "2032004968608764071")  # the typo its edit replaced
        self.sentinel = post_id("x", X_LINES[-1]["data"]["id"])

    async def server(self, token: str = "x-bearer") -> tuple[XServer, Connector]:
        server = await self.stack.enter_async_context(x_server())
        options = x.Options(bearer_token_env="WALL_X_BEARER", rules=[x.Rule("nordlys")], api_url=server.url)
        return server, x.build("x", options, self.ctx({"WALL_X_BEARER": token}))

    async def lifecycle(self) -> Run:
        server, source = await self.server()
        poison = {"data": {"id": "9", "text": "\u200b", "created_at": "2026-03-12T08:00:00.000Z",
                           "edit_history_tweet_ids": ["9"]}, "includes": {}}
        malformed = b'{"data": {"id": "1", "text": \r\n'  # cut JSON
        server.body = malformed + json.dumps(poison).encode() + b"\r\n" + server.body
        server.plan = ["full"]
        return await drive(source, None, lambda r: self.sentinel in r.ids())

    async def throttle(self) -> Run:
        server, source = await self.server()
        server.plan = ["429", "full"]
        return await drive(source, None, lambda r: len(r.posts) > 0)

    async def refuse(self) -> SourceError:
        _, source = await self.server(token=SECRET)
        with pytest.raises(SourceError) as e:
            await drive(source, None, lambda r: False)
        return e.value


# ---- YouTube live chat: liveChatMessages.list, polled ----


class YouTubeAdapter(Adapter):
    type = "youtube"
    edited = None  # chat messages cannot be edited

    def __init__(self) -> None:
        super().__init__()
        self.chat = yt.LiveChat()
        items = self.chat.items
        self.deleted = post_id("youtube", items[6]["snippet"]["messageDeletedDetails"]["deletedMessageId"])
        self.sentinel = post_id("youtube", items[-1]["id"])

    async def build(self, key: str = yt.KEY, cap: int = 20) -> Connector:
        fake = await self.running(self.chat.run)
        options = youtube.Options(live_chat_id=self.chat.chat_id, api_key_env="WALL_YOUTUBE_KEY",
                                  api_url=fake.http, min_interval=0, backfill_limit=cap)
        return youtube.build("yt", options, self.ctx({"WALL_YOUTUBE_KEY": key}))

    async def lifecycle(self) -> Run:
        malformed = self.chat.text("LCC.malformed", "no date")
        del malformed["snippet"]["publishedAt"]
        self.chat.items[-1:-1] = [malformed, self.chat.text("LCC.poison", "\u200b\u200b")]
        return await drive(await self.build(), None, lambda r: self.sentinel in r.ids())

    async def resume(self) -> tuple[Run, Run]:
        source = await self.build()
        first = await drive(source, None, checkpointed)
        self.chat.items.append(self.chat.text("LCC.new", "A new #nordlys question"))
        new = post_id("youtube", "LCC.new")
        return first, await drive(await self.build(), first.checkpoints[-1], lambda r: new in r.ids())

    async def throttle(self) -> Run:
        self.chat.plan = ["429"]
        return await drive(await self.build(), None, checkpointed)

    async def refuse(self) -> SourceError:
        with pytest.raises(SourceError) as e:
            await drive(await self.build(key=SECRET), None, lambda r: False)
        return e.value

    async def first_run(self, cap: int) -> Run:
        return await drive(await self.build(cap=cap), None, checkpointed)


# ---- Threads: keyword search, polled ----


class ThreadsAdapter(Adapter):
    type = "threads"
    deleted = None  # the search does not say what was deleted

    def __init__(self) -> None:
        super().__init__()
        self.api = ThreadsApi()
        self.edited = self.sentinel = post_id("threads", self.api.posts[0]["id"])

    async def build(self, token: str = THREADS_TOKEN, cap: int = 25) -> Connector:
        fake = await self.running(self.api.run)
        options = threads.Options(query="nordlys", token_env="WALL_THREADS_TOKEN",
                                  api_url=f"{fake.http}/v1.0", max_items_per_poll=cap)
        return threads.build("threads", options, self.ctx({"WALL_THREADS_TOKEN": token}))

    async def lifecycle(self) -> Run:
        malformed = dict(self.api.posts[-1], id="18052391720119998", timestamp="yesterday")
        poison = dict(self.api.posts[-1], id="18052391720119999", text="\u200b")
        self.api.posts[1:1] = [malformed, poison]
        run = await drive(await self.build(), None, checkpointed)
        self.api.posts[0]["text"] += " (edited: it is tomorrow)"
        return await drive(await self.build(), None, lambda r: len(r.checkpoints) == 2, run)

    async def resume(self) -> tuple[Run, Run]:
        first = await drive(await self.build(), None, checkpointed)
        return first, await drive(await self.build(), first.checkpoints[-1], checkpointed)

    async def throttle(self) -> Run:
        self.api.plan = ["limit"]
        return await drive(await self.build(), None, checkpointed)

    async def refuse(self) -> SourceError:
        with pytest.raises(SourceError) as e:
            await drive(await self.build(token=SECRET), None, lambda r: False)
        return e.value

    async def first_run(self, cap: int) -> Run:
        return await drive(await self.build(cap=cap), None, checkpointed)


# ---- Lemmy: search, polled ----


class LemmyAdapter(Adapter):
    type = "lemmy"

    def __init__(self) -> None:
        super().__init__()
        self.lemmy = LemmyInstance()
        self.edited = post_id("lemmy", "https://lemmy.example/post/1201")
        self.deleted = post_id("lemmy", "https://lemmy.example/comment/5502")
        self.sentinel = self.edited

    async def build(self, cap: int = 25) -> Connector:
        fake = await self.running(self.lemmy.run)
        options = lemmy.Options(instance=fake.http, query="nordlys", communities=("nordlys",),
                                max_items_per_poll=cap)
        return lemmy.build("lemmy", options, self.ctx())

    async def lifecycle(self) -> Run:
        template = self.lemmy.comments[0]
        malformed = copy.deepcopy(template)
        malformed["comment"].update(ap_id="https://lemmy.example/comment/1", published=None)
        poison = copy.deepcopy(template)
        poison["comment"].update(ap_id="https://lemmy.example/comment/2", content="\u200b")
        self.lemmy.comments += [malformed, poison]
        run = await drive(await self.build(), None, checkpointed)
        self.lemmy.view("https://lemmy.example/post/1201")["body"] += "\n\nEdit: fixed the battery figure."
        self.lemmy.view("https://lemmy.example/comment/5502")["deleted"] = True
        return await drive(await self.build(), None, lambda r: len(r.checkpoints) == 2, run)

    async def resume(self) -> tuple[Run, Run]:
        first = await drive(await self.build(), None, checkpointed)
        return first, await drive(await self.build(), first.checkpoints[-1], checkpointed)

    async def throttle(self) -> Run:
        self.lemmy.throttle_next = 1
        return await drive(await self.build(), None, checkpointed)

    async def refuse(self) -> SourceError:
        fake = await self.running(self.lemmy.run)
        url = fake.http.replace("http://", f"http://reader:{SECRET}@")
        options = lemmy.Options(instance=url, query="nordlys", communities=("nowhere",))
        with pytest.raises(SourceError) as e:
            await drive(lemmy.build("lemmy", options, self.ctx()), None, lambda r: False)
        return e.value

    async def first_run(self, cap: int) -> Run:
        return await drive(await self.build(cap=cap), None, checkpointed)


# ---- Pixelfed: the Mastodon-compatible hashtag timeline, polled ----


class PixelfedAdapter(Adapter):
    type = "pixelfed"

    def __init__(self) -> None:
        super().__init__()
        self.pixelfed = PixelfedInstance()
        by_id = {s["id"]: s["uri"] for s in self.pixelfed.statuses}
        self.edited = post_id("pixelfed", by_id["742001553010000004"])
        self.deleted = post_id("pixelfed", by_id["742001553010000003"])

    async def build(self, token: str = "", cap: int = 20) -> Connector:
        fake = await self.running(self.pixelfed.run)
        options = pixelfed.Options(instance=fake.http, hashtags=("nordlys",), interval=0,
                                   backfill_limit=cap, token_env="WALL_PIXELFED_TOKEN")
        return pixelfed.build("pix", options, self.ctx({"WALL_PIXELFED_TOKEN": token}))

    async def lifecycle(self) -> Run:
        template = self.pixelfed.statuses[-1]
        malformed = dict(template, id="742001553010000005", created_at=None,
                         uri="https://pixelfed.example/p/jonas/malformed")
        poison = dict(template, id="742001553010000006", content="<p>\u200b</p>", media_attachments=[],
                      uri="https://pixelfed.example/p/jonas/poison")
        sentinel = dict(template, id="742001553010000007", uri="https://pixelfed.example/p/jonas/7")
        self.pixelfed.statuses += [malformed, poison, sentinel]
        self.sentinel = post_id("pixelfed", sentinel["uri"])
        run = await drive(await self.build(), None, lambda r: self.sentinel in r.ids() and checkpointed(r))
        self.pixelfed.edit("742001553010000004", "<p>Aurora over Tromsø, edited: shot handheld #nordlys</p>")
        self.pixelfed.delete("742001553010000003")
        return await drive(await self.build(), run.checkpoints[-1], lambda r: len(r.checkpoints) == 2, run)

    async def resume(self) -> tuple[Run, Run]:
        first = await drive(await self.build(), None, checkpointed)
        newer = dict(self.pixelfed.statuses[0], id="742001553010000099", uri="https://pixelfed.example/p/s/99")
        self.pixelfed.statuses.append(newer)
        new = post_id("pixelfed", newer["uri"])
        return first, await drive(await self.build(), first.checkpoints[-1],
                                  lambda r: new in r.ids() and checkpointed(r))

    async def throttle(self) -> Run:
        self.pixelfed.throttle_next = 1
        return await drive(await self.build(), None, checkpointed)

    async def refuse(self) -> SourceError:
        fake = await self.running(lambda: start(web.Application()))  # no such API there: 404
        options = pixelfed.Options(instance=fake.http, hashtags=("nordlys",), token_env="WALL_PIXELFED_TOKEN")
        with pytest.raises(SourceError) as e:
            await drive(pixelfed.build("pix", options, self.ctx({"WALL_PIXELFED_TOKEN": SECRET})), None,
                        lambda r: False)
        return e.value

    async def first_run(self, cap: int) -> Run:
        return await drive(await self.build(cap=cap), None, checkpointed)


ADAPTERS: dict[str, type[Adapter]] = {a.type: a for a in (BlueskyAdapter, MastodonAdapter, RssAdapter,
                                                             RedditAdapter, TwitchAdapter, XAdapter,
                                                             YouTubeAdapter, ThreadsAdapter, LemmyAdapter,
                                                             PixelfedAdapter)}
PULLED = sorted(t for t, spec in REGISTRY.items() if spec.build is not None and t not in NOT_NETWORKS)


def test_every_pulled_connector_in_the_registry_is_under_the_contract():
    assert sorted(ADAPTERS) == PULLED


@pytest.fixture(params=PULLED)
async def adapter(request: pytest.FixtureRequest) -> AsyncIterator[Adapter]:
    async with ADAPTERS[request.param]() as a:
        yield a


async def test_posts_edits_and_deletes_arrive_and_no_message_stalls_the_source(adapter: Adapter):
    run = await adapter.lifecycle()
    assert adapter.sentinel in run.ids()  # came after the malformed and the poison message
    assert run.skipped, "the malformed message was passed over as a Skipped item or a refused post"
    assert all(p.text.strip() and p.source == REGISTRY[adapter.type].network for p in run.posts)
    if adapter.edited is not None:
        versions = [p.text for p in run.posts if p.id == adapter.edited]
        assert len(versions) >= 2 and versions[-1] != versions[0]
    if adapter.deleted is not None:
        assert adapter.deleted in run.deletes
    if adapter.repaired is not None:  # the year-1 post that used to kill the source shows, dated 2000
        (repaired,) = [p for p in run.posts if p.id == adapter.repaired]
        assert repaired.created_at == EARLIEST


async def test_a_restart_from_the_last_checkpoint_repeats_nothing(adapter: Adapter):
    if adapter.no_resume:
        pytest.skip(adapter.no_resume)
    first, second = await adapter.resume()
    assert first.posts and first.checkpoints
    before = {p.id: digest(p) for p in first.posts}
    again = [p for p in second.posts if p.id in before]
    # Jetstream resumes a little before its cursor: what comes again is identical, so the inbox's
    # dedupe writes nothing for it (Pipeline.submit: a duplicate).
    assert all(digest(p) == before[p.id] for p in again)
    assert len(again) <= adapter.overlap
    assert not second.skipped


async def test_a_first_run_takes_only_the_newest_few(adapter: Adapter):
    if adapter.no_cap:
        pytest.skip(adapter.no_cap)
    run = await adapter.first_run(cap=2)
    assert 0 < len(run.posts) <= 2


async def test_a_rate_limit_is_reported_as_throttled_and_the_source_goes_on(adapter: Adapter):
    if adapter.no_throttle:
        pytest.skip(adapter.no_throttle)
    run = await adapter.throttle()
    assert run.throttled and isinstance(run.items[0], Throttled) and run.throttled[0].reason
    assert run.posts  # asked again after the wait


async def test_a_refusal_names_the_host_and_nothing_secret(adapter: Adapter):
    error = await adapter.refuse()
    assert "127.0.0.1" in str(error)
    assert SECRET not in str(error)
