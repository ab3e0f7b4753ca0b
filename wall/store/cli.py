"""`wall user add/passwd/remove/list/unlock`: accounts from the command line (the first admin comes from
here; `unlock` clears an account's failed-login delays).

wall/cli.py registers them (`add_user_commands`) and runs them with the config's [store] url.
Passwords are read with getpass (asked twice) or, with --password-stdin, as the first line of stdin; they
are never printed or logged.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any, cast

from wall.store.audit import Event
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
