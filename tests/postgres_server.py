"""A real PostgreSQL for the tests: Debian's binaries, a throwaway cluster on a free port of 127.0.0.1.

PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` user (Debian's package
creates it) and every server command runs through `runuser -u postgres --`.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.ports import free_port

MISSING = ("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): run scripts/test, which "
           "installs it (apt-get install postgresql)")
USER = "wall"  # the cluster's superuser; trust auth, so no password


def binaries() -> Path | None:
    """The newest installed PostgreSQL's bin directory, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name))
    return Path(found[-1]).parent if found else None


class PostgresServer:
    """A cluster in a temporary directory: start() initdb's and starts it, stop() stops and deletes it."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.bin = binaries()
        self.dir = Path(tempfile.mkdtemp(prefix="wall-pg-"))  # not under pytest's root-only tmp dir
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.as_root = os.getuid() == 0

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://{USER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_root else []
        return subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=timeout, check=False,
                              cwd=self.dir)

    def start(self) -> None:
        if self.bin is None:
            raise RuntimeError(MISSING)
        if self.as_root:
            pg = pwd.getpwnam("postgres")
            os.chown(self.dir, pg.pw_uid, pg.pw_gid)
        if not self.data.exists():
            done = self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", USER, "-A", "trust",
                             "-E", "UTF8", "--no-sync", "--no-instructions")
            if done.returncode != 0:
                raise RuntimeError(f"initdb failed:\n{done.stdout}{done.stderr}")
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        done = self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
                         "-w", "-t", "30", "start")
        if done.returncode != 0:
            raise RuntimeError(f"PostgreSQL on port {self.port} did not start:\n{done.stdout}{done.stderr}\n"
                               f"its log:\n{self._log_text()}")

    def create_database(self, name: str) -> str:
        """Create an empty database; returns its URL."""
        done = self._run(str(self.bin / "createdb") if self.bin else "createdb", "-h", str(self.dir),
                         "-p", str(self.port), "-U", USER, name)
        if done.returncode != 0:
            raise RuntimeError(f"createdb {name} failed: {done.stderr}")
        return self.url(name)

    def dump(self, database: str, name: str) -> Path:
        """pg_dump the database in custom format into the cluster's directory; returns the file."""
        return self._tool("pg_dump", "--format=custom", f"--file={self.dir / name}", database, out=name)

    def restore(self, dump: Path, database: str) -> None:
        """pg_restore a dump into an existing (empty) database."""
        self._tool("pg_restore", "--no-owner", f"--dbname={database}", str(dump), out="")

    def _tool(self, tool: str, *args: str, out: str) -> Path:
        assert self.bin is not None, MISSING
        done = self._run(str(self.bin / tool), "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, *args)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed: {done.stderr}")
        return self.dir / out

    def stop(self) -> None:
        """Stop the server and delete the cluster."""
        if self.bin is not None and (self.data / "postmaster.pid").exists():
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)

    def _log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-4000:]
        except OSError:
            return "(no log written)"
