"""A 2xx from the webhook means the post is durable, as `[bus] durability` says; /healthz tells the truth
about Redis: the primary's settings, and whether the node's feed is live."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.helpers import (
    HEALTH_AUTH,
    Screen,
    eventually,
    make_config,
    post,
    running_node,
    subscribers,
)
from tests.redis_server import RedisServer, free_port
from wall.app import SERVE

INBOX = b"wall:lobby:inbox"


@pytest.fixture
async def primary(tmp_path: Path) -> AsyncIterator[RedisServer]:
    server = RedisServer(free_port(), tmp_path / "primary")
    server.start()
    yield server
    server.stop()


async def health(s: aiohttp.ClientSession, base: str) -> dict:
    async with s.get(f"{base}/healthz", headers=HEALTH_AUTH) as r:
        return await r.json()


def xlen(server: RedisServer) -> int:
    reply = server.command(b"XLEN", INBOX) or b":-1"
    return int(reply[1:].strip())


async def test_a_post_no_replica_acknowledged_gets_503_and_its_retry_is_accepted_once_one_has_it(
        tmp_path: Path, primary: RedisServer) -> None:
    cfg = make_config("redis", primary.url, bus={"durability": "replica", "replicas": 1,
                                                 "replica_timeout": 1.0})
    async with aiohttp.ClientSession() as s, running_node(cfg, roles=SERVE) as base:
        # No replica: the post is written to the primary but nobody else has it, so it is not accepted.
        status, reply = await post(s, base, {"id": "p1", "text": "the first post"})
        assert status == 503 and reply["accepted"] == []
        async with s.post(f"{base}/api/v1/walls/lobby/posts", json={"id": "p1", "text": "the first post"},
                          headers={"Authorization": f"Bearer {cfg.walls['lobby'].token}"}) as r:
            assert (r.status, r.headers["Retry-After"]) == (503, "1")
        problems = await eventually(lambda: _problems(s, base, "replica(s) online"))
        assert "the primary has 0 replica(s) online" in problems

        replica = RedisServer(free_port(), tmp_path / "replica", replica_of=primary.port)
        replica.start()
        try:
            # The sender retries: the post was admitted by the first try, so it is a duplicate now, and the
            # 2xx comes only once the replica has it.
            status, reply = await eventually(lambda: _accepted(s, base, "p1"))
            assert reply["accepted"][0]["outcome"] == "duplicate"
            assert xlen(replica) == 1
            # A busy machine may let the replica's acknowledgement come late: the sender retries then.
            status, reply = await eventually(lambda: _accepted(s, base, "p2"))
            assert reply["accepted"][0]["outcome"] in ("new", "duplicate")
            assert xlen(replica) == 2  # acknowledged means the replica has it, at the moment of the 2xx
        finally:
            replica.stop()


async def test_a_retry_through_another_node_is_not_accepted_before_the_replica_has_the_post(
        tmp_path: Path, primary: RedisServer) -> None:
    """WAIT waits for the replication offset of its own connection's commands, and a duplicate writes
    nothing: a retry on a fresh connection (another node) must still wait for the first try's write."""
    replica = RedisServer(free_port(), tmp_path / "replica", replica_of=primary.port)
    replica.start()
    cfg = make_config("redis", primary.url, bus={"durability": "replica", "replicas": 1,
                                                 "replica_timeout": 2.0})
    async with aiohttp.ClientSession() as s, running_node(cfg, roles=SERVE) as a, \
            running_node(cfg, roles=SERVE) as b:
        await eventually(lambda: _accepted(s, a, "warm"))  # the replica is in sync
        assert replica.proc is not None
        os.kill(replica.proc.pid, signal.SIGSTOP)  # connected, but it acknowledges nothing
        try:
            status, _ = await post(s, a, {"id": "p1", "text": "the first post"})
            assert status == 503  # written on the primary, not acknowledged
            status, reply = await post(s, b, {"id": "p1", "text": "the first post"})
            assert status == 503, reply  # a duplicate, but the replica does not have it yet
        finally:
            os.kill(replica.proc.pid, signal.SIGCONT)
        status, reply = await eventually(lambda: _accepted(s, b, "p1"))
        assert reply["accepted"][0]["outcome"] == "duplicate"
        assert xlen(replica) == 2
    replica.stop()


async def _problems(s: aiohttp.ClientSession, base: str, needle: str) -> str:
    problems = "\n".join((await health(s, base))["problems"])
    return problems if needle in problems else ""


async def _accepted(s: aiohttp.ClientSession, base: str, pid: str) -> tuple[int, dict] | None:
    status, reply = await post(s, base, {"id": pid, "text": "the first post"})
    return (status, reply) if status == 202 else None


async def test_a_primary_without_fsync_on_every_write_is_said_in_the_log_and_in_healthz(
        primary: RedisServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    assert primary.command(b"CONFIG", b"SET", b"appendfsync", b"everysec") == b"+OK\r\n"
    cfg = make_config("redis", primary.url)  # durability "fsync", the default
    async with aiohttp.ClientSession() as s, running_node(cfg) as base:
        problems = await eventually(lambda: _problems(s, base, "appendfsync"))
        assert ('bus.durability is "fsync" but the primary has appendonly yes, appendfsync everysec: an '
                'accepted post can be lost if Redis crashes; set `appendonly yes` and `appendfsync always`'
                in problems)
        assert "appendfsync everysec" in caplog.text
        status, _ = await post(s, base, {"id": "p1", "text": "still taken"})  # said, not refused
        assert status == 202


async def test_healthz_is_ok_only_once_the_feed_is_live_and_the_feed_returns_as_soon_as_redis_does(
        primary: RedisServer) -> None:
    cfg = make_config("redis", primary.url)
    async with aiohttp.ClientSession() as s, running_node(cfg) as base:
        await eventually(lambda: _ok(s, base))
        screen = await Screen(s, base).connect()
        primary.stop()
        down = await eventually(lambda: _problems(s, base, "feed from the bus is not live"))
        assert "lobby: this node's feed from the bus is not live" in down
        assert (await health(s, base))["walls"]["lobby"]["live"] is False
        # Long enough for an exponential backoff to reach seconds: the outage of the issue was 3 s.
        await asyncio.sleep(4.0)
        primary.start()
        back = time.monotonic()
        await eventually(lambda: _live(s, base), every=0.01)
        took = time.monotonic() - back
        # The node says its feed is live only once Redis has its subscription.
        assert await subscribers(primary.url, "wall:lobby:live") == 1
        print(f"\nthe feed was live again {took:.2f} s after Redis answered")
        assert took < 5.0, "the feed slept out a backoff instead of probing Redis"  # it used to take ~10 s
        await eventually(lambda: _ok(s, base))  # and the writer is back too
        status, _ = await post(s, base, {"id": "after", "text": "after the outage"})
        assert status == 202
        assert "after" in await screen.wait_posts(1)


async def _ok(s: aiohttp.ClientSession, base: str) -> bool:
    return (await health(s, base))["status"] == "ok"


async def _live(s: aiohttp.ClientSession, base: str) -> bool:
    return bool((await health(s, base))["walls"]["lobby"]["live"])
