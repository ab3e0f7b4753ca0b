"""`wall digest send --config F --wall W --period yesterday`: one digest now, whatever the schedule (to
test the relay, or for an event: --period 2026-12-01..2026-12-03). It goes to the wall's [walls.W.digest]
addresses, or to --to; recorded on the console's Digests page like the scheduled ones, under its own key,
so it neither stands in for nor blocks the scheduled digest of the same days."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path
from typing import Any, cast

from wall.config import Config
from wall.digests.compose import compose
from wall.digests.job import deliver
from wall.digests.schedule import named
from wall.digests.settings import Digest, is_address
from wall.digests.smtp import stale_after
from wall.store import connect


def add_digest_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Register `digest send` on an argparse subparsers object."""
    digest = cast(argparse.ArgumentParser, subparsers.add_parser(
        "digest", help="e-mailed digests of a wall's figures (docs/digests.md)"))
    send = digest.add_subparsers(dest="digest_command", required=True).add_parser(
        "send", help="send a wall's digest of a period now")
    send.add_argument("--config", required=True, type=Path, help="TOML config file (its [smtp] section)")
    send.add_argument("--wall", required=True)
    send.add_argument("--period", default="yesterday",
                      help="yesterday (default), today, last-week, 2026-12-05 or 2026-12-01..2026-12-03, in "
                           "the wall's time zone")
    send.add_argument("--to", action="append", default=[], metavar="ADDRESS",
                      help="send to this address instead of the wall's list (repeat for more)")
    return digest


async def run_digest_command(args: argparse.Namespace, cfg: Config) -> int:
    """0 sent, 1 not sent (the reason printed), 2 bad input."""
    def refuse(problem: str) -> int:
        print(f"wall digest send: {problem}", file=sys.stderr)
        return 2

    wall = cfg.walls.get(args.wall)
    if wall is None:
        return refuse(f"--wall: no wall named {args.wall!r}; the config has {', '.join(cfg.walls)}")
    if cfg.smtp is None:
        return refuse(f"{args.config}: no [smtp] section; add one with host, security and from "
                      "(docs/digests.md)")
    if bad := [to for to in args.to if not is_address(to)]:
        return refuse(f"--to: {bad[0][:80]!r} is not an e-mail address")
    if not args.to and wall.digest is None:
        return refuse(f"--to: wall {wall.name} has no [walls.{wall.name}.digest] list; name the addresses "
                      "with --to")
    schedule = wall.digest or Digest(to=())
    if args.to:
        schedule = dataclasses.replace(schedule, to=tuple(args.to))
    now = time.time()
    try:
        period = named(args.period, schedule.tz, now)
    except ValueError as e:
        return refuse(f"--period: {e}")
    key = f"{period.key}@{now:.0f}"  # each send by hand is a row of its own
    by = f"cli:{args.digest_command}"
    async with connect(cfg.store.url) as store:
        if not await store.digests.claim(wall.name, key, period.start, period.end, len(schedule.to), by,
                                         stale_after(cfg.smtp), now):
            print(f"wall digest send: another send of this digest started this second ({key}); not sent "
                  "twice", file=sys.stderr)
            return 1
        outcome = await deliver(cfg.smtp, store, dataclasses.replace(wall, digest=schedule),
                                dataclasses.replace(period, key=key), by, compose, "range", now)
    if outcome.sent:
        print(f"wall {wall.name}: digest of {period.label} sent to {', '.join(schedule.to)} "
              f"(attempt {outcome.attempts}){'; ' + outcome.error if outcome.error else ''}")
        return 0
    print(f"wall {wall.name}: digest of {period.label} NOT sent after {outcome.attempts} attempt(s): "
          f"{outcome.error}", file=sys.stderr)
    return 1
