"""`wall user …` as an operator runs it: a real process, the password on stdin, never echoed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from wall.store import connect
from wall.store.migrate import current, head

PASSWORD = "first admin password"
ALEMBIC_INI = Path(__file__).resolve().parent.parent / "wall" / "store" / "alembic.ini"


def wall_user(url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """`wall user …` as an admin types it, with a config whose [store] url is the test's database."""
    config = Path(url.removeprefix("sqlite+aiosqlite:///")).with_name("wall.toml")
    config.write_text(f'[store]\nurl = "{url}"\n[walls.lobby]\ntitle = "Lobby"\n')
    return subprocess.run([sys.executable, "-m", "wall", "user", "--config", str(config), *args],
                          input=stdin, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/wall.db"


async def test_the_first_admin_is_created_changed_listed_and_removed_from_the_command_line(url: str) -> None:
    added = wall_user(url, "add", "Root", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "added root (admin)"
    assert PASSWORD not in added.stdout + added.stderr
    async with connect(url) as store:
        root = await store.users.verify("root", PASSWORD)
        assert root is not None and root.role == "admin"
        token, _ = await store.sessions.create(root.id)

    again = wall_user(url, "add", "root", "--role", "curator", "--password-stdin", stdin=PASSWORD + "\n")
    assert again.returncode == 1 and "already exists" in again.stderr

    changed = wall_user(url, "passwd", "root", "--password-stdin", stdin="a second long password\n")
    assert changed.returncode == 0, changed.stderr
    assert "1 session(s) ended" in changed.stdout
    async with connect(url) as store:
        assert await store.users.verify("root", PASSWORD) is None
        assert await store.users.verify("root", "a second long password") is not None
        assert await store.sessions.get(token) is None  # a changed password logs out everywhere

    wall_user(url, "add", "ana", "--role", "curator", "--password-stdin", stdin="curator password 1\n")
    listed = wall_user(url, "list")
    assert listed.stdout.splitlines() == ["ana\tcurator", "root\tadmin"]

    assert wall_user(url, "remove", "ana").returncode == 0
    missing = wall_user(url, "remove", "ana")
    assert missing.returncode == 1 and "no user 'ana'" in missing.stderr
    assert wall_user(url, "list").stdout.splitlines() == ["root\tadmin"]


def test_a_short_password_is_refused_before_anything_is_stored(url: str) -> None:
    short = wall_user(url, "add", "root", "--role", "admin", "--password-stdin", stdin="short\n")
    assert short.returncode == 2 and "at least 12 characters" in short.stderr
    assert "short\n" not in short.stderr
    assert wall_user(url, "list").stdout == ""


def test_a_bad_role_is_an_argparse_error(url: str) -> None:
    bad = wall_user(url, "add", "root", "--role", "root", "--password-stdin", stdin=PASSWORD + "\n")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


def alembic_cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "alembic", "-c", str(ALEMBIC_INI), *args],
                          env={**os.environ, "WALL_STORE_URL": url}, capture_output=True, text=True,
                          timeout=120, check=False)


async def test_the_alembic_command_line_migrates_with_the_same_scripts(url: str) -> None:
    done = alembic_cli(url, "upgrade", "head")
    assert done.returncode == 0, done.stderr
    assert await current(url) == head()
    assert f"{head()} (head)" in alembic_cli(url, "current").stdout
    async with connect(url) as store:  # and the service finds nothing left to do
        assert await store.ping()
