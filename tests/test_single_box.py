"""A single box without Redis: `wall serve` on the memory engine with a SQLite store, stopped in the
middle of a replayed source (SIGTERM, or SIGKILL as a crash would) and started again with the same files.
Its source goes on from its cursor, nothing admitted is lost, nothing shows twice, its screens resume by
id, and its figures go on."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.helpers import Screen
from tests.redis_server import free_port
from tests.test_processes import logged, wait_up

pytestmark = pytest.mark.timeout(300)  # `wall serve` started twice on a busy machine

POSTS = 100  # 10 s of replay: the replay must still have posts left when the SIGTERM'd node has drained
CONFIG = """
stats_interval = 0.2
[web]
drain_seconds = 1.0
[bus]
engine = "memory"
[store]
url = "sqlite+aiosqlite:///{dir}/wall.db"
[walls.lobby]
title = "Lobby"
max_cards = 100
token_env = "LOBBY_TOKEN"
[[walls.lobby.sources]]
type = "replay"
name = "replay"
dataset = "{dir}/posts.json"
interval = 0.1
loop = false
"""


def totals(screen: Screen) -> list[int]:
    """The all-time totals of the figures a screen was sent, in order (live stats and snapshots)."""
    found = [f["total"] for f in screen.frames if f["type"] == "stats"]
    found += [f["stats"]["total"] for f in screen.frames if f["type"] == "snapshot" and f["stats"]]
    return found


def received(screen: Screen, order: list[str]) -> list[str]:
    """The posts a screen got: those of its snapshot (it shows up to max_cards, all of them here), in the
    replay's order, then the live ones in arrival order."""
    snapped = [p["source_id"] for f in screen.frames if f["type"] == "snapshot" for p in f["posts"]]
    return sorted(snapped, key=order.index) + screen.posts()


async def stop(node: subprocess.Popen[str], how: signal.Signals = signal.SIGTERM) -> int:
    node.send_signal(how)
    return await asyncio.to_thread(node.wait, 60)


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["stopped", "killed"])
async def test_a_box_restarted_mid_stream_neither_repeats_nor_loses_a_post_and_its_figures_go_on(
        tmp_path: Path, how: signal.Signals) -> None:
    (tmp_path / "posts.json").write_text(json.dumps(
        [{"id": f"p{n}", "text": f"Replayed post number {n}"} for n in range(POSTS)]))
    config = tmp_path / "wall.toml"
    config.write_text(CONFIG.format(dir=tmp_path))
    expected = [f"p{n}~0" for n in range(POSTS)]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve = ("serve", "--config", str(config), "--port", str(port))
    node = logged(tmp_path / "serve1.log", *serve)
    try:
        async with aiohttp.ClientSession() as s:
            await wait_up(s, base)
            screen = await Screen(s, base).connect()
            await screen.wait_for(lambda _: len(received(screen, expected)) >= 20, timeout=120)
            await screen.wait_for(lambda f: f["type"] == "stats" and f["total"] >= 15)
            # Mid-stream (the replay has posts left): stopped as systemd does, or killed with no goodbye.
            assert await stop(node, how) == (0 if how == signal.SIGTERM else -signal.SIGKILL)
            await asyncio.wait_for(screen.closed.wait(), 30)
            before = received(screen, expected)
            assert 20 <= len(before) < POSTS and before == expected[:len(before)]
            counted = max(totals(screen))

            node = logged(tmp_path / "serve2.log", *serve)
            await wait_up(s, base)
            # The screen comes back with what it had: the same history, so it resumes by id.
            resumed = await Screen(s, base).connect(screen.welcome["epoch"], screen.last_id)
            assert resumed.welcome["epoch"] == screen.welcome["epoch"]
            await resumed.wait_for(lambda f: f["type"] == "post" and f["post"]["source_id"] == expected[-1],
                                   timeout=120)
            assert not [f for f in resumed.frames if f["type"] == "snapshot"]
            assert before + resumed.posts() == expected  # every post once, in order, across the restart

            # The figures went on from where they were, never back to zero, and counted each post once.
            await resumed.wait_for(lambda f: f["type"] == "stats" and f["total"] == POSTS)
            assert min(totals(resumed)) >= counted
            # A screen new to the wall gets the posts from before the restart too, not an empty wall.
            fresh = await Screen(s, base).connect()
            [snapshot] = [f for f in fresh.frames if f["type"] == "snapshot"]
            shown: list[dict[str, Any]] = snapshot["posts"]
            newest = expected[-len(shown):]  # a snapshot holds the wall's newest posts, up to its limit
            assert len(shown) >= 20 and sorted(p["source_id"] for p in shown) == sorted(newest)
            async with s.get(f"{base}/api/v1/walls/lobby/posts?limit=200") as r:
                listed = [p["source_id"] for p in (await r.json())["posts"]]
            assert listed == expected[::-1]
            for each in (resumed, fresh):
                await each.close()
        assert await stop(node) == 0
    finally:
        if node.poll() is None:
            node.kill()
            node.wait(10)
