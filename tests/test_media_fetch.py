"""Fetching originals: a post cannot point the wall at its own network, and bad originals are refused."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator, Iterator

import pytest

from tests.media_origin import Origin, origin_server
from wall.media.fetch import AllowList, Fetcher, MediaError, address_refusal
from wall.media.images import render, sniff


@pytest.fixture
async def origin() -> AsyncIterator[Origin]:
    async with origin_server() as o:
        yield o


def admitting(origin: Origin, max_bytes: int = 2_000_000, timeout: float = 5.0) -> Fetcher:
    # The allow-list admits the origin by name and port only: 127.0.0.1 as a literal stays refused.
    return Fetcher(AllowList((f"localhost:{origin.port}",)), max_bytes, timeout)


async def refusal(fetcher: Fetcher, url: str) -> str:
    with pytest.raises(MediaError) as err:
        await fetcher.fetch(url)
    return err.value.reason


async def test_an_admitted_origin_serves_through_checked_redirects(origin: Origin) -> None:
    fetched = await admitting(origin).fetch(origin.url("/hop"))
    assert fetched.url == origin.url("/gps.jpg") and sniff(fetched.body) == "jpeg"


async def test_redirects_into_the_network_are_refused(origin: Origin) -> None:
    f = admitting(origin)
    assert await refusal(f, origin.url("/to-redis")) == "address"
    assert await refusal(f, origin.url("/to-metadata")) == "address"
    assert await refusal(f, origin.url("/loop")) == "status"


async def test_a_30_mb_original_is_cut_off_while_streaming(origin: Origin) -> None:
    assert await refusal(admitting(origin, max_bytes=1_000_000), origin.url("/big.jpg")) == "size"
    assert origin.big_sent < 15_000_000


async def test_a_slow_drip_times_out(origin: Origin) -> None:
    assert await refusal(admitting(origin, timeout=1.0), origin.url("/slow.png")) == "timeout"


async def test_only_http_and_https() -> None:
    f = Fetcher(AllowList(), 1000, 1.0)
    for url in ("file:///etc/passwd", "ftp://example.com/a.png", "gopher://x/", "data:image/png;base64,AA"):
        assert await refusal(f, url) == "scheme"


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    sock.setblocking(False)
    yield sock
    sock.close()


async def test_default_settings_never_connect_to_the_wall_network(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    f = Fetcher(AllowList(), 1_000_000, 2.0)
    for url in (
        f"http://127.0.0.1:{port}/a.png",
        f"https://localhost:{port}/a.png",
        f"http://[::1]:{port}/a.png",
        f"http://[::ffff:127.0.0.1]:{port}/a.png",
        "http://10.0.0.1/a.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
    ):
        assert await refusal(f, url) == "address", url
    with pytest.raises(BlockingIOError):
        listener.accept()  # nobody knocked


def test_address_classes() -> None:
    cases = {
        "127.0.0.1": "loopback",
        "10.0.0.1": "private",
        "192.168.1.2": "private",
        "169.254.169.254": "metadata",
        "fd00:ec2::254": "metadata",
        "fd12::1": "private",
        "fe80::1": "link_local",
        "224.0.0.1": "multicast",
        "::ffff:10.0.0.1": "ipv4-mapped",
        "0.0.0.0": "unspecified",
        "100.64.0.1": "not-global",
    }
    for addr, why in cases.items():
        assert address_refusal(ipaddress.ip_address(addr)) == why, addr
    assert address_refusal(ipaddress.ip_address("93.184.216.34")) is None
    assert AllowList(("10.1.0.0/16",)).admits_address(ipaddress.ip_address("10.1.2.3"))


async def test_bad_originals_are_refused_by_their_bytes(origin: Origin) -> None:
    f = admitting(origin)
    for path, reason in (("/script.svg", "type"), ("/text.png", "type"), ("/bomb.png", "size")):
        body = (await f.fetch(origin.url(path))).body
        with pytest.raises(MediaError) as err:
            render(body, 480)
        assert err.value.reason == reason, path
