"""Backups of the store that restore: `wall backup` and `wall restore` (docs/backup.md).

SQLite: SQLite's online backup API copies a consistent snapshot while the wall's processes keep writing
(WAL: readers never block the writer), into one self-contained file that is checked before it takes the
backup's name. PostgreSQL: pg_dump in custom format, driven with the configured URL's credentials in the
environment (a temporary pgpass file), never on a command line. Beside each backup, `NAME.json` records the
engine, schema revision, time, rows per table and the file's sha256.

Restoring refuses a store that holds anything (unless forced), a backup of the other engine, and a backup
from a newer schema than this code knows; an older one is migrated to head once restored.
"""

from __future__ import annotations

import asyncio
import glob
import hashlib
import json
import os
import re
import shutil
import sqlite3
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, closing
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from wall.store.engine import BUSY_TIMEOUT_MS, check_url, create_engine
from wall.store.migrate import head, known, upgrade

NAME = re.compile(r"^wall-\d{8}T\d{6}Z\.(db|dump)$")  # what `--to DIRECTORY` writes, and rotation removes
MAGIC = {"sqlite": b"SQLite format 3\x00", "postgresql": b"PGDMP"}
SUFFIX = {"sqlite": "db", "postgresql": "dump"}
TABLES = {  # the store's tables, as each engine lists them
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    "postgresql": "SELECT table_name FROM information_schema.tables "
                  "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
}
DOCS = "docs/backup.md"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do instead."""


@dataclass(frozen=True)
class Backup:
    """What `NAME.json` beside a backup records."""

    engine: str
    revision: str
    taken_at: float
    tables: dict[str, int]
    sha256: str
    bytes: int


@dataclass(frozen=True)
class Restored:
    backup: Backup | None  # None when the backup had no NAME.json beside it
    revision: str  # the backup's schema revision (the store is at head now)
    tables: dict[str, int]


Query = Callable[[str], Sequence[Sequence[Any]]]


def describe(query: Query, engine: str) -> tuple[str | None, dict[str, int]]:
    """The schema revision (None: not a wall store) and the rows of each table, through any connection."""
    names = sorted(str(row[0]) for row in query(TABLES[engine]))
    revision = None
    if "alembic_version" in names:
        names.remove("alembic_version")
        found = query("SELECT version_num FROM alembic_version")
        revision = str(found[0][0]) if found else None
    return revision, {name: int(query(f'SELECT count(*) FROM "{name}"')[0][0]) for name in names}


def engine_of(url: str) -> str:
    return "sqlite" if check_url(url).drivername.startswith("sqlite") else "postgresql"


def metadata_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


async def backup(url: str, to: Path, keep: int | None = None) -> tuple[Path, Backup, list[Path]]:
    """Back the store up to `to`: a file, or a directory (one that exists, or any with `keep`) where it
    gets a dated name and then only the `keep` newest dated backups stay. Returns the file, what was
    recorded, and the old backups removed."""
    engine = engine_of(url)
    if keep is not None or await asyncio.to_thread(to.is_dir):
        out = to / time.strftime(f"wall-%Y%m%dT%H%M%SZ.{SUFFIX[engine]}", time.gmtime())
    else:
        out = to
    partial = out.with_name(f".{out.name}.partial")
    try:
        await asyncio.to_thread(_private_file, partial)
        if engine == "sqlite":
            revision, tables = await asyncio.to_thread(_sqlite_backup, sqlite_file(url), partial)
        else:
            revision, tables = await _pg_backup(url, partial)
        if revision is None:
            raise BackupError("the store holds no schema revision: start the wall on it once (it migrates), "
                              "then back it up")
        digest, size = await asyncio.to_thread(_sha256, partial)
        made = Backup(engine, revision, time.time(), tables, digest, size)
        await asyncio.to_thread(_commit, partial, out, made)
    finally:
        await asyncio.to_thread(partial.unlink, missing_ok=True)
    removed = await asyncio.to_thread(rotate, to, keep) if keep is not None else []
    return out, made, removed


async def restore(url: str, source: Path, force: bool = False) -> Restored:
    """Restore `source` into the store at `url`, then migrate it to head; see the module's docstring."""
    engine = engine_of(url)
    recorded = await asyncio.to_thread(_check_file, source, engine)
    if engine == "sqlite":
        revision = await asyncio.to_thread(_sqlite_restore, source, sqlite_file(url), force)
    else:
        revision = await _pg_restore(url, source, force)
    await upgrade(url)
    _, tables = await describe_store(url)
    return Restored(recorded, revision, tables)


