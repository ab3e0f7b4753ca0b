"""What a wall's trends cost the web node: one `trends()` read (wall/web/trends.py) of a wall with months of
roll-ups on SQLite, as each web node does once a minute per wall.

    .venv/bin/python bench/trends.py [--days 90] [--reads 100]

Seeds a fresh SQLite store through the roll-ups' writer API (replace the minutes, then derive their hours
and days, as the curation writer does): one minute an hour with a busy hour's counters (posts, sentiment,
five voices, languages, sources, statuses, 100 hashtags, 100 authors, 20 terms), so every hour and day
bucket is as wide as a real one. The minute rows are left in (a real store keeps 48 hours of them), which
only makes the table bigger than it would be. Prints p50/p99/max of one wall's reads: the first of an hour
(the past days, the week-ago count and share of voice, then today) and the next ones (today's hours only).
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from wall.store import connect  # noqa: E402
from wall.store.schema import rollups as table  # noqa: E402
from wall.web.trends import WallTrends, trends  # noqa: E402

HOUR = 3600


def busy_hour(i: int) -> dict[str, int]:
    counters = {"posts": 3600, "sent:positive": 1800, "sent:neutral": 1000, "sent:negative": 600,
                "sent:unscored": 200, "scored": 3400, "sentsum": 900_000, "voice:\x00brand": 900,
                "status:approved": 3600, "status:rejected": 40, "status:held": 12}
    counters |= {f"voice:Rival{k}": 100 * (k + 1) for k in range(4)}
    counters |= {f"lang:{c}": 600 for c in ("en", "fi", "sv", "de", "ja")}
    counters |= {f"source:{s}": 1200 for s in ("mastodon", "bluesky", "rss")}
    counters |= {f"tag:tag{(i + k) % 400}": 200 - k for k in range(100)}
    counters |= {f"author:person{(i * 7 + k) % 5000}": 20 - k // 10 for k in range(100)}
    counters |= {f"term:term{k}": 300 - k for k in range(20)}
    return counters


async def run(days: int, reads: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with connect(f"sqlite+aiosqlite:///{tmp}/wall.db") as store:
            now = time.time()
            start = now - now % HOUR - days * 86400
            t0 = time.perf_counter()
            minutes = {int((start + h * HOUR) // 60): busy_hour(h) for h in range(days * 24 + 1)}
            for chunk in range(0, len(minutes), 240):
                part = dict(list(minutes.items())[chunk:chunk + 240])
                await store.rollups.replace("bench", 1, part)
            for grain, bucket in await store.rollups.marked("bench"):
                await store.rollups.derive("bench", 1, grain, bucket)
            seeded = time.perf_counter() - t0
            async with store.engine.connect() as conn:
                rows = (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()
            frame = await trends(store.rollups, "bench", time.time())
            hourly, minutely = [], []
            for _ in range(reads):
                wall = WallTrends(store.rollups, "bench")  # a fresh one reads the past too
                t = time.perf_counter()
                await wall.frame(time.time())
                hourly.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                await wall.frame(time.time())  # the same hour: today's hours only
                minutely.append((time.perf_counter() - t) * 1000)
    print(f"command: .venv/bin/python bench/trends.py --days {days} --reads {reads}")
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          "SQLite")
    print(f"roll-up rows: {rows:,} ({days} days of hours and days, minutes left in), "
          f"seeded in {seeded:.1f} s")
    print(f"frame keys: {sorted(k for k in frame if k not in ('type', 'at'))}")
    for what, times in (("first read of an hour (the past too)", hourly), ("each minute after", minutely)):
        times.sort()
        print(f"{what}: p50 {statistics.median(times):.1f} ms, "
              f"p99 {times[max(0, round(len(times) * 0.99) - 1)]:.1f} ms, max {times[-1]:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--reads", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(run(args.days, args.reads))


if __name__ == "__main__":
    main()
