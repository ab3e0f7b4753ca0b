"""Rolling restarts behind real Caddy, for tests/test_rolling.py and bench/rolling.py: `wall serve` nodes
that restart in turn, screens that behave like the page (they move on close code 4000 and resume by id),
and a sender that retries until each post is accepted and checks the answer names it."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from tests.caddy_server import CaddyServer
from tests.helpers import TOKEN, eventually
from tests.redis_server import free_port

CONFIG = """
stats_interval = 0.5
[web]
trusted_proxies = ["127.0.0.1"]
drain_seconds = {drain}
[bus]
engine = "redis"
redis_url = "{redis_url}"
[store]
url = "sqlite+aiosqlite:///{store_dir}/wall.db"
[walls.lobby]
title = "Lobby"
token_env = "LOBBY_TOKEN"
[[walls.lobby.sources]]
type = "webhook"
"""
MOVING = 4000  # the close code of a node going away (docs/protocol.md)
START = 120.0  # seconds a `wall` process may take to start on a busy machine


def wall(log: Path, *args: str) -> subprocess.Popen[str]:
    """A `wall` process whose output goes to a file we can read while it runs."""
    with log.open("w") as out:
        return subprocess.Popen([sys.executable, "-m", "wall", *args], text=True, stdout=out,
                                stderr=subprocess.STDOUT, env={**os.environ, "LOBBY_TOKEN": TOKEN})


class Node:
    """One `wall serve` process on a fixed port; each start logs to a file of its own."""

    def __init__(self, config: Path, dir: Path, name: str) -> None:
        self.config, self.dir, self.name = config, dir, name
        self.port = free_port()
        self.starts = 0
        self.proc: subprocess.Popen[str] | None = None

    @property
    def upstream(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.dir / f"{self.name}-{self.starts}.log"

    def start(self) -> None:
        self.starts += 1
        self.proc = wall(self.log, "serve", "--config", str(self.config), "--port", str(self.port))

    async def in_rotation(self) -> None:
        """Until Caddy's active health check got a 200 from this start of the node: Caddy routes to it."""
        def checked() -> bool:
            return any('"GET /healthz HTTP/1.1" 200' in line and "Go-http-client" in line
                       for line in self.log.read_text().splitlines())
        await eventually(checked, timeout=START, every=0.1)

    async def terminate(self) -> int:
        """SIGTERM, as systemd stops a unit; the exit code once the process is gone."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return await asyncio.to_thread(self.proc.wait, 60)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def logs(self) -> str:
        return "".join((self.dir / f"{self.name}-{i}.log").read_text() for i in range(1, self.starts + 1))


class RovingScreen:
    """A screen as the page behaves: hello with the epoch and id it last saw; closed with "moving", it
    reconnects through the proxy after a short jitter. Anything else it counts: a refused reconnect, a
    close without "moving", a snapshot after the first (a resume that was not one) - what a page would
    show as an offline spell or a jump."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session, self.url = session, url
        self.epoch: str | None = None
        self.last_id: str | None = None
        self.posts: list[str] = []
        self.moves = 0
        self.snapshots = 0
        self.troubles: list[str] = []
        self.live = asyncio.Event()
        self.stopping = False
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while not self.stopping:
            try:
                self.ws = await self.session.ws_connect(self.url)
            except aiohttp.ClientError as e:
                self.troubles.append(f"reconnect refused: {e}")
                await asyncio.sleep(0.5)
                continue
            await self.ws.send_json({"type": "hello", "epoch": self.epoch, "last_id": self.last_id})
            while True:
                msg = await self.ws.receive()
                if msg.type != aiohttp.WSMsgType.TEXT:
                    break
                self._frame(json.loads(msg.data))
            if self.stopping:
                return
            # The code the server's close frame carried, as a browser's close event reports it (the
            # client library's own close_code turns 1006 when the reply to it cannot be written).
            code = msg.data if msg.type == aiohttp.WSMsgType.CLOSE else self.ws.close_code
            if code != MOVING:
                self.troubles.append(f"closed with {code}, not 'moving', at {time.time():.3f} "
                                     f"(last id {self.last_id})")
            else:
                self.moves += 1
            await asyncio.sleep(random.uniform(0, 1.0))  # the page's jitter

    def _frame(self, frame: dict[str, Any]) -> None:
        match frame["type"]:
            case "welcome":
                self.epoch = frame["epoch"]
                self.live.set()
            case "snapshot":
                self.snapshots += 1
                if self.snapshots > 1:
                    self.troubles.append(f"a snapshot instead of a resume after {self.last_id} at "
                                         f"{time.time():.3f}, {self.moves} move(s) in")
                self.last_id = frame["id"]
            case "post":
                self.posts.append(frame["post"]["source_id"])
        if frame.get("id") and frame["type"] != "snapshot":
            self.last_id = frame["id"]

    async def stop(self) -> None:
        self.stopping = True
        if self.ws is not None:
            await self.ws.close()
        if self.task is not None:
            await self.task


class Sender:
    """Posts one post at a time through the proxy, each retried until it is accepted, as docs/api.md asks
    of senders; counts every answer by status, and every answer that named another post."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session, self.url = session, f"{base}/api/v1/walls/lobby/posts"
        self.accepted: list[str] = []
        self.statuses: dict[int, int] = {}
        self.misnamed: list[tuple[str, Any]] = []
        self.stopping = False

    async def send(self, post_id: str) -> None:
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        while True:
            try:
                async with self.session.post(self.url, headers=headers,
                                             json={"id": post_id, "text": f"post {post_id}"}) as r:
                    status, answer = r.status, await r.json(content_type=None)
            except aiohttp.ClientError:
                status, answer = 0, None
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status == 202:
                named = [a["id"] for a in answer["accepted"]]
                if named != [post_id]:
                    self.misnamed.append((post_id, answer))
                self.accepted.append(post_id)
                return
            await asyncio.sleep(0.2)

    async def run(self) -> None:
        n = 0
        while not self.stopping:
            await self.send(f"r{n}")
            n += 1
            await asyncio.sleep(0.02)  # pacing: a steady stream, not a flood


@asynccontextmanager
async def wall_behind_caddy(tmp_path: Path, redis_url: str, count: int, drain: float = 5.0) -> AsyncIterator[
        tuple[CaddyServer, list[Node], aiohttp.ClientSession]]:
    """`count` web nodes behind Caddy (deploy/Caddyfile), one `wall curate`, on the given Redis; yields
    Caddy, the nodes, and an HTTP session that trusts Caddy's certificate."""
    config = tmp_path / "wall.toml"
    config.write_text(CONFIG.format(redis_url=redis_url, store_dir=tmp_path, drain=drain))
    nodes = [Node(config, tmp_path, f"node{i}") for i in range(count)]
    caddy = CaddyServer(tmp_path / "caddy", [n.upstream for n in nodes])
    writer = wall(tmp_path / "curate.log", "curate", "--config", str(config))
    try:
        for node in nodes:
            node.start()
        await asyncio.to_thread(caddy.start)
        for node in nodes:
            await node.in_rotation()
        connector = aiohttp.TCPConnector(ssl=caddy.ssl_context())
        async with aiohttp.ClientSession(connector=connector) as session:
            yield caddy, nodes, session
    finally:
        caddy.stop()
        for node in nodes:
            node.kill()
        writer.terminate()
        writer.wait(30)


async def roll(nodes: list[Node], which: list[int]) -> None:
    """Restart these nodes one after the other: SIGTERM, wait for the exit, start again, back in rotation."""
    for i in which:
        assert await nodes[i].terminate() == 0
        nodes[i].start()
        await nodes[i].in_rotation()
