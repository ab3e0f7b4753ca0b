"""Backups that restore: `wall backup` while a box keeps writing, `wall restore` into a fresh directory (or
a fresh PostgreSQL database), a node started on it, and what restore refuses."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import closing
from pathlib import Path

import aiohttp
import pytest

from tests.console_helpers import FAST, PASSWORDS, Browser, opened_store
from tests.helpers import Screen, eventually, make_config, running_node
from tests.postgres_server import MISSING, PostgresServer, binaries
from tests.redis_server import free_port
from tests.test_processes import ENV, logged, wait_up
from tests.test_single_box import CONFIG
from wall.cli import main
from wall.store import Store, connect
from wall.store.audit import Event
from wall.store.backup import BackupError, describe, describe_store, find_tool
from wall.store.migrate import current, head, upgrade
from wall.store.store import open_store

pytestmark = pytest.mark.timeout(300)  # `wall serve` and `wall backup` as processes on a busy machine

SERVE = CONFIG.replace("loop = false", "loop = true")  # a single box whose replay keeps writing


def store_config(path: Path, url: str) -> Path:
    path.write_text(f'[store]\nurl = "{url}"\n[walls.lobby]\ntitle = "Lobby"\n')
    return path


def wall(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """`wall …` as the timer runs it, with the secrets of the config's environment file."""
    return subprocess.run([sys.executable, "-m", "wall", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, **ENV}, timeout=240, check=False)


