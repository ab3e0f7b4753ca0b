"""Real servers and real screens for the tests: an aiohttp node on a real socket, WebSocket clients."""

from __future__ import annotations

import asyncio
import inspect
import json
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from aiohttp import web

from wall.app import ALL, Role, create_app, parse_config
from wall.bus.base import Inbox
from wall.config import Config
from wall.models import InboxReload, encode
from wall.web.runner import Runner

TOKEN = "test-7c2e9f4a1d8b3065e9c1a7f42d6b8e03"  # strong: config loading refuses weak tokens
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"  # screenshots the tests save
HMAC_SECRET = "hmac-4e8a1c7f3b9d2065a1e7c9f34b8d2a61"
HEALTH_TOKEN = "test-health-token-0123456789"
HEALTH_TOKEN_ENV = "WALL_HEALTH_TOKEN"
HEALTH_AUTH = {"Authorization": f"Bearer {HEALTH_TOKEN}"}  # /healthz's full report, /metrics' private walls
WAIT = 30.0  # seconds: bounds only a failure, so generous enough for a busy two-core machine


async def eventually(condition: Callable[[], Any], timeout: float = WAIT, every: float = 0.02) -> Any:
    """Poll `condition` (a function, plain or async) until it returns something true; return that."""
    async with asyncio.timeout(timeout):
        while True:
            value = condition()
            if inspect.isawaitable(value):
                value = await value
            if value:
                return value
            await asyncio.sleep(every)


def make_config(engine: str = "memory", redis_url: str | None = None, walls: tuple[str, ...] = ("lobby",),
                store_url: str | None = None, moderation: dict[str, Any] | None = None,
                private: tuple[str, ...] = (), kiosks: dict[str, Any] | None = None,
                bus: dict[str, Any] | None = None, enrich: dict[str, Any] | None = None,
                **web: Any) -> Config:
    """A config as a user would write it: each wall takes webhooks, with a token and an HMAC secret.
    Without `store_url` the store is a fresh SQLite file of its own (pass one to share it)."""
    data: dict[str, Any] = {
        "bus": {"engine": engine, **({"redis_url": redis_url} if redis_url else {}), **(bus or {})},
        "store": {"url": store_url or temp_store_url()},
        "kiosks": kiosks or {},
        # The tests speak plain HTTP to 127.0.0.1, and read /healthz as a monitor does.
        "web": {"secure_cookies": False, "health_token_env": HEALTH_TOKEN_ENV, **web},
        "stats_interval": 0.5,
        "walls": {
            name: {"title": name.title(), "token_env": "T", "hmac_secret_env": "H",
                   "sources": [{"type": "webhook"}], **({"moderation": moderation} if moderation else {}),
                   **({"private": True} if name in private else {}), **({"enrich": enrich} if enrich else {})}
            for name in walls
        },
    }
    return parse_config(data, env={"T": TOKEN, "H": HMAC_SECRET, HEALTH_TOKEN_ENV: HEALTH_TOKEN})


_STORES = tempfile.TemporaryDirectory(prefix="wall-stores-")  # removed when the test process exits


def temp_store_url() -> str:
    """A SQLite store in a new temporary directory (of this test process's own)."""
    return f"sqlite+aiosqlite:///{tempfile.mkdtemp(dir=_STORES.name)}/wall.db"


@asynccontextmanager
async def serving(app: web.Application, port: int = 0, **runner: Any) -> AsyncIterator[str]:
    """Run an app on 127.0.0.1 (a free port unless given), with the connection limits a served node has;
    yield its URL."""
    app_runner = Runner(app, shutdown_timeout=1.0, **runner)
    await app_runner.setup()
    site = web.TCPSite(app_runner, "127.0.0.1", port, reuse_address=True)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await app_runner.cleanup()


@asynccontextmanager
async def running_node(cfg: Config, port: int = 0, roles: frozenset[Role] = ALL,
                       **kwargs: Any) -> AsyncIterator[str]:
    """Run a node with every role unless told; yield its URL."""
    async with serving(create_app(cfg, roles, **kwargs), port) as url:
        yield url


