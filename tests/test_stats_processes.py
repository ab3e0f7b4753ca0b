"""The live figures with the Redis engine: the same whichever `wall curate` process holds the wall's lease,
through a lease move and a restart, and a post retracted after the move comes off what the first writer
counted."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ingest.pipeline import Pipeline
from tests.helpers import HEALTH_AUTH, TOKEN, Screen, eventually
from tests.redis_server import free_port
from tests.test_processes import logged, wait_up
from wall.bus.redis import RedisEngine

# Each test starts `wall` processes, slow to start on a busy machine: the bound on a hang is wider.
pytestmark = pytest.mark.timeout(300)

CONFIG = """
stats_interval = 0.3
[web]
health_token_env = "WALL_HEALTH_TOKEN"
[bus]
engine = "redis"
redis_url = "{redis_url}"
[store]
url = "sqlite+aiosqlite:///{store_dir}/wall.db"
[walls.lobby]
title = "Lobby"
token_env = "LOBBY_TOKEN"
[walls.lobby.enrich]
terms = {{ brand = ["Nordlys"], competitors = {{ Kestrel = ["Kestrel"] }} }}
languages = ["en", "de"]
[[walls.lobby.sources]]
type = "webhook"
"""

TEXTS = ["I love my Nordlys, the camera is great #nordlys", "Kestrel is awful, I hate it #fail",
         "Nordlys or Kestrel? Nordlys of course", "The queue outside is long today",
         "Die Kamera vom Nordlys ist großartig #nordlys", "Best launch of the year #nordlys #x3"]
# What does not move with the clock: the same posts must give the same values in any process.
STEADY = ("total", "hour_total", "trending", "sentiment", "top_hashtags", "share_of_voice", "top_authors",
          "top_sources")


def steady(stats: dict[str, Any]) -> dict[str, Any]:
    return {key: stats[key] for key in STEADY} | {"volume": sum(stats["volume"])}


async def holder(s: aiohttp.ClientSession, base: str, other_than: str | None = None) -> str:
    async with asyncio.timeout(60):
        while True:
            async with s.get(f"{base}/healthz", headers=HEALTH_AUTH) as r:
                found = (await r.json())["walls"]["lobby"]["writer"]["holder"]
            if found is not None and found != other_than:
                return str(found)
            await asyncio.sleep(0.1)


async def test_the_figures_are_the_same_after_the_lease_moves_and_the_writer_restarts(
    tmp_path: Path, redis_url: str
) -> None:
    config = tmp_path / "wall.toml"
    config.write_text(CONFIG.format(redis_url=redis_url, store_dir=tmp_path))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    node = logged(tmp_path / "serve.log", "serve", "--config", str(config), "--port", str(port))
    writers = {i: logged(tmp_path / f"curate{i}.log", "curate", "--config", str(config)) for i in range(2)}
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    engine = RedisEngine(redis_url)

    def leader_of(name: str) -> int:
        (i,) = [i for i in writers if f"writer {name} holds" in (tmp_path / f"curate{i}.log").read_text()]
        return i

    async def stats_since(mark: int, pred: Any = lambda f: True) -> dict[str, Any]:
        """The newest stats frame the screen got after its first `mark` frames for which `pred` holds.
        A writer announces figures only when they change (or once when it takes the lease), so the mark
        is taken before what makes it announce: a frame that came quickly is not missed."""
        found = await eventually(
            lambda: [f for f in screen.frames[mark:] if f["type"] == "stats" and pred(f)], timeout=60)
        return dict(found[-1])

    try:
        async with aiohttp.ClientSession() as s:
            await wait_up(s, base)
            screen = await Screen(s, base).connect()
            for i, text in enumerate(TEXTS):
                async with s.post(f"{base}/api/v1/walls/lobby/posts", headers=headers,
                                  json={"id": f"f{i}", "text": text, "author": {"handle": f"u{i % 2}"}}) as r:
                    assert r.status == 202
            await screen.wait_posts(len(TEXTS), timeout=60)
            ids = {f["post"]["source_id"]: f["post"]["id"] for f in screen.frames if f["type"] == "post"}
            before = steady(await stats_since(0, lambda f: f["total"] == len(TEXTS)))
            assert before["share_of_voice"] == {"brand": {"count": 4, "share": 0.6667},
                                                "competitors": {"Kestrel": {"count": 2, "share": 0.3333}},
                                                "mentions": 6}
            assert before["trending"] == [["nordlys", 3], ["fail", 1], ["x3", 1]]

            # The leader dies without a goodbye; the standby takes the wall once the lease lapses. (Asked
            # only now: on a busy machine the lease may already have moved while the first posts came in.)
            first = await holder(s, base)
            killed = leader_of(first)
            writers[killed].send_signal(signal.SIGKILL)
            writers[killed].wait(30)
            mark = len(screen.frames)  # from here on only the standby can announce
            second = await holder(s, base, other_than=first)
            assert steady(await stats_since(mark)) == before

            # A post the first writer counted is deleted at its source: the second takes exactly it back.
            mark = len(screen.frames)
            await Pipeline(engine).retract("lobby", ids["f1"])
            after = steady(await stats_since(mark, lambda f: f["total"] == len(TEXTS) - 1))
            assert after["share_of_voice"] == {"brand": {"count": 4, "share": 0.8},
                                               "competitors": {"Kestrel": {"count": 1, "share": 0.2}},
                                               "mentions": 5}
            assert after["trending"] == [["nordlys", 3], ["x3", 1]]

            # The killed writer comes back as the standby; the second one stops; the first takes over.
            writers[killed] = logged(tmp_path / f"curate{killed}.log", "curate", "--config", str(config))
            await eventually(lambda: "running curate for walls lobby" in
                             (tmp_path / f"curate{killed}.log").read_text(), timeout=60)
            stopping = writers[leader_of(second)]
            stopping.send_signal(signal.SIGINT)
            await asyncio.to_thread(stopping.wait, 30)
            mark = len(screen.frames)  # from here on only the restarted writer can announce
            await holder(s, base, other_than=second)
            assert steady(await stats_since(mark)) == after
    finally:
        await engine.close()
        for proc in (node, *writers.values()):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)  # at once: a SIGTERM'd node drains 5 s first
                proc.wait(30)