async def wall_here(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """The same command in this process (no interpreter start-up): exit code, stdout, stderr."""
    capsys.readouterr()
    code = await asyncio.to_thread(main, list(map(str, args)))
    out, err = capsys.readouterr()
    return code, out, err


def tables_of(db: Path) -> tuple[str | None, dict[str, int]]:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return describe(lambda sql: conn.execute(sql).fetchall(), "sqlite")


def figures(screen: Screen) -> list[int]:
    """The all-time totals a screen was sent (live stats and snapshots)."""
    return ([f["total"] for f in screen.frames if f["type"] == "stats"]
            + [f["stats"]["total"] for f in screen.frames if f["type"] == "snapshot" and f["stats"]])


async def fill(store: Store) -> str:
    """A store with a row of every kind an installation keeps; returns a session token."""
    root = await store.users.get("root")
    assert root is not None
    token, _ = await store.sessions.create(root.id)
    await store.decisions.decide("lobby", "p1~0", "rejected", "ana", None)
    await store.rules.add("lobby", "hold_links", "true", "ana")
    await store.rules.block_word("lobby", "spoiler")
    await store.bans.ban("lobby", "mastodon:troll@example.social", "spam", "ana")
    await store.display_keys.issue("lobby", "boardroom screen")
    await store.audit.record(Event("ban", "ana", "lobby", "mastodon:troll@example.social"))
    _, enrollment = await store.kiosks.enroll("pi-lobby", "10.0.0.7", ttl=900)
    await store.kiosks.approve(enrollment.code, "lobby", 1, 1, "root")
    return token


async def test_a_backup_taken_while_a_box_writes_restores_into_a_fresh_directory_and_a_node_runs_on_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    live = tmp_path / "live"
    live.mkdir()
    (live / "posts.json").write_text(json.dumps([{"id": f"p{n}", "text": f"Post {n}"} for n in range(50)]))
    config = live / "wall.toml"
    config.write_text(SERVE.format(dir=live))
    async with opened_store(f"sqlite+aiosqlite:///{live}/wall.db") as store:
        token = await fill(store)
    backups = tmp_path / "backups"
    backups.mkdir()
    for stamp in ("20200101T000000Z", "20210101T000000Z"):  # two older nightly backups, and a stranger
        (backups / f"wall-{stamp}.db").write_bytes(b"old")
        (backups / f"wall-{stamp}.db.json").write_text("{}")
    (backups / "notes.txt").write_text("keep me")

    port = free_port()
    node = logged(tmp_path / "serve.log", "serve", "--config", str(config), "--port", str(port))
    try:
        async with aiohttp.ClientSession() as s:
            await wait_up(s, f"http://127.0.0.1:{port}")
        await eventually(lambda: tables_of(live / "wall.db")[1]["stats_rollups"], timeout=120)
        backed = await asyncio.to_thread(wall, "backup", "--config", config, "--to", backups, "--keep", "2")
        assert backed.returncode == 0, backed.stderr
        # The replay source keeps looping: the box wrote on after (and while) the backup was taken.
        copy = max(backups.glob("wall-*.db"))  # the newest dated name
        recorded = json.loads((backups / f"{copy.name}.json").read_text())
        await eventually(lambda: tables_of(live / "wall.db")[1]["seen"] > recorded["tables"]["seen"])
    finally:
        node.send_signal(signal.SIGINT)  # stopped only to clean up: at once, no drain
        await asyncio.to_thread(node.wait, 60)

    assert f"backed up to {copy}" in backed.stdout and "checked" in backed.stdout
    kept = "wall-20210101T000000Z.db"
    assert sorted(p.name for p in backups.iterdir()) == sorted(
        [copy.name, f"{copy.name}.json", "notes.txt", kept, f"{kept}.json"])
    assert "removed the older backup" in backed.stdout and "20200101" in backed.stdout
    assert copy.stat().st_mode & 0o777 == 0o600  # it holds password hashes and posts
    assert copy.read_bytes()[18:20] == b"\x01\x01"  # one self-contained file: not in WAL mode
    assert (recorded["engine"], recorded["revision"]) == ("sqlite", head())
    assert tables_of(copy) == (head(), recorded["tables"])  # the counts are the file's: one snapshot
    held = recorded["tables"]
    for table in ("users", "sessions", "decisions", "rules", "blocked_words", "bans", "display_keys", "audit",
                  "kiosks", "stats_rollups", "bus_events", "bus_walls"):
        assert held[table] > 0, table

    fresh = tmp_path / "restored" / "store"  # a directory that does not exist yet
    url = f"sqlite+aiosqlite:///{fresh}/wall.db"
    restore_config = store_config(tmp_path / "restored.toml", url)
    code, out, err = await wall_here(capsys, "restore", "--config", restore_config, "--from", copy)
    assert code == 0, err
    assert f"restored {copy}, taken " in out and f"schema {head()}" in out and "migrated" not in out
    assert "  users              3\n" in out and "  stats_rollups      " in out  # what came back
    assert tables_of(fresh / "wall.db")[1] == held

    code, _, err = await wall_here(capsys, "restore", "--config", restore_config, "--from", copy)
    assert code == 1 and "already holds a store" in err and "--force" in err

    async with running_node(make_config(store_url=url)) as base, aiohttp.ClientSession() as s:
        async with Browser(base) as root:
            assert (await root.login("root")).status == 303  # the account is back, password and all
            rules = await root.get("/console/w/lobby/rules", html=True)
            assert "spoiler" in await rules.text()
            audit = await root.get("/console/audit", html=True)
            assert "troll@example.social" in await audit.text()
        screen = await Screen(s, base).connect()
        snapshot = await eventually(lambda: next((f for f in screen.frames if f["type"] == "snapshot"), None))
        assert snapshot["posts"]  # the display history is back
        with closing(sqlite3.connect(copy)) as conn:
            (total,), = conn.execute("SELECT total FROM bus_walls WHERE wall = 'lobby'").fetchall()
        assert total > 0
        # The figures go on from where they were; posts the backup caught in the inbox are committed now.
        sent, caught = await eventually(lambda: figures(screen)), held["bus_inbox"]
        assert all(total <= seen <= total + caught for seen in sent), (total, caught, sent)
    async with connect(url) as store:
        assert await store.sessions.get(token) is not None  # a console session survives the restore
        decision = await store.decisions.get("lobby", "p1~0")
        assert decision is not None and decision.status == "rejected"
        assert await store.bans.is_banned("lobby", "mastodon:troll@example.social")
        assert [k.wall for k in await store.kiosks.all()] == ["lobby"]

    # With the node stopped, --force replaces what the store holds now.
    code, out, err = await wall_here(capsys, "restore", "--config", restore_config, "--from", copy, "--force")
    assert code == 0, err
    assert tables_of(fresh / "wall.db")[1] == held


async def test_restore_refuses_a_changed_file_and_a_newer_schema_and_migrates_an_older_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old_url = f"sqlite+aiosqlite:///{tmp_path}/wall.db"
    await upgrade(old_url, "0004")  # a store of the release before the memory bus's tables
    store = await open_store(old_url, migrate=False, hasher=FAST)
    try:
        await store.users.add("root", PASSWORDS["root"], "admin")
    finally:
        await store.close()
    old_config = store_config(tmp_path / "old.toml", old_url)
    copy = tmp_path / "old-release.db"
    code, out, err = await wall_here(capsys, "backup", "--config", old_config, "--to", copy)
    assert code == 0 and "schema 0004" in out, err
    assert await current(old_url) == "0004"  # a backup never migrates the store it reads

    url = f"sqlite+aiosqlite:///{tmp_path}/new/wall.db"
    new_config = store_config(tmp_path / "new.toml", url)
    code, out, err = await wall_here(capsys, "restore", "--config", new_config, "--from", copy)
    assert code == 0, err
    assert f"schema 0004, migrated to {head()}" in out
    assert await current(url) == head()
    async with connect(url) as store:
        assert await store.users.verify("root", PASSWORDS["root"]) is not None

    changed = tmp_path / "changed.db"
    shutil.copy(copy, changed)
    shutil.copy(f"{copy}.json", f"{changed}.json")
    with closing(sqlite3.connect(changed)) as conn, conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")  # as a newer release would leave it
    elsewhere = store_config(tmp_path / "elsewhere.toml", f"sqlite+aiosqlite:///{tmp_path}/elsewhere/wall.db")
    code, _, err = await wall_here(capsys, "restore", "--config", elsewhere, "--from", changed)
    assert code == 1 and "does not match the sha256" in err
    (tmp_path / "changed.db.json").write_text("{}")
    code, _, err = await wall_here(capsys, "restore", "--config", elsewhere, "--from", changed)
    assert code == 1 and "changed.db.json is not the record `wall backup` writes" in err
    (tmp_path / "changed.db.json").unlink()
    code, _, err = await wall_here(capsys, "restore", "--config", elsewhere, "--from", changed)
    assert code == 1 and "schema 9999" in err and "newer wall" in err
    assert not (tmp_path / "elsewhere").exists()  # refused before anything was written

    code, _, err = await wall_here(capsys, "restore", "--config", elsewhere, "--from", old_config)
    assert code == 1 and "neither a SQLite file nor a pg_dump" in err


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    if binaries() is None:
        pytest.skip(MISSING)
    server = PostgresServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def writing(postgres: PostgresServer) -> AsyncIterator[tuple[str, str]]:
    """A PostgreSQL store with every kind of row, and a console that keeps writing to its audit; yields
    (URL, session token)."""
    url = postgres.create_database("live")
    async with opened_store(url) as store:
        token = await fill(store)

        async def keep_writing() -> None:
            while True:
                await store.audit.record(Event("decide", "ana", "lobby", "p2~0"))

        writer = asyncio.create_task(keep_writing())
        yield url, token
        writer.cancel()


async def test_postgresql_backup_while_writing_restores_into_a_fresh_database(
        tmp_path: Path, postgres: PostgresServer, writing: tuple[str, str],
        capsys: pytest.CaptureFixture[str]) -> None:
    url, token = writing
    config = store_config(tmp_path / "live.toml", url)
    code, _, err = await wall_here(capsys, "backup", "--config", config, "--to", tmp_path / "backups",
                                   "--keep", "3")
    assert code == 0, err
    dump = next((tmp_path / "backups").glob("wall-*.dump"))
    recorded = json.loads(dump.with_name(f"{dump.name}.json").read_text())
    assert (recorded["engine"], recorded["revision"]) == ("postgresql", head())
    assert dump.stat().st_mode & 0o777 == 0o600

    fresh = postgres.create_database("restored")
    restore_config = store_config(tmp_path / "restored.toml", fresh)
    code, _, err = await wall_here(capsys, "restore", "--config", restore_config, "--from", dump)
    assert code == 0, err
    # The counts recorded are those of the dump's snapshot, taken while the audit kept growing.
    assert (await describe_store(fresh))[1] == recorded["tables"]
    assert (await describe_store(url))[1]["audit"] > recorded["tables"]["audit"]
    async with connect(fresh) as store:
        assert await store.sessions.get(token) is not None
        assert await store.bans.is_banned("lobby", "mastodon:troll@example.social")
    async with running_node(make_config(store_url=fresh)) as base, Browser(base) as root:
        assert (await root.login("root")).status == 303
        assert "spoiler" in await (await root.get("/console/w/lobby/rules", html=True)).text()

    code, _, err = await wall_here(capsys, "restore", "--config", restore_config, "--from", dump)
    assert code == 1 and "database restored already holds a store" in err
    code, _, err = await wall_here(capsys, "restore", "--config", restore_config, "--from", dump, "--force")
    assert code == 0, err

    sqlite_file = tmp_path / "a.db"
    with closing(sqlite3.connect(sqlite_file)) as conn:
        conn.execute("CREATE TABLE t (x)")
    code, _, err = await wall_here(capsys, "restore", "--config", restore_config, "--from", sqlite_file)
    assert code == 1 and "is a sqlite backup and the store is postgresql" in err


def test_a_missing_postgresql_tool_is_named_with_its_package_and_the_dba_way() -> None:
    with pytest.raises(BackupError, match=r"pg_dumpx is not installed: apt-get install postgresql-client .* "
                                          r"have the DBA back the database up \(docs/backup.md\)"):
        find_tool("pg_dumpx")
