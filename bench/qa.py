"""What Q&A costs the curation writer: question and upvote detection (`wall/questions.py`) on every post,
then the store's `take` for the posts that ask or vote (SQLite), on the demo's 300 posts in eight
languages with a tenth turned into votes ("+1 Q3", "👍").

    .venv/bin/python bench/qa.py [--posts 100000] [--rounds 3] [--store-posts 2000]

One process on one core (sched_setaffinity); detection is the best of --rounds; the store figure is one
run of --store-posts posts through `QA.take` into a fresh SQLite file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from wall.models import Author, Post  # noqa: E402
from wall.questions import is_question, upvote  # noqa: E402
from wall.store import connect  # noqa: E402

VOTES = ("+1 Q{n}", "👍 q{n}", "❤️ Q{n}", "+1")


def posts(count: int) -> list[tuple[str, str | None]]:
    demo = json.loads((ROOT / "ingest/demo/posts.json").read_text("utf-8"))
    base = [(str(p["text"]), p.get("lang")) for p in demo]
    return [(VOTES[i % 4].format(n=1 + i % 7), None) if i % 10 == 0 else base[i % len(base)]
            for i in range(count)]


def detect(text: str, lang: str | None) -> bool:
    vote, _ = upvote(text)
    return vote or is_question(text, lang)


def best(rounds: int, work: list[tuple[str, str | None]]) -> float:
    times = []
    for _ in range(rounds):
        start = time.process_time()
        for text, lang in work:
            detect(text, lang)
        times.append(time.process_time() - start)
    return min(times) / len(work) * 1e6


async def store_run(work: list[tuple[str, str | None]]) -> tuple[float, int, int]:
    with tempfile.TemporaryDirectory() as tmp:
        async with connect(f"sqlite+aiosqlite:///{tmp}/wall.db") as store:
            when = datetime(2026, 12, 7, tzinfo=UTC)
            start = time.perf_counter()
            for i, (text, lang) in enumerate(work):
                await store.qa.take("bench", Post(f"p{i}", "bench", f"p{i}", text, when,
                                                  Author(f"a{i % 500}", f"a{i % 500}"), lang=lang))
            took = time.perf_counter() - start
            found = await store.qa.questions("bench")
            return took / len(work) * 1e6, len(found), sum(q.votes for q in found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--store-posts", type=int, default=2000)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    work = posts(args.posts)
    asks = sum(detect(t, lang) for t, lang in work)
    per_post = best(args.rounds, work)
    stored, questions, votes = asyncio.run(store_run(work[:args.store_posts]))
    print(f"command: .venv/bin/python bench/qa.py --posts {args.posts} --rounds {args.rounds} "
          f"--store-posts {args.store_posts}")
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"posts: {len(work)}, questions or votes: {asks} ({asks / len(work):.0%})")
    print(f"detection:      {per_post:6.2f} µs/post  ({1e6 / per_post:,.0f} posts/s on one core)")
    print(f"store take:     {stored:6.1f} µs/post on SQLite, all posts "
          f"({questions} questions, {votes} votes)")


if __name__ == "__main__":
    main()
