"""Redis can fail: a primary, two replicas and three sentinels, all real processes. While a sender posts
with retries and 100 screens watch on two `wall serve` nodes, the primary is killed with -9; the sentinels
promote a replica; every post that got a 2xx reaches every screen once, in order, no screen goes blank,
and the wall's writer and its source move to the new primary on their own (`wall ingest` is not touched).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
import redis.asyncio as aioredis

from tests.helpers import HEALTH_AUTH, HEALTH_TOKEN, HEALTH_TOKEN_ENV, TOKEN, Screen, eventually
from tests.redis_server import SentinelCluster, free_port

pytestmark = pytest.mark.timeout(400)  # seven servers and three `wall` processes on a busy machine

CONFIG = """
stats_interval = 1.0
[web]
health_token_env = "WALL_HEALTH_TOKEN"
[bus]
engine = "redis"
sentinels = {sentinels}
master_name = "wall"
durability = "replica"
replicas = 1
replica_timeout = 1.0
[store]
url = "sqlite+aiosqlite:///{store_dir}/wall.db"
[walls.lobby]
title = "Lobby"
token_env = "LOBBY_TOKEN"
[[walls.lobby.sources]]
type = "webhook"
[[walls.lobby.sources]]
type = "replay"
name = "replay"
interval = 0.5
"""
ENV = {"LOBBY_TOKEN": TOKEN, HEALTH_TOKEN_ENV: HEALTH_TOKEN}
SCREENS = 100
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[SentinelCluster]:
    redis = SentinelCluster(tmp_path / "redis", replicas=2)
    try:
        redis.start()
        yield redis
    finally:
        redis.stop()


def wall(log: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "wall", *args], env={**os.environ, **ENV}, text=True,
                            stdout=log.open("w"), stderr=subprocess.STDOUT)


async def health(s: aiohttp.ClientSession, base: str) -> dict:
    async with s.get(f"{base}/healthz", headers=HEALTH_AUTH) as r:
        return await r.json()


async def healthy(s: aiohttp.ClientSession, base: str) -> bool:
    try:
        return (await health(s, base))["status"] == "ok"
    except aiohttp.ClientConnectionError:
        return False


class Sender:
    """A webhook sender that retries on 5xx and connection errors until it gets a 2xx, one post at a
    time: the order of the 2xx answers is the order posts must show in."""

    def __init__(self, s: aiohttp.ClientSession, bases: list[str]) -> None:
        self.s, self.bases = s, bases
        self.accepted: list[tuple[str, float]] = []  # (post id, when the 2xx came)
        self.retries = 0

    async def send(self, pid: str) -> None:
        attempt = 0
        while True:
            base = self.bases[attempt % len(self.bases)]
            attempt += 1
            try:
                async with self.s.post(f"{base}/api/v1/walls/lobby/posts", headers=HEADERS,
                                       json={"id": pid, "text": f"post {pid}"}) as r:
                    reply = await r.json()
                    if r.status == 202:
                        assert [a["id"] for a in reply["accepted"]] == [pid]  # the answer names this post
                        self.accepted.append((pid, time.monotonic()))
                        return
                    assert r.status == 503 and r.headers["Retry-After"], (r.status, reply)
            except aiohttp.ClientConnectionError:
                pass
            self.retries += 1
            await asyncio.sleep(0.05)

    async def keep_sending(self, prefix: str, enough: asyncio.Event) -> None:
        i = 0
        while not enough.is_set():
            await self.send(f"{prefix}-{i}")
            i += 1
            await asyncio.sleep(0.02)

    def gap(self, at: float) -> float:
        """The longest time without an accepted post from just before `at` on (an answer in flight at `at`
        comes just after it: the gap is the wait after that one)."""
        times = [t for _, t in self.accepted if t > at - 5.0]
        return max(b - a for a, b in itertools.pairwise(times))


async def not_live(s: aiohttp.ClientSession, base: str) -> bool:
    report = await health(s, base)
    return report["status"] == "degraded" and report["walls"]["lobby"]["live"] is False


def webhook_posts(screen: Screen) -> list[str]:
    return [f["post"]["source_id"] for f in screen.frames
            if f["type"] == "post" and f["post"]["source"] == "webhook"]


async def test_killing_the_redis_primary_loses_no_accepted_post_and_no_screen_notices(
        tmp_path: Path, cluster: SentinelCluster) -> None:
    config = tmp_path / "wall.toml"
    config.write_text(CONFIG.format(sentinels=str(cluster.addresses).replace("'", '"'), store_dir=tmp_path))
    ports = [free_port(), free_port()]
    bases = [f"http://127.0.0.1:{p}" for p in ports]
    nodes = [wall(tmp_path / f"serve{i}.log", "serve", "--config", str(config), "--port", str(p))
             for i, p in enumerate(ports)]
    ingest = wall(tmp_path / "ingest.log", "ingest", "--config", str(config))
    old = cluster.primary()
    assert old is not None
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as s:
            for base in bases:  # up, with a writer on the wall, every feed live, the durability as claimed
                await eventually(lambda base=base: healthy(s, base), timeout=180, every=0.2)
            screens = [await Screen(s, bases[i % 2]).connect() for i in range(SCREENS)]
            sender = Sender(s, bases)
            for i in range(30):
                await sender.send(f"before-{i}")
            await eventually(lambda: all(len(webhook_posts(sc)) == 30 for sc in screens), timeout=120)

            enough = asyncio.Event()
            sending = asyncio.create_task(sender.keep_sending("during", enough))
            await eventually(lambda: len(sender.accepted) >= 50)  # posts are flowing
            killed_at = time.monotonic()
            old.kill()
            # Health tells the truth meanwhile: each node says its feed is down until it is live again.
            for base in bases:
                await eventually(lambda base=base: not_live(s, base))
            new = await eventually(lambda: (now := cluster.primary()) is not old and now, timeout=60)
            # Accepted again after the promotion (the other replica follows the new primary: WAIT 1 holds).
            await eventually(lambda: sender.accepted[-1][1] > killed_at and len(
                [t for _, t in sender.accepted if t > killed_at]) >= 40, timeout=120)
            enough.set()
            await sending
            gap = sender.gap(killed_at)
            print(f"\nfailover: the primary was killed; no post was accepted for {gap:.2f} s "
                  f"({sender.retries} retries, {len(sender.accepted)} posts accepted)")

            accepted = [pid for pid, _ in sender.accepted]
            for sc in screens:
                await eventually(lambda sc=sc: len(set(webhook_posts(sc))) >= len(accepted), timeout=120)
            # Everything that was still on its way has come: the last accepted post is on every screen.
            for i, sc in enumerate(screens):
                # Every post once, in order, as the page shows them: a commit lost with the primary is made
                # again, and its repeated frame updates the card in place (docs/redis.md, known limit).
                assert list(dict.fromkeys(webhook_posts(sc))) == accepted, f"screen {i}"
                assert not sc.closed.is_set(), f"screen {i} lost its socket"
                assert [f["type"] for f in sc.frames].count("snapshot") == 1, f"screen {i} was reset"

            # The writer and the source took their leases on the new primary on their own.
            async with aioredis.Redis.from_url(new.url, socket_connect_timeout=30) as r:  # a busy machine
                assert (await r.info("replication"))["role"] == "master"
                holders = await r.mget("wall:lease:curate:lobby", "wall:lease:source:lobby:replay")
                assert None not in holders, holders
            assert ingest.poll() is None
            for base in bases:
                await eventually(lambda base=base: healthy(s, base), timeout=60, every=0.2)
                sources = (await health(s, base))["walls"]["lobby"]["sources"]
                assert [src["state"] for src in sources] == ["running"]
            for sc in screens:
                await sc.close()
    finally:
        for proc in (*nodes, ingest):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)  # at once: a SIGTERM'd node drains 5 s first
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()