def rotate(directory: Path, keep: int) -> list[Path]:
    """Remove all but the `keep` newest dated backups (and their NAME.json) of a directory; other files
    stay. Dated names sort by time."""
    dated = sorted(p for p in directory.iterdir() if NAME.match(p.name))
    old = dated[:max(0, len(dated) - keep)]
    for path in old:
        path.unlink()
        metadata_path(path).unlink(missing_ok=True)
    return old


def sqlite_file(url: str) -> Path:
    database = check_url(url).database
    if not database or database == ":memory:":
        raise BackupError(f"store.url {url!r} names no file")
    return Path(database).absolute()


def check_revision(revision: str | None, source: Path) -> str:
    """The backup's revision if this code can run a store at it; else why not."""
    if revision is None:
        raise BackupError(f"{source} holds no schema revision: it is not a backup of a wall store")
    if not known(revision):
        raise BackupError(f"{source} is at schema {revision}, which this release does not know (it knows up "
                          f"to {head()}): it was made by a newer wall; restore it with that release or newer")
    return revision


def refuse_non_empty(where: str, tables: dict[str, int], force: bool) -> None:
    if tables and not force:
        rows = sum(tables.values())
        raise BackupError(f"{where} already holds a store ({len(tables)} tables, {rows} rows): restore into "
                          "an empty one, or stop every wall process on it and add --force to replace it")


def _private_file(path: Path) -> None:
    # A backup holds password hashes and posts: readable by its owner only, from its first byte.
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))


def _sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest(), path.stat().st_size


