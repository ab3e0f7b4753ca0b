"""Shared fixtures. Redis tests run against a real redis-server that the session starts on a free port."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest

from tests.redis_server import MISSING, RedisServer, free_port


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
