"""Limits against slow and many clients (issue 17, point 3), over real sockets: a body trickled too slowly
gets 408, one address cannot hold every connection or every wall socket, password checks are capped,
X-Forwarded-For counts only from a trusted proxy, and running out of file descriptors refuses
connections with a bounded log instead of a traceback per accept."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import resource
import signal
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.console_helpers import console_app
from tests.helpers import TOKEN, Screen, make_config, serving, temp_store_url
from tests.test_processes import free_port, logged
from wall.app import create_app
from wall.config import ConfigError
from wall.store import connect
from wall.web.accesslog import AccessLogger
from wall.web.address import client_group

ATTACKER, NEIGHBOUR = "127.0.0.3", "127.0.0.2"  # both loopback on Linux: two clients on one machine


def session_from(address: str) -> aiohttp.ClientSession:
    """An HTTP client whose connections come from this local address."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(address, 0), force_close=True),
                                 cookie_jar=aiohttp.CookieJar(unsafe=True))


async def metric(base: str, name: str, labels: str = "") -> float:
    """A sample of the node's /metrics, asked from the neighbour's address (0 when absent)."""
    async with session_from(NEIGHBOUR) as s, s.get(f"{base}/metrics") as r:
        text = await r.text()
    found = re.search(rf"^{re.escape(name + labels)} (\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


async def raw(base: str, address: str = ATTACKER) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    host, port = base.removeprefix("http://").split(":")
    return await asyncio.open_connection(host, int(port), local_addr=(address, 0))


async def answer(reader: asyncio.StreamReader, timeout: float = 15.0) -> int | None:
    """The status of the response on this connection, or None when the server closed it without one."""
    try:
        async with asyncio.timeout(timeout):
            line = await reader.readline()
            if not line:
                return None
            while await reader.readline() not in (b"\r\n", b""):
                pass
    except ConnectionError:
        return None
    return int(line.split()[1])


# --- a body that never arrives -----------------------------------------------------------------------

ROUTES = {
    "webhook": ("/api/v1/walls/lobby/posts", "application/json"),
    "login": ("/console/login", "application/x-www-form-urlencoded"),
    "kiosk enroll": ("/api/v1/kiosks/enroll", "application/json"),
}


@pytest.mark.parametrize("route", list(ROUTES))
async def test_a_body_trickled_byte_by_byte_gets_408_at_the_deadline(route):
    path, ctype = ROUTES[route]
    async with serving(create_app(make_config(body_timeout=1.0))) as base:
        reader, writer = await raw(base)
        writer.write(f"POST {path} HTTP/1.1\r\nHost: wall\r\nContent-Type: {ctype}\r\n"
                     f"Content-Length: 1000\r\n\r\n{{".encode())
        started = time.monotonic()

        async def trickle() -> None:
            with pytest.raises(ConnectionError):  # the server closes on us: that is the point
                for _ in range(200):
                    await asyncio.sleep(0.2)
                    writer.write(b" ")
                    await writer.drain()

        dripping = asyncio.create_task(trickle())
        status = await answer(reader)
        took = time.monotonic() - started
        dripping.cancel()
        await asyncio.gather(dripping, return_exceptions=True)
        writer.close()
        assert status == 408
        assert 1.0 <= took < 10.0  # at the deadline, not minutes later (the margin is for a busy machine)
        assert await metric(base, "wall_body_timeouts_total") == 1


async def test_a_body_sent_in_time_is_served_as_before():
    async with serving(create_app(make_config(body_timeout=5.0))) as base:
        reader, writer = await raw(base)
        body = b'{"id": "in-time", "text": "hello"}'
        writer.write(b"POST /api/v1/walls/lobby/posts HTTP/1.1\r\nHost: wall\r\n"
                     b"Authorization: Bearer " + TOKEN.encode() + b"\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body) + body[:10])
        await writer.drain()
        await asyncio.sleep(0)  # the rest comes in a later segment
        writer.write(body[10:])
        assert await answer(reader) == 202
        writer.close()
        assert await metric(base, "wall_body_timeouts_total") == 0


# --- connections per client address ------------------------------------------------------------------

async def test_one_address_cannot_take_every_connection():
    async with serving(create_app(make_config(max_connections_per_client=3))) as base:
        held = []
        for _ in range(3):  # the attacker's connections, each acknowledged by an answer
            reader, writer = await raw(base)
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: wall\r\n\r\n")
            assert await answer(reader) == 200
            held.append((reader, writer))
        reader, writer = await raw(base)  # the fourth: closed at once, no request read
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: wall\r\n\r\n")
        assert await answer(reader) is None
        writer.close()

        async with session_from(NEIGHBOUR) as s, s.get(f"{base}/healthz") as r:
            assert r.status == 200  # another address is served, /healthz answers
        assert await metric(base, "wall_connections_refused_total", '{reason="per_client"}') == 1

        held.pop()[1].close()  # the attacker lets one go: a new one of theirs is served again
        async with asyncio.timeout(10):
            while True:
                reader, writer = await raw(base)
                writer.write(b"GET /healthz HTTP/1.1\r\nHost: wall\r\n\r\n")
                status = await answer(reader)
                writer.close()
                if status == 200:
                    break
        for _, w in held:
            w.close()


async def test_a_trusted_proxy_is_not_capped_by_the_per_address_connection_limit():
    cfg = make_config(max_connections_per_client=1, trusted_proxies=[NEIGHBOUR])
    async with serving(create_app(cfg)) as base:
        held = []
        for _ in range(3):  # the proxy carries many clients on its connections
            reader, writer = await raw(base, NEIGHBOUR)
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: wall\r\nX-Forwarded-For: 198.51.100.1\r\n\r\n")
            assert await answer(reader) == 200
            held.append(writer)
        assert await metric(base, "wall_connections_refused_total", '{reason="per_client"}') == 0
        for writer in held:
            writer.close()


# --- wall sockets per client address ------------------------------------------------------------------

async def test_one_address_may_hold_a_bounded_number_of_wall_sockets():
    async with serving(create_app(make_config(max_sockets_per_client=2))) as base, \
            session_from(ATTACKER) as attacker, session_from(NEIGHBOUR) as neighbour:
        screens = [await Screen(attacker, base).connect() for _ in range(2)]
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await attacker.ws_connect(f"{base}/w/lobby/ws")
        assert refused.value.status == 429
        assert refused.value.headers is not None and refused.value.headers["Retry-After"] == "30"
        assert await metric(base, "wall_sockets_refused_total") == 1

        other = await Screen(neighbour, base).connect()  # another address has its own allowance
        await screens[0].close()
        async with asyncio.timeout(10):  # the server counts the socket gone once its handler ends
            while True:
                try:
                    again = await Screen(attacker, base).connect()
                    break
                except aiohttp.WSServerHandshakeError as e:
                    assert e.status == 429
                    await asyncio.sleep(0.05)
        for screen in (screens[1], other, again):
            await screen.close()


def test_ipv6_clients_are_counted_per_64_and_ipv4_per_address():
    assert client_group("2001:db8:1:2:aaaa::1") == client_group("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert client_group("2001:db8:1:3::1") != client_group("2001:db8:1:2::1")
    assert client_group("::ffff:192.0.2.7") == "192.0.2.7"  # a dual-stack socket's IPv4 client
    assert client_group("192.0.2.7") != client_group("192.0.2.8")


# --- password verifications ----------------------------------------------------------------------------

async def test_parallel_logins_beyond_the_cap_are_told_to_retry(tmp_path: Path):
    url = temp_store_url()
    async with connect(url) as store:  # the real argon2 parameters: each check takes a while
        await store.users.add("root", "root password 0001", "admin")
        cfg = make_config(store_url=url, max_password_checks=1)
        async with serving(console_app(cfg, store)) as base, session_from(NEIGHBOUR) as s:

            async def log_in() -> tuple[int, str | None]:
                async with s.post(f"{base}/console/login", allow_redirects=False,
                                  data={"username": "root", "password": "root password 0001"},
                                  headers={"Origin": base, "Sec-Fetch-Site": "same-origin"}) as r:
                    return r.status, r.headers.get("Retry-After")

            results = await asyncio.gather(*(log_in() for _ in range(25)))
            outcomes = Counter(status for status, _ in results)
            # The login throttle counts attempts before their check, so beyond five at once from one
            # address some are told to wait (429) before they would even queue for a check.
            assert set(outcomes) <= {303, 429, 503} and outcomes[503] >= 1, outcomes
            assert outcomes[303] >= 2  # one checking and one waiting always get through
            assert all(retry == "1" for status, retry in results if status == 503)
            assert await metric(base, "wall_password_checks_refused_total") == outcomes[503]
            assert await metric(base, "wall_password_checks") == 0


# --- X-Forwarded-For -------------------------------------------------------------------------------------

async def test_x_forwarded_for_names_the_client_only_from_a_trusted_proxy(caplog):
    cfg = make_config(trusted_proxies=[NEIGHBOUR, "10.0.0.0/8"])
    async with serving(create_app(cfg), access_log_class=AccessLogger) as base, \
            session_from(NEIGHBOUR) as proxy, session_from(ATTACKER) as stranger:
        with caplog.at_level(logging.INFO, logger="aiohttp.access"):
            async with proxy.get(f"{base}/healthz", headers={"X-Forwarded-For": "198.51.100.1"}):
                pass
            async with proxy.get(f"{base}/healthz?two",  # a forged entry, then what two proxies saw
                                 headers={"X-Forwarded-For": "192.0.2.66, 203.0.113.9, 10.1.2.3"}):
                pass
            async with stranger.get(f"{base}/healthz?forged", headers={"X-Forwarded-For": "198.51.100.2"}):
                pass
            async with asyncio.timeout(5):
                while len([r for r in caplog.records if r.name == "aiohttp.access"]) < 3:
                    await asyncio.sleep(0.01)
        lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
        assert lines[0].startswith("198.51.100.1 ")
        assert lines[1].startswith("203.0.113.9 ")
        assert lines[2].startswith(f"{ATTACKER} ")


async def test_wall_sockets_are_counted_per_client_behind_a_trusted_proxy():
    cfg = make_config(trusted_proxies=[NEIGHBOUR], max_sockets_per_client=1)
    async with serving(create_app(cfg)) as base, session_from(NEIGHBOUR) as proxy:
        first = await proxy.ws_connect(f"{base}/w/lobby/ws", headers={"X-Forwarded-For": "198.51.100.1"})
        second = await proxy.ws_connect(f"{base}/w/lobby/ws", headers={"X-Forwarded-For": "198.51.100.2"})
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await proxy.ws_connect(f"{base}/w/lobby/ws", headers={"X-Forwarded-For": "198.51.100.1"})
        assert refused.value.status == 429
        await first.close()
        await second.close()


# --- out of file descriptors ----------------------------------------------------------------------------

CONFIG = """\
[web]
host = "127.0.0.1"
port = {port}
secure_cookies = false
max_connections_per_client = 0

[bus]
engine = "memory"

[store]
url = "sqlite+aiosqlite:///{store_dir}/wall.db"

[walls.lobby]
title = "Lobby"
"""


async def answering(base: str, proc: subprocess.Popen[str], log: Path) -> None:
    """Once /healthz answers 200 (a node loading its language models on a busy machine takes a while)."""
    async with aiohttp.ClientSession() as s, asyncio.timeout(90):
        while True:
            try:
                async with s.get(f"{base}/healthz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            if proc.poll() is not None:
                pytest.fail(f"the node exited:\n{await asyncio.to_thread(log.read_text)}")
            await asyncio.sleep(0.1)


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[tuple[subprocess.Popen[str], str, Path]]:
    port = free_port()
    config = tmp_path / "wall.toml"
    config.write_text(CONFIG.format(port=port, store_dir=tmp_path))
    log = tmp_path / "serve.log"
    proc = logged(log, "serve", "--config", str(config))
    base = f"http://127.0.0.1:{port}"
    try:
        await answering(base, proc, log)
        yield proc, base, log
    finally:
        proc.send_signal(signal.SIGINT)  # at once: a SIGTERM'd node drains 5 s first
        await asyncio.to_thread(proc.wait, 30)


async def probe(base: str) -> asyncio.StreamWriter | None:
    """GET /healthz on a new connection: the connection, held open, if the node answered; None if it
    refused the connection (within seconds: not a wait in the backlog)."""
    try:
        reader, writer = await raw(base)
    except ConnectionError:  # reset before the handshake was seen through
        return None
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: wall\r\n\r\n")
    if await answer(reader) == 200:
        return writer
    writer.close()
    return None


async def test_out_of_file_descriptors_refuses_connections_with_a_bounded_log(node):
    proc, base, log = node
    in_use = len(os.listdir(f"/proc/{proc.pid}/fd"))
    _, hard = resource.prlimit(proc.pid, resource.RLIMIT_NOFILE)
    resource.prlimit(proc.pid, resource.RLIMIT_NOFILE, (in_use + 40, hard))  # 40 descriptors to spare
    held = []
    for _ in range(200):  # until the node has no descriptor left
        writer = await probe(base)
        if writer is None:
            break
        held.append(writer)
    assert 10 <= len(held) <= 50  # about the 40 spare (the node opens and closes a few of its own)

    async def refused() -> bool:
        writer = await probe(base)
        if writer is not None:
            writer.close()
        return writer is None

    assert all(await asyncio.gather(*(refused() for _ in range(100))))
    for writer in held:
        writer.close()
    await answering(base, proc, log)  # descriptors come back as the node sees the connections close
    async with aiohttp.ClientSession() as s:
        async with s.get(f"{base}/metrics") as r:
            text = await r.text()
    counted = re.search(r'^wall_connections_refused_total\{reason="out_of_fds"\} (\S+)$', text, re.M)
    assert counted is not None and 101 <= float(counted.group(1)) <= 110  # each refusal, once
    output = await asyncio.to_thread(log.read_text)
    assert "Traceback" not in output
    assert 1 <= output.count("out of file descriptors") <= 5  # one line per 10 s, not one per accept
    assert len(output) < 20_000


# --- the [web] keys ----------------------------------------------------------------------------------------

def test_the_limits_are_web_keys_with_defaults_and_checked_values():
    cfg = make_config()
    assert (cfg.web.body_timeout, cfg.web.max_connections_per_client, cfg.web.max_sockets_per_client,
            cfg.web.max_password_checks, cfg.web.trusted_proxies) == (20.0, 256, 64, 4, ())
    with pytest.raises(ConfigError) as e:
        make_config(body_timeout=0, max_connections_per_client=-1, max_password_checks=0,
                    trusted_proxies=["10.0.0.0/8", "proxy.example"])
    assert e.value.problems == [
        "web.body_timeout: 0 is out of range; use a number > 0.0 (seconds)",
        "web.max_connections_per_client: -1 is out of range; use an integer >= 0 (a count; 0: no cap)",
        "web.max_password_checks: 0 is out of range; use an integer >= 1",
        "web.trusted_proxies: 'proxy.example' is not an address or CIDR; e.g. \"10.0.0.0/8\"",
    ]
