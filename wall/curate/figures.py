"""A wall's live figures, counted from the posts it approved, in minute buckets.

Everything is derived from the posts' own timestamps, so the same posts give the same figures in any
process, in any order; `dump()`/`load()` carry the buckets across a restart or a lease move.
"""

from __future__ import annotations

import math
from typing import Any

import msgspec

WINDOW_MINUTES = 60
TREND_MINUTES = 15
RECENT_MINUTES = 10
SPIKE_BASELINE_MINUTES = 30
# A spike needs history to compare with: the wall must have counted posts at least this long before the
# current minute (docs/alerts.md). A new wall's first minutes hold its backlog: "usually 0" is no baseline.
SPIKE_HISTORY_MINUTES = SPIKE_BASELINE_MINUTES
SPIKE_Z = 3.0
SPIKE_MIN_POSTS = 10
NEGATIVE_MIN_SCORED = 5
TOP = 10
LABELS = ("positive", "neutral", "negative")


class Entry(msgspec.Struct, frozen=True):
    """What one approved post adds to the figures."""

    id: str
    ts: float
    label: str | None = None  # sentiment label, None when not scored
    brand: bool = False
    competitors: list[str] = []
    hashtags: list[str] = []
    terms: list[str] = []
    author: str | None = None
    source: str | None = None


class Bucket(msgspec.Struct):
    count: int = 0
    copies: int = 0  # posts folded into a card (docs/folding.md): in none of the other figures
    sentiment: dict[str, int] = {}
    hashtags: dict[str, int] = {}
    terms: dict[str, int] = {}
    voice: dict[str, int] = {}
    authors: dict[str, int] = {}
    sources: dict[str, int] = {}


class _State(msgspec.Struct):
    newest: int = 0
    buckets: dict[int, Bucket] = {}
    entries: dict[str, Entry] = {}


BRAND_KEY = "\x00brand"  # the wall's own brand in `voice`; competitor names are their own keys


def _bump(counts: dict[str, int], key: str, by: int) -> None:
    value = counts.get(key, 0) + by
    if value:
        counts[key] = value
    else:
        counts.pop(key, None)


