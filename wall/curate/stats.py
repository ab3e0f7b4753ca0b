"""Rolling stats of a wall from its minute buckets (pure): what the writer announces."""

from __future__ import annotations

from collections import Counter
from typing import Any

from wall.bus.base import Counters
from wall.curate.figures import BRAND_KEY, Figures
from wall.curate.figures import WINDOW_MINUTES as FIGURES_MINUTES
from wall.models import Post
from wall.text import hashtags

WINDOW_MINUTES = 60  # trending hashtags look back one hour
TAG = "tag:"


COPY: tuple[tuple[str, int], ...] = (("copies", 1),)  # a copy folded into a card: counted apart (folding.md)


def counts_for(post: Post) -> tuple[tuple[str, int], ...]:
    """The counters one approved post adds to its minute's bucket (read back by Figures.from_counts)."""
    names = ["posts", f"sent:{post.sentiment.label if post.sentiment else 'unscored'}"]
    names += [TAG + t for t in dict.fromkeys(hashtags(post.entities))]
    names += [f"term:{t}" for t in dict.fromkeys(post.topics)]
    names += [f"voice:{c}" for c in dict.fromkeys(post.competitors)]
    if post.brand:
        names.append(f"voice:{BRAND_KEY}")
    if post.author.handle:
        names.append(f"author:{post.author.handle}")
    names.append(f"source:{post.source}")
    return tuple((name, 1) for name in names)


SENT_SHIFT = "sentshift"  # Σ (score + 1) x 1000 of the scored posts: bus counters never go below 0


def decided_counts(post: Post) -> Counters:
    """The roll-ups' counters of a decided post besides the live figures' (docs/rollups.md): its status
    and, for an approved one, its language and sentiment score; the live figures ignore these names."""
    names: list[tuple[str, int]] = [(f"status:{post.status}", 1)]
    if post.visible and post.lang:
        names.append((f"lang:{post.lang}", 1))
    if post.visible and post.sentiment is not None:
        names += [("scored", 1), (SENT_SHIFT, round((post.sentiment.score + 1) * 1000))]
    return tuple(names)


def for_rollups(counters: dict[str, int]) -> dict[str, int]:
    """A bus bucket's counters as the roll-ups keep them: the shifted sentiment sum as "sentsum", the sum
    of the scores x 1000."""
    out = dict(counters)
    shifted = out.pop(SENT_SHIFT, None)
    if shifted is not None and (total := shifted - 1000 * out.get("scored", 0)):
        out["sentsum"] = total  # a counter of 0 is not kept, as on the bus
    return out


def window(minute: int) -> list[int]:
    """The minute buckets the figures read: the last hour and the one before it (for the baselines)."""
    return list(range(minute - max(WINDOW_MINUTES, FIGURES_MINUTES) - 1, minute + 1))


def figures(total: int, buckets: dict[int, dict[str, int]], now: float,
            history_since: float | None = None) -> dict[str, Any]:
    """The stats event: all-time total, posts per minute (a sliding minute: this one plus the unelapsed
    share of the last), the hour's top hashtags, and the live figures (volume per minute, sentiment and its
    trend, trending hashtags and terms, share of voice, top authors and sources, spike alerts).
    Deterministic for given buckets and time, so whichever process holds the lease computes the same.
    `history_since`: where the wall's history starts beyond these buckets (the roll-ups), for spikes."""
    minute, into = divmod(now, 60)
    current, previous = buckets.get(int(minute), {}), buckets.get(int(minute) - 1, {})
    per_minute = current.get("posts", 0) + round(previous.get("posts", 0) * (1 - into / 60))
    tags: Counter[str] = Counter()
    for m in range(int(minute) - WINDOW_MINUTES + 1, int(minute) + 1):
        for name, n in buckets.get(m, {}).items():
            if name.startswith(TAG):
                tags[name[len(TAG):]] += n
    trending = [list(kv) for kv in sorted(tags.items(), key=lambda kv: (-kv[1], kv[0]))[:5]]
    live = Figures.from_counts(buckets).snapshot(now, history_since)
    live["hour_total"] = live.pop("total")
    return {"type": "stats", "total": total, "per_minute": per_minute, "trending": trending, **live}
