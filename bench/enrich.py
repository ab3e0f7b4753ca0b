"""Enrichment throughput on one core, VADER alone vs the whole enrichment (with the shipped sentiment model
and with a learned one); language accuracy; memory.

    .venv/bin/python bench/enrich.py [--posts 20000] [--rounds 3] [--profile] [--baseline REV]

The process pins itself to one CPU (sched_setaffinity) and counts its own CPU time; each figure is the best
of --rounds runs taken in turn, since a shared machine slows any single run by a fifth. Two streams: the
demo's 300 posts in eight languages repeated to --posts, and the 4,200 human-rated tweets (English, all
distinct).
The whole enrichment runs as the demo wall configures it (its brand, competitor, topics and its eight
languages) and with no `languages` (lingua's 22 default candidates), and on the demo wall once more with
a learned sentiment model (fitted on 2,000 of the rated tweets as if curators had corrected them, and on
the demo's posts in their languages, so every post is scored: the learned model's worst case).
With --baseline, REV's copy of this bench (its tree exported with `git archive`, the same venv) runs first
in a subprocess with the same arguments, then this tree's: compare the two in the same minutes.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest.enrich import Enricher, Item, config_from, language, model, sentiment  # noqa: E402
from wall.cli import DEMO_ENRICH  # noqa: E402

DEMO_LANGUAGES = ("en", "fi", "de", "es", "fr", "ja", "ar", "nb")


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        line = next(x for x in f if x.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def demo_posts() -> list[dict[str, object]]:
    posts: list[dict[str, object]] = json.loads((ROOT / "ingest/demo/posts.json").read_text("utf-8"))
    return posts


def tweets() -> list[str]:
    path = ROOT / "bench/data/sentiment/tweets_groundtruth.tsv"
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader)
        return [r[2] for r in reader if len(r) >= 3]


def items_of(texts: list[str], n: int) -> list[Item]:
    return [Item(texts[i % len(texts)], f"user{i % 97}", 1_773_300_000 + i / 10) for i in range(n)]


def learned_model() -> model.Model:
    """A wall's model as a learner would fit it: 2,000 corrected tweets, and the demo posts' languages."""
    path = ROOT / "bench/data/sentiment/tweets_groundtruth.tsv"
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader)
        rated = [(float(r[1]), r[2]) for r in reader if len(r) >= 3][:2000]
    label = {True: "positive", False: "negative"}
    examples = [model.Example(t, "neutral" if abs(r) <= 0.5 else label[r > 0], "en") for r, t in rated]
    # Only to give the model every demo language (the figure is speed, not accuracy): labelled neutral.
    examples += [model.Example(str(p["text"]), "neutral", str(p["lang"]))
                 for p in demo_posts() if p.get("lang")]
    return model.fit(examples)


def enricher_of(raw: dict[str, object], learned: model.Model | None) -> Enricher:
    enricher = Enricher(config_from(raw))
    enricher.use(learned)
    return enricher


def rate(enricher: Enricher, items: list[Item]) -> float:
    start = time.process_time()
    for i in range(0, len(items), 256):
        enricher.enrich_batch(items[i:i + 256])
    return len(items) / (time.process_time() - start)


def vader_rate(items: list[Item]) -> float:
    vader = sentiment.analyzer()
    start = time.process_time()
    for item in items:
        vader.polarity_scores(item.text)
    return len(items) / (time.process_time() - start)


def language_accuracy(codes: list[str] | None) -> str:
    """On the demo posts that carry a `lang` (the wall's brand names taken out first, as it does)."""
    enricher = Enricher(config_from({**DEMO_ENRICH, "languages": codes}))
    posts = [p for p in demo_posts() if p.get("lang")]
    per: dict[str, list[int]] = {}
    right = unknown = 0
    for p in posts:
        got = enricher.languages.detect(str(p["text"]), enricher._names)
        right += got == p["lang"]
        unknown += got is None
        per.setdefault(str(p["lang"]), [0, 0])[0] += got == p["lang"]
        per[str(p["lang"])][1] += 1
    english = [enricher.languages.detect(t, enricher._names) for t in tweets()]
    detail = ", ".join(f"{k} {a}/{b}" for k, (a, b) in sorted(per.items()))
    return (f"demo {right}/{len(posts)} = {right / len(posts):.3f} ({unknown} unknown; {detail}); "
            f"tweets called en {english.count('en') / len(english):.3f}, "
            f"unknown {english.count(None) / len(english):.3f}")


def baseline(rev: str, posts: int, rounds: int) -> None:
    print(f"--- baseline {rev} (git archive), then this tree", flush=True)
    with tempfile.TemporaryDirectory(prefix="enrich-baseline-") as tmp:
        archive = subprocess.run(["git", "archive", rev], cwd=ROOT, check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        subprocess.run([sys.executable, "bench/enrich.py", "--posts", str(posts), "--rounds", str(rounds)],
                       cwd=tmp, check=True)
    print("--- this tree")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the demo-wall run")
    parser.add_argument("--baseline", help="git revision whose copy of this bench runs first")
    args = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    again = f" --baseline {args.baseline}" if args.baseline else ""
    print(f"rerun: .venv/bin/python bench/enrich.py --posts {args.posts} --rounds {args.rounds}{again}")
    if args.baseline:
        baseline(args.baseline, args.posts, args.rounds)
    print(f"machine: {platform.machine()} Python {platform.python_version()}, pinned to CPU "
          f"{sorted(os.sched_getaffinity(0))}, load average {os.getloadavg()[0]:.2f}")
    before = rss_mb()
    start = time.monotonic()
    language.detector(DEMO_LANGUAGES).warm()
    print(f"models of the demo's eight languages: {time.monotonic() - start:.1f} s, "
          f"RSS {before:.0f} -> {rss_mb():.0f} MB")
    demo = items_of([str(p["text"]) for p in demo_posts()], args.posts)
    english = items_of(tweets(), args.posts)
    learned = learned_model()
    configs = {"demo wall (8 languages)": (DEMO_ENRICH, None),
               "no `languages` (22)": ({**DEMO_ENRICH, "languages": None}, None),
               "demo wall, learned model": (DEMO_ENRICH, learned)}
    for raw, _ in configs.values():
        Enricher(config_from(raw)).languages.warm()
    if args.profile:
        import cProfile
        import pstats
        profile = cProfile.Profile()
        profile.runcall(rate, Enricher(config_from(DEMO_ENRICH)), demo)
        pstats.Stats(profile).sort_stats("tottime").print_stats(15)
    runs: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.rounds):
        for name, (raw, fitted) in configs.items():
            for stream, items in (("demo posts", demo), ("tweets", english)):
                runs.setdefault((name, stream), []).append(rate(enricher_of(raw, fitted), items))
        for stream, items in (("demo posts", demo), ("tweets", english)):
            runs.setdefault(("VADER alone", stream), []).append(vader_rate(items))
    for (name, stream), rates in runs.items():
        what = "polarity_scores" if name == "VADER alone" else "whole enrichment"
        print(f"{name:24} {stream:10}: {what:16} {max(rates):7,.0f} posts/s "
              f"(runs: {', '.join(f'{r:,.0f}' for r in rates)})")
    print(f"RSS with both detectors loaded: {rss_mb():.0f} MB")
    print(f"language, demo wall (8):  {language_accuracy(list(DEMO_LANGUAGES))}")
    print(f"language, no `languages`: {language_accuracy(None)}")


if __name__ == "__main__":
    main()
