"""An attacker tries every kind of input a node reads (JSON bodies, forms, path and query parameters,
headers, socket frames) on a live node: each gets a 4xx (or a socket close) that says what was wrong,
with the security headers, never a 500; and a failure nobody expected is a short 500 page that keeps the
headers, shows no traceback and is logged without what the sender wrote."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import WSMsgType, web

from tests.console_helpers import Browser, console_app, opened_store
from tests.helpers import TOKEN, make_config, serving
from wall.web.security import HEADERS

WEBHOOK = "/api/v1/walls/lobby/posts"


@pytest.fixture
async def node() -> AsyncIterator[tuple[str, Browser]]:
    """A live node with an admin logged in, and one route that fails the way no handler expects."""
    cfg = make_config(walls=("lobby", "board"), private=("board",))
    async with opened_store(cfg.store.url) as store:
        app = console_app(cfg, store)

        async def broken(request: web.Request) -> web.Response:
            raise RuntimeError(f"the words of a post: {request.query['text']}")  # as a bug might

        app.router.add_get("/api/v1/broken", broken)
        app.router.add_get("/broken", broken)
        async with serving(app) as base, Browser(base) as admin:
            assert (await admin.login("root")).status == 303
            yield base, admin


def assert_guarded(r: aiohttp.ClientResponse) -> None:
    for name, value in HEADERS.items():
        assert r.headers.get(name) == value, name


async def answer(admin: Browser, method: str, path: str, data: bytes | None = None,
                 headers: dict[str, str] | None = None) -> tuple[int, str]:
    base = {"X-CSRF-Token": admin.csrf, "Origin": admin.base, "Sec-Fetch-Site": "same-origin",
            "Content-Type": "application/json"}
    async with admin.http.request(method, admin.base + path, data=data,
                                  headers={**base, **(headers or {})}) as r:
        assert_guarded(r)
        return r.status, await r.text()


async def test_a_media_url_whose_signature_is_not_ascii_is_a_403_with_the_security_headers(node):
    base, admin = node
    async with admin.http.get(f"{base}/media/%C3%A9%C3%A9/abc") as r:
        assert r.status == 403 and "bad media signature" in await r.text()
        assert_guarded(r)


@pytest.mark.parametrize("body", [
    b"1" + b"0" * 5000, b'{"id": "a", "text": "b", "lang": 1' + b"0" * 5000 + b"}",
    b'{"id": "a", "text": "1e999", "x": 1e999}', b"[NaN]", b"[" * 5000,
])
async def test_webhook_bodies_with_numbers_out_of_range_are_a_400(node, body: bytes):
    _, admin = node
    status, text = await answer(admin, "POST", WEBHOOK, body, {"Authorization": f"Bearer {TOKEN}"})
    assert status == 400, text
    assert "error" in text


async def test_a_post_dated_before_the_first_instant_a_clock_holds_is_a_422(node):
    _, admin = node
    body = b'{"id": "a", "text": "b", "created_at": "0001-01-01T00:00:00+14:00"}'
    status, text = await answer(admin, "POST", WEBHOOK, body, {"Authorization": f"Bearer {TOKEN}"})
    assert status == 422 and "created_at: out of range" in text


@pytest.mark.parametrize(("method", "path", "expected"), [
    ("GET", "/console/audit?before=%C2%B2", 400),  # "²" is a digit to str.isdigit(), not to int()
    ("GET", "/console/audit?before=99999999999999999999999999", 400),  # past any SQL integer
    ("GET", "/console/api/fleet/kiosks/99999999999999999999999/screenshot", 404),
    ("POST", "/console/api/fleet/kiosks/99999999999999999999999/reload", 404),
    ("POST", "/console/keys/99999999999999999999999/revoke", 404),
    ("GET", "/api/v1/walls/lobby/posts?limit=%C2%B2", 400),
    ("GET", "/console/api/w/lobby/queue?limit=99999999999999999999999999999", 400),
])
async def test_path_and_query_numbers_out_of_range_are_refused_not_overflowed(node, method, path, expected):
    _, admin = node
    status, text = await answer(admin, method, path)
    assert status == expected, text


@pytest.mark.parametrize("content_type", [
    "multipart/form-data; boundary=x", "multipart/form-data",
    "application/x-www-form-urlencoded; charset=utf-16",
    "application/x-www-form-urlencoded; charset=nonsense",
])
@pytest.mark.parametrize("path", ["/console/api/w/lobby/ban", "/console/login", "/console/users",
                                  "/console/w/lobby/keys"])
async def test_forms_that_cannot_be_read_are_a_400(node, content_type: str, path: str):
    _, admin = node
    body = b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n\xff\r\n--x--junk'
    status, text = await answer(admin, "POST", path, body, {"Content-Type": content_type})
    assert status == 400 and "the form cannot be read" in text, text


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/console/api/w/lobby/ban"), ("POST", "/console/login"), ("GET", "/w/lobby/ws")])
async def test_an_origin_that_does_not_parse_is_refused(node, method: str, path: str):
    _, admin = node
    status, text = await answer(admin, method, path, b"{}", {"Origin": "http://[", "Sec-Fetch-Site": ""})
    assert status == 403, text


async def test_a_failure_no_handler_expected_is_a_short_500_with_the_headers_and_no_words_in_the_log(
        node, caplog: pytest.LogCaptureFixture):
    base, admin = node
    with caplog.at_level(logging.ERROR, logger="wall.web.errors"):
        async with admin.http.get(f"{base}/api/v1/broken?text=Aino+loves+the+X3") as r:
            assert r.status == 500
            assert_guarded(r)
            reply: dict[str, Any] = await r.json()
        async with admin.http.get(f"{base}/broken?text=Aino+loves+the+X3") as page:
            assert page.status == 500 and page.content_type == "text/plain"
            assert_guarded(page)
            text = await page.text()
    assert "ref " in reply["error"] and "Traceback" not in reply["error"] and "Aino" not in reply["error"]
    assert "Traceback" not in text and "Aino" not in text and len(text) < 200
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "RuntimeError" in logged and "raise RuntimeError" in logged  # the traceback, for the operator
    assert "Aino" not in logged  # not the words


async def test_json_routes_refuse_in_json_even_when_the_router_refuses(node):
    base, admin = node
    async with admin.http.get(f"{base}/api/v1/nothing-here") as r:
        assert r.status == 404 and r.content_type == "application/json"
        assert "error" in await r.json()
        assert_guarded(r)
    async with admin.http.get(f"{base}/api/v1/walls/nowhere/posts") as r:
        assert r.status == 404 and (await r.json())["error"] == "no wall named 'nowhere'"


HOSTILE_FRAMES: list[tuple[str, Any, int]] = [
    ("text", "[" * 3000, 1008),  # nested too deeply
    ("text", '{"type": "hello", "epoch": 1e999}', 1008),  # a number out of range
    ("text", '{"type": "hello", "last_id": 1' + "0" * 3000 + "}", 1008),
    ("text", '{"type": "welcome"}', 1008),  # the wrong message
    ("text", "not json", 1008),
    ("bytes", b"\xff\xfe", 1008),  # binary
    ("raw", b"\xff\xfe", 1007),  # a text frame that is not UTF-8
    ("text", "x" * 20_000, 1009),  # too big (a screen's socket takes 16 KiB: display reports)
]


@pytest.mark.parametrize(("kind", "data", "code"), HOSTILE_FRAMES)
@pytest.mark.parametrize("path", ["/w/lobby/ws", "/console/w/lobby/ws"])
async def test_hostile_socket_frames_close_the_socket_and_leave_the_node_serving(node, path, kind, data,
                                                                                  code):
    base, admin = node
    ws = await admin.http.ws_connect(base + path, headers={"Origin": base})
    if kind == "text":
        await ws.send_str(data)
    elif kind == "bytes":
        await ws.send_bytes(data)
    else:  # what no well-behaved client sends: the client refuses to
        await ws._writer.send_frame(data, WSMsgType.TEXT)
    msg = await ws.receive(timeout=10)
    while msg.type == WSMsgType.TEXT and '"type":"alerts"' in msg.data:  # the console's figures came first
        msg = await ws.receive(timeout=10)
    assert msg.type == WSMsgType.CLOSE and msg.data == code, msg
    if code == 1008:
        assert msg.extra, "a policy close says why"
    await ws.close()
    # the node still serves screens
    ws = await admin.http.ws_connect(base + "/w/lobby/ws")
    await ws.send_json({"type": "hello"})
    welcome = await ws.receive_json(timeout=10)
    assert welcome["type"] == "welcome"
    await ws.close()


@pytest.mark.parametrize(("method", "path", "header", "expected"), [
    ("GET", "/console/api/w/lobby/queue", b"Cookie: wall_session=\xff\xfe", b"401"),
    ("GET", "/console/api/w/lobby/queue", b"Cookie: wall_session=\xc3\xa9", b"401"),
    ("GET", "/w/board", b"Cookie: wall_key=\xff\xfe", b"403"),  # a private wall's display key
    ("POST", "/api/v1/kiosks/report", b"Authorization: Bearer \xff", b"401"),
    ("POST", "/api/v1/walls/lobby/posts", b"X-Wall-Signature: sha256=\xff", b"401"),
])
async def test_headers_that_are_not_utf8_are_refused_not_crashed_on(node, method, path, header, expected):
    """Bytes no client library would send, over a raw socket."""
    base, _ = node
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(method.encode() + b" " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n" + header +
                 b"\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
    reply = await reader.read()
    writer.close()
    status_line, _, rest = reply.partition(b"\r\n")
    assert status_line.split(b" ")[1] == expected, reply[:300]
    assert b"Content-Security-Policy" in rest
