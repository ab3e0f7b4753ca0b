"""One writer per wall: a 2xx from the webhook means the post reaches every screen, once, whatever fails."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import aiohttp

from tests.helpers import HEALTH_AUTH, Screen, eventually, make_config, post, running_node
from tests.redis_server import RedisServer, free_port
from tests.tcp_proxy import Proxy
from wall.app import SERVE
from wall.bus.base import Outcome
from wall.bus.memory import MemoryEngine
from wall.bus.redis import RedisEngine


class BusThatFailsOnce(MemoryEngine):
    """The real memory engine, whose first admit fails as a briefly unavailable bus would."""

    failures = 1

    async def admit(self, wall: str, post_id: str, digest: str, body: bytes) -> tuple[Outcome, str | None]:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("the bus is unavailable")
        return await super().admit(wall, post_id, digest, body)


async def send_until_accepted(s: aiohttp.ClientSession, base: str, body: dict, give_up: float = 20.0,
                              refused: list[str] | None = None) -> str:
    """What a well-behaved sender does: retry on anything but a 2xx; return the final outcome."""
    async with asyncio.timeout(give_up):
        while True:
            with contextlib.suppress(aiohttp.ClientError):
                status, reply = await post(s, base, body)
                if status == 202:
                    return str(reply["accepted"][0]["outcome"])
                assert status == 503, reply
                if refused is not None:
                    refused.append(body["id"])
            await asyncio.sleep(0.05)


async def test_a_post_refused_while_the_bus_failed_is_shown_once_when_the_sender_retries():
    async with running_node(make_config(), engine=BusThatFailsOnce()) as base, \
            aiohttp.ClientSession() as s:
        screen = await Screen(s, base).connect()
        status, reply = await post(s, base, {"id": "r1", "text": "first try fails"})
        assert status == 503 and reply["accepted"] == []
        assert await send_until_accepted(s, base, {"id": "r1", "text": "first try fails"}) == "new"
        assert await screen.wait_posts(1) == ["r1"]
        assert await send_until_accepted(s, base, {"id": "last", "text": "sent after it"}) == "new"
        assert await screen.wait_posts(2) == ["r1", "last"]
        assert [f["type"] for f in screen.frames if f["type"] in ("post", "update")] == ["post", "post"]


async def test_a_post_refused_while_redis_was_down_is_shown_once_when_the_sender_retries(tmp_path: Path):
    redis = RedisServer(free_port(), tmp_path / "redis")
    redis.start()
    try:
        async with running_node(make_config("redis", redis.url)) as base, aiohttp.ClientSession() as s:
            screen = await Screen(s, base).connect()
            redis.stop()
            status, _ = await post(s, base, {"id": "r1", "text": "while Redis is down"})
            assert status == 503
            redis.start()
            assert await send_until_accepted(s, base, {"id": "r1", "text": "while Redis is down"}) == "new"
            assert await screen.wait_posts(1, timeout=60) == ["r1"]
            assert await send_until_accepted(s, base, {"id": "last", "text": "sent after it"}) == "new"
            assert await screen.wait_posts(2) == ["r1", "last"]  # r1 once
    finally:
        redis.stop()


async def test_every_accepted_post_reaches_every_screen_once_while_a_node_loses_redis(
    redis_url: str, redis_server: RedisServer
):
    proxy = await Proxy(redis_server.port).start()
    flaky = make_config("redis", f"redis://127.0.0.1:{proxy.port}/0")
    steady = make_config("redis", redis_url)
    try:
        async with running_node(flaky, roles=SERVE) as a, running_node(steady) as b, \
                aiohttp.ClientSession() as s:
            screens = [await Screen(s, base).connect() for base in (a, b) for _ in range(5)]

            progress: list[str] = []  # every post accepted so far
            refused: list[str] = []

            async def trouble() -> None:  # each step once the senders got that far, however fast they go
                await eventually(lambda: len(progress) >= 10, timeout=60)
                proxy.delay = 0.2
                await eventually(lambda: len(progress) >= 20, timeout=60)
                proxy.cut = True
                proxy.cut_links()
                await eventually(lambda: len(refused) >= 4, timeout=60)
                proxy.cut, proxy.delay = False, 0.0

            async def sender(n: int) -> list[str]:
                accepted = []
                for i in range(25):
                    pid = f"s{n}-{i}"
                    await send_until_accepted(s, a, {"id": pid, "text": f"post {pid}"}, give_up=60,
                                              refused=refused)
                    accepted.append(pid)
                    progress.append(pid)
                    await asyncio.sleep(0.05)
                return accepted

            results = await asyncio.gather(trouble(), *(sender(n) for n in range(4)))
            accepted = sorted(pid for sent in results[1:] for pid in sent)
            assert len(accepted) == 100
            assert refused, "the cut should have made the node refuse some posts"
            for screen in screens:
                await screen.wait_posts(100, timeout=60)
            # A last post after them all: once a screen has it, nothing of the 100 is still on its way.
            assert await send_until_accepted(s, b, {"id": "last", "text": "the last post"}) == "new"
            for screen in screens:
                await screen.wait_for(lambda f: f["type"] == "post" and f["post"]["source_id"] == "last")
            first = screens[0].posts()
            assert first[-1] == "last" and sorted(first[:-1]) == accepted  # every accepted post, none twice
            for screen in screens:
                assert screen.posts() == first  # the same order on every screen of both nodes
    finally:
        await proxy.stop()


async def test_stats_are_announced_not_streamed_and_survive_a_writer_moving(redis_url: str):
    cfg = make_config("redis", redis_url)
    async with aiohttp.ClientSession() as s:
        async with running_node(cfg) as base:
            screen = await Screen(s, base).connect()
            for i in range(6):
                await post(s, base, {"id": f"t{i}", "text": f"#nordlys post {i}" + (" #x3" if i % 2 else "")})
            stats = await screen.wait_for(lambda f: f["type"] == "stats" and f["total"] == 6)
            assert "id" not in stats[-1]
            assert stats[-1]["trending"] == [["nordlys", 6], ["x3", 3]]
        # The writer's process is gone; another one takes the wall over once its lease lapses.
        async with running_node(cfg) as base:
            screen = await Screen(s, base).connect()
            snapshot = await screen.wait_for(lambda f: f["type"] == "snapshot")
            assert snapshot[0]["stats"]["total"] == 6
            await post(s, base, {"id": "t6", "text": "after the move #nordlys"})
            stats = await screen.wait_for(lambda f: f["type"] == "stats" and f["total"] == 7, timeout=60)
            assert stats[-1]["trending"][0] == ["nordlys", 7]
    engine = RedisEngine(redis_url)
    try:
        history = await engine.latest("lobby", 100)
        assert history and all(b'"type":"stats"' not in m.body for m in history)
    finally:
        await engine.close()


async def test_a_node_without_a_curation_writer_says_so_in_healthz(redis_url: str):
    async with running_node(make_config("redis", redis_url), roles=SERVE) as base, \
            aiohttp.ClientSession() as s:
        async with s.get(f"{base}/healthz", headers=HEALTH_AUTH) as r:
            health = await r.json()
        assert health["status"] == "degraded"
        assert health["walls"]["lobby"]["writer"]["holder"] is None
        assert any("no curation writer" in p and "wall ingest" in p for p in health["problems"])
        await post(s, base, {"id": "w1", "text": "waits in the inbox"})
        async with s.get(f"{base}/healthz", headers=HEALTH_AUTH) as r:
            assert (await r.json())["walls"]["lobby"]["writer"]["backlog"] == 1
