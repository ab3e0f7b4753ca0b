"""What the display log costs a web node with 1,000 screens: checking and summing one screen's report, the
node's memory between flushes, one flush to SQLite, and the store's size per post.

    .venv/bin/python bench/display_log.py [--screens 1000] [--posts 20] [--pool 60] [--minutes 10]

Each screen reports once a minute (the default `report_every`) the `--posts` posts it showed, drawn from
the `--pool` posts the wall showed that minute (16-hex ids, as the wall makes them). Per report: the frame
is routed (`kind_of`), checked (`read_report`), summed (`Tally.add`) and answered, as the socket does. Then
the node flushes every `--minutes` minute to a fresh SQLite store (`store.display_log.add`, the real
transaction), new posts each minute. One process on one core; a figure is the best of --rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from prometheus_client import CollectorRegistry  # noqa: E402

from wall.models import encode  # noqa: E402
from wall.store import connect  # noqa: E402
from wall.web.display import Tally, kind_of, read_report  # noqa: E402


def reports(screens: int, posts: int, pool: list[str], now: float) -> list[str]:
    rng = random.Random(7)
    out = []
    for s in range(screens):
        shown = rng.sample(pool, posts)
        entries = [[pid, round(rng.uniform(3, 20), 1), int(now - rng.uniform(0, 60))] for pid in shown]
        screen = f"{s:016x}SCREENID.1-1"
        out.append(json.dumps({"type": "shown", "seq": 1, "screen": screen, "posts": entries}))
    return out


def answer_all(tally: Tally, frames: list[str], known: set[str], now: float) -> None:
    hub = SimpleNamespace(knows=known.__contains__)
    for data in frames:
        if kind_of(data) == "shown":
            report = read_report(data)
            taken = tally.add("lobby", report, hub.knows, now)
            encode({"type": "shown", "seq": report.seq, "taken": taken})


async def flushes(args: argparse.Namespace, pool_of: list[list[str]], now: float, url: str) -> list[float]:
    async with connect(url) as store:
        times = []
        for minute, pool in enumerate(pool_of):
            tally = Tally(CollectorRegistry())
            answer_all(tally, reports(args.screens, args.posts, pool, now + 60 * minute), set(pool),
                       now + 60 * minute)
            started = time.perf_counter()
            await tally.flush(store, lambda wall, pid: True)
            times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screens", type=int, default=1000)
    parser.add_argument("--posts", type=int, default=20)
    parser.add_argument("--pool", type=int, default=60)
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    now = time.time()
    pool_of = [[f"{minute:08x}{i:08x}" for i in range(args.pool)] for minute in range(args.minutes)]
    frames = reports(args.screens, args.posts, pool_of[0], now)
    per_report = []
    for _ in range(args.rounds):
        tally = Tally(CollectorRegistry())
        started = time.process_time()
        answer_all(tally, frames, set(pool_of[0]), now)
        per_report.append((time.process_time() - started) / len(frames))
    tracemalloc.start()
    tally = Tally(CollectorRegistry())
    answer_all(tally, frames, set(pool_of[0]), now)
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    with tempfile.TemporaryDirectory() as tmp:
        times = asyncio.run(flushes(args, pool_of, now, f"sqlite+aiosqlite:///{tmp}/wall.db"))
        size = sum(f.stat().st_size for f in Path(tmp).iterdir())
    us = min(per_report) * 1e6
    per_second = args.screens / 60
    print(f"command: .venv/bin/python bench/display_log.py --screens {args.screens} --posts {args.posts} "
          f"--pool {args.pool} --minutes {args.minutes} --rounds {args.rounds}")
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          "one core")
    print(f"report: {args.posts} posts, {sum(map(len, frames)) / len(frames):.0f} bytes on average")
    print(f"per report (route, check, sum, answer): {us:.1f} µs; {args.screens} screens once a minute = "
          f"{per_second:.1f} reports/s = {per_second * us / 1e4:.3f} % of a core")
    print(f"node memory for a minute of {args.screens} screens ({args.pool} posts): {held / 1024:.0f} KiB")
    print(f"flush to SQLite ({args.pool} posts, {args.screens} screens): first {times[0] * 1000:.1f} ms, "
          f"median {sorted(times)[len(times) // 2] * 1000:.1f} ms, max {max(times) * 1000:.1f} ms")
    print(f"store after {args.minutes} minutes ({args.minutes * args.pool} posts): {size / 1024:.0f} KiB, "
          f"{size / (args.minutes * args.pool):.0f} bytes a post (SQLite file incl. the screens' numbers, "
          "the schema and free pages)")


if __name__ == "__main__":
    main()