async def post(session: aiohttp.ClientSession, base: str, body: Any, wall: str = "lobby",
               headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    """POST to a wall's webhook with the test token; return (status, JSON reply)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    hdrs = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json", **(headers or {})}
    async with session.post(f"{base}/api/v1/walls/{wall}/posts", data=data, headers=hdrs) as r:
        return r.status, await r.json()


class Screen:
    """A kiosk page's side of the protocol: hello, then keep every frame it receives."""

    def __init__(self, session: aiohttp.ClientSession, base: str, wall: str = "lobby") -> None:
        self.session, self.url = session, f"{base}/w/{wall}/ws"
        self.frames: list[dict[str, Any]] = []
        self.closed = asyncio.Event()
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self._task: asyncio.Task[None] | None = None

    async def connect(self, epoch: str | None = None, last_id: str | None = None) -> Screen:
        self.closed.clear()
        self.ws = await self.session.ws_connect(self.url)
        await self.ws.send_json({"type": "hello", "epoch": epoch, "last_id": last_id})
        self._task = asyncio.create_task(self._read(self.ws))
        await self.wait_for(lambda f: f["type"] == "welcome")
        return self

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                self.frames.append(json.loads(msg.data))
        self.closed.set()

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._task is not None:
            await self._task

    @property
    def welcome(self) -> dict[str, Any]:
        return [f for f in self.frames if f["type"] == "welcome"][-1]

    @property
    def last_id(self) -> str | None:
        ids = [f["id"] for f in self.frames if f.get("id")]
        return ids[-1] if ids else None

    def posts(self) -> list[str]:
        """Source ids of the posts received as live/missed events, in arrival order."""
        return [f["post"]["source_id"] for f in self.frames if f["type"] == "post"]

    async def wait_for(self, pred: Callable[[dict[str, Any]], bool], count: int = 1,
                       timeout: float = WAIT) -> list[dict[str, Any]]:
        async with asyncio.timeout(timeout):
            while True:
                found = [f for f in self.frames if pred(f)]
                if len(found) >= count:
                    return found
                await asyncio.sleep(0.01)

    async def wait_posts(self, count: int, timeout: float = WAIT) -> list[str]:
        await self.wait_for(lambda f: f["type"] == "post", count, timeout)
        return self.posts()


async def shown_posts(session: aiohttp.ClientSession, base: str, count: int, wall: str = "lobby",
                      limit: int = 20, timeout: float = WAIT) -> list[dict[str, Any]]:
    """The wall's posts API once it shows at least `count` posts (the writer shows them a moment
    after the webhook accepted them)."""
    async with asyncio.timeout(timeout):
        while True:
            async with session.get(f"{base}/api/v1/walls/{wall}/posts?limit={limit}") as r:
                posts: list[dict[str, Any]] = (await r.json())["posts"]
            if len(posts) >= count:
                return posts
            await asyncio.sleep(0.02)


async def settled(engine: Inbox, screen: Screen, wall: str = "lobby") -> None:
    """Everything the wall's writer took in before now has reached `screen`: a sentinel (a reload entry)
    enqueued now comes out of the writer after all of it, and screens get events in bus order."""
    version = f"sentinel-{uuid.uuid4().hex}"
    await engine.enqueue(wall, encode(InboxReload(version)))
    await screen.wait_for(lambda f: f["type"] == "reload" and f["version"] == version)


async def subscribers(redis_url: str, channel: str) -> int:
    """How many subscriptions to a pub/sub channel Redis has acknowledged (PUBSUB NUMSUB)."""
    async with aioredis.Redis.from_url(redis_url) as r:
        return int((await r.pubsub_numsub(channel))[0][1])


async def subscribed(redis_url: str, channel: str, more_than: int = 0) -> None:
    """Until Redis acknowledged more than `more_than` subscriptions to `channel`: a subscriber it counts
    gets every message published from then on."""
    async def more() -> bool:
        return await subscribers(redis_url, channel) > more_than
    await eventually(more)
