"""Kiosk reports against a real web node on this machine: N paired kiosks report over HTTP (the agent's
JSON, one in ten with a 20 KB screenshot) as fast as C at a time can, into a SQLite store in a temp dir.
Prints reports per second and the latency of one report, and how many kiosks that carries at one report
every 10 s.

    .venv/bin/python bench/fleet.py [--kiosks 100] [--concurrency 10] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import statistics
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.helpers import make_config, running_node, temp_store_url
from wall.store import connect

REPORT_EVERY = 10.0  # seconds: the agent's default


async def bench(kiosks: int, concurrency: int, seconds: float) -> None:
    url = temp_store_url()
    tokens: list[str] = []
    async with connect(url) as store:
        for i in range(kiosks):
            poll, req = await store.kiosks.enroll(f"kiosk-{i}", "10.0.0.1", 900)
            await store.kiosks.approve(req.code, "lobby", 1, 1, "bench")
            claim = await store.kiosks.claim(poll)
            assert claim.token is not None
            tokens.append(claim.token)
    shot = base64.b64encode(b"\xff\xd8\xff" + os.urandom(20_000)).decode()
    cfg = make_config(store_url=url, kiosks={"screenshot_interval": 1.0})
    took: list[float] = []
    async with running_node(cfg) as base, aiohttp.ClientSession() as http:
        deadline = time.monotonic() + seconds
        counter = iter(range(10**9))

        async def worker() -> None:
            while time.monotonic() < deadline:
                n = next(counter)
                body = {"version": "bench", "uptime": 1.0, "heartbeat_age": 0.5, "state": "healthy",
                        "memory": {"heap_mb": 40.0}, "url": f"{base}/w/lobby"}
                if n % 10 == 0:
                    body["screenshot"] = shot
                t = time.perf_counter()
                async with http.post(f"{base}/api/v1/kiosks/report", json=body,
                                     headers={"Authorization": f"Bearer {tokens[n % kiosks]}"}) as r:
                    assert r.status == 200, await r.text()
                took.append((time.perf_counter() - t) * 1000)

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.monotonic() - started
    rate = len(took) / elapsed
    q = statistics.quantiles(took, n=100)
    print(f"{len(took)} reports in {elapsed:.1f} s from {kiosks} kiosks, {concurrency} at a time: "
          f"{rate:.0f} reports/s; one report p50 {q[49]:.1f} ms, p99 {q[98]:.1f} ms")
    print(f"at one report every {REPORT_EVERY:g} s this node and SQLite carry about "
          f"{rate * REPORT_EVERY:.0f} kiosks")
    print(f"rerun: .venv/bin/python bench/fleet.py --kiosks {kiosks} --concurrency {concurrency} "
          f"--seconds {seconds:g}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--kiosks", type=int, default=100)
    p.add_argument("--concurrency", type=int, default=10)
    p.add_argument("--seconds", type=float, default=10.0)
    a = p.parse_args()
    asyncio.run(bench(a.kiosks, a.concurrency, a.seconds))


if __name__ == "__main__":
    main()
