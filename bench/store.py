"""Store latencies on this machine: a curator's decision (compare-and-set), a session lookup per console
request, a display-key check per screen connect, a password check with argon2-cffi's defaults, and on a
box without Redis the memory bus's admit (a webhook post) and writer commit, each one transaction.
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
from wall.bus.base import RECENT_KEPT, Commit, writer_lease
from wall.bus.memory import MemoryEngine
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
        bus = MemoryEngine()  # as `wall serve` runs it without Redis: kept in the store
        await bus.keep(store.bus_state(10_000, RECENT_KEPT), ["lobby"])
        token = await bus.lease(writer_lease("lobby"), "bench", 3600)
        assert token is not None
        body = b'{"type":"post","post":{"text":"' + b"x" * 400 + b'"}}'  # about a post's size
        admitted: list[str] = []

        async def admit(i: int) -> None:
            admitted.append((await bus.admit("lobby", f"p:{i}", "digest", body))[1] or "")

        async def commit(i: int) -> None:
            pid = f"p:{i}"
            counts = ((pid, (("posts", 1), ("tag:x", 1))),)
            await bus.commit("lobby", "bench", token, Commit(
                admitted[i], (body,), shown=(pid,), minute=i // 60, counts=counts, recent=((pid, body),)))

        ops: list[tuple[str, int, Callable[[int], Awaitable[object]]]] = [
            ("decide", count, lambda i: store.decisions.decide("lobby", f"p:{i}", "approved", "ana", 0)),
            ("re-decide", count, lambda i: store.decisions.decide("lobby", f"p:{i}", "hidden", "ana", 1)),
            ("session get", count, lambda i: store.sessions.get(token)),
            ("key check", count, lambda i: store.display_keys.check("lobby", raw)),
            ("verify", 10, lambda i: store.users.verify("ana", "correct horse battery")),
            ("bus admit", count, admit),
            ("bus commit", count, commit),
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
