"""What a browser gets from a web node: strict headers, cacheable static files, a guarded socket."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal

import aiohttp
import pytest

from tests.helpers import (
    HEALTH_AUTH,
    HEALTH_TOKEN,
    HEALTH_TOKEN_ENV,
    WAIT,
    Screen,
    eventually,
    make_config,
    running_node,
)
from wall.app import load_config


@pytest.fixture
async def node():
    async with running_node(make_config(walls=("lobby", "stage"))) as base, aiohttp.ClientSession() as s:
        yield base, s


async def test_the_wall_page_has_a_strict_csp_and_no_inline_script(node):
    base, s = node
    async with s.get(f"{base}/w/lobby") as r:
        assert r.status == 200
        csp = r.headers["Content-Security-Policy"]
        html = await r.text()
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "default-src 'self'" in csp and "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts and all("src=" in tag for tag in scripts)
    assert " style=" not in html and " onload=" not in html
    assert 'data-ws-path="/w/lobby/ws"' in html


async def test_static_files_are_content_addressed_and_cached_forever(node):
    base, s = node
    async with s.get(f"{base}/w/lobby") as r:
        src = re.search(r'src="(/static/[0-9a-f]+/js/main\.js)"', await r.text()).group(1)
    async with s.get(base + src) as r:
        assert r.status == 200
        assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert r.content_type == "text/javascript"
    # A page from before an upgrade asks for old files: it is sent to the current ones.
    async with s.get(f"{base}/static/000000000000/js/main.js", allow_redirects=False) as r:
        assert r.status == 302 and r.headers["Location"] == src
    async with s.get(base + src.replace("main.js", "nope.js")) as r:
        assert r.status == 404


async def test_the_index_lists_the_walls_and_unknown_walls_are_404(node):
    base, s = node
    async with s.get(base + "/") as r:
        html = await r.text()
    assert 'href="/w/lobby"' in html and 'href="/w/stage"' in html
    for path in ("/w/nope", "/w/nope/ws", "/demo/media/..%2Fposts.json", "/demo/media/missing.svg"):
        async with s.get(base + path) as r:
            assert r.status == 404, path


async def test_another_site_cannot_open_the_wall_socket(node):
    base, s = node
    with pytest.raises(aiohttp.WSServerHandshakeError) as e:
        await s.ws_connect(f"{base}/w/lobby/ws", origin="https://evil.example")
    assert e.value.status == 403
    ws = await s.ws_connect(f"{base}/w/lobby/ws", origin=base)  # the wall's own page may
    await ws.close()


async def test_a_socket_that_does_not_say_hello_is_told_why_and_closed(node):
    base, s = node
    async with s.ws_connect(f"{base}/w/lobby/ws") as ws:
        await ws.send_str("good morning")
        msg = await ws.receive(timeout=30)
        assert msg.type == aiohttp.WSMsgType.CLOSE
        assert msg.data == aiohttp.WSCloseCode.POLICY_VIOLATION
        assert "hello" in msg.extra


async def test_screens_get_a_tick_as_proof_of_life(monkeypatch):
    monkeypatch.setattr("wall.web.app.TICK_INTERVAL", 0.05)
    async with running_node(make_config()) as base, aiohttp.ClientSession() as s:
        screen = await Screen(s, base).connect()
        ticks = await screen.wait_for(lambda f: f["type"] == "tick", count=2, timeout=30)
        assert ticks[1]["server_time"] >= ticks[0]["server_time"] > 0
        assert "id" not in ticks[0]  # not an event: it moves no resume position


async def test_the_ticker_may_be_framed_only_by_its_allow_list():
    from tests.wall_stream import screen_config, wall_node

    async with wall_node(screen_config()) as (base, _), aiohttp.ClientSession() as s:
        async with s.get(f"{base}/w/lobby/ticker") as r:
            assert r.status == 200
            assert "frame-ancestors https://studio.example;" in r.headers["Content-Security-Policy"] + ";"
            assert "X-Frame-Options" not in r.headers
            assert "script-src 'self';" in r.headers["Content-Security-Policy"]
            assert 'data-pinned-scene="ticker"' in await r.text()
        async with s.get(f"{base}/w/lobby") as r:  # every other page stays unframable
            assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
            assert r.headers["X-Frame-Options"] == "DENY"


async def test_the_qr_code_and_the_offline_shell_come_from_the_wall_itself():
    from tests.wall_stream import screen_config, wall_node

    async with wall_node(screen_config()) as (base, _), aiohttp.ClientSession() as s:
        async with s.get(f"{base}/w/lobby/qr.svg") as r:
            assert r.status == 200 and r.content_type == "image/svg+xml"
            assert (await r.text()).lstrip().startswith("<svg")
        async with s.get(f"{base}/w/lobby/sw.js?v=1") as r:
            assert r.status == 200 and r.content_type == "text/javascript"
            assert r.headers["Service-Worker-Allowed"] == "/w/lobby"
            assert r.headers["Cache-Control"] == "no-cache"
    async with running_node(make_config()) as base, aiohttp.ClientSession() as s:
        async with s.get(f"{base}/w/lobby/qr.svg") as r:
            assert r.status == 404  # no qr_url configured


async def test_a_screen_measures_its_clock_against_the_server_and_gets_the_wall_config(node):
    import time

    base, s = node
    screen = await Screen(s, base).connect()
    assert screen.welcome["config"]["show"]["playlist"] == [["agora", 300.0]]
    assert screen.welcome["config"]["theme"]["mode"] == "dark"
    assert screen.ws is not None
    before = time.time() * 1000
    await screen.ws.send_json({"type": "time", "t0": 123.5})
    (pong,) = await screen.wait_for(lambda f: f["type"] == "time")
    assert pong["t0"] == 123.5 and before <= pong["t1"] <= time.time() * 1000
    await screen.ws.send_str("nonsense")  # ignored, the socket stays open
    for t0 in range(30):  # a flood is answered only up to the burst allowance
        await screen.ws.send_json({"type": "time", "t0": t0})
    # Then ask again until the bucket refilled (one a second): once that answer came, the node has read
    # the whole flood, in order.
    async with asyncio.timeout(WAIT):
        while not [f for f in screen.frames if f["type"] == "time" and f["t0"] == 1000]:
            await screen.ws.send_json({"type": "time", "t0": 1000})
            with contextlib.suppress(TimeoutError):
                await screen.wait_for(lambda f: f["type"] == "time" and f["t0"] == 1000, timeout=0.5)
    assert len([f for f in screen.frames if f["type"] == "time" and f["t0"] < 1000]) == 10
    await screen.close()


async def test_a_new_screen_starts_from_the_latest_presenter_control():
    from tests.wall_stream import control, screen_config, wall_node

    async with wall_node(screen_config()) as (base, bus), aiohttp.ClientSession() as s:
        await bus.publish(control(scene="stats"))
        newest = await bus.publish(control(panic=True, panic_text="Back soon"))
        screen = await Screen(s, base).connect()
        (snap,) = await screen.wait_for(lambda f: f["type"] == "snapshot")
        assert snap["control"]["panic"] is True and snap["control"]["id"] == newest
        assert snap["config"]["show"]["call_to_action"] == "Post with #nordlys"
        # A screen that was there gets it live, as an event of the resumable stream.
        await bus.publish(control(panic=False))
        (live,) = await screen.wait_for(lambda f: f["type"] == "control" and f.get("panic") is False)
        assert live["id"] != newest
        await screen.close()


def lobby_config(path, mode: str, extra: str = "") -> None:
    path.write_text(f"""