def _commit(partial: Path, out: Path, made: Backup) -> None:
    """Give the checked file its name (atomically), then write its NAME.json; both reach the disk."""
    with partial.open("rb") as f:
        os.fsync(f.fileno())
    os.replace(partial, out)
    meta = metadata_path(out)
    tmp = meta.with_name(f".{meta.name}.partial")
    _private_file(tmp)
    tmp.write_text(json.dumps(asdict(made), indent=2) + "\n")
    os.replace(tmp, meta)
    fd = os.open(out.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _check_file(source: Path, engine: str) -> Backup | None:
    """Refuse a file that is missing, of the other engine, or that differs from its NAME.json."""
    try:
        with source.open("rb") as f:
            start = f.read(16)
    except OSError as e:
        raise BackupError(f"cannot read the backup {source}: {e.strerror}") from e
    if not start.startswith(MAGIC[engine]):
        other = next((name for name, magic in MAGIC.items() if start.startswith(magic)), None)
        raise BackupError(f"{source} is a {other} backup and the store is {engine}: restore it into a "
                          f"{other} store (a backup restores into the engine it was taken from)"
                          if other else f"{source} is neither a SQLite file nor a pg_dump custom-format dump")
    meta = metadata_path(source)
    if not meta.exists():
        return None
    try:
        recorded = Backup(**json.loads(meta.read_text()))
    except (ValueError, TypeError) as e:
        raise BackupError(f"{meta} is not the record `wall backup` writes ({e}): move it away to restore "
                          "without checking the file against it") from e
    if _sha256(source) != (recorded.sha256, recorded.bytes):
        raise BackupError(f"{source} does not match the sha256 in {meta.name}: it was changed or cut short "
                          "since the backup; take another copy")
    return recorded


def _sqlite_backup(db: Path, out: Path) -> tuple[str | None, dict[str, int]]:
    if not db.is_file():
        raise BackupError(f"no store at {db}: check [store] url")
    # mode=rw: a wrong path fails instead of creating an empty database; the backup API reads one
    # consistent snapshot while the wall's processes keep writing.
    live = sqlite3.connect(f"{db.as_uri()}?mode=rw", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    with closing(live) as src, closing(sqlite3.connect(out)) as dst:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, nothing in a -wal beside it
        problems = [row[0] for row in dst.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise BackupError(f"the copy of {db} fails SQLite's integrity check ({'; '.join(problems[:3])}); "
                              "the store itself may be damaged: run PRAGMA integrity_check on it")
        return describe(lambda sql: dst.execute(sql).fetchall(), "sqlite")


def _sqlite_restore(source: Path, db: Path, force: bool) -> str:
    with closing(sqlite3.connect(f"{source.absolute().as_uri()}?mode=ro", uri=True)) as src:
        problems = [row[0] for row in src.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise BackupError(f"{source} fails SQLite's quick check ({'; '.join(problems[:3])}): it is "
                              "damaged; restore another backup")
        revision = check_revision(describe(lambda sql: src.execute(sql).fetchall(), "sqlite")[0], source)
        db.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(db, timeout=BUSY_TIMEOUT_MS / 1000)) as dst:
            refuse_non_empty(str(db), describe(lambda sql: dst.execute(sql).fetchall(), "sqlite")[1], force)
            # Through SQLite, not a file copy: the store's -wal and locks stay consistent with its contents.
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=WAL")  # as the wall runs it
    return revision


async def describe_store(url: str) -> tuple[str | None, dict[str, int]]:
    """The store's schema revision and rows per table."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_describe_connection)
    finally:
        await engine.dispose()


def _describe_connection(conn: sa.Connection) -> tuple[str | None, dict[str, int]]:
    return describe(lambda sql: [tuple(row) for row in conn.exec_driver_sql(sql)], conn.dialect.name)


# PostgreSQL: the client tools, given the configured URL through the environment.

async def _pg_backup(url: str, out: Path) -> tuple[str | None, dict[str, int]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            # pg_dump reads the snapshot this transaction exported: the counts recorded are the dump's.
            conn = await conn.execution_options(isolation_level="REPEATABLE READ")
            async with conn.begin():
                snapshot = (await conn.exec_driver_sql("SELECT pg_export_snapshot()")).scalar_one()
                described = await conn.run_sync(_describe_connection)
                await pg_tool(url, "pg_dump", "--format=custom", f"--snapshot={snapshot}", f"--file={out}")
    finally:
        await engine.dispose()
    if await _dump_revision(url, out) != described[0]:
        raise BackupError(f"the dump {out} does not hold the schema revision the store has; take it again")
    return described


async def _pg_restore(url: str, source: Path, force: bool) -> str:
    revision = check_revision(await _dump_revision(url, source), source)
    database = check_url(url).database or ""
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            _, tables = await conn.run_sync(_describe_connection)
            refuse_non_empty(f"database {database}", tables, force)
            if tables:  # the dump's objects land in an empty schema: nothing of a newer one lingers
                names = ", ".join(f'"{name}"' for name in [*tables, "alembic_version"])
                await conn.exec_driver_sql(f"DROP TABLE IF EXISTS {names} CASCADE")
    finally:
        await engine.dispose()
    await pg_tool(url, "pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
                  "--single-transaction", f"--dbname={database}", str(source))
    return revision


async def _dump_revision(url: str, dump: Path) -> str | None:
    """The schema revision inside a custom-format dump (its alembic_version data), without a database."""
    script = await pg_tool(url, "pg_restore", "--data-only", "--table=alembic_version", "--file=-", str(dump))
    lines = script.splitlines()
    copy = next((i for i, line in enumerate(lines) if line.startswith("COPY ") and "alembic_version" in line),
                None)
    return lines[copy + 1] if copy is not None and lines[copy + 1] != "\\." else None


async def pg_tool(url: str, name: str, *args: str) -> str:
    """Run a PostgreSQL client tool against the URL's server; its stdout, or BackupError saying what to do."""
    exe = find_tool(name)
    async with _pg_environment(url) as env:
        proc = await asyncio.create_subprocess_exec(exe, *args, env=env, stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate()
    if proc.returncode != 0:
        raise BackupError(explain(name, exe, err.decode(errors="replace").strip()))
    return out.decode()


def find_tool(name: str) -> str:
    """The tool on PATH, else the newest Debian/Ubuntu PostgreSQL's."""
    found = shutil.which(name) or next(iter(sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0,
        reverse=True)), None)
    if found is None:
        raise BackupError(f"{name} is not installed: apt-get install postgresql-client (the server's major "
                          f"version or newer), or have the DBA back the database up ({DOCS})")
    return found


def explain(name: str, exe: str, stderr: str) -> str:
    """The tool's own error, with the fix where we know it."""
    if "server version mismatch" in stderr or "unsupported version" in stderr:
        return (f"{name} ({exe}) is older than the server or the dump: install the client tools of the "
                f"server's major version or newer and put them first on PATH, or have the DBA do it "
                f"({DOCS}).\n{stderr}")
    return f"{name} failed: {stderr}"


@asynccontextmanager
async def _pg_environment(url: str) -> AsyncIterator[dict[str, str]]:
    """libpq's environment for the URL; the password in a pgpass file only we can read, removed after."""
    parsed = check_url(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}  # the URL alone says where
    given = {"PGHOST": parsed.host or parsed.query.get("host"), "PGPORT": parsed.port,
             "PGUSER": parsed.username, "PGDATABASE": parsed.database,
             "PGSSLMODE": parsed.query.get("sslmode") or parsed.query.get("ssl")}
    env.update({k: str(v) for k, v in given.items() if v})
    with tempfile.TemporaryDirectory(prefix="wall-pgpass-") as private:  # mode 0700
        if parsed.password:
            passfile = Path(private) / "pgpass"
            escaped = parsed.password.replace("\\", "\\\\").replace(":", "\\:")
            await asyncio.to_thread(_write_private, passfile, f"*:*:*:*:{escaped}\n")
            env["PGPASSFILE"] = str(passfile)
        yield env


def _write_private(path: Path, text: str) -> None:
    _private_file(path)
    path.write_text(text)
