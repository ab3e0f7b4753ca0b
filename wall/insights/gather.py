"""gather(): one wall's figures over [start, end) from the roll-ups and the display log, with the posts
behind spikes and screens where the wall still keeps them (docs/insights.md)."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from wall.bus.base import RECENT_KEPT, Inbox
from wall.insights.model import Insights, PostLine, Shown, Spike
from wall.insights.timefmt import zone
from wall.models import RecentPost, decode_recent
from wall.store.display_log import DisplayLog
from wall.store.rollups import Grain, Rollups
from wall.store.store import Store

BRAND_KEY = "\x00brand"  # the roll-ups' name of the wall's own brand in "voice:" (wall/curate/figures.py)
MINUTES_KEPT = 48 * 3600  # the roll-ups keep minutes this long, hours HOURS_KEPT (docs/rollups.md)
HOURS_KEPT = 90 * 86400
SENTIMENTS = ("positive", "neutral", "negative", "unscored")
TOP = 15  # rows of the top tables
VOICES = 6  # names in the share-of-voice chart: the brand and the most mentioned competitors
# A spike: a bucket with at least SPIKE_MIN posts and more than SPIKE_FACTOR times its baseline plus
# SPIKE_MIN / 2 (the mean of the BASELINE buckets before it), and only where the wall's history covers
# that baseline: a fresh wall's first busy minute is not a spike (issue 19, point 6).
SPIKE_MIN = 10
SPIKE_FACTOR = 3.0
BASELINE = {"minute": 60, "hour": 24}
STEP = {"minute": 60, "hour": 3600, "day": 86400}
SPIKES = 12  # the biggest ones, then in time order
MINUTE_SPIKES = 2 * 86400  # ranges up to two days look for spikes by the minute, longer ones by the hour
EXAMPLES = 5  # posts shown per spike
SHOWN = 100  # posts in "what the screens showed"


def grain_for(start: float, end: float, now: float) -> Grain:
    """Minutes for a few hours still kept as minutes, hours up to a week and a day, days beyond."""
    span = end - start
    if span <= 6 * 3600 and start >= now - MINUTES_KEPT:
        return "minute"
    if span <= 8 * 86400 and start >= now - HOURS_KEPT:
        return "hour"
    return "day"


async def gather(store: Store, wall: str, start: float, end: float, *, tz: str = "UTC",
                 recent: Inbox | None = None, now: float | None = None) -> Insights:
    """The wall's insights over [start, end) (epoch seconds), times shown in `tz`. `recent` (the bus's
    inbox) gives spikes' and screens' posts their text and author while the wall keeps them."""
    zone(tz)  # a bad zone is refused before any work
    now = time.time() if now is None else now
    grain = grain_for(start, end, now)
    posts = await _recent_posts(recent, wall, start, end)
    figures = await _figures(store.rollups, wall, start, end, grain, tz)
    spikes = await _spikes(store, store.rollups, wall, start, end, now, posts)
    shown = await _shown(store.display_log, recent, wall, start, end)
    return Insights(wall=wall, start=start, end=end, tz=tz, grain=grain, spikes=spikes, shown=shown,
                    **figures)


async def _figures(rollups: Rollups, wall: str, start: float, end: float, grain: Grain, tz: str
                   ) -> dict[str, Any]:
    # Two reads: every counter per bucket, and every counter summed. Each prefix read would scan the same
    # rows again (a counter's name is the last part of the roll-ups' key), so the split is done here.
    series = await rollups.series(wall, grain, start, end)
    totals = await rollups.totals(wall, start, end)
    names = sorted((k for k in totals if k.startswith("voice:")),
                   key=lambda k: (k != f"voice:{BRAND_KEY}", -totals[k], k))[:VOICES]
    return {
        "posts": totals.get("posts", 0),
        "volume": _filled([(at, c.get("posts", 0)) for at, c in series], grain, start, end),
        "sentiment": {s: totals.get(f"sent:{s}", 0) for s in SENTIMENTS},
        "mood": _mood(series, grain, tz, end - start),
        "voice_names": ["" if n == f"voice:{BRAND_KEY}" else n.removeprefix("voice:") for n in names],
        "voice": [(at, [c.get(n, 0) for n in names]) for at, c in series if any(n in c for n in names)],
        "topics": _named(totals, "topic:")[:TOP] or _named(totals, "term:")[:TOP],
        "hashtags": _named(totals, "tag:")[:TOP],
        "authors": _named(totals, "author:")[:TOP],
        "sources": _named(totals, "source:"),
        "statuses": _named(totals, "status:"),
    }


def _named(totals: dict[str, int], prefix: str) -> list[tuple[str, int]]:
    found = [(k.removeprefix(prefix), v) for k, v in totals.items() if k.startswith(prefix) and v]
    return sorted(found, key=lambda kv: (-kv[1], kv[0]))


def _filled(points: list[tuple[float, int]], grain: Grain, start: float, end: float
            ) -> list[tuple[float, int]]:
    """Empty buckets as zeros (a chart of a quiet night goes down to 0, not straight across it)."""
    step = STEP[grain]
    if grain == "day" or (end - start) / step > 20_000:
        return points  # days follow the roll-ups' UTC days; leave them as they come
    have = dict(points)
    first = start - start % step
    return [(float(t), have.get(float(t), 0)) for t in range(int(first), int(end), step)]


def _mood(scores: list[tuple[float, dict[str, int]]], grain: Grain, tz: str, span: float
          ) -> list[tuple[float, float]]:
    """The mean compound score per hour (a range of two days or less) or per local day."""
    by_day = span > 2 * 86400
    z = zone(tz)
    sums: dict[float, list[int]] = defaultdict(lambda: [0, 0])
    for at, c in scores:
        if by_day:
            local = datetime.fromtimestamp(at, z).replace(hour=0, minute=0, second=0, microsecond=0)
            key = local.timestamp()
        else:
            key = at - at % 3600 if grain == "minute" else at
        s = sums[key]
        s[0] += c.get("sentsum", 0)
        s[1] += c.get("scored", 0)
    return [(at, round(s / n / 1000, 4)) for at, (s, n) in sorted(sums.items()) if n]


async def _spikes(store: Store, rollups: Rollups, wall: str, start: float, end: float, now: float,
                  posts: list[RecentPost]) -> list[Spike]:
    first = await _history_start(rollups, wall, now)
    if first is None:
        return []
    grain: Grain = "minute" if end > now - MINUTES_KEPT and end - start <= MINUTE_SPIKES else "hour"
    step, window = STEP[grain], BASELINE[grain]
    lo = max(start - start % step - window * step, first - first % step)
    counts = {int(at): c.get("posts", 0) for at, c in await rollups.series(wall, grain, lo, end, "posts")}
    if grain == "minute" and not counts:
        return []
    found = sorted(_find_spikes(counts, int(lo), int(start), int(end), step, window, int(first)),
                   key=lambda s: -(s.posts / (s.baseline + 1)))[:SPIKES]
    return [Spike(s.at, grain, s.posts, s.baseline, await _examples(store, wall, s.at, s.at + step, posts))
            for s in sorted(found, key=lambda s: s.at)]


async def _history_start(rollups: Rollups, wall: str, now: float) -> float | None:
    """When the wall's roll-ups start: its first minute while that is still kept (first_bucket gives the
    day a young wall's first minute is in, which would count a morning it did not exist as quiet)."""
    first = await rollups.first_bucket(wall)
    if first is None or first < now - MINUTES_KEPT - 86400:
        return first
    minutes = await rollups.series(wall, "minute", first, now + 60, "posts")
    return minutes[0][0] if minutes else first


