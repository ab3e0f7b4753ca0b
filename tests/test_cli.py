"""A newcomer runs `wall demo`, opens the wall, and posts to it with the curl the demo printed."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.helpers import TOKEN
from tests.redis_server import free_port

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    # Its own data directory: the demo's store lives there, and one shared with other checkouts (other
    # schema versions) is not this test's business.
    proc = subprocess.Popen(
        [sys.executable, "-m", "wall", "demo", "--port", str(port), "--interval", "0.2"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "XDG_DATA_HOME": str(tmp_path)},
    )
    yield f"http://127.0.0.1:{port}", proc
    proc.send_signal(signal.SIGINT)  # at once: a SIGTERM'd node drains 5 s first
    proc.wait(30)


async def read_until(proc: subprocess.Popen[str], pattern: str, timeout: float = 60) -> str:
    """The process output up to the first line matching pattern."""
    seen: list[str] = []
    async with asyncio.timeout(timeout):
        while True:
            line = await asyncio.to_thread(proc.stdout.readline)  # type: ignore[union-attr]
            assert line, "the demo exited:\n" + "".join(seen)
            seen.append(line)
            if re.search(pattern, line):
                return "".join(seen)


async def test_demo_serves_a_live_wall_and_the_printed_curl_posts_to_it(demo):
    base, proc = demo
    printed = await read_until(proc, r"-d '")
    assert f"Live wall:  {base}/w/demo" in printed
    token = re.search(r"Webhook token for this run: (\S+)", printed).group(1)
    assert len(token) >= 20

    async with aiohttp.ClientSession() as s:
        async with asyncio.timeout(60):
            while True:
                try:
                    async with s.get(f"{base}/w/demo") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
        # The bundled stream plays on its own.
        async with asyncio.timeout(60):
            while not (await (await s.get(f"{base}/api/v1/walls/demo/posts")).json())["posts"]:
                await asyncio.sleep(0.1)
        curl = printed[printed.index("curl") :].replace("\\\n", " ")
        result = await asyncio.to_thread(subprocess.run, shlex.split(curl), capture_output=True, text=True)
        assert '"outcome":"new"' in result.stdout, result.stdout + result.stderr
        async with asyncio.timeout(60):  # the wall's writer shows it a moment later
            while True:
                async with s.get(f"{base}/api/v1/walls/demo/posts?limit=50") as r:
                    texts = [p["text"] for p in (await r.json())["posts"]]
                if "Hello from curl! #nordlys" in texts:
                    break
                await asyncio.sleep(0.1)
        async with s.get(f"{base}/healthz") as r:  # anyone may ask; only counts come back
            health = await r.json()
        assert health["status"] == "ok" and health["engine"] == "memory"
        assert health["counts"]["sources"] == {"running": 1} and "walls" not in health


def test_the_demo_refuses_a_weak_token_it_was_given():
    result = subprocess.run([sys.executable, "-m", "wall", "demo", "--token", "T"], capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 2
    assert "--token: the webhook token is too easy to guess" in result.stderr
    assert "openssl rand -hex 24" in result.stderr


def test_the_example_config_is_valid():
    result = subprocess.run([sys.executable, "-m", "wall", "check-config", str(ROOT / "wall.example.toml")],
                            capture_output=True, text=True, env={"WALL_LOBBY_TOKEN": TOKEN}, timeout=120)
    assert result.returncode == 0, result.stderr
