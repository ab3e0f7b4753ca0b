#!/usr/bin/env python3
"""The retention job on a big store, and what a curator feels meanwhile.

It fills a SQLite store (or `--postgres URL`) with `--posts` posts' worth of rows for one wall "bench":
one decision and one audit record (with before/after copies) per post, a sentiment label per 10 posts, a
known author per 10 posts, the memory engine's display history (10,000 events) and recent posts (2,000),
20 kiosk screenshots; half of each from 10 days ago, half from 1 day ago. Its media cache holds `--images`
files, half last used 10 days ago. Then it runs a single-box node (`wall serve` on the memory engine: the
job shares the event loop with the console and the screens) and, from another process, GETs the console's
queue (/console/api/w/bench/queue) as a logged-in curator, one request at a time: for `--seconds` s once the
node has settled, then while the job removes everything older than 5 days (its SQL part, then the node's
media cache), then `--seconds` s after it. It prints the job's time and counts, and p50/p99/max of the
queue GET before, during and after the job.

    .venv/bin/python bench/retention.py                         # 1,000,000 posts, 10,000 images
    .venv/bin/python bench/retention.py --posts 100000 --images 1000 --seconds 5

A benchmark, not a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing as mp
import os
import shlex
import statistics
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from argon2 import PasswordHasher

if TYPE_CHECKING:  # the console client's process (spawned) imports none of the wall
    from wall.curate.writer import CurationWriter
    from wall.privacy.retention import RetentionJobs

WALL, DAY = "bench", 86400.0
PASSWORD = "retention bench password 1"
CHUNK = 10_000


def bodies(i: int, at: float) -> tuple[bytes, bytes]:
    """A post's display event and its recent-post record."""
    from datetime import UTC, datetime

    from wall.models import Author, Post, PostEvent, RecentPost, encode
    post = Post(id=f"p{i}", source="webhook", source_id=str(i), text=f"post {i} by a stranger",
                created_at=datetime.fromtimestamp(at, UTC), author=Author(f"Person {i}", f"person{i}"))
    return encode(PostEvent(post)), encode(RecentPost(post, arrived=at))


