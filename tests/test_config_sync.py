"""One config for the whole wall: a reload on any process restyles every screen of the wall on every node,
and a node whose own file says otherwise says so in /healthz. Real `wall` processes on a real Redis."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis

from tests.helpers import HEALTH_AUTH, Screen, eventually, make_config, running_node
from tests.redis_server import free_port
from tests.test_processes import ENV, logged, wait_up
from wall import look
from wall.screen import screen
from wall.web import looks

pytestmark = pytest.mark.timeout(300)

CONFIG = """
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
[walls.lobby.theme]
{theme}
"""


class Box:
    """One machine's config file, as its operator edits it."""

    def __init__(self, path: Path, redis_url: str) -> None:
        self.path, self.redis_url = path, redis_url

    def write(self, theme: str) -> None:
        self.path.write_text(CONFIG.format(redis_url=self.redis_url, store_dir=self.path.parent, theme=theme))


def themed(mode: str, accent: str | None = None) -> Callable[[dict[str, Any]], bool]:
    def match(frame: dict[str, Any]) -> bool:
        theme = frame.get("theme", {})
        return frame["type"] == "config" and theme.get("mode") == mode and (
            accent is None or theme.get("colors", {}).get("accent") == accent)
    return match


async def health(s: aiohttp.ClientSession, base: str, trusted: bool = True) -> dict[str, Any]:
    async with s.get(f"{base}/healthz", headers=HEALTH_AUTH if trusted else {}) as r:
        assert r.status == 200
        found: dict[str, Any] = await r.json()
        return found


async def reload_config(path: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "wall", "reload-config", "--config", str(path)]
    return await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=60,
                                   env={**os.environ, **ENV})


def differs(report: dict[str, Any]) -> list[str]:
    return [p for p in report["problems"] if "says another look" in p]


async def test_a_reload_on_any_process_restyles_every_screen_of_the_wall_on_every_node(
    tmp_path: Path, redis_url: str
):
    boxes = [Box(tmp_path / name / "wall.toml", redis_url) for name in ("a", "b", "w")]
    for box in boxes:
        box.path.parent.mkdir()
        box.write('mode = "dark"')
    a, b, w = boxes
    ports = [free_port(), free_port()]
    nodes = [f"http://127.0.0.1:{port}" for port in ports]
    procs = [logged(box.path.parent / "serve.log", "serve", "--config", str(box.path), "--port", str(port))
             for box, port in zip((a, b), ports, strict=True)]
    writer = logged(w.path.parent / "curate.log", "curate", "--config", str(w.path))
    try:
        async with aiohttp.ClientSession() as s:
            for base in nodes:
                await wait_up(s, base)
            screens = [await Screen(s, base).connect() for base in nodes]
            # Each node has read the wall's look (the first node up published its file's).
            for base in nodes:
                await eventually(lambda base=base: _shown(s, base))

            # The operator edits box A's file and reloads that one node: both nodes' screens turn light.
            a.write('mode = "light"')
            procs[0].send_signal(signal.SIGHUP)
            for screen in screens:
                await screen.wait_for(themed("light"))
            # Node B still has the dark file: it shows the published look and says its file differs.
            report_b = await health(s, nodes[1])
            (problem,) = differs(report_b)
            assert f"(pid {procs[1].pid})" in problem and "wall reload-config" in problem
            assert f"(pid {procs[0].pid})" in problem  # who published the look it shows
            assert report_b["status"] == "degraded"
            assert report_b["walls"]["lobby"]["config"]["agrees"] is False
            report_a = await health(s, nodes[0])
            assert differs(report_a) == [] and report_a["walls"]["lobby"]["config"]["agrees"] is True
            # Strangers learn that something is wrong, not what nor where.
            public = await health(s, nodes[1], trusted=False)
            assert public["status"] == "degraded" and public["counts"]["problems"] >= 1
            assert "problems" not in public and socket.gethostname() not in str(public)

            # SIGHUP to `wall curate` (no web part at all) publishes its file's look just the same.
            w.write('mode = "light"\naccent = "#005a8c"')
            writer.send_signal(signal.SIGHUP)
            for screen in screens:
                await screen.wait_for(themed("light", "#005a8c"))

            # `wall reload-config` with box B's new file: every screen, and B's file is the look again.
            b.write('mode = "light"\naccent = "#7a1f5c"')
            result = await reload_config(b.path)
            assert result.returncode == 0, result.stderr
            assert "wall lobby: published the look" in result.stdout
            for screen in screens:
                await screen.wait_for(themed("light", "#7a1f5c"))
            await eventually(lambda: _agrees(s, nodes[1]))
            await eventually(lambda: _differs(s, nodes[0]))

            # A typo in box A's file: the reload changes nothing, and says what and how to fix it.
            a.write('mode = "light"\naccnet = "#000000"')
            procs[0].send_signal(signal.SIGHUP)
            problems = await eventually(lambda: _reload_problems(s, nodes[0]))
            assert "walls.lobby.theme.accnet" in problems[0] and "did you mean 'accent'" in problems[0]
            log_a = (a.path.parent / "serve.log").read_text()
            assert "not reloaded" in log_a and "walls.lobby.theme.accnet" in log_a
            # The next look anyone publishes is the next one the screens get: nothing came in between.
            seen = [len([f for f in screen.frames if f["type"] == "config"]) for screen in screens]
            b.write('mode = "light"\naccent = "#8a3b00"')
            assert (await reload_config(b.path)).returncode == 0
            for screen, before in zip(screens, seen, strict=True):
                (frame,) = await screen.wait_for(themed("light", "#8a3b00"))
                configs = [f for f in screen.frames if f["type"] == "config"]
                assert configs[before:] == [frame]

            # A node started later with an older file shows the wall's look, and says its file differs.
            old = Box(tmp_path / "c" / "wall.toml", redis_url)
            old.path.parent.mkdir()
            old.write('mode = "dark"')
            port = free_port()
            procs.append(logged(old.path.parent / "serve.log", "serve", "--config", str(old.path),
                                "--port", str(port)))
            await wait_up(s, f"http://127.0.0.1:{port}")
            late = await Screen(s, f"http://127.0.0.1:{port}").connect()
            assert themed("light", "#8a3b00")({"type": "config", **late.welcome["config"]})
            assert differs(await health(s, f"http://127.0.0.1:{port}"))
    finally:
        for proc in (*procs, writer):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)  # at once: a SIGTERM'd node drains 5 s first
                proc.wait(10)


