"""What the roll-ups cost (docs/rollups.md): (a) the curation writer's time per post with roll-ups on and
off, same run, alternating; (b) the store's growth per wall and month at one post a second.

    .venv/bin/python bench/rollups.py                      # both, memory engine, SQLite
    .venv/bin/python bench/rollups.py --posts 6000 --runs 3 --redis-url redis://127.0.0.1:6379/0
    .venv/bin/python bench/rollups.py --skip-growth --flush 60   # a copy every minute ("1m")
    .venv/bin/python bench/rollups.py --skip-writer --days 3

(a) A real CurationWriter (with the default enrichment; --bare: none, the posts carry their language,
sentiment and hashtags) on the memory engine, or Redis with --redis-url, and a SQLite store, handles --posts
posts queued in its inbox. Its clock is the post count (--rate posts a second of the wall's time, 1 by
default), so it copies the roll-ups every --flush seconds of that time (300, the default of
`[walls.W.rollups] flush`) and derives each hour that ended, as in production. Per post = elapsed / posts,
from the first commit to the last one, and the process's CPU time (every thread) over the same span;
"off" is the same writer with `rollups=None`, run alternately with "on".

(b) Minute buckets as the writer would copy them at one post a second (60 posts a minute from 20,000
authors, a few hashtags, languages, sources and sentiment), written with the same store calls (replace,
derive, trim after 48 h) for --days days of the wall's time into SQLite. Growth per month = 30 x what a
day adds once the minutes are at their steady 48 h.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

from ingest.enrich.pipeline import Enricher, config_from
from wall.app import annotator
from wall.bus.base import Engine
from wall.bus.memory import MemoryEngine
from wall.bus.redis import RedisEngine
from wall.config import DEFAULT_ROLLUPS
from wall.curate.writer import CurationWriter
from wall.models import Author, Entity, InboxPost, Post, Sentiment, encode
from wall.store import Store, connect
from wall.store.rollups import SPAN

T0 = 1_700_000_000 // 86_400 * 86_400  # a past midnight: readers read up to now
TAGS = [f"tag{k}" for k in range(500)]


def a_post(n: int, rng: random.Random) -> Post:
    tags = rng.sample(TAGS[:40] if rng.random() < 0.8 else TAGS, rng.randint(0, 3))
    text = f"post {n} " + " ".join(f"#{t}" for t in tags)
    at, entities = len(f"post {n} "), []
    for t in tags:
        entities.append(Entity("hashtag", at, at + len(t) + 1, t))
        at += len(t) + 2
    score = rng.uniform(-1, 1)
    return Post(f"b{n}", rng.choice(["bluesky", "mastodon", "rss"]), f"s{n}", text,
                datetime.fromtimestamp(T0 + n, UTC),
                Author(f"Name {n}", f"user{int(rng.paretovariate(1.2) * 7) % 20_000}"),
                entities=tuple(entities), lang=rng.choice(["en", "fi", "de", "sv", "fr"]),
                sentiment=Sentiment(score, "positive" if score > 0.3
                                    else "negative" if score < -0.3 else "neutral"))


async def writer_run(engine: Engine, store: Store, wall: str, posts: list[Post], rollups: bool,
                     enrich: bool, rate: float = 1.0, flush: float = 300.0) -> tuple[float, float]:
    """Seconds per post for one writer handling `posts` queued before it starts, elapsed and CPU."""
    last = ""
    for post in posts:
        last = await engine.enqueue(wall, encode(InboxPost(post)))
    holder: list[CurationWriter] = []
    writer = CurationWriter(wall, engine, f"bench-{wall}", stats_interval=3600, store=store,
                            annotate=annotator(Enricher(config_from({}))) if enrich else None,
                            rollups=replace(DEFAULT_ROLLUPS, flush=flush) if rollups else None,
                            clock=lambda: T0 + (holder[0].status.committed if holder else 0) / rate)
    holder.append(writer)
    task = asyncio.create_task(writer.run())
    while writer.status.committed == 0:
        await asyncio.sleep(0.001)
    started, cpu, first = time.perf_counter(), time.process_time(), writer.status.committed
    while await engine.position(wall) != last:
        await asyncio.sleep(0.01)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    writer.stop()
    await task
    return elapsed / (len(posts) - first), cpu / (len(posts) - first)


def wall_name(run: int, rollups: bool) -> str:
    """Named after the process: a Redis's walls of earlier runs hold these posts already (kept once)."""
    return f"bench-{os.getpid()}-{run}{int(rollups)}"