async def fill(url: str, posts: int, now: float) -> None:
    import sqlalchemy as sa

    from wall.store import connect
    from wall.store.schema import (
        audit,
        bus_authors,
        bus_events,
        bus_recent,
        bus_walls,
        decisions,
        kiosk_screenshots,
        kiosks,
        sentiment_labels,
    )

    def at(i: int) -> float:  # half 10 days old, half 1 day old, ids in time order
        return now - (10 * DAY if i < posts // 2 else DAY) + i * 1e-3

    async with connect(url, hasher=PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)) as store:
        await store.users.add("curator", PASSWORD, "curator")
        async with store.engine.begin() as conn:
            await conn.execute(bus_walls.insert().values(wall=WALL, epoch="bench", position="0-0",
                                                         total=posts, owner="filler"))
        for start in range(0, posts, CHUNK):
            ids = range(start, min(posts, start + CHUNK))
            async with store.engine.begin() as conn:
                await conn.execute(decisions.insert(), [
                    {"wall": WALL, "post_id": f"p{i}", "status": "approved", "pinned": False,
                     "decided_by": "ana", "decided_at": at(i), "version": 1} for i in ids])
                await conn.execute(audit.insert(), [
                    {"at": at(i), "actor": "ana", "action": "decide", "wall": WALL, "target": f"p{i}",
                     "before": {"status": "pending", "text": f"post {i} by a stranger"},
                     "after": {"status": "approved", "author": f"person{i}"}} for i in ids])
                await conn.execute(sentiment_labels.insert(), [
                    {"wall": WALL, "post_id": f"p{i}", "text": f"post {i} by a stranger", "label": "positive",
                     "by": "ana", "at": at(i)} for i in ids if i % 10 == 0])
                await conn.execute(bus_authors.insert(), [
                    {"wall": WALL, "author": f"webhook:person{i}", "at": at(i)} for i in ids if i % 10 == 0])
        step = max(1, posts // 10_000)
        async with store.engine.begin() as conn:
            await conn.execute(bus_events.insert(), [
                {"wall": WALL, "ms": int(at(i) * 1000), "seq": i, "body": bodies(i, at(i))[0]}
                for i in range(0, posts, step)])
            await conn.execute(bus_recent.insert(), [
                {"wall": WALL, "post_id": f"p{i}", "body": bodies(i, at(i))[1]}
                for i in range(0, posts, max(1, posts // 2000))])
            for k in range(20):
                kid = (await conn.execute(kiosks.insert().values(
                    name=f"tv{k}", wall=WALL, screen=1, screens=1, created_at=now, created_by="admin")
                    .returning(kiosks.c.id))).scalar_one()
                shot_at = now - (10 if k % 2 else 1) * DAY
                await conn.execute(kiosk_screenshots.insert().values(kiosk_id=kid, at=shot_at,
                                                                     jpeg=b"\xff\xd8" + os.urandom(20_000)))
            rows = {t.name: (await conn.execute(sa.select(sa.func.count()).select_from(t))).scalar_one()
                    for t in (decisions, audit, sentiment_labels, bus_authors, bus_events, bus_recent)}
    print("filled:", ", ".join(f"{n} {t}" for t, n in rows.items()))


def fill_media(directory: Path, images: int, now: float) -> None:
    directory.mkdir(parents=True)
    for i in range(images):
        path = directory / f"{i:040x}-640.webp"
        path.write_bytes(os.urandom(2_000))
        old = now - (10 * DAY if i < images // 2 else DAY)
        os.utime(path, (old, old))


def client(conn: Connection, base: str) -> None:
    asyncio.run(_client(conn, base))


async def _client(conn: Connection, base: str) -> None:
    """GET the queue, one request at a time, until told to stop; then send back every (sent at, seconds)."""
    samples: list[tuple[float, float]] = []  # (sent at, seconds)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.post(f"{base}/console/login", allow_redirects=False,
                             data={"username": "curator", "password": PASSWORD, "next": "/console"},
                             headers={"Origin": base, "Sec-Fetch-Site": "same-origin"}) as r:
            assert r.status == 303, r.status
        conn.send("ready")
        while not conn.poll():
            sent = time.time()
            async with http.get(f"{base}/console/api/w/{WALL}/queue") as r:
                await r.read()
                assert r.status == 200, r.status
            samples.append((sent, time.time() - sent))
    conn.recv()
    conn.send(samples)


def figures(samples: list[float]) -> str:
    if not samples:
        return "no samples"
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (f"{len(ordered)} GETs, p50 {statistics.median(ordered) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
            f"max {ordered[-1] * 1000:.1f} ms")


STEADY = 8.0  # seconds a writer leads without a break: it renewed its lease (LEASE_TTL 6 s) meanwhile


async def settle(jobs: RetentionJobs, writer: CurationWriter) -> float:
    """Wait until the node's start-up is over, so that the figures without the job are not its; seconds."""
    started = time.monotonic()
    leading_since: float | None = None
    while True:
        now = time.monotonic()
        leading_since = (leading_since or now) if writer.status.leading else None
        if jobs.jobs[0].status.runs >= 1 and leading_since is not None and now - leading_since >= STEADY:
            return now - started
        if now - started > 300:
            raise RuntimeError("the node did not settle in 5 minutes")
        await asyncio.sleep(0.1)


async def bench(args: argparse.Namespace) -> None:
    from wall.app import create_app, parse_config
    from wall.curate.writer import Writers
    from wall.privacy.retention import RetentionJobs
    from wall.web.keys import HEALTH
    from wall.web.media import MEDIA

    tmp = Path(tempfile.mkdtemp(prefix="wall-retention-bench-"))
    url = args.postgres or f"sqlite+aiosqlite:///{tmp}/wall.db"
    now = time.time()
    t0 = time.perf_counter()
    await fill(url, args.posts, now)
    fill_media(tmp / "media", args.images, now)
    print(f"fill: {time.perf_counter() - t0:.1f} s")
    cfg = parse_config({
        "web": {"secure_cookies": False}, "store": {"url": url}, "media": {"cache_dir": str(tmp / "media")},
        "walls": {WALL: {"title": "Retention bench", "retention": {"every": "1000d"}}}})
    from wall.web.runner import Runner
    runner = Runner(create_app(cfg, frozenset({"web", "curate"})))
    await runner.setup()
    from aiohttp import web
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    app = runner.app
    try:
        jobs = next(p for p in app[HEALTH] if isinstance(p, RetentionJobs))
        writer = next(p for p in app[HEALTH] if isinstance(p, Writers)).writers[0]
        settled = await settle(jobs, writer)
        print(f"node settled in {settled:.1f} s (the first run at start, with nothing to remove, is over "
              f"and the writer has led for {STEADY:.0f} s)")
        mine, theirs = mp.Pipe()
        proc = mp.get_context("spawn").Process(target=client, args=(theirs, base), daemon=True)
        proc.start()
        if not await asyncio.to_thread(mine.poll, 60) or mine.recv() != "ready":
            raise RuntimeError("the console client did not log in (see its error above)")
        await asyncio.sleep(args.seconds)
        started = time.time()
        removed = await jobs.jobs[0].run_once(now=now + 25 * DAY)  # everything 10 days old goes
        sql_done = time.time()
        images = await app[MEDIA].cache.forget_before(now - 5 * DAY)
        ended = time.time()
        await asyncio.sleep(args.seconds)  # and without the job again, after it
        mine.send("stop")
        samples: list[tuple[float, float]] = await asyncio.to_thread(mine.recv)
        proc.join()
    finally:
        await runner.cleanup()
    counts = ", ".join(f"{n} {k}" for k, n in removed.items())
    print(f"job: SQL and bus {sql_done - started:.2f} s ({counts}); "
          f"media cache {ended - sql_done:.2f} s ({images} images)")
    print("console queue GET before the job:", figures([d for t, d in samples if t < started]))
    print("console queue GET during the job:", figures([d for t, d in samples if started <= t <= ended]))
    print("console queue GET after the job: ", figures([d for t, d in samples if t > ended]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="of queue GETs without the job, before it and after it")
    parser.add_argument("--postgres", help="a postgresql+asyncpg:// URL of an empty database (else SQLite)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    print("rerun:", shlex.join([".venv/bin/python", "bench/retention.py", *sys.argv[1:]]))
    asyncio.run(bench(args))


if __name__ == "__main__":
    main()
