"""Sentiment accuracy (VADER alone vs the shipped model), the learning curve, enrichment throughput,
language accuracy.

    .venv/bin/python bench/sentiment_eval.py [--posts 20000] [--curve 500,1000,2000]

The human-rated sets (bench/data/sentiment/, see NOTICE.md): the shipped model was fitted on the
project's own posts and on the tweets with an even row number (tools/fit_sentiment_model.py), so it is
judged here only on the odd-numbered tweets and on the Amazon snippets, which it never saw.
The learning curve fits a wall's model on the first N lines of a set, as if curators had corrected them,
and scores the rest, against VADER alone on the same rest.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest.enrich import Enricher, Item, model, sentiment  # noqa: E402
from ingest.enrich.pipeline import EnrichConfig  # noqa: E402
from ingest.enrich.terms import TermsConfig  # noqa: E402

DATA = ROOT / "bench" / "data" / "sentiment"
SETS = {"tweets": "tweets_groundtruth.tsv", "amazon": "amazonReviewSnippets_groundtruth.tsv"}
LABELS = sentiment.LABELS


def truth(rating: float) -> str:
    """The common 3-class reading of a mean rating (see NOTICE.md)."""
    return "positive" if rating > 0.5 else "negative" if rating < -0.5 else "neutral"


def rows(name: str) -> list[tuple[float, str]]:
    with open(DATA / SETS[name], encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader)
        return [(float(r[1]), r[2]) for r in reader if len(r) >= 3]


def fitted_tweets() -> list[tuple[str, str]]:
    """The tweets the shipped model is fitted on (even row numbers), as (text, label)."""
    return [(text, truth(rating)) for i, (rating, text) in enumerate(rows("tweets")) if i % 2 == 0]


def held_out(name: str) -> list[tuple[float, str]]:
    """The rows of a set the shipped model never saw."""
    data = rows(name)
    return [r for i, r in enumerate(data) if i % 2 == 1] if name == "tweets" else data


def accuracy(gold: list[str], pred: list[str]) -> float:
    return sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold)


def macro_f1(gold: list[str], pred: list[str]) -> float:
    scores = []
    for label in LABELS:
        tp = sum(g == p == label for g, p in zip(gold, pred, strict=True))
        fp = sum(p == label != g for g, p in zip(gold, pred, strict=True))
        fn = sum(g == label != p for g, p in zip(gold, pred, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores)


def pearson(xs: list[float], ys: list[float]) -> float:
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    cov = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    return cov / math.sqrt(sum((x - mx) ** 2 for x in xs) * sum((y - my) ** 2 for y in ys))


def accuracy_table() -> None:
    vader = sentiment.analyzer()
    print("held-out rows only (tweets: the odd-numbered half; Amazon: all)")
    print(f"{'set':8} {'scorer':14} {'n':>5} {'acc':>6} {'macroF1':>8} {'pearson':>8}")
    for name in SETS:
        data = held_out(name)
        gold = [truth(r) for r, _ in data]
        ratings = [r for r, _ in data]
        plain = [vader.polarity_scores(t)["compound"] for _, t in data]
        shipped = model.score([t for _, t in data], model.default())
        for scorer, labels, scores in (
            ("vader ±0.05", [sentiment.vader_label(c) for c in plain], plain),
            ("shipped", [s.label for s in shipped], [s.score for s in shipped]),
        ):
            print(f"{name:8} {scorer:14} {len(gold):5} {accuracy(gold, labels):6.3f} "
                  f"{macro_f1(gold, labels):8.3f} {pearson(scores, ratings):8.3f}")


def learning_curve(sizes: list[int]) -> None:
    """A wall's model fitted on the first N lines of a set as if corrected, scored on the rest."""
    vader = sentiment.analyzer()
    print(f"{'set':8} {'fitted on':>9} {'rest':>5} {'learned':>8} {'vader':>6} {'shipped':>8}")
    for name in SETS:
        data = rows(name)
        for n in sizes:
            if n >= len(data):
                continue
            learned = model.fit([model.Example(t, truth(r)) for r, t in data[:n]])
            rest = data[n:]
            gold = [truth(r) for r, _ in rest]
            texts = [t for _, t in rest]
            plain = [sentiment.vader_label(vader.polarity_scores(t)["compound"]) for t in texts]
            mine = [s.label for s in model.score(texts, learned)]
            # The shipped model saw half the tweets: it is judged on the Amazon rest alone.
            shipped = f"{accuracy(gold, [s.label for s in model.score(texts, model.default())]):8.3f}" \
                if name != "tweets" else f"{'-':>8}"
            print(f"{name:8} {n:9,} {len(rest):5} {accuracy(gold, mine):8.3f} {accuracy(gold, plain):6.3f} "
                  f"{shipped}")


def demo_posts() -> list[dict[str, object]]:
    posts: list[dict[str, object]] = json.loads((ROOT / "ingest/demo/posts.json").read_text("utf-8"))
    return posts


def throughput(n: int) -> None:
    posts = demo_posts()
    items = [Item(str(p["text"]), str(i % 97), float(i) / 10) for i, p in
             enumerate(posts[i % len(posts)] for i in range(n))]
    config = EnrichConfig(terms=TermsConfig(
        brand=["Nordlys", "Nordlys X3", "X3"], competitors={"Kestrel": ["Kestrel", "K9"]},
        topics={"camera": ["camera", "kamera", "cámara", "caméra", "カメラ", "كاميرا"],
                "battery": ["battery", "akku", "batería", "batterie", "akku", "バッテリー", "البطارية"]}))
    enricher = Enricher(config)
    enricher.enrich_batch(items[:len(posts)])  # warm up: models load lazily
    enricher = Enricher(config)
    start = time.process_time()
    for i in range(0, n, 256):
        enricher.enrich_batch(items[i:i + 256])
    whole = n / (time.process_time() - start)
    vader = sentiment.analyzer()
    start = time.process_time()
    for item in items:
        vader.polarity_scores(item.text)
    alone = n / (time.process_time() - start)
    print(f"throughput on one core ({n} posts, the demo's {len(posts)} repeated): "
          f"whole Enricher {whole:,.0f} posts/s, VADER alone {alone:,.0f} posts/s")


def language_accuracy() -> None:
    posts = [p for p in demo_posts() if p.get("lang")]
    right = unknown = 0
    per: dict[str, list[int]] = {}
    # The Enricher takes the wall's brand names out first, as the demo wall would configure them.
    names = Enricher(EnrichConfig(terms=TermsConfig(brand=["Nordlys"], competitors={"Kestrel": ["Kestrel"]})))
    for p in posts:
        got = names.enrich(Item(str(p["text"]))).lang
        ok = got == p["lang"]
        right += ok
        unknown += got is None
        per.setdefault(str(p["lang"]), [0, 0])[0] += ok
        per[str(p["lang"])][1] += 1
    detail = ", ".join(f"{k} {a}/{b}" for k, (a, b) in sorted(per.items()))
    print(f"language detection on the demo: {right}/{len(posts)} = {right / len(posts):.3f} "
          f"({unknown} left unknown; {detail})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--curve", default="500,1000,2000", help="learning curve sizes, comma-separated")
    args = parser.parse_args()
    print(f"rerun: .venv/bin/python bench/sentiment_eval.py --posts {args.posts} --curve {args.curve}")
    print(f"machine: {platform.machine()} {platform.processor() or ''} Python {platform.python_version()}")
    accuracy_table()
    learning_curve([int(n) for n in args.curve.split(",") if n])
    language_accuracy()
    throughput(args.posts)


if __name__ == "__main__":
    main()
