#!/usr/bin/env python3
"""Curation commits: how many a writer gets through per second, one after another, as `wall curate` does.

It starts its own redis-server (no persistence) on a free port, takes the wall's writer lease and commits
`--commits` times what a new approved post commits: its `post` event (about 1 KB of JSON), the shown set,
six stats counters, the recent-post record, a queue message and the author. It prints commits/s, the
latency of one commit (p50/p90/p99/max) and the size of the one argument a commit sends to its script.
`--engine memory` measures the in-process engine instead.

    .venv/bin/python bench/commit.py                          # 5,000 commits on Redis
    .venv/bin/python bench/commit.py --commits 20000 --engine memory

A benchmark, not a test: it prints figures and asserts nothing. Everything stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import msgspec  # noqa: E402

from wall.bus.base import Commit, Engine, writer_lease  # noqa: E402
from wall.bus.memory import MemoryEngine  # noqa: E402
from wall.bus.redis import RedisEngine  # noqa: E402
from wall.bus.redis.inbox import CommitArgs  # noqa: E402

WALL = "bench"
OWNER = "bench-writer"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def approved(i: int, entry: str) -> Commit:
    """What the writer commits for a new post it approves (wall/curate/writer.py: _settle)."""
    post = {"type": "post", "post": {"id": f"webhook:{i}", "source_id": str(i), "network": "webhook",
                                     "text": f"post {i} " + "lorem ipsum dolor sit amet " * 25,
                                     "author": {"name": f"Author {i % 50}", "handle": f"a{i % 50}"},
                                     "created_at": "2026-12-06T18:00:00Z", "sentiment": 0.4, "lang": "en"}}
    body = msgspec.json.encode(post)
    counters = (("posts", 1), ("sent:positive", 1), ("tag:nordlys", 1), ("term:camera", 1),
                ("author:a1", 1), ("source:webhook", 1))
    return Commit(entry, (body,), shown=(f"webhook:{i}",), counts=((f"webhook:{i}", counters),),
                  minute=int(time.time() // 60), recent=((f"webhook:{i}", body),), queue=(body,),
                  authors=(f"webhook:a{i % 50}",))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(engine: Engine, commits: int) -> list[float]:
    token = await engine.lease(writer_lease(WALL), OWNER, ttl=600)
    assert token
    entry = await engine.enqueue(WALL, b"{}")
    took = []
    for i in range(commits):
        commit = approved(i, entry)
        started = time.perf_counter()
        await engine.commit(WALL, OWNER, token, commit)
        took.append(time.perf_counter() - started)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--commits", type=int, default=5000)
    parser.add_argument("--engine", choices=["redis", "memory"], default="redis")
    args = parser.parse_args()
    print("command:", shlex.join([".venv/bin/python", "bench/commit.py", *sys.argv[1:]]))
    print("machine:", platform.platform(), f"{platform.python_implementation()} {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        server = None
        if args.engine == "redis":
            port = free_port()
            server = subprocess.Popen(
                ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", tmp], stdout=subprocess.DEVNULL)
            for _ in range(200):  # until it listens
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.05)
            engine: Engine = RedisEngine(f"redis://127.0.0.1:{port}/0")
        else:
            engine = MemoryEngine()

        async def measure() -> list[float]:
            try:
                return await run(engine, args.commits)
            finally:
                await engine.close()

        try:
            started = time.perf_counter()
            took = asyncio.run(measure())
            wall_time = time.perf_counter() - started
        finally:
            if server is not None:
                server.terminate()
                server.wait(10)
    size = len(msgspec.msgpack.encode(CommitArgs.of(WALL, OWNER, 1, approved(0, "1-0"), 10_000)))
    ms = {q: pct(took, q) * 1000 for q in (0.5, 0.9, 0.99)}
    print(f"engine {args.engine}: {len(took)} commits in {wall_time:.2f} s: "
          f"{len(took) / sum(took):,.0f} commits/s; one commit p50 {ms[0.5]:.2f} ms, p90 {ms[0.9]:.2f} ms, "
          f"p99 {ms[0.99]:.2f} ms, max {max(took) * 1000:.2f} ms")
    print(f"the commit script's one argument: {size:,} bytes of msgpack for one approved post")


if __name__ == "__main__":
    main()
