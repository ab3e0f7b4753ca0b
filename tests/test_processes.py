"""Production shape: `wall serve` twice and `wall ingest` as separate processes sharing one Redis."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.helpers import HEALTH_AUTH, HEALTH_TOKEN, HEALTH_TOKEN_ENV, TOKEN, Screen, eventually
from tests.redis_server import free_port

# Each test starts `wall` processes, slow to start on a busy machine: the bound on a hang is wider.
pytestmark = pytest.mark.timeout(300)

CONFIG = """
stats_interval = 0.5
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
[[walls.lobby.sources]]
type = "webhook"
[[walls.lobby.sources]]
type = "replay"
name = "replay"
interval = 0.05
"""

ENV = {"LOBBY_TOKEN": TOKEN, HEALTH_TOKEN_ENV: HEALTH_TOKEN}


@pytest.fixture
def config(tmp_path: Path, redis_url: str) -> Path:
    path = tmp_path / "wall.toml"
    path.write_text(CONFIG.format(redis_url=redis_url, store_dir=tmp_path))
    return path


def wall(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, **ENV}
    return subprocess.Popen([sys.executable, "-m", "wall", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


@pytest.fixture
def nodes(config: Path) -> Iterator[list[str]]:
    ports = [free_port(), free_port()]
    procs = [wall("serve", "--config", str(config), "--port", str(port)) for port in ports]
    yield [f"http://127.0.0.1:{port}" for port in ports]
    for proc in procs:
        proc.send_signal(signal.SIGINT)  # at once: a SIGTERM'd node drains 5 s first
        proc.wait(30)


async def wait_up(s: aiohttp.ClientSession, base: str) -> None:
    async with asyncio.timeout(120):  # a process starting on a busy machine
        while True:
            try:
                async with s.get(f"{base}/healthz") as r:
                    if (await r.json())["bus"]["connected"]:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)


def stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    return out


async def test_ingest_workers_feed_every_node_and_a_restarted_worker_resumes_its_cursor(config, nodes):
    async with aiohttp.ClientSession() as s:
        for base in nodes:
            await wait_up(s, base)
        screens = [await Screen(s, base).connect() for base in nodes]

        worker = wall("ingest", "--config", str(config))
        try:
            await screens[0].wait_posts(10, timeout=120)  # a worker process starting
        finally:
            log = stop(worker)
        assert "running curate + sources for walls lobby on the redis bus" in log and "ingest stopped" in log

        worker = wall("ingest", "--config", str(config))
        try:
            await screens[0].wait_posts(len(screens[0].posts()) + 10, timeout=120)
        finally:
            stop(worker)
        # Nothing publishes any more: both nodes showed the same posts, up to the same last event.
        await eventually(lambda: screens[0].last_id == screens[1].last_id)
        first, second = (screen.posts() for screen in screens)
        assert first == second
        # The restarted worker went on from where the first stopped.
        numbers = [int(sid.split("-")[1].split("~")[0]) for sid in first]
        assert numbers == list(range(1, len(numbers) + 1))


async def test_wall_reload_makes_every_screen_reload(config, nodes):
    writer = wall("curate", "--config", str(config))  # the wall's writer publishes the reload
    try:
        async with aiohttp.ClientSession() as s:
            for base in nodes:
                await wait_up(s, base)
            screens = [await Screen(s, base).connect() for base in nodes]
            command = [sys.executable, "-m", "wall", "reload", "--config", str(config), "--wall", "lobby"]
            result = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True,
                                             timeout=60, env={**os.environ, **ENV})
            assert result.returncode == 0, result.stderr
            assert "reload sent to wall lobby" in result.stdout
            for screen in screens:
                await screen.wait_for(lambda f: f["type"] == "reload", timeout=60)
    finally:
        stop(writer)


WEBHOOK_ONLY = CONFIG.split("[[walls.lobby.sources]]\ntype = \"replay\"")[0]  # no pulled source


def logged(path: Path, *args: str) -> subprocess.Popen[str]:
    """A `wall` process whose output goes to a file we can read while it runs."""
    env = {**os.environ, **ENV}
    out = path.open("w")
    return subprocess.Popen([sys.executable, "-m", "wall", *args], env=env, text=True,
                            stdout=out, stderr=subprocess.STDOUT)


async def test_killing_the_curation_writer_hands_the_wall_to_another_process_with_no_loss(
    tmp_path: Path, redis_url: str
):
    config = tmp_path / "wall.toml"
    config.write_text(WEBHOOK_ONLY.format(redis_url=redis_url, store_dir=tmp_path))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    node = logged(tmp_path / "serve.log", "serve", "--config", str(config), "--port", str(port))
    writers = [logged(tmp_path / f"curate{i}.log", "curate", "--config", str(config)) for i in range(2)]
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    try:
        async with aiohttp.ClientSession() as s:
            await wait_up(s, base)
            screens = [await Screen(s, base).connect() for _ in range(3)]
            holder = None
            async with asyncio.timeout(60):
                while holder is None:
                    async with s.get(f"{base}/healthz", headers=HEALTH_AUTH) as r:
                        holder = (await r.json())["walls"]["lobby"]["writer"]["holder"]
                    await asyncio.sleep(0.1)
            (leader,) = [w for i, w in enumerate(writers)
                         if f"writer {holder} holds" in (tmp_path / f"curate{i}.log").read_text()]

            accepted = []
            for i in range(60):
                if i == 20:
                    leader.send_signal(signal.SIGKILL)  # no goodbye: its lease has to lapse
                async with s.post(f"{base}/api/v1/walls/lobby/posts", headers=headers,
                                  json={"id": f"k{i}", "text": f"post {i}"}) as r:
                    assert r.status == 202
                accepted.append(f"k{i}")
                await asyncio.sleep(0.05)  # spread over time: some arrive while no writer holds the wall
            # A last post after them all: once a screen has it, nothing of the 60 is still on its way.
            async with s.post(f"{base}/api/v1/walls/lobby/posts", headers=headers,
                              json={"id": "last", "text": "the last post"}) as r:
                assert r.status == 202
            for screen in screens:
                await screen.wait_for(lambda f: f["type"] == "post" and f["post"]["source_id"] == "last",
                                      timeout=60)
            for screen in screens:
                assert screen.posts() == [*accepted, "last"]  # every post once, in the order it was accepted
            async with s.get(f"{base}/healthz", headers=HEALTH_AUTH) as r:
                assert (await r.json())["walls"]["lobby"]["writer"]["holder"] not in (None, holder)
    finally:
        for proc in (node, *writers):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)  # at once: a SIGTERM'd node drains 5 s first
                proc.wait(30)


async def test_killing_the_worker_that_runs_a_source_hands_it_to_another_with_no_loss(
    tmp_path: Path, config: Path, nodes: list[str]
):
    workers = [logged(tmp_path / f"ingest{i}.log", "ingest", "--config", str(config)) for i in range(2)]
    try:
        async with aiohttp.ClientSession() as s:
            await wait_up(s, nodes[0])
            screen = await Screen(s, nodes[0]).connect()
            await screen.wait_posts(5, timeout=120)
            async with s.get(f"{nodes[0]}/healthz", headers=HEALTH_AUTH) as r:
                (source,) = (await r.json())["walls"]["lobby"]["sources"]
            owner = source["worker"]
            (running,) = [w for i, w in enumerate(workers)
                          if f"{owner} runs it" in (tmp_path / f"ingest{i}.log").read_text()]
            running.send_signal(signal.SIGKILL)
            seen = len(screen.posts())
            await screen.wait_posts(seen + 20, timeout=60)  # the other worker goes on
            async with s.get(f"{nodes[0]}/healthz", headers=HEALTH_AUTH) as r:
                (source,) = (await r.json())["walls"]["lobby"]["sources"]
            assert source["worker"] != owner and source["state"] == "running"
        numbers = [int(sid.split("-")[1].split("~")[0]) for sid in screen.posts()]
        # From the first post the screen saw live: no post lost, none twice.
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
    finally:
        for proc in workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)  # at once: a SIGTERM'd node drains 5 s first
                proc.wait(30)
