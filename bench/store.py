"""Store latencies on this machine: a curator's decision (compare-and-set), a session lookup per console
request, a display-key check per screen connect, and a password check with argon2-cffi's defaults.
SQLite in a temp dir and a throwaway PostgreSQL on a free port (tests/postgres_server.py).

    .venv/bin/python bench/store.py [--count 500]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.postgres_server import PostgresServer
from wall.store import connect


async def timed(count: int, op: Callable[[int], Awaitable[object]]) -> str:
    took = []
    for i in range(count):
        t = time.perf_counter()
        await op(i)
        took.append((time.perf_counter() - t) * 1000)
    q = statistics.quantiles(took, n=100)
    return f"p50 {q[49]:6.2f} ms  p99 {q[98]:6.2f} ms"


async def bench(name: str, url: str, count: int) -> None:
    async with connect(url) as store:
        user = await store.users.add("ana", "correct horse battery", "curator")
        token, _ = await store.sessions.create(user.id)
        raw, _ = await store.display_keys.issue("lobby", "screen")
        ops: list[tuple[str, int, Callable[[int], Awaitable[object]]]] = [
            ("decide", count, lambda i: store.decisions.decide("lobby", f"p:{i}", "approved", "ana", 0)),
            ("re-decide", count, lambda i: store.decisions.decide("lobby", f"p:{i}", "hidden", "ana", 1)),
            ("session get", count, lambda i: store.sessions.get(token)),
            ("key check", count, lambda i: store.display_keys.check("lobby", raw)),
            ("verify", 10, lambda i: store.users.verify("ana", "correct horse battery")),
        ]
        for what, n, op in ops:
            print(f"{name:10} {what:12} {await timed(n, op)}")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=500)
    args = parser.parse_args()
    print(" ".join(["bench/store.py", *sys.argv[1:]]))
    with tempfile.TemporaryDirectory() as tmp:
        await bench("sqlite", f"sqlite+aiosqlite:///{tmp}/wall.db", args.count)
    pg = PostgresServer()
    pg.start()
    try:
        await bench("postgresql", pg.create_database("bench"), args.count)
    finally:
        pg.stop()


if __name__ == "__main__":
    asyncio.run(main())
