"""`wall user add/passwd/remove/list/unlock`: accounts from the command line (the first admin comes from
here; `unlock` clears an account's failed-login delays). `wall backup` and `wall restore` (docs/backup.md).

wall/cli.py registers them (`add_user_commands`, `add_backup_commands`) and runs them with the config's
[store] url.
Passwords are read with getpass (asked twice) or, with --password-stdin, as the first line of stdin; they
are never printed or logged.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa

from wall.store.audit import Event
from wall.store.backup import BackupError, backup, restore
from wall.store.migrate import head
from wall.store.store import open_store
from wall.store.users import ROLES, Role, UnknownUser, UserExists

MIN_PASSWORD = 12


def add_user_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Register `user` with its subcommands on an argparse subparsers object; returns the `user` parser."""
    user = cast(argparse.ArgumentParser, subparsers.add_parser("user", help="manage console accounts"))
    actions = user.add_subparsers(dest="user_command", required=True)
    add = actions.add_parser("add", help="create an account")
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, required=True)
    passwd = actions.add_parser("passwd", help="set a new password (and log the user out everywhere)")
    passwd.add_argument("username")
    for p in (add, passwd):
        p.add_argument("--password-stdin", action="store_true",
                       help="read the password from the first line of stdin instead of asking")
    remove = actions.add_parser("remove", help="delete an account and its sessions")
    remove.add_argument("username")
    actions.add_parser("list", help="list accounts")
    unlock = actions.add_parser("unlock", help="clear an account's failed-login delays (audited)")
    unlock.add_argument("username")
    return user


def read_password(from_stdin: bool) -> str:
    """The new password, from stdin or asked twice on the terminal; raises ValueError when unusable."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("New password: ")
        if getpass.getpass("Again: ") != password:
            raise ValueError("the two passwords differ")
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")
    return password


async def run_user_command(args: argparse.Namespace, store_url: str) -> int:
    """Run `wall user <add|passwd|remove|list|unlock>`; returns the exit code (0 ok, 1 refused, 2 bad
    input)."""
    password = ""
    if args.user_command in ("add", "passwd"):
        try:
            password = read_password(args.password_stdin)
        except ValueError as e:
            print(f"wall user {args.user_command}: {e}", file=sys.stderr)
            return 2
    store = await open_store(store_url)
    try:
        if args.user_command == "add":
            user = await store.users.add(args.username, password, cast(Role, args.role))
            print(f"added {user.username} ({user.role})")
        elif args.user_command == "passwd":
            await store.users.passwd(args.username, password)
            found = await store.users.get(args.username)
            ended = await store.sessions.revoke_all_for_user(found.id) if found else 0
            print(f"password changed for {args.username.strip().lower()}; {ended} session(s) ended")
        elif args.user_command == "remove":
            await store.users.remove(args.username)
            print(f"removed {args.username.strip().lower()}")
        elif args.user_command == "unlock":
            account = await store.users.get(args.username)
            if account is None:
                raise UnknownUser(f"no user {args.username.strip().lower()!r}")
            cleared = await store.logins.unlock(account.username)
            await store.audit.record(Event("user.unlock", "cli", target=account.username,
                                           after={"counters": cleared}))
            print(f"unlocked {account.username}: {cleared} failed-login counter(s) cleared")
        else:
            for u in await store.users.list():
                print("\t".join([u.username, u.role, *(["disabled"] if u.disabled else [])]))
        return 0
    except (UserExists, UnknownUser, ValueError) as e:
        print(f"wall user {args.user_command}: {e}", file=sys.stderr)
        return 1
    finally:
        await store.close()


def add_backup_commands(subparsers: Any) -> None:
    """Register `backup` and `restore` on an argparse subparsers object."""
    back = subparsers.add_parser("backup", help="back the store up to a checked file (safe while it runs)")
    back.add_argument("--to", required=True, type=Path,
                      help="a file, or a directory where the backup gets a dated name (wall-<UTC>.db|dump)")
    back.add_argument("--keep", type=_positive,
                      help="--to is a directory: keep only the N newest dated backups in it")
    again = subparsers.add_parser("restore", help="restore a backup into the configured store and migrate it")
    again.add_argument("--from", dest="source", required=True, type=Path, help="the backup file")
    again.add_argument("--force", action="store_true",
                       help="replace a store that holds data (stop every wall process on it first)")
    for p in (back, again):
        p.add_argument("--config", required=True, type=Path, help="TOML config file (its [store] url)")


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give a whole number of backups to keep, at least 1")
    return int(text)


async def run_backup_command(args: argparse.Namespace, store_url: str) -> int:
    """Run `wall backup` or `wall restore`; prints what was written or restored, rows per table (0 ok,
    1 refused or failed)."""
    try:
        if args.command == "backup":
            out, made, removed = await backup(store_url, args.to, args.keep)
            print(f"backed up to {out} ({made.engine}, schema {made.revision}, {made.bytes} bytes, checked)")
            _print_tables(made.tables)
            for old in removed:
                print(f"removed the older backup {old}")
        else:
            done = await restore(store_url, args.source, args.force)
            taken = (f", taken {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(done.backup.taken_at))}"
                     if done.backup else " (no .json beside it: checksum not verified)")
            migrated = f", migrated to {head()}" if done.revision != head() else ""
            print(f"restored {args.source}{taken}: schema {done.revision}{migrated}")
            _print_tables(done.tables)
        return 0
    except BackupError as e:
        print(f"wall {args.command}: {e}", file=sys.stderr)
    except (OSError, sa.exc.SQLAlchemyError) as e:
        print(f"wall {args.command}: cannot reach the store or the file: {e}", file=sys.stderr)
    return 1


def _print_tables(tables: dict[str, int]) -> None:
    held = {name: rows for name, rows in tables.items() if rows}
    width = max(map(len, held), default=0)
    for name, rows in held.items():
        print(f"  {name:<{width}}  {rows}")
    print(f"  ({len(tables) - len(held)} empty tables)")