[web]
health_token_env = "{HEALTH_TOKEN_ENV}"
[store]
url = "sqlite+aiosqlite:///{path.parent}/wall.db"

[walls.lobby]
title = "Lobby"
{extra}

[walls.lobby.theme]
mode = "{mode}"
""")


async def test_a_reloaded_config_restyles_every_screen_live_and_a_broken_one_changes_nothing(
        tmp_path, caplog, monkeypatch):
    monkeypatch.setenv(HEALTH_TOKEN_ENV, HEALTH_TOKEN)  # the reload reads the environment too
    path = tmp_path / "wall.toml"
    lobby_config(path, "dark")
    async with running_node(load_config(path), config_path=path) as base, aiohttp.ClientSession() as s:
        screen = await Screen(s, base).connect()
        lobby_config(path, "light")
        os.kill(os.getpid(), signal.SIGHUP)  # what `systemctl reload wall` sends
        (frame,) = await screen.wait_for(lambda f: f["type"] == "config")
        assert frame["theme"]["mode"] == "light"
        async with s.get(f"{base}/w/lobby") as r:  # a page loaded from now on starts light too
            assert '&#34;mode&#34;: &#34;light&#34;' in await r.text()

        lobby_config(path, "dark", extra="colour = 'red'")  # a typo: the running config stays
        with caplog.at_level(logging.ERROR, logger="wall.app"):
            os.kill(os.getpid(), signal.SIGHUP)
            await eventually(lambda: "walls.lobby.colour: unknown key" in caplog.text)  # refused
        assert len([f for f in screen.frames if f["type"] == "config"]) == 1
        # /healthz says it too, key and fix, until a reload succeeds.
        async with s.get(f"{base}/healthz", headers=HEALTH_AUTH) as r:
            health = await r.json()
        assert health["status"] == "degraded"
        (problem,) = [p for p in health["problems"] if "config reload failed" in p]
        assert "walls.lobby.colour: unknown key" in problem and "the running config stays" in problem
        assert health["walls"]["lobby"]["config"]["agrees"] is True  # the file it read last is the look

        lobby_config(path, "dark")
        os.kill(os.getpid(), signal.SIGHUP)
        await screen.wait_for(lambda f: f["type"] == "config", count=2)

        async def reload_problems_gone() -> bool:
            async with s.get(f"{base}/healthz", headers=HEALTH_AUTH) as r:
                return not [p for p in (await r.json())["problems"] if "config reload failed" in p]
        await eventually(reload_problems_gone)