async def bench_writer(posts: int, runs: int, redis_url: str | None, enrich: bool, rate: float,
                       flush: float) -> None:
    rng = random.Random(19)
    with tempfile.TemporaryDirectory() as tmp:
        async with connect(f"sqlite+aiosqlite:///{tmp}/wall.db") as store:
            engine: Engine = RedisEngine(redis_url) if redis_url else MemoryEngine()
            on: list[tuple[float, float]] = []
            off: list[tuple[float, float]] = []
            for run in range(runs):
                order = ((False, off), (True, on)) if run % 2 == 0 else ((True, on), (False, off))
                for rollups, out in order:
                    batch = [a_post(k, rng) for k in range(posts)]
                    wall = wall_name(run, rollups)
                    out.append(await writer_run(engine, store, wall, batch, rollups, enrich, rate, flush))
            rows = (await store.rollups.totals(wall_name(0, True), 0, 2**40)).get("posts", 0)
            await engine.close()
    engine_name = "redis" if redis_url else "memory"
    what = "with the default enrichment" if enrich else "without enrichment (--bare)"
    print(f"(a) writer {what}, {engine_name} engine, SQLite store, {posts} posts per run, {runs} runs each, "
          f"{rate:g} posts a second of the wall's time (a copy of the roll-ups every {flush:g} s of it)")
    for k, kind in enumerate(("elapsed", "CPU")):
        print(f"    {kind}, ms/post:")
        print(f"      roll-ups off: {', '.join(f'{s[k] * 1e3:.3f}' for s in off)}  (median "
              f"{statistics.median(s[k] for s in off) * 1e3:.3f})")
        print(f"      roll-ups on:  {', '.join(f'{s[k] * 1e3:.3f}' for s in on)}  (median "
              f"{statistics.median(s[k] for s in on) * 1e3:.3f})")
        added = statistics.median(s[k] for s in on) / statistics.median(s[k] for s in off) - 1
        print(f"      added: {added * 100:+.1f} % per post (target < 10 %)")
    print(f"    the roll-ups counted {rows} posts of the first 'on' run")


def minute_bucket(minute: int, rng: random.Random) -> dict[str, int]:
    counters: dict[str, int] = {}
    for n in range(60):
        post = a_post(minute * 60 + n, rng)
        names = ["posts", f"status:{post.status}", f"source:{post.source}", f"lang:{post.lang}", "scored",
                 f"sent:{post.sentiment.label if post.sentiment else 'unscored'}",
                 f"author:{post.author.handle}", *(f"tag:{e.value}" for e in post.entities)]
        if rng.random() < 0.3:
            names.append(rng.choice(["voice:\x00brand", "voice:rival", "voice:other"]))
        if rng.random() < 0.5:
            names.append(f"term:{rng.choice(['launch', 'keynote', 'pricing', 'support'])}")
        for name in names:
            counters[name] = counters.get(name, 0) + 1
        if post.sentiment is not None:
            counters["sentsum"] = counters.get("sentsum", 0) + round(post.sentiment.score * 1000)
    return {k: v for k, v in counters.items() if v}


async def used_bytes(store: Store) -> int:
    async with store.engine.connect() as conn:
        pages = (await conn.execute(sa.text("PRAGMA page_count"))).scalar_one()
        free = (await conn.execute(sa.text("PRAGMA freelist_count"))).scalar_one()
        size = (await conn.execute(sa.text("PRAGMA page_size"))).scalar_one()
    return int((pages - free) * size)


async def bench_growth(days: int) -> None:
    rng = random.Random(7)
    kept = DEFAULT_ROLLUPS
    assert kept.minutes is not None
    with tempfile.TemporaryDirectory() as tmp:
        async with connect(f"sqlite+aiosqlite:///{tmp}/wall.db") as store:
            r, sizes, started = store.rollups, [], time.perf_counter()
            for day in range(days):
                for m in range(1440):
                    minute = T0 // 60 + day * 1440 + m
                    await r.replace("w", 1, {minute: minute_bucket(minute, rng)})
                    if m % 60 == 59:  # the writer derives the finished hour, then trims
                        for grain, bucket in await r.marked("w"):
                            if grain == "hour" or m == 1439:
                                await r.derive("w", 1, grain, bucket)
                        await r.trim("w", "minute", (minute + 1) * 60 - kept.minutes)
                sizes.append(await used_bytes(store))
            async with store.engine.connect() as conn:
                rows: dict[int, int] = dict((await conn.execute(sa.text(
                    "SELECT span, count(*) FROM rollups GROUP BY span"))).all())
    per_day = sizes[-1] - sizes[-2]
    took = time.perf_counter() - started
    print(f"(b) store growth, SQLite, 1 post/s, {days} days simulated in {took:.0f} s")
    print(f"    used bytes at the end of each day: {', '.join(f'{s / 1e6:.1f} MB' for s in sizes)}")
    print(f"    rows now: minutes {rows.get(SPAN['minute'], 0)}, hours {rows.get(SPAN['hour'], 0)}, "
          f"days {rows.get(SPAN['day'], 0)}")
    print(f"    a day adds {per_day / 1e6:.2f} MB once the minutes are steady (48 h, "
          f"{sizes[1] / 1e6:.1f} MB with them): {30 * per_day / 1e6:.0f} MB per wall per month; hours go "
          f"after 90 days: about {(sizes[1] + 90 * per_day) / 1e6:.0f} MB, then the days alone grow")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--redis-url")
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--bare", action="store_true", help="the writer without enrichment")
    parser.add_argument("--rate", type=float, default=1.0,
                        help="posts a second of the wall's time (a minute's flush is shared by 60 x rate)")
    parser.add_argument("--flush", type=float, default=300.0,
                        help="seconds of the wall's time between copies ([walls.W.rollups] flush)")
    parser.add_argument("--skip-writer", action="store_true")
    parser.add_argument("--skip-growth", action="store_true")
    args = parser.parse_args()
    print("rerun: .venv/bin/python bench/rollups.py " + " ".join(sys.argv[1:]))
    if not args.skip_writer:
        asyncio.run(bench_writer(args.posts, args.runs, args.redis_url, not args.bare, args.rate,
                                 args.flush))
    if not args.skip_growth:
        asyncio.run(bench_growth(max(args.days, 3)))


if __name__ == "__main__":
    main()
