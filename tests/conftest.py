"""Shared fixtures. Redis tests run against a real redis-server that the session starts on a free port."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from playwright.async_api import Browser, async_playwright

from tests.redis_server import MISSING, RedisServer, free_port

# Debian's chromium (Playwright's own browser download cannot work here), quiet: no network of its own.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """A headless Chromium for the page and console stories."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("chromium is not installed; scripts/test installs it (apt-get install chromium)",
                    pytrace=False)
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One redis-server for the whole session (tests that restart Redis start their own)."""
    if shutil.which("redis-server") is None:
        pytest.fail(MISSING, pytrace=False)
    server = RedisServer(free_port(), tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The session's Redis, emptied for this test."""
    if not redis_server.running():
        redis_server.start()
    assert redis_server.command(b"FLUSHALL") == b"+OK\r\n", "cannot empty the test Redis"
    return redis_server.url


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """One HTTP client session, as the composition root gives every connector."""
    async with aiohttp.ClientSession() as session:
        yield session
