"""`wall optout add/list/remove --config F --wall W`: a wall's opt-out list from the command line, the same
service and audit as the console's (docs/optout.md). The audit names the actor "cli".

With the Redis engine the wall's writer is told through its inbox and retracts the author's posts at
once. The memory engine's bus lives inside the serving process, out of reach: the opt-out is in the
store, and that process's writer finds it there within OPTOUTS_EVERY seconds.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from redis.exceptions import RedisError

from wall.bus import open_engine
from wall.config import Config
from wall.curate.actions import Actions
from wall.curate.writer import OPTOUTS_EVERY
from wall.store import connect


def add_optout_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Register `optout` with its subcommands on an argparse subparsers object."""
    optout = cast(argparse.ArgumentParser, subparsers.add_parser(
        "optout", help="a wall's opt-out list: add an author at their request, list, remove (audited)"))
    commands = optout.add_subparsers(dest="optout_command", required=True)
    add = commands.add_parser("add", help="opt an author out: their posts leave every screen, new ones "
                              "are not shown or kept")
    add.add_argument("--days", type=float, help="how long (default: the wall's [walls.W.optout] days)")
    remove = commands.add_parser("remove", help="end an author's opt-out now")
    listing = commands.add_parser("list", help="who is opted out now: author, reason, by, since, until")
    for p in (add, remove, listing):
        p.add_argument("--config", required=True, type=Path, help="TOML config file")
        p.add_argument("--wall", required=True)
    for p in (add, remove):
        p.add_argument("--author", required=True, help="NETWORK:HANDLE, as the console names authors")
    return optout


async def run_optout_command(args: argparse.Namespace, cfg: Config) -> int:
    """Run `wall optout <add|remove|list>`; 0 done, 1 stored but Redis unreachable, 2 bad input."""
    command = f"wall optout {args.optout_command}"
    if args.wall not in cfg.walls:
        print(f"{command}: --wall: no wall named {args.wall!r}; the config has {', '.join(cfg.walls)}",
              file=sys.stderr)
        return 2
    engine = open_engine(cfg.bus)
    try:
        async with connect(cfg.store.url) as store:
            actions = Actions(store, engine, cfg)
            if args.optout_command == "add":
                done = await actions.opt_out(args.wall, args.author, "cli", args.days)
                print(f"{done['author']} is opted out of wall {args.wall} until {_utc(done['until'])} UTC"
                      f"{_later(cfg)}")
            elif args.optout_command == "remove":
                done = await actions.opt_in(args.wall, args.author, "cli")
                print(f"{done['author']}: {'opt-out ended' if done['removed'] else 'was not opted out'}"
                      f" on wall {args.wall}")
            else:
                for o in await actions.optouts(args.wall):
                    print("\t".join((o["author"], o["reason"], o["by"], _utc(o["since"]), _utc(o["until"]))))
    except ValueError as e:
        print(f"{command}: {e}", file=sys.stderr)
        return 2
    except RedisError as e:  # the store has it (written first); telling the writer now failed
        print(f"{command}: stored and audited, but the wall's writer could not be told now ({e}); it "
              f"finds it in the store within {OPTOUTS_EVERY:g} s while it runs", file=sys.stderr)
        return 1
    finally:
        await engine.close()
    return 0


def _later(cfg: Config) -> str:
    if cfg.bus.engine == "memory":
        return f"; the serving process takes it from the store within {OPTOUTS_EVERY:g} s"
    return "; their posts leave every screen now"


def _utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M")
