"""What a durable 2xx costs, and how long a Redis failover stops the webhook (docs/redis.md).

    .venv/bin/python bench/durability.py [--duration 10] [--senders 16] [--repeat 2] [--failovers 3]

1. Webhook throughput: one primary and one replica (redis-server, AOF with `--appendfsync`, default
   everysec) and a `wall serve` node per mode, in the same run, taking turns (`--repeat`): `memory` (the
   reply means "in Redis's memory", no WAIT) against `replica` (each admit followed by `WAIT 1 1000`).
   `--senders` clients post one post per request as fast as the node answers for `--duration` s; prints
   accepted posts/s, latency p50/p99 of the 2xx, and the non-2xx count.
2. Failover gap: a primary, two replicas and three redis-sentinel processes (down-after 1 s), a `wall
   serve` node on durability "replica" and one sender that retries on 5xx and connection errors; the primary
   is killed with -9 `--failovers` times (each time the new primary's old self is restarted as a replica,
   as systemd would); prints the seconds with no post accepted around each kill.

No `wall curate` runs: the figures are the webhook's and Redis's, not the screens'.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.redis_server import RedisServer, SentinelCluster, free_port

TOKEN = "bench-durability-5f0c2a9e7b3d41c8a6e2f9b04d7c1e83"
CONFIG = """
[bus]
engine = "redis"
{bus}
durability = "{durability}"
replicas = 1
replica_timeout = 1.0
[store]
url = "sqlite+aiosqlite:///{dir}/wall.db"
[walls.bench]
title = "Bench"
token_env = "BENCH_TOKEN"
[[walls.bench.sources]]
type = "webhook"
"""


class Node:
    """`wall serve` on a free port with a generated config."""

    def __init__(self, dir: Path, bus: str, durability: str) -> None:
        dir.mkdir(parents=True, exist_ok=True)
        (dir / "wall.toml").write_text(CONFIG.format(bus=bus, durability=durability, dir=dir))
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = (dir / "serve.log").open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "wall", "serve", "--config", str(dir / "wall.toml"),
             "--port", str(self.port)],
            env={**os.environ, "BENCH_TOKEN": TOKEN}, stdout=self.log, stderr=subprocess.STDOUT)

    async def up(self, s: aiohttp.ClientSession) -> None:
        async with asyncio.timeout(120):
            while True:
                try:
                    async with s.get(f"{self.base}/healthz") as r:
                        if (await r.json())["bus"]["connected"]:
                            return
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.1)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


async def send(s: aiohttp.ClientSession, base: str, pid: str) -> int:
    async with s.post(f"{base}/api/v1/walls/bench/posts", json={"id": pid, "text": f"post {pid}"},
                      headers={"Authorization": f"Bearer {TOKEN}"}) as r:
        await r.read()
        return r.status


async def throughput(node: Node, tag: str, senders: int, duration: float) -> dict[str, float]:
    latencies: list[float] = []
    refused = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as s:
        await node.up(s)
        for i in range(20):  # warm: connections, scripts loaded
            await send(s, node.base, f"{tag}-warm-{i}")
        end = time.monotonic() + duration

        async def sender(n: int) -> None:
            nonlocal refused
            i = 0
            while time.monotonic() < end:
                t = time.perf_counter()
                status = await send(s, node.base, f"{tag}-{n}-{i}")
                i += 1
                if status == 202:
                    latencies.append((time.perf_counter() - t) * 1000)
                else:
                    refused += 1

        start = time.monotonic()
        await asyncio.gather(*(sender(n) for n in range(senders)))
        took = time.monotonic() - start
    latencies.sort()
    return {"rate": len(latencies) / took, "p50": statistics.median(latencies),
            "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], "refused": refused}


async def bench_throughput(args: argparse.Namespace, tmp: Path) -> None:
    primary = RedisServer(free_port(), tmp / "primary", appendfsync=args.appendfsync)
    replica = RedisServer(free_port(), tmp / "replica", replica_of=primary.port, appendfsync=args.appendfsync)
    for server in (primary, replica):
        server.start()
    results: dict[str, list[dict[str, float]]] = {"memory": [], "replica": []}
    try:
        for round_ in range(args.repeat):
            for mode in ("memory", "replica"):
                node = Node(tmp / f"{mode}{round_}", f'redis_url = "{primary.url}"', mode)
                try:
                    run = await throughput(node, f"{mode}{round_}", args.senders, args.duration)
                    results[mode].append(run)
                finally:
                    node.stop()
    finally:
        primary.stop()
        replica.stop()
    print(f"webhook, {args.senders} senders x {args.duration:g} s, primary + 1 replica, appendfsync "
          f"{args.appendfsync}, {args.repeat} run(s) each, medians:")
    for mode, label in (("memory", "without WAIT (durability memory)"),
                        ("replica", "with WAIT 1 (durability replica)")):
        runs = results[mode]
        med = {k: statistics.median(r[k] for r in runs) for k in ("rate", "p50", "p99", "refused")}
        print(f"  {label:<34} {med['rate']:7.0f} posts/s   p50 {med['p50']:6.2f} ms   "
              f"p99 {med['p99']:6.2f} ms   non-2xx {med['refused']:.0f}")


def online_replicas(server: RedisServer) -> int:
    return (server.command(b"INFO", b"replication") or b"").count(b"state=online")


def longest_wait(accepted: list[float], killed: float) -> float:
    """The longest time between two accepted posts from just before the kill on (an answer in flight at
    the kill comes just after it: the gap is the wait after that one)."""
    times = [t for t in accepted if t > killed - 5.0]
    return max(b - a for a, b in itertools.pairwise(times))


async def bench_failover(args: argparse.Namespace, tmp: Path) -> None:
    cluster = SentinelCluster(tmp / "cluster", replicas=2)
    cluster.start()
    sentinels = str(cluster.addresses).replace("'", '"')
    node = Node(tmp / "failover", f'sentinels = {sentinels}\nmaster_name = "wall"', "replica")
    gaps: list[float] = []
    try:
        async with aiohttp.ClientSession() as s:
            await node.up(s)
            accepted: list[float] = []
            stop = asyncio.Event()

            async def sender() -> None:
                i = 0
                while not stop.is_set():
                    try:
                        if await send(s, node.base, f"f-{i}") == 202:
                            accepted.append(time.monotonic())
                            i += 1
                            continue
                    except aiohttp.ClientConnectionError:
                        pass
                    await asyncio.sleep(0.02)  # a retrying sender

            task = asyncio.create_task(sender())
            for _ in range(args.failovers):
                async with asyncio.timeout(120):  # settled: every sentinel agrees, both replicas online
                    while (old := cluster.primary()) is None or online_replicas(old) < 2 \
                            or len(accepted) < 50:
                        await asyncio.sleep(0.05)
                killed = time.monotonic()
                old.kill()
                async with asyncio.timeout(120):
                    while len([t for t in accepted if t > killed]) < 30:
                        await asyncio.sleep(0.05)
                gaps.append(longest_wait(accepted, killed))
                print(f"  failover {len(gaps)}: no post accepted for {gaps[-1]:.2f} s")
                async with asyncio.timeout(60):
                    while (new := cluster.primary()) in (None, old):
                        await asyncio.sleep(0.05)
                assert new is not None
                old.replica_of = new.port  # back as a replica, as sentinel would make it
                old.start()
                accepted.clear()
                # A sentinel does not fail the same primary name over again within 2 x failover-timeout.
                await asyncio.sleep(max(0.0, killed + 7.0 - time.monotonic()))
            stop.set()
            await task
    finally:
        node.stop()
        cluster.stop()
    print(f"failover gap over {len(gaps)} kills: median {statistics.median(gaps):.2f} s, "
          f"max {max(gaps):.2f} s (sentinel down-after 1 s)")


async def main(args: argparse.Namespace) -> None:
    print("command: .venv/bin/python bench/durability.py " + " ".join(sys.argv[1:]))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory(prefix="wall-bench-durability-") as tmp:
        if args.duration > 0:
            await bench_throughput(args, Path(tmp))
        if args.failovers > 0:
            await bench_failover(args, Path(tmp))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per throughput run (0: skip)")
    parser.add_argument("--senders", type=int, default=16, help="concurrent webhook senders")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each mode, taking turns")
    parser.add_argument("--appendfsync", choices=("always", "everysec", "no"), default="everysec")
    parser.add_argument("--failovers", type=int, default=3, help="primary kills (0: skip)")
    asyncio.run(main(parser.parse_args()))
