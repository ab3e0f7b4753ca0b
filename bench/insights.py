#!/usr/bin/env python3
"""The console's Insights page and the PDF report on a wall with months of roll-ups (docs/insights.md).

It fills a SQLite store (or `--postgres URL`) with one wall's roll-ups as the curation writer leaves them:
`--days` (90) of hours and days, the last `--minute-days` (30) also as minutes, at about one post a second,
each bucket with the counters a busy wall has (posts, statuses, sources, languages, sentiment, five
voices, `--tags` hashtags, terms and authors per hour; minutes hold a share of them). Then it serves a
web node (`wall serve`'s app, memory engine) in this process and, logged in as a curator, GETs
/console/insights for each range (today, last 7 days, this month, a custom 90 days) one request at a time,
`--requests` times each, and prints p50/p99/max; then times the week's PDF (/console/insights/report.pdf,
rendered in a thread) `--pdfs` times. Targets (issue 19): page p99 < 300 ms on SQLite, a week's PDF < 5 s.

    .venv/bin/python bench/insights.py                       # 90 days of hours, 30 days of minutes
    .venv/bin/python bench/insights.py --requests 50 --pdfs 3 --minute-days 30 --days 90

A benchmark, not a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from argon2 import PasswordHasher

WALL, HOUR, DAY = "bench", 3600, 86400
PASSWORD = "insights bench password 1"
CHUNK = 20_000
VOICES = ("\x01brand", "Rival", "Other Co", "Third", "Fourth")  # as stored: NUL is \x01 in the table


def counters(bucket: int, span: int, tags: int) -> dict[str, int]:
    """What a bucket of `span` seconds holds at about one post a second (varied by the hour)."""
    posts = max(1, int(span * (0.5 + (bucket // HOUR) % 7 / 7)))
    c = {"posts": posts, "status:approved": posts * 9 // 10, "status:rejected": posts // 10,
         "source:mastodon": posts // 2, "source:bluesky": posts - posts // 2, "lang:en": posts * 3 // 4,
         "lang:fi": posts // 4, "sent:positive": posts // 2, "sent:neutral": posts // 4,
         "sent:negative": posts // 5, "sent:unscored": posts - posts // 2 - posts // 4 - posts // 5,
         "scored": posts - (posts - posts // 2 - posts // 4 - posts // 5), "sentsum": posts * 150}
    for k, v in enumerate(VOICES):
        c[f"voice:{v}"] = max(1, posts // (k + 2))
    names = tags if span >= HOUR else max(1, tags // 10)
    for k in range(names):
        c[f"tag:tag{(bucket // span + k) % (tags * 3)}"] = max(1, posts // (k + 3))
        c[f"term:term{k}"] = max(1, posts // (k + 4))
        c[f"author:person{(bucket // span * 7 + k) % 5000}"] = max(1, posts // (k + 20))
    return {n: v for n, v in c.items() if v > 0}


async def fill(url: str, days: int, minute_days: int, tags: int, now: float) -> int:
    import sqlalchemy as sa

    from wall.store import connect
    from wall.store.schema import rollups

    rows: list[dict[str, Any]] = []
    written = 0
    async with connect(url, hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)) as store:
        await store.users.add("curator", PASSWORD, "curator")

        async def flush() -> None:
            nonlocal rows, written
            async with store.engine.begin() as conn:
                await conn.execute(sa.insert(rollups), rows)
            written += len(rows)
            rows = []

        end = int(now - now % 60)
        for span, back in ((DAY, days), (HOUR, days), (60, minute_days)):
            first = (end - back * DAY) // span * span
            for bucket in range(first, end, span):
                for name, n in counters(bucket, span, tags).items():
                    rows.append({"wall": WALL, "span": span, "bucket": bucket, "name": name, "count": n})
                if len(rows) >= CHUNK:
                    await flush()
        await flush()
    return written


def config(url: str) -> Any:
    from wall.app import parse_config
    return parse_config({"bus": {"engine": "memory"}, "store": {"url": url},
                         "web": {"secure_cookies": False},
                         "walls": {WALL: {"title": "Bench", "sources": [{"type": "webhook"}],
                                          "token_env": "T"}}}, env={"T": "bench-token-0123456789"})


async def measure(url: str, requests: int, pdfs: int) -> None:
    from wall.app import SERVE, create_app
    from wall.store import connect

    async with connect(url, migrate=False) as store:
        app = create_app(config(url), SERVE, store=store)
        runner = aiohttp.web.AppRunner(app)
        await runner.setup()
        site = aiohttp.web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        base = f"http://127.0.0.1:{port}"
        try:
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
                async with http.post(f"{base}/console/login", allow_redirects=False,
                                     data={"username": "curator", "password": PASSWORD, "next": "/console"},
                                     headers={"Origin": base, "Sec-Fetch-Site": "same-origin"}) as r:
                    assert r.status == 303, await r.text()
                for label, query in (("today", "range=today"), ("last 7 days", "range=7d"),
                                     ("this month", "range=month"), ("90 days", _last_90_days())):
                    took = []
                    for _ in range(requests + 2):
                        t = time.perf_counter()
                        async with http.get(f"{base}/console/insights?wall={WALL}&{query}") as r:
                            body = await r.read()
                            assert r.status == 200, body[:500]
                        took.append(time.perf_counter() - t)
                    print(summary(f"page, {label}", took[2:]) + f"  ({len(body) // 1024} KiB)")
                took = []
                for _ in range(pdfs):
                    t = time.perf_counter()
                    async with http.get(f"{base}/console/insights/report.pdf?wall={WALL}&range=7d") as r:
                        pdf = await r.read()
                        assert r.status == 200, pdf[:500]
                    took.append(time.perf_counter() - t)
                print(summary("PDF, last 7 days", took) + f"  ({len(pdf) // 1024} KiB)")
        finally:
            await runner.cleanup()


def _last_90_days() -> str:
    today = time.strftime("%Y-%m-%d", time.gmtime())
    first = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 89 * DAY))
    return f"range=custom&from={first}&to={today}"


def summary(name: str, values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    return (f"{name:<20} n={len(ms):<4} p50 {statistics.median(ms):7.1f} ms  p99 {p99:7.1f} ms  "
            f"max {ms[-1]:7.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=90, help="days of hourly and daily roll-ups")
    parser.add_argument("--minute-days", type=int, default=30, help="days of minute roll-ups")
    parser.add_argument("--tags", type=int, default=20, help="hashtags, terms and authors per hour")
    parser.add_argument("--requests", type=int, default=40, help="page loads per range")
    parser.add_argument("--pdfs", type=int, default=3, help="week PDFs rendered")
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL store instead of a SQLite file")
    args = parser.parse_args()
    print("rerun:", shlex.join([sys.executable, *sys.argv]))
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, python {platform.python_version()}")
    with tempfile.TemporaryDirectory(prefix="insights-bench-") as tmp:
        url = args.postgres or f"sqlite+aiosqlite:///{tmp}/wall.db"
        t = time.perf_counter()
        rows = asyncio.run(fill(url, args.days, args.minute_days, args.tags, time.time()))
        size = Path(tmp, "wall.db").stat().st_size if not args.postgres else 0
        print(f"store: {rows:,} roll-up rows ({args.days} days of hours and days, {args.minute_days} of "
              f"minutes) in {time.perf_counter() - t:.0f} s" + (f", {size / 2**20:.0f} MiB" if size else ""))
        asyncio.run(measure(url, args.requests, args.pdfs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
