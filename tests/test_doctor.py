"""`wall doctor` against what it checks: a real redis-server with and without its append-only file, real
SQLite stores at head, behind and empty, a real redis-sentinel, and Debian's nginx in front of a real
node with the shipped site and with one that drops the upgrade headers."""

from __future__ import annotations

import asyncio
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from tests.helpers import eventually, make_config, running_node, temp_store_url
from tests.nginx_server import SITE, main_config, running
from tests.redis_server import RedisServer, free_port
from wall.bus import open_engine
from wall.config import BusConfig
from wall.doctor import Finding, examine, proxy_upgrade, redis_via_sentinels, sentinel_checks
from wall.health import SourceHealth
from wall.store import migrate

CONFIG = """
[bus]
engine = "redis"
redis_url = "{redis_url}"
[store]
url = "{store_url}"
[walls.lobby]
title = "Lobby"
"""


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of this test's own, as the tests' Redis always is: AOF fsynced on every write."""
    server = RedisServer(free_port(), tmp_path / "redis")
    server.start()
    yield server
    server.stop()


async def migrated_store() -> str:
    url = temp_store_url()
    await migrate.upgrade(url)
    return url


async def doctor(tmp_path: Path, redis_url: str, store_url: str, *args: str) -> tuple[int, str]:
    """`wall doctor` as an operator runs it: its exit code and what it printed."""
    config = tmp_path / "wall.toml"
    config.write_text(CONFIG.format(redis_url=redis_url, store_url=store_url))
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "wall", "doctor", "--config",
                                                str(config), *args, stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    return await proc.wait(), out.decode()


def failed(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("FAIL")]


async def test_a_sound_deployment_passes(tmp_path, redis):
    code, out = await doctor(tmp_path, redis.url, await migrated_store(), "--screens", "10")
    assert (code, failed(out)) == (0, [])
    assert "ok    redis persistence: append-only file, appendfsync always" in out
    assert f"ok    store: schema at {migrate.head()}" in out
    assert out.rstrip().endswith("no problems found")


async def test_redis_without_its_append_only_file_is_a_problem_with_its_fix(tmp_path, redis):
    store = await migrated_store()
    assert redis.command(b"CONFIG", b"SET", b"appendonly", b"no") == b"+OK\r\n"
    code, out = await doctor(tmp_path, redis.url, store, "--screens", "10")
    assert code == 1
    assert failed(out) == ["FAIL  redis persistence: the append-only file is off: a Redis restart loses "
                           "accepted posts and the walls' streams"]
    assert "fix: in redis.conf: appendonly yes" in out

    assert redis.command(b"CONFIG", b"SET", b"appendonly", b"yes") == b"+OK\r\n"
    assert redis.command(b"CONFIG", b"SET", b"appendfsync", b"everysec") == b"+OK\r\n"
    code, out = await doctor(tmp_path, redis.url, store, "--screens", "10")
    assert code == 1 and "appendfsync everysec without a replica" in failed(out)[0]


async def test_unreachable_redis_is_named_without_its_password(tmp_path):
    port = free_port()
    code, out = await doctor(tmp_path, f"redis://:s3cret-pass@127.0.0.1:{port}/0", await migrated_store())
    assert code == 1
    assert f"FAIL  redis: redis://127.0.0.1:{port}/… does not answer" in out
    assert "s3cret" not in out


async def test_a_store_behind_empty_or_missing_is_a_problem(tmp_path, redis):
    behind = temp_store_url()
    await migrate.upgrade(behind, "0001")
    code, out = await doctor(tmp_path, redis.url, behind, "--screens", "10")
    assert code == 1 and failed(out)[0].startswith("FAIL  store: schema at 0001, ")
    assert "migration(s) behind" in out and "fix: restart a wall process" in out

    empty = temp_store_url()
    sqlite3.connect(empty.removeprefix("sqlite+aiosqlite:///")).close()
    code, out = await doctor(tmp_path, redis.url, empty, "--screens", "10")
    assert failed(out) == ["FAIL  store: the store has no schema yet"]

    missing = f"sqlite+aiosqlite:///{tmp_path}/nowhere/wall.db"
    code, out = await doctor(tmp_path, redis.url, missing, "--screens", "10")
    assert failed(out) == [f"FAIL  store: no SQLite store at {tmp_path}/nowhere/wall.db"]
    assert not (tmp_path / "nowhere").exists()  # the doctor looked; it made nothing


async def test_too_few_file_descriptors_for_the_screens(tmp_path, redis):
    code, out = await doctor(tmp_path, redis.url, await migrated_store(), "--screens", "100000000")
    assert code == 1
    assert failed(out)[0].startswith("FAIL  file limits: this process may open ")
    assert "LimitNOFILE=65536" in out


async def test_a_worker_whose_clock_runs_ahead(tmp_path, redis):
    ahead = SourceHealth(name="demo", walls=("lobby",), state="running", error=None, posts=1,
                         posts_per_minute=1, connected_since=None, last_post_at=None, retry_at=None,
                         worker="box-b", at=time.time() + 3600)
    engine = open_engine(BusConfig(engine="redis", redis_url=redis.url))  # as that worker writes it
    try:
        await engine.put_health("demo", msgspec.json.encode(ahead))
    finally:
        await engine.close()
    code, out = await doctor(tmp_path, redis.url, await migrated_store(), "--screens", "10")
    assert code == 1
    # Stamped an hour ahead when written; it has aged a little (busy machine: seconds) when doctor reads it.
    [line] = failed(out)
    ahead_by = re.fullmatch(r"FAIL  clock: worker box-b's clock is about (\d+) s ahead of Redis's", line)
    assert ahead_by and 3000 < int(ahead_by[1]) <= 3600
    assert "ok    clock: within" in out  # this machine's own clock agrees with Redis's


async def test_sentinels_that_answer_and_one_that_does_not(tmp_path, redis):
    binary = shutil.which("redis-sentinel")
    if binary is None:
        pytest.fail("redis-sentinel is not installed; apt-get install redis-sentinel", pytrace=False)
    port = free_port()
    conf = tmp_path / "sentinel.conf"
    conf.write_text(f"port {port}\nbind 127.0.0.1\ndir {tmp_path}\n"
                    f"sentinel monitor wall 127.0.0.1 {redis.port} 1\n")
    proc = await asyncio.create_subprocess_exec(binary, str(conf), stdout=subprocess.DEVNULL,
                                                stderr=subprocess.DEVNULL)
    try:
        async def answered() -> list[Finding]:
            found = await sentinel_checks((f"127.0.0.1:{port}",), "wall")
            return found if all(f.ok for f in found) else []

        found = await eventually(answered)
        said = f"127.0.0.1:{port}: primary 127.0.0.1:{redis.port}, quorum reachable"
        assert [f.said for f in found] == [said]

        # With sentinels, the Redis checks go to the primary they name, not to redis_url's host.
        elsewhere = f"redis://127.0.0.1:{free_port()}/0"
        found = await redis_via_sentinels(elsewhere, (f"127.0.0.1:{port}",), "wall")
        assert ("redis version", True) in [(f.check, f.ok) for f in found]

        silent = free_port()
        found = await sentinel_checks((f"127.0.0.1:{port}", f"127.0.0.1:{silent}"), "wall")
        assert [f.ok for f in found] == [True, False]
        assert found[1].said.startswith(f"127.0.0.1:{silent}: ConnectionError")
    finally:
        proc.terminate()
        await proc.wait()


@pytest.mark.parametrize("upgrade", [True, False], ids=["shipped site", "site without the upgrade"])
async def test_the_proxy_passes_the_screens_upgrade(tmp_path, upgrade):
    cfg = make_config()
    site = SITE.read_text()
    if not upgrade:  # the mistake doctor is for: a plain reverse proxy
        site = site.replace("proxy_set_header Upgrade $http_upgrade;", "")
        site = site.replace("proxy_set_header Connection $wall_connection;", "")
    async with running_node(cfg) as node:
        port = free_port()
        main = main_config(tmp_path, site, upstreams=[int(node.rsplit(":", 1)[1])], listen=port)
        with running(main, port):
            found = await proxy_upgrade(f"https://127.0.0.1:{port}", cfg, cacert=tmp_path / "cert.pem")
            everything = await examine(cfg, f"https://127.0.0.1:{port}", screens=10,
                                       cacert=tmp_path / "cert.pem")
    if upgrade:
        assert found == [Finding("proxy", True, f"https://127.0.0.1:{port}/…: 101 Switching Protocols, "
                                                "and the node's welcome")]
    else:
        assert [(f.ok, f.said) for f in found] == [(False, f"https://127.0.0.1:{port}/…: the handshake "
                                                           "got 400, not 101")]
        assert "Upgrade and Connection headers" in found[0].fix
    assert [f for f in everything if f.check == "proxy"] == found
