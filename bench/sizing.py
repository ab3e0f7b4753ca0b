"""Sizing figures for docs/deploy.md: webhook posts/s, one writer's posts/s, Redis memory per wall and per
post, PostgreSQL growth per post and per curator decision. Real processes on 127.0.0.1: a redis-server
(AOF fsynced always, as the compose file runs it), a throwaway PostgreSQL, `wall serve`, `wall curate`.

    .venv/bin/python bench/sizing.py [--posts 20000] [--decisions 1000]

1. With no writer running, `--posts` demo posts (the bundled 300, each with its own id) go through the
   webhook in batches of 100, 4 senders at once: accepted posts/s.
2. `wall curate` starts and drains the inbox: one writer's posts/s (enrichment, rules, the atomic commit),
   timed from its first commit to an empty inbox.
3. Redis's used_memory before, at half the posts and after: a wall's capped part (display stream of
   stream_maxlen events, the 2,000 recent posts) and the part that grows with posts kept 7 days (dedupe
   digests, the shown set, known authors), by the slope between the two halves.
4. PostgreSQL's database size before and after the replay, and after `--decisions` curator decisions
   with their audit records.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import redis.asyncio as aioredis
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.postgres_server import PostgresServer
from tests.redis_server import RedisServer, free_port
from wall.store import connect
from wall.store.audit import Event

TOKEN = "bench-7c2e9f4a1d8b3065e9c1a7f42d6b8e03"
DEMO = Path(__file__).resolve().parent.parent / "ingest/demo/posts.json"
CONFIG = """
[web]
port = {port}
[bus]
engine = "redis"
redis_url = "{redis}"
[store]
url = "{store}"
[walls.bench]
title = "Bench"
token_env = "BENCH_TOKEN"
[[walls.bench.sources]]
type = "webhook"
"""


def wall(config: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "wall", *args, "--config", str(config)],
                            env={**os.environ, "BENCH_TOKEN": TOKEN}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


async def used_memory(r: aioredis.Redis) -> int:
    return int((await r.info("memory"))["used_memory"])


async def db_size(url: str) -> int:
    async with connect(url) as store, store.engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_database_size(current_database())"))).scalar_one())


async def send(base: str, posts: list[dict[str, object]], senders: int = 4) -> float:
    """POST the posts in batches of 100 from `senders` at once; returns accepted posts/s."""
    batches = [posts[i:i + 100] for i in range(0, len(posts), 100)]
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    start = time.perf_counter()
    async with aiohttp.ClientSession() as http:
        async def sender(mine: list[list[dict[str, object]]]) -> None:
            for batch in mine:
                async with http.post(f"{base}/api/v1/walls/bench/posts", data=json.dumps({"posts": batch}),
                                     headers=headers) as reply:
                    assert reply.status == 202, (reply.status, await reply.text())
        await asyncio.gather(*(sender(batches[i::senders]) for i in range(senders)))
    return len(posts) / (time.perf_counter() - start)


async def until_up(base: str) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            try:
                async with http.get(f"{base}/healthz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("wall serve did not start")


async def drain(r: aioredis.Redis, last_position: bytes | None) -> float:
    """One writer's posts/s: from its first commit (its stored position moves) until its position is
    the inbox's newest entry (the writer trims what it committed, up to that position)."""
    inbox, position = "wall:bench:inbox", "wall:bench:position"
    newest = (await r.xrevrange(inbox, count=1))[0][0]
    while await r.get(position) == last_position:
        await asyncio.sleep(0.02)
    start, left = time.perf_counter(), await r.xlen(inbox)
    while await r.get(position) != newest:
        await asyncio.sleep(0.02)
    return left / (time.perf_counter() - start)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--decisions", type=int, default=1_000)
    args = parser.parse_args()
    print(" ".join([".venv/bin/python bench/sizing.py", *sys.argv[1:]]))
    demo = json.loads(DEMO.read_text())
    posts = [{**demo[i % len(demo)], "id": f"p{i}", "media": []} for i in range(args.posts)]
    half = args.posts // 2
    tmp = Path(tempfile.mkdtemp(prefix="wall-sizing-"))
    redis = RedisServer(free_port(), tmp / "redis")
    pg = PostgresServer()
    redis.start()
    pg.start()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        store = pg.create_database("wall")
        port = free_port()
        config = tmp / "wall.toml"
        config.write_text(CONFIG.format(port=port, redis=redis.url, store=store))
        procs.append(wall(config, "serve"))
        base = f"http://127.0.0.1:{port}"
        await until_up(base)
        r = aioredis.Redis.from_url(redis.url)
        m0, pg0 = await used_memory(r), await db_size(store)
        rate_a = await send(base, posts[:half])
        procs.append(wall(config, "curate"))
        writer_a = await drain(r, None)
        m1 = await used_memory(r)
        procs[-1].terminate()
        procs[-1].wait()
        rate_b = await send(base, posts[half:])
        procs.append(wall(config, "curate"))
        writer_b = await drain(r, await r.get("wall:bench:position"))
        m2, pg1 = await used_memory(r), await db_size(store)
        async with connect(store) as s:
            for i in range(args.decisions):
                await s.decisions.decide("bench", f"p{i}", "hidden", "bench", None)
                await s.audit.record(Event("decide", "bench", "bench", f"p{i}", {"status": "approved"},
                                           {"status": "hidden"}))
        pg2 = await db_size(store)
        await r.aclose()
        per_post = (m2 - m1) / (args.posts - half)
        print(f"webhook accepted posts/s (batches of 100, 4 senders): {rate_a:,.0f} / {rate_b:,.0f}")
        print(f"one writer, posts/s (enrich + rules + commit): {writer_a:,.0f} / {writer_b:,.0f}")
        print(f"Redis used_memory: empty {m0 / 2**20:.1f} MiB, {half:,} posts {m1 / 2**20:.1f} MiB, "
              f"{args.posts:,} posts {m2 / 2**20:.1f} MiB")
        print(f"Redis growth per post kept 7 days (second half): {per_post:,.0f} bytes; "
              f"capped part at {half:,} posts: {(m1 - m0 - per_post * half) / 2**20:.1f} MiB")
        print(f"PostgreSQL: {pg0 / 2**20:.1f} MiB empty, {pg1 / 2**20:.1f} MiB after {args.posts:,} posts, "
              f"{pg2 / 2**20:.1f} MiB after {args.decisions:,} decisions "
              f"({(pg2 - pg1) / max(args.decisions, 1):,.0f} bytes each with its audit record)")
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait()
        redis.stop()
        pg.stop()


if __name__ == "__main__":
    asyncio.run(main())
