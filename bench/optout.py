"""What the opt-out tag costs the curation writer: `has_tag` on every post, against finding the post's
entities (work every post already gets) as the baseline, on the demo's 300 posts in eight languages.

    .venv/bin/python bench/optout.py [--posts 100000] [--rounds 3]

One process on one core (sched_setaffinity); each figure is the best of --rounds, since a shared machine
slows any single run. A tenth of the posts carry the tag in a disguised form (case, accents, a zero-width
joiner), so the matcher's slow path is in the figures too.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from wall.text import find_entities, has_tag  # noqa: E402

DISGUISES = ("#NoWall", "#nöwáll", "#no\u200dwall", "#NOWALL!")


def texts(count: int) -> list[str]:
    posts = json.loads((ROOT / "ingest/demo/posts.json").read_text("utf-8"))
    base = [str(p["text"]) for p in posts]
    return [base[i % len(base)] + (f" {DISGUISES[i % 4]}" if i % 10 == 0 else "") for i in range(count)]


def best(rounds: int, work: list[str], step: object) -> float:
    """Best per-post microseconds of `rounds` runs."""
    times = []
    for _ in range(rounds):
        start = time.process_time()
        for text in work:
            step(text)  # type: ignore[operator]
        times.append(time.process_time() - start)
    return min(times) / len(work) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    work = texts(args.posts)
    found = sum(has_tag(t, (), "#nowall") for t in work)
    tag = best(args.rounds, work, lambda t: has_tag(t, (), "#nowall"))
    entities = best(args.rounds, work, find_entities)
    print(f"command: .venv/bin/python bench/optout.py --posts {args.posts} --rounds {args.rounds}")
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"posts: {len(work)}, carrying the tag: {found} (expected {len(range(0, len(work), 10))})")
    print(f"has_tag:        {tag:6.2f} µs/post  ({1e6 / tag:,.0f} posts/s on one core)")
    print(f"find_entities:  {entities:6.2f} µs/post  (baseline: done for every post already)")


if __name__ == "__main__":
    main()
