#!/usr/bin/env python3
"""Erasure on request: the time `wall erase` takes for an author with 1,000 posts among many others.

It starts its own redis-server (tests/redis_server.py) on a free port and a SQLite store in a temp dir, then
fills one wall as a busy day leaves it: `--others` posts of 500 other authors and the author's `--posts`
posts, interleaved, committed as the curation writer does (display events, recent posts, stats counters,
known authors; the display stream holds 10,000 events, the recent posts the newest 2,000), a curator's
decision and a sentiment label for every post, `--audit` audit records of which every post's decision is
one, and three widths of an image per post in the media cache. Then it erases the author as `wall erase`
does (wall/privacy/erasure.py: bus, store, media cache, the audit record) and prints the time with what
was removed, and the time of a second erasure (nothing left to find). `--engine memory` keeps the bus's
state in the same SQL store, as a single box does.

    .venv/bin/python bench/erasure.py                        # 1,000 posts among 9,000, 100,000 audit rows
    .venv/bin/python bench/erasure.py --engine memory

A benchmark, not a test: it prints figures and asserts nothing. Everything stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import shlex
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/redis_server.py

from tests.redis_server import RedisServer, free_port  # noqa: E402
from wall.bus.base import RECENT_KEPT, Commit, Engine, writer_lease  # noqa: E402
from wall.bus.memory import MemoryEngine  # noqa: E402
from wall.bus.redis import RedisEngine  # noqa: E402
from wall.curate.stats import counts_for  # noqa: E402
from wall.media.cache import cache_name  # noqa: E402
from wall.media.images import WIDTHS  # noqa: E402
from wall.models import Author, Media, Post, PostEvent, RecentPost, encode, post_id  # noqa: E402
from wall.privacy.erasure import erase  # noqa: E402
from wall.store import Store, open_store  # noqa: E402
from wall.store.schema import audit, decisions, sentiment_labels  # noqa: E402

WALL = "bench"
OWNER = "bench-writer"
AUTHOR = "webhook:erased_one"
BATCH = 100  # posts per commit while filling


def make_post(i: int, mine: bool) -> Post:
    handle = "erased_one" if mine else f"a{i % 500}"
    return Post(post_id("webhook", str(i)), "webhook", str(i),
                f"post {i} by {handle} " + "lorem ipsum dolor sit amet " * 10, datetime.now(UTC),
                Author(f"Author {handle}", handle, f"https://img.example/{handle}.png"),
                media=(Media(f"https://img.example/{i}.jpg"),))


async def fill(engine: Engine, store: Store, cache: Path, others: int, posts: int, audit_rows: int) -> None:
    token = await engine.lease(writer_lease(WALL), OWNER, ttl=3600)
    assert token
    entry = await engine.enqueue(WALL, b"{}")
    total = others + posts
    mine = set(range(0, total, max(1, total // posts))[:posts])
    every = [make_post(i, i in mine) for i in range(total)]
    for start in range(0, total, BATCH):
        batch = every[start:start + BATCH]
        await engine.commit(WALL, OWNER, token, Commit(
            entry, tuple(encode(PostEvent(p)) for p in batch), shown=tuple(p.id for p in batch),
            counts=tuple((p.id, counts_for(p)) for p in batch), minute=int(time.time() // 60),
            recent=tuple((p.id, encode(RecentPost(p, time.time()))) for p in batch),
            authors=tuple({f"webhook:{p.author.handle}" for p in batch})))
    for p in every:
        for w in WIDTHS:
            (cache / cache_name(p.media[0].url, w)).write_bytes(b"RIFF....WEBP" + p.id.encode())
    now = time.time()
    async with store.engine.begin() as conn:  # rows as curators' work leaves them, written in bulk
        await conn.execute(decisions.insert(), [
            {"wall": WALL, "post_id": p.id, "status": "approved", "pinned": False, "spotlight_until": None,
             "sentiment_label": "positive" if i in mine else None, "decided_by": "curator", "decided_at": now,
             "version": 1} for i, p in enumerate(every)])
        await conn.execute(sentiment_labels.insert(), [
            {"wall": WALL, "post_id": p.id, "text": p.text, "label": "positive", "by": "curator", "at": now}
            for i, p in enumerate(every) if i in mine])
        rows = [{"at": now, "actor": "curator", "action": "decide", "wall": WALL, "target": p.id,
                 "before": None, "after": {"status": "approved"}} for p in every]
        rows += [{"at": now, "actor": "curator", "action": "decide", "wall": "other", "target": f"{n:016x}",
                  "before": None, "after": {"status": "approved"}} for n in range(audit_rows - total)]
        for start in range(0, len(rows), 5000):
            await conn.execute(audit.insert(), rows[start:start + 5000])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=1000, help="the author's posts")
    parser.add_argument("--others", type=int, default=9000, help="other authors' posts")
    parser.add_argument("--audit", type=int, default=100_000, help="audit records in all")
    parser.add_argument("--engine", choices=["redis", "memory"], default="redis")
    args = parser.parse_args()
    print("command:", shlex.join([".venv/bin/python", "bench/erasure.py", *sys.argv[1:]]))
    print("machine:", platform.platform(), f"{platform.python_implementation()} {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(free_port(), Path(tmp) / "redis") if args.engine == "redis" else None
        if server is not None:
            server.start()
        cache = Path(tmp) / "media"
        cache.mkdir()

        async def measure() -> None:
            store = await open_store(f"sqlite+aiosqlite:///{tmp}/wall.db")
            engine: Engine
            if server is not None:
                engine = RedisEngine(server.url)
            else:
                memory = MemoryEngine()
                await memory.keep(store.bus_state(10_000, RECENT_KEPT), [WALL])
                engine = memory
            try:
                started = time.perf_counter()
                await fill(engine, store, cache, args.others, args.posts, args.audit)
                print(f"filled in {time.perf_counter() - started:.1f} s: {args.posts:,} posts of the author "
                      f"among {args.others:,} of 500 others, {args.audit:,} audit records, "
                      f"{len(list(cache.iterdir())):,} cache files")
                for run in ("erasure", "again"):
                    started = time.perf_counter()
                    report = await erase(engine, store, [WALL], AUTHOR, "bench", cache, 10_000)
                    took = time.perf_counter() - started
                    print(f"{run} ({args.engine} engine, SQLite): {took:.2f} s; posts found {report.posts}; "
                          f"removed {dict(sorted(report.removed.items()))}")
            finally:
                await engine.close()
                await store.close()

        try:
            asyncio.run(measure())
        finally:
            if server is not None:
                server.stop()


if __name__ == "__main__":
    main()