class Figures:
    """Counts per minute of approved posts; `add`, `retract`, `snapshot(now)`, `dump`/`load`."""

    def __init__(self) -> None:
        self._s = _State()

    # --- feeding -----------------------------------------------------------------------------------

    def add(self, entry: Entry) -> None:
        """Count an approved post (a post already counted is replaced, e.g. after a re-score)."""
        if entry.id in self._s.entries:
            self.retract(entry.id)
        minute = math.floor(entry.ts / 60)
        if minute <= self._s.newest - WINDOW_MINUTES:
            return  # older than the window: it can never show
        self._apply(entry, minute, 1)
        self._s.entries[entry.id] = entry
        if minute > self._s.newest:
            self._s.newest = minute
            self._prune()

    def retract(self, post_id: str) -> bool:
        """Take back a post that was hidden, deleted or rejected; False when it was not counted."""
        entry = self._s.entries.pop(post_id, None)
        if entry is None:
            return False
        minute = math.floor(entry.ts / 60)
        if minute in self._s.buckets:
            self._apply(entry, minute, -1)
        return True

    def _apply(self, e: Entry, minute: int, by: int) -> None:
        b = self._s.buckets.get(minute)
        if b is None:
            b = self._s.buckets[minute] = Bucket()
        b.count += by
        _bump(b.sentiment, e.label or "unscored", by)
        for tag in set(e.hashtags):
            _bump(b.hashtags, tag.lower(), by)
        for term in set(e.terms):
            _bump(b.terms, term, by)
        if e.brand:
            _bump(b.voice, BRAND_KEY, by)
        for name in set(e.competitors):
            _bump(b.voice, name, by)
        if e.author:
            _bump(b.authors, e.author, by)
        if e.source:
            _bump(b.sources, e.source, by)
        if b.count == 0:
            del self._s.buckets[minute]

    def _prune(self) -> None:
        oldest = self._s.newest - WINDOW_MINUTES + 1
        for minute in [m for m in self._s.buckets if m < oldest]:
            del self._s.buckets[minute]
        for post_id in [i for i, e in self._s.entries.items() if math.floor(e.ts / 60) < oldest]:
            del self._s.entries[post_id]

    # --- persistence -------------------------------------------------------------------------------

    def dump(self) -> bytes:
        """The state as JSON bytes (minute buckets and the posts they count)."""
        return msgspec.json.encode(self._s)

    @classmethod
    def load(cls, data: bytes) -> Figures:
        """Figures from `dump()` output."""
        figures = cls()
        figures._s = msgspec.json.decode(data, type=_State)
        return figures

    @classmethod
    def from_counts(cls, buckets: dict[int, dict[str, int]]) -> Figures:
        """Figures from the flat counters the curation writer commits per minute (see stats.counts_for):
        "posts", "sent:<label>", "tag:<tag>", "term:<term>", "voice:<brand>", "author:<a>", "source:<s>",
        "copies" (posts folded into a card)."""
        figures = cls()
        fields = {"sent": "sentiment", "tag": "hashtags", "term": "terms", "voice": "voice",
                  "author": "authors", "source": "sources"}
        for minute, counts in buckets.items():
            b = Bucket(count=counts.get("posts", 0), copies=counts.get("copies", 0))
            for name, n in counts.items():
                kind, _, key = name.partition(":")
                if kind in fields and key:
                    getattr(b, fields[kind])[key] = n
            figures._s.buckets[minute] = b
        figures._s.newest = max(buckets, default=0)
        return figures

    # --- reading -----------------------------------------------------------------------------------

    def _sum(self, now_minute: int, minutes: int, skip: int = 0) -> Bucket:
        """The buckets of `minutes` minutes ending `skip` minutes before the current one."""
        total = Bucket()
        for minute in range(now_minute - skip - minutes + 1, now_minute - skip + 1):
            b = self._s.buckets.get(minute)
            if b is None:
                continue
            total.count += b.count
            total.copies += b.copies
            for name in ("sentiment", "hashtags", "terms", "voice", "authors", "sources"):
                into: dict[str, int] = getattr(total, name)
                for key, value in getattr(b, name).items():
                    into[key] = into.get(key, 0) + value
        return total

    def history_since(self) -> float | None:
        """When the oldest minute these figures still hold began (epoch seconds), None when they hold none."""
        minutes = [m for m, b in self._s.buckets.items() if b.count > 0]
        return min(minutes) * 60.0 if minutes else None

    def snapshot(self, now: float, history_since: float | None = None) -> dict[str, Any]:
        """The figures at `now` (seconds), for a `stats` event. `history_since`: when the wall's counted
        history starts where more is known than these buckets hold (the roll-ups); spike alerts are raised
        only once the history covers the whole baseline."""
        m = math.floor(now / 60)
        hour = self._sum(m, WINDOW_MINUTES)
        recent = self._sum(m, RECENT_MINUTES)
        volume = [self._s.buckets[i].count if i in self._s.buckets else 0
                  for i in range(m - WINDOW_MINUTES + 1, m + 1)]
        return {
            "minute": m,
            "volume": volume,
            "total": hour.count,
            "copies": hour.copies,
            "sentiment": _split(hour.sentiment),
            "trend": {"last": _split(self._sum(m, TREND_MINUTES).sentiment),
                      "previous": _split(self._sum(m, TREND_MINUTES, TREND_MINUTES).sentiment)},
            "top_hashtags": _top(hour.hashtags),
            "trending_hashtags": _trending(recent.hashtags, hour.hashtags),
            "trending_terms": _trending(recent.terms, hour.terms),
            "share_of_voice": _voice(hour.voice),
            "top_authors": _top(hour.authors),
            "top_sources": _top(hour.sources),
            "alerts": self._alerts(m) if self._has_history(m, history_since) else [],
        }

    def _has_history(self, m: int, history_since: float | None) -> bool:
        known = [t for t in (history_since, self.history_since()) if t is not None]
        return bool(known) and min(known) <= (m - SPIKE_HISTORY_MINUTES) * 60

    def _alerts(self, m: int) -> list[dict[str, object]]:
        alerts: list[dict[str, object]] = []
        now_b = self._s.buckets.get(m, Bucket())
        counts = [self._s.buckets[i].count if i in self._s.buckets else 0
                  for i in range(m - SPIKE_BASELINE_MINUTES, m)]
        mean = sum(counts) / len(counts)
        std = math.sqrt(sum((c - mean) ** 2 for c in counts) / len(counts))
        z = (now_b.count - mean) / max(std, 1.0)
        if now_b.count >= SPIKE_MIN_POSTS and z >= SPIKE_Z:
            alerts.append({"kind": "volume", "count": now_b.count, "baseline": round(mean, 2),
                           "z": round(z, 2)})
        base = self._sum(m - 1, SPIKE_BASELINE_MINUTES).sentiment
        scored_now = sum(now_b.sentiment.get(k, 0) for k in LABELS)
        if scored_now >= NEGATIVE_MIN_SCORED:
            scored = sum(base.get(k, 0) for k in LABELS)
            p0 = (base.get("negative", 0) + 1) / (scored + 3)  # smoothed, so a quiet baseline is not 0
            p = now_b.sentiment.get("negative", 0) / scored_now
            zn = (p - p0) / math.sqrt(p0 * (1 - p0) / scored_now)
            if zn >= SPIKE_Z:
                alerts.append({"kind": "negative", "share": round(p, 4), "baseline": round(p0, 4),
                               "z": round(zn, 2)})
        return alerts


def _split(counts: dict[str, int]) -> dict[str, object]:
    scored = sum(counts.get(k, 0) for k in LABELS)
    out: dict[str, object] = {k: counts.get(k, 0) for k in LABELS}
    out["unscored"] = counts.get("unscored", 0)
    out["shares"] = {k: round(counts.get(k, 0) / scored, 4) if scored else 0.0 for k in LABELS}
    return out


def _top(counts: dict[str, int], n: int = TOP) -> list[list[object]]:
    return [[key, value] for key, value in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def _trending(recent: dict[str, int], hour: dict[str, int], n: int = TOP) -> list[dict[str, object]]:
    """Keys whose last-10-minute rate beats their own last-hour rate (smoothed by one post each side)."""
    scored = []
    for key, r in recent.items():
        if r < 2:
            continue
        expected = hour[key] * RECENT_MINUTES / WINDOW_MINUTES
        score = (r + 1) / (expected + 1)
        if score > 1.0:
            scored.append({"key": key, "recent": r, "hour": hour[key], "score": round(score, 3)})
    scored.sort(key=lambda d: (-float(str(d["score"])), -int(str(d["recent"])), str(d["key"])))
    return scored[:n]


def _voice(voice: dict[str, int]) -> dict[str, object]:
    total = sum(voice.values())
    def share(v: int) -> float:
        return round(v / total, 4) if total else 0.0
    brand = voice.get(BRAND_KEY, 0)
    return {
        "brand": {"count": brand, "share": share(brand)},
        "competitors": {k: {"count": v, "share": share(v)}
                        for k, v in sorted(voice.items()) if k != BRAND_KEY},
        "mentions": total,
    }
