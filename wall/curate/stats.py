"""Rolling stats of a wall from its minute buckets (pure): what the writer announces."""

from __future__ import annotations

from collections import Counter

from wall.models import Post, StatsEvent
from wall.text import hashtags

WINDOW_MINUTES = 60  # trending hashtags look back one hour
TAG = "tag:"


def counts_for(post: Post) -> tuple[tuple[str, int], ...]:
    """The counters one approved post adds to its minute's bucket."""
    return (("posts", 1), *((TAG + t, 1) for t in dict.fromkeys(hashtags(post.entities))))


def window(minute: int) -> list[int]:
    """The minute buckets the figures read: the last hour, this minute included."""
    return list(range(minute - WINDOW_MINUTES + 1, minute + 1))


def figures(total: int, buckets: dict[int, dict[str, int]], now: float) -> StatsEvent:
    """Posts per minute (a sliding minute: this one plus the unelapsed share of the last) and the hour's
    top hashtags. Deterministic for given buckets and time, so every process computes the same."""
    minute, into = divmod(now, 60)
    current, previous = buckets.get(int(minute), {}), buckets.get(int(minute) - 1, {})
    per_minute = current.get("posts", 0) + round(previous.get("posts", 0) * (1 - into / 60))
    tags: Counter[str] = Counter()
    for m in window(int(minute)):
        for name, n in buckets.get(m, {}).items():
            if name.startswith(TAG):
                tags[name[len(TAG):]] += n
    trending = tuple(sorted(tags.items(), key=lambda kv: (-kv[1], kv[0]))[:5])
    return StatsEvent(total=total, per_minute=per_minute, trending=trending)
