"""What a browser gets from a web node: strict headers, cacheable static files, a guarded socket."""

from __future__ import annotations

import re

import aiohttp
import pytest

from tests.helpers import Screen, make_config, running_node


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
        msg = await ws.receive(timeout=5)
        assert msg.type == aiohttp.WSMsgType.CLOSE
        assert msg.data == aiohttp.WSCloseCode.POLICY_VIOLATION
        assert "hello" in msg.extra


async def test_screens_get_a_tick_as_proof_of_life(monkeypatch):
    monkeypatch.setattr("wall.web.app.TICK_INTERVAL", 0.05)
    async with running_node(make_config()) as base, aiohttp.ClientSession() as s:
        screen = await Screen(s, base).connect()
        ticks = await screen.wait_for(lambda f: f["type"] == "tick", count=2, timeout=5)
        assert ticks[1]["server_time"] >= ticks[0]["server_time"] > 0
        assert "id" not in ticks[0]  # not an event: it moves no resume position
