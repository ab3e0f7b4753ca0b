"""Rolling restarts behind the shipped Caddyfile: real Caddy (TLS from its local CA), real `wall serve`
processes on one Redis, a real `wall curate`. A node told SIGTERM drains (its /healthz fails while it
serves on, so Caddy stops routing to it), tells its screens to move, finishes what it was answering and
exits; the screens come back through Caddy and resume by id. A sender posting all along loses nothing,
sees no 502, and every answer names the post it sent."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import socket
import struct
import subprocess
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Browser

from ingest.supervisor import LEASE_TTL as SOURCE_TTL
from tests.caddy_server import CADDYFILE
from tests.helpers import TOKEN, WAIT, Screen, eventually, make_config, post, running_node, serving, settled
from tests.rolling import CONFIG, START, Node, RovingScreen, Sender, roll, wall, wall_behind_caddy
from wall.app import ALL, create_app, load_config
from wall.bus import open_engine
from wall.bus.base import writer_lease
from wall.curate.writer import LEASE_TTL
from wall.web.drain import drain

pytestmark = pytest.mark.timeout(420)  # processes starting and stopping in turn on a busy machine

WATCH_PAGE = """() => {
    const seen = window.__seen = {states: [document.body.dataset.state], statuses: []};
    const dot = document.querySelector('.band-status');
    new MutationObserver(() => seen.states.push(document.body.dataset.state))
        .observe(document.body, {attributes: true, attributeFilter: ['data-state']});
    new MutationObserver(() => seen.statuses.push(dot.dataset.status))
        .observe(dot, {attributes: true, attributeFilter: ['data-status']});
}"""


@pytest.mark.parametrize("count, restarted", [(2, [0]), (3, [0, 1, 2])], ids=["two-nodes", "three-in-turn"])
async def test_screens_behind_caddy_get_every_post_once_while_nodes_restart(
    tmp_path: Path, redis_url: str, browser: Browser, count: int, restarted: list[int]
):
    async with wall_behind_caddy(tmp_path, redis_url, count) as (caddy, nodes, session):
        screens = [RovingScreen(session, f"{caddy.url}/w/lobby/ws") for _ in range(3 * count)]
        for screen in screens:
            screen.start()
        for screen in screens:
            await asyncio.wait_for(screen.live.wait(), WAIT)
        context = await browser.new_context(ignore_https_errors=True)  # Caddy's local CA is not Chromium's
        page = await context.new_page()
        await page.goto(f"{caddy.url}/w/lobby")
        await page.wait_for_selector("body[data-state=live]", timeout=30_000)
        await page.evaluate(WATCH_PAGE)

        sender = Sender(session, caddy.url)
        sending = asyncio.create_task(sender.run())
        # Posts flowing to every screen before the first restart (the writer may still be starting).
        await eventually(lambda: len(sender.accepted) >= 20 and all(s.posts for s in screens), timeout=START)
        await roll(nodes, restarted)
        after = len(sender.accepted)
        await eventually(lambda: len(sender.accepted) >= after + 20)  # and flowing after the last one
        sender.stopping = True
        await sending
        await sender.send("last")  # once a screen has it, nothing sent before it is still on its way
        for screen in screens:
            await eventually(lambda s=screen: "last" in s.posts)  # type: ignore[misc]
        last_id = screens[0].last_id
        await page.wait_for_function(f"() => window.__wall.socket.lastId === {json.dumps(last_id)}",
                                     timeout=WAIT * 1000)
        seen = await page.evaluate("() => window.__seen")
        for screen in screens:
            await screen.stop()
        await context.close()

    # No 502, no connection error; a 503 (every node slow to answer its health check on a loaded
    # machine, or the bus) would be retried like the sender is told to, and is no loss.
    assert sender.statuses.get(502, 0) == 0 and set(sender.statuses) <= {202, 503}, sender.statuses
    assert sender.misnamed == []  # every answer named the post that was sent
    for screen in screens:
        assert screen.posts == sender.accepted  # every accepted post once, in order
        assert screen.troubles == [] and screen.snapshots == 1, screen.troubles  # moves, each resumed by id
    assert sum(s.moves for s in screens) >= 1  # the restarted node's screens moved
    if len(restarted) == count:  # every node restarted: every screen moved, the page too
        assert all(s.moves >= 1 for s in screens)
        assert "moving" in seen["states"], seen
    assert "reconnecting" not in seen["states"], seen
    assert "offline" not in seen["statuses"] and "reconnecting" not in seen["statuses"], seen
    logs = "".join(node.logs() for node in nodes)
    assert "Traceback" not in logs and "failed (ref" not in logs
    assert not re.search(r'HTTP/1\.1" 50[02] ', logs)
    assert logs.count("drained:") == len(restarted)


async def test_sigterm_on_the_curation_writer_hands_its_lease_to_the_standby_at_once(
    tmp_path: Path, redis_url: str
):
    config = tmp_path / "wall.toml"
    config.write_text(CONFIG.format(redis_url=redis_url, store_dir=tmp_path, drain=5.0))
    engine = open_engine(load_config(config, {"LOBBY_TOKEN": TOKEN}).bus)
    lease = writer_lease("lobby")
    node = Node(config, tmp_path, "node")
    node.start()
    logs = [tmp_path / f"curate{i}.log" for i in range(2)]
    writers = [wall(log, "curate", "--config", str(config)) for log in logs]
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    try:
        async with aiohttp.ClientSession() as s:
            base = f"http://{node.upstream}"
            screen = await eventually(lambda: _connected(s, base), timeout=START, every=0.2)
            holder = await eventually(lambda: engine.holder(lease), timeout=START)
            (leader,) = await eventually(lambda: [w for w, log in zip(writers, logs, strict=True)
                                                  if f"writer {holder} holds" in log.read_text()])
            (standby,) = [w for w in writers if w is not leader]

            accepted = []
            for i in range(40):
                if i == 15:
                    leader.send_signal(signal.SIGTERM)
                    stopped_at = time.monotonic()
                async with s.post(f"{base}/api/v1/walls/lobby/posts", headers=headers,
                                  json={"id": f"t{i}", "text": f"post {i}"}) as r:
                    assert r.status == 202
                accepted.append(f"t{i}")
                await asyncio.sleep(0.02)  # pacing: some arrive while the lease moves
            assert await asyncio.to_thread(leader.wait, 60) == 0
            # The moment it is gone its lease is not its own any more: handed over, not left to lapse.
            assert await engine.holder(lease) != holder
            taken = await eventually(lambda: _other(engine.holder(lease), holder), timeout=START)
            took = time.monotonic() - stopped_at
            assert taken and standby.poll() is None, (
                f"the standby took the wall {took:.1f} s after SIGTERM (lease TTL {LEASE_TTL:g} s)")
            await screen.wait_posts(len(accepted))
            await settled(engine, screen)
            assert screen.posts() == accepted  # the entry in hand finished, the rest by the standby, once
        leader_log = logs[writers.index(leader)].read_text()
        assert "handed its lease over" in leader_log and "Traceback" not in leader_log
    finally:
        await engine.close()
        node.kill()
        for proc in writers:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(30)


async def _connected(session: aiohttp.ClientSession, base: str) -> Screen | None:
    try:
        return await Screen(session, base).connect()
    except aiohttp.ClientError:
        return None


async def _other(holder: Any, old: str | None) -> str | None:
    now = await holder
    return now if now not in (None, old) else None


async def test_a_sender_cut_off_mid_body_is_answered_400_and_logs_no_failure(caplog):
    caplog.set_level(logging.INFO)
    async with running_node(make_config()) as base:
        port = int(base.rsplit(":", 1)[1])
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"POST /api/v1/walls/lobby/posts HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                     f"Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\n"
                     "Content-Length: 5000\r\n\r\n"
                     '{"id": "cut", "text": "a body that never ends'.encode())
        await writer.drain()
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.close()  # linger 0: a reset in the middle of the body, as a proxy or a sender dying does
        await eventually(lambda: any("POST /api/v1/walls/lobby/posts" in r.getMessage()
                                     for r in caplog.records if r.name == "aiohttp.access"))
    access = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert any('posts HTTP/1.1" 400 ' in line for line in access), access
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_the_shipped_caddyfile_validates_for_a_public_site_and_n_nodes(tmp_path: Path):
    env = {**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "WALL_SITE": "wall.example.com",
           "WALL_UPSTREAMS": "127.0.0.1:8081 127.0.0.1:8082 127.0.0.1:8083"}
    command = ["caddy", "validate", "--config", str(CADDYFILE), "--adapter", "caddyfile"]
    result = await asyncio.to_thread(subprocess.run, command, env=env, capture_output=True, text=True,
                                      timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    adapted = await asyncio.to_thread(subprocess.run, ["caddy", "adapt", "--config", str(CADDYFILE)],
                                      env=env, capture_output=True, text=True, timeout=60)
    proxy = json.dumps(json.loads(adapted.stdout))
    # Three upstreams from the one variable; no request buffering (see the file's comment on retries).
    assert proxy.count('"dial": "127.0.0.1:808') == 3
    assert "buffer_requests" not in proxy and "request_buffers" not in proxy and "retry_match" not in proxy


async def test_sigterm_on_an_ingest_worker_hands_its_source_to_the_standby_at_once(
    tmp_path: Path, redis_url: str
):
    config = tmp_path / "wall.toml"
    config.write_text(CONFIG.format(redis_url=redis_url, store_dir=tmp_path, drain=5.0)
                      + '[[walls.lobby.sources]]\ntype = "replay"\nname = "replay"\ninterval = 0.05\n')
    cfg = load_config(config, {"LOBBY_TOKEN": TOKEN})
    engine = open_engine(cfg.bus)
    (replay,) = [src for src in cfg.sources.values() if src.type == "replay"]
    lease = f"source:{replay.key}"
    node = Node(config, tmp_path, "node")
    node.start()
    logs = [tmp_path / f"ingest{i}.log" for i in range(2)]
    workers = [wall(log, "ingest", "--config", str(config)) for log in logs]
    try:
        async with aiohttp.ClientSession() as s:
            base = f"http://{node.upstream}"
            screen = await eventually(lambda: _connected(s, base), timeout=START, every=0.2)
            await screen.wait_posts(5, timeout=START)
            owner = await eventually(lambda: engine.holder(lease), timeout=START)
            (running,) = await eventually(lambda: [w for w, log in zip(workers, logs, strict=True)
                                                   if f"{owner} runs it" in log.read_text()])
            (standby,) = [w for w in workers if w is not running]
            running.send_signal(signal.SIGTERM)
            stopped_at = time.monotonic()
            assert await asyncio.to_thread(running.wait, 60) == 0
            # Gone, and its source is not its own any more: handed over, not left to lapse.
            assert await engine.holder(lease) != owner
            taken = await eventually(lambda: _other(engine.holder(lease), owner), timeout=START)
            took = time.monotonic() - stopped_at
            assert taken and standby.poll() is None, (
                f"the standby took the source {took:.1f} s after SIGTERM (lease TTL {SOURCE_TTL:g} s)")
            seen = len(screen.posts())
            await screen.wait_posts(seen + 10)  # the standby goes on from the stored cursor
        numbers = [int(sid.split("-")[1].split("~")[0]) for sid in screen.posts()]
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))  # none lost, none twice
        assert "handed its lease over" in logs[workers.index(running)].read_text()
    finally:
        await engine.close()
        node.kill()
        for proc in workers:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(30)


async def test_a_draining_node_fails_its_health_check_serves_on_then_tells_its_screens_to_move():
    app = create_app(make_config(drain_seconds=1.0), ALL)
    async with serving(app) as base, aiohttp.ClientSession() as s:
        ws = await s.ws_connect(f"{base}/w/lobby/ws")
        await ws.send_json({"type": "hello"})
        assert (await ws.receive_json())["type"] == "welcome"
        draining = asyncio.create_task(drain(app))
        async with s.get(f"{base}/healthz") as r:
            assert r.status == 503 and (await r.json())["status"] == "draining"
            assert r.headers["Connection"] == "close"  # no kept-alive connection brings it more work
        status, _ = await post(s, base, {"id": "during", "text": "sent while the node drains"})
        assert status == 202  # it serves on meanwhile
        frames = []
        while (msg := await ws.receive()).type == aiohttp.WSMsgType.TEXT:
            frames.append(json.loads(msg.data))
        assert (msg.type, msg.data, msg.extra) == (aiohttp.WSMsgType.CLOSE, 4000, "moving")
        assert "during" in [f["post"]["source_id"] for f in frames if f["type"] == "post"]  # until the close
        await draining