def _find_spikes(counts: dict[int, int], lo: int, start: int, end: int, step: int, window: int,
                 first: int) -> Iterable[Spike]:
    """One pass with a running sum of the `window` buckets before each bucket (empty ones count 0)."""
    running = 0
    t = lo
    while t < end:
        n = counts.get(t, 0)
        if t >= start and t - window * step >= first - first % step:
            baseline = running / window
            if n >= SPIKE_MIN and n > SPIKE_FACTOR * baseline + SPIKE_MIN / 2:
                yield Spike(float(t), "", n, baseline)
        running += n - counts.get(t - window * step, 0) if t - window * step >= lo else n
        t += step


async def _examples(store: Store, wall: str, start: float, end: float, posts: list[RecentPost]
                    ) -> list[PostLine]:
    """The posts behind a spike: those the wall still keeps that arrived in it, then what curators
    decided in it (ids and statuses only: decisions keep no text)."""
    lines = [_line(p) for p in posts if start <= p.arrived < end][:EXAMPLES]
    seen = {line.post_id for line in lines}
    for d in await store.decisions.decided_between(wall, start, end, EXAMPLES):
        if len(lines) < EXAMPLES and d.post_id not in seen:
            lines.append(PostLine(d.post_id, status=d.status))
    return lines


async def _recent_posts(recent: Inbox | None, wall: str, start: float, end: float) -> list[RecentPost]:
    if recent is None:
        return []
    kept = [decode_recent(b) for b in await recent.recent(wall, RECENT_KEPT)]
    return [p for p in kept if start <= p.arrived < end and p.folded_into is None and not p.deleted]


async def _shown(display: DisplayLog, recent: Inbox | None, wall: str, start: float, end: float
                 ) -> list[Shown]:
    records = await display.shown(wall, start, end, SHOWN)
    kept = await recent.recent_of(wall, [r.post_id for r in records]) if recent and records else {}
    lines = {pid: _line(decode_recent(body)) for pid, body in kept.items()}
    return [Shown(lines.get(r.post_id) or PostLine(r.post_id), r.first_shown, r.seconds, r.screens)
            for r in records]


def _line(p: RecentPost) -> PostLine:
    who = p.post.author.handle or p.post.author.name
    return PostLine(p.post.id, f"{p.post.source}:{who}" if who else "", p.post.text, p.post.status)
