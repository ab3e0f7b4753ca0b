"""`wall backup` and `wall restore` on a store of some size, and what a backup costs the wall meanwhile:
a curator's decision (one write transaction) timed without a backup running and during one. SQLite in a
temp dir and a throwaway PostgreSQL on a free port (tests/postgres_server.py; skipped without its
binaries). The rows are audit entries with before/after copies, the bulk of a long-lived store.

    .venv/bin/python bench/backup.py [--rows 200000] [--decisions 300]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.postgres_server import PostgresServer, binaries
from wall.store import Store, connect
from wall.store.backup import backup, restore
from wall.store.schema import audit

PAYLOAD = {"status": "approved", "text": "x" * 300, "author": "mastodon:someone@example.social"}


async def fill(store: Store, rows: int) -> None:
    at = time.time()
    for start in range(0, rows, 5000):
        async with store.engine.begin() as conn:
            await conn.execute(audit.insert(), [
                {"at": at, "actor": "ana", "action": "decide", "wall": "lobby", "target": f"p{i}~0",
                 "before": PAYLOAD, "after": PAYLOAD} for i in range(start, min(rows, start + 5000))])


async def decisions(store: Store, count: int, stop: asyncio.Event | None = None) -> list[float]:
    """Milliseconds per decision, `count` of them (or until `stop` is set, when given)."""
    took: list[float] = []
    i = 0
    while (stop is None and i < count) or (stop is not None and not stop.is_set()):
        t = time.perf_counter()
        await store.decisions.decide("lobby", f"d{i}", "approved", "ana", None)
        took.append((time.perf_counter() - t) * 1000)
        i += 1
    return took


def quantiles(took: list[float]) -> str:
    q = statistics.quantiles(took, n=100)
    return f"p50 {q[49]:6.2f} ms  p99 {q[98]:6.2f} ms  ({len(took)})"


async def bench(name: str, url: str, fresh_url: str, rows: int, count: int, out: Path) -> None:
    async with connect(url) as store:
        await fill(store, rows)
        quiet = await decisions(store, count)
        stop = asyncio.Event()
        during = asyncio.create_task(decisions(store, 0, stop))
        t = time.perf_counter()
        file, made, _ = await backup(url, out)
        took = time.perf_counter() - t
        stop.set()
        busy = await during
    t = time.perf_counter()
    await restore(fresh_url, file)
    back = time.perf_counter() - t
    mb = made.bytes / 1e6
    print(f"{name}: {rows} audit rows, backup {took:.2f} s ({rows / took:,.0f} rows/s, checked, "
          f"{mb:.1f} MB), restore {back:.2f} s")
    print(f"  a decision without a backup running: {quantiles(quiet)}")
    print(f"  a decision while the backup runs:    {quantiles(busy) if len(busy) > 1 else busy}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--decisions", type=int, default=300, help="timed decisions without a backup")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        await bench("SQLite", f"sqlite+aiosqlite:///{tmp}/wall.db", f"sqlite+aiosqlite:///{tmp}/fresh/wall.db",
                    args.rows, args.decisions, Path(tmp) / "wall.db.backup")
        if binaries() is None:
            print("PostgreSQL: skipped (no /usr/lib/postgresql/*/bin)")
            return
        server = PostgresServer()
        server.start()
        try:
            await bench("PostgreSQL", server.create_database("bench"), server.create_database("fresh"),
                        args.rows, args.decisions, Path(tmp) / "wall.dump")
        finally:
            server.stop()
    print(f"rerun: .venv/bin/python bench/backup.py --rows {args.rows} --decisions {args.decisions}")


if __name__ == "__main__":
    asyncio.run(main())
