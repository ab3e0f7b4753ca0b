"""What the console's access checks cost on a real node: a login (argon2id with argon2-cffi's production
parameters), the login throttle's store transactions alone, an authenticated JSON request (session lookup
+ CSRF check), a private wall's page with its display key (a store lookup per request), against a public
wall's page as the baseline.

    .venv/bin/python bench/auth.py [--count 200]

One node (memory bus, all roles) on a free port, SQLite store in a temp dir; sequential requests from one
client, so the figures are latencies, not throughput.
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

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.console_helpers import Browser
from tests.helpers import make_config, serving
from wall.app import ALL, create_app
from wall.store import connect

PASSWORD = "a benchmark password"


async def timed(n: int, call: Callable[[], Awaitable[object]]) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        await call()
        out.append((time.perf_counter() - t) * 1000)
    return out


def line(name: str, ms: list[float]) -> str:
    ms = sorted(ms)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return f"{name:<34} n={len(ms):<4} p50 {statistics.median(ms):7.2f} ms   p99 {p99:7.2f} ms"


async def main(count: int) -> None:
    url = f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='wall-bench-auth-')}/wall.db"
    cfg = make_config(store_url=url, walls=("lobby", "vault"), private=("vault",))
    async with connect(url) as store:  # argon2-cffi's defaults, as in production
        await store.users.add("ana", PASSWORD, "admin")
        raw, _ = await store.display_keys.issue("vault", "bench screen")
        async with serving(create_app(cfg, ALL, store=store)) as base, Browser(base) as ana, \
                aiohttp.ClientSession() as anon:
            logins = await timed(max(5, count // 20), lambda: ana.login("ana", PASSWORD))

            async def throttle() -> None:  # what the login throttle adds to a login: no argon2, no HTTP
                held = await store.logins.reserve("ana", "192.0.2.1")
                await store.logins.settle(held, ok=True)

            throttled = await timed(count, throttle)
            api = await timed(count, lambda: ana.get("/console/api/w/lobby/queue?limit=1"))
            posted = await timed(count, lambda: ana.post("/console/api/w/lobby/control",
                                                         {"op": "next"}))

            async def page(path: str) -> None:
                async with anon.get(f"{base}{path}") as r:
                    assert r.status == 200, (path, r.status)
                    await r.read()

            public = await timed(count, lambda: page("/w/lobby"))
            private = await timed(count, lambda: page(f"/api/v1/walls/vault/posts?key={raw}&limit=1"))
            public_api = await timed(count, lambda: page("/api/v1/walls/lobby/posts?limit=1"))
    print(" ".join(["bench/auth.py", *sys.argv[1:]]))
    for name, ms in (("login (argon2id, new session)", logins),
                     ("login throttle (reserve+settle)", throttled), ("GET queue API (session)", api),
                     ("POST control next (session+CSRF)", posted), ("GET public wall page", public),
                     ("GET public posts API", public_api), ("GET private posts API (key)", private)):
        print(line(name, ms))


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--count", type=int, default=200)
    asyncio.run(main(p.parse_args().count))