async def _shown(s: aiohttp.ClientSession, base: str) -> bool:
    return (await health(s, base))["walls"]["lobby"]["config"]["shown"] is not None


async def _agrees(s: aiohttp.ClientSession, base: str) -> bool:
    return differs(await health(s, base)) == []


async def _differs(s: aiohttp.ClientSession, base: str) -> bool:
    return differs(await health(s, base)) != []


async def _reload_problems(s: aiohttp.ClientSession, base: str) -> list[str]:
    return [p for p in (await health(s, base))["problems"] if "config reload failed" in p]


async def test_a_node_takes_a_look_it_missed_and_publishes_its_own_when_the_bus_has_none(
        redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(looks, "RECHECK", 1.0)  # the recheck is the story, not its 15 s interval
    cfg = make_config("redis", redis_url)
    dark = cfg.walls["lobby"].screen
    problems: list[str] = []
    light = screen({"theme": {"mode": "light"}}, "walls.lobby", problems)
    assert problems == []
    key = "wall:lobby:announced:config"
    async with running_node(cfg, roles=frozenset({"web"})) as base, aiohttp.ClientSession() as s, \
            aioredis.Redis.from_url(redis_url) as r:
        # Nobody had published the wall's look: the node published its file's.
        first = look.read(await eventually(lambda: r.get(key)))
        assert first is not None and first.digest == look.digest(dark)
        screen_ = await Screen(s, base).connect()

        # A look whose live announcement this node missed (kept, never sent): its next recheck finds it.
        await r.set(key, look.publish("lobby", light, "another node"))
        await screen_.wait_for(themed("light"))

        # Redis lost every key: the node publishes its own look again, and its screens follow it.
        await r.flushall()
        again = look.read(await eventually(lambda: r.get(key)))
        assert again is not None and again.digest == look.digest(dark)
        await screen_.wait_for(themed("dark"))


def test_a_looks_digest_names_its_settings_not_the_files_bytes():
    def lobby(theme: dict[str, Any], **top: Any) -> Any:
        return make_config(**top).walls["lobby"].screen if not theme else screen(
            {"theme": theme}, "walls.lobby", [])

    plain = lobby({})
    # Other sections (the bus, the web part) and the file's layout change nothing; the look's settings do.
    assert look.digest(lobby({}, port=9999)) == look.digest(plain)
    assert look.digest(lobby({"mode": "dark"})) == look.digest(plain)  # the default, written out
    assert look.digest(lobby({"mode": "light"})) != look.digest(plain)
    # A published look whose settings do not match its digest is not taken.
    body = look.publish("lobby", plain, "a node")
    assert look.read(body) is not None
    assert look.read(body.replace(b'"mode":"dark"', b'"mode":"light"')) is None
    assert look.read(b'{"type":"screen_config","wall":"lobby"}') is None


def test_reload_config_on_the_memory_engine_says_to_send_the_process_sighup(tmp_path: Path):
    path = tmp_path / "wall.toml"
    path.write_text('[walls.lobby]\ntitle = "Lobby"\n')
    result = subprocess.run([sys.executable, "-m", "wall", "reload-config", "--config", str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "send that process SIGHUP" in result.stderr


async def test_on_one_box_without_redis_a_sighup_restyles_the_screens(tmp_path: Path):
    path = tmp_path / "wall.toml"
    one_box = CONFIG.replace('engine = "redis"\nredis_url = "{redis_url}"', 'engine = "memory"')

    def write(theme: str) -> None:
        path.write_text(one_box.format(store_dir=tmp_path, theme=theme))

    write('mode = "dark"')
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    node = logged(tmp_path / "serve.log", "serve", "--config", str(path), "--port", str(port))
    try:
        async with aiohttp.ClientSession() as s:
            await wait_up(s, base)
            screen_ = await Screen(s, base).connect()
            write('mode = "light"\naccent = "#7a1f5c"')
            node.send_signal(signal.SIGHUP)
            await screen_.wait_for(themed("light", "#7a1f5c"))
            config = (await health(s, base))["walls"]["lobby"]["config"]
            assert config["agrees"] and config["file"] == config["shown"]
            assert f"(pid {node.pid})" in config["published_by"]  # its own reload published it
    finally:
        node.terminate()
        node.wait(10)
