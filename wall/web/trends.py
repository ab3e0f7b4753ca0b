"""Trends for the screens: each wall's figures compared with its own past, read from the store's roll-ups.

A web node reads each wall's roll-ups once a minute (whatever the number of its screens) and hands the
result to the wall's hub as one small `trends` frame; a screen that connects gets the latest at once
(docs/protocol.md, docs/page.md "Trends"). A comparison is in the frame only when the roll-ups reach back
far enough to make it, so a new wall's frame is empty and its screens show no trend panel at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

from wall.models import encode

log = logging.getLogger(__name__)

HOUR = 3600.0
DAY = 86400.0
WEEK = 7 * DAY
INTERVAL = 60.0  # seconds between two reads of a wall's roll-ups on a node
VOLUME_DAYS = 30  # the volume chart's longest reach
MIN_VOLUME_DAYS = 7  # fewer whole days of history: no volume chart
SENTIMENT_DAYS = 7
VOICES = 4  # competitors shown beside the brand, the most mentioned this week
LABELS = ("positive", "neutral", "negative")
BRAND_KEY = "\x00brand"  # the wall's own brand among the "voice:" counters (wall/curate/figures.py)

Grain = Literal["minute", "hour", "day"]


class Rollups(Protocol):
    """What trends read of the store's roll-ups (wall/store/rollups.py)."""

    async def series(self, wall: str, grain: Grain, start: float, end: float,
                     prefix: str = "") -> list[tuple[float, dict[str, int]]]: ...

    async def totals(self, wall: str, start: float, end: float, prefix: str = "") -> dict[str, int]: ...

    async def first_bucket(self, wall: str) -> float | None: ...


class Clock:
    """Local days of a wall's time zone, as hour-aligned epoch seconds (roll-ups keep whole UTC hours; a
    zone half an hour off UTC has its midnight taken at the hour before)."""

    def __init__(self, now: float, tz: str) -> None:
        self.now = now
        self.zone = ZoneInfo(tz)
        self.today = datetime.fromtimestamp(now, self.zone).date()
        self.hour = now - now % HOUR  # start of the current hour
        self.next_hour = self.hour + HOUR  # roll-ups up to here hold everything up to now

    def midnight(self, day: date) -> float:
        t = datetime(day.year, day.month, day.day, tzinfo=self.zone).timestamp()
        return t - t % HOUR

    def day_of(self, t: float) -> date:
        return datetime.fromtimestamp(t, self.zone).date()

    def first_whole_day(self, first: float) -> date:
        """The first local day the roll-ups cover from its midnight."""
        day = self.day_of(first)
        return day if self.midnight(day) >= first else day + timedelta(days=1)


@dataclass
class Past:
    """What a wall's trends read once an hour: everything before the current hour moves only when the
    hour does (share of voice takes the current hour as it was then). Minute by minute, only today's hours
    are read again."""

    hour: float  # Clock.hour when read
    first: float | None  # the wall's first roll-up bucket
    start_day: date | None = None  # the first day of the charts (None: not enough history)
    days: dict[date, dict[str, int]] = field(default_factory=dict)  # "posts", "sent:*" per whole past day
    week_ago: tuple[int, int] | None = None  # posts by the hour a week ago, and in that hour
    voice: dict[str, Any] | None = None


class WallTrends:
    """One wall's trends frames, from its roll-ups: the past read hourly, today every time."""

    def __init__(self, rollups: Rollups, wall: str, tz: str = "UTC") -> None:
        self.rollups = rollups
        self.wall = wall
        self.tz = tz
        self.past: Past | None = None
        self.shown = False  # a frame with a figure went out: from then on every frame does (to clear it)

    async def frame(self, now: float) -> dict[str, Any]:
        """The wall's `trends` frame at `now`: each comparison only where the history covers it."""
        out: dict[str, Any] = {"type": "trends", "at": int(now)}
        clock = Clock(now, self.tz)
        if self.past is None or self.past.hour != clock.hour:
            self.past = await self._read_past(clock)
        past = self.past
        if past.start_day is None and past.week_ago is None and past.voice is None:
            return out  # a new wall: nothing to compare with
        midnight = clock.midnight(clock.today)
        today: dict[str, int] = {}
        for prefix in ("posts", "sent:"):
            for _, counts in await self.rollups.series(self.wall, "hour", midnight, clock.next_hour, prefix):
                for name, n in counts.items():
                    today[name] = today.get(name, 0) + n
        if past.week_ago is not None:
            before, hour = past.week_ago
            out["today"] = {"posts": today.get("posts", 0),
                            "week_ago": round(before + hour * (now - clock.hour) / HOUR),
                            "weekday": (clock.today - timedelta(days=7)).strftime("%A")}
        if past.start_day is not None:
            days = {**past.days, clock.today: today}
            out["volume_days"] = [{"day": d.isoformat(), "posts": c.get("posts", 0)} for d, c in days.items()]
            feel = [(d, {k: c.get(f"sent:{k}", 0) for k in LABELS}) for d, c in days.items()
                    if d > clock.today - timedelta(days=SENTIMENT_DAYS)]
            if sum(sum(split.values()) for _, split in feel):
                out["sentiment_days"] = [{"day": d.isoformat(), **split} for d, split in feel]
        if past.voice is not None:
            out["voice_weeks"] = past.voice
        return out

    async def _read_past(self, clock: Clock) -> Past:
        first = await self.rollups.first_bucket(self.wall)
        past = Past(clock.hour, first)
        if first is None:
            return past
        midnight = clock.midnight(clock.today)
        if first <= midnight - WEEK:
            # Minutes are kept 48 hours only: the hour a week ago holding "the same time" counts for its
            # elapsed share (frame()).
            before = await self.rollups.totals(self.wall, midnight - WEEK, clock.hour - WEEK, "posts")
            hour = await self.rollups.series(self.wall, "hour", clock.hour - WEEK, clock.next_hour - WEEK,
                                             "posts")
            past.week_ago = (before.get("posts", 0), sum(c.get("posts", 0) for _, c in hour))
        start_day = max(clock.today - timedelta(days=VOLUME_DAYS - 1), clock.first_whole_day(first))
        if (clock.today - start_day).days + 1 >= MIN_VOLUME_DAYS:
            past.start_day = start_day
            past.days = {start_day + timedelta(days=i): {} for i in range((clock.today - start_day).days)}
            # Hourly roll-ups (kept 90 days) grouped by the wall's own days: UTC days would not do.
            week = clock.today - timedelta(days=SENTIMENT_DAYS - 1)
            for prefix, since in (("posts", start_day), ("sent:", week)):
                hours = await self.rollups.series(self.wall, "hour", clock.midnight(since), midnight, prefix)
                for start, counts in hours:
                    day = past.days.get(clock.day_of(start))
                    if day is not None:
                        for name, n in counts.items():
                            day[name] = day.get(name, 0) + n
        past.voice = await self._voice(clock.next_hour, first)
        return past

    async def _voice(self, end: float, first: float) -> dict[str, Any] | None:
        """Share of voice over the last 7 days against the 7 before (whole hours, the current included)."""
        if first > end - 2 * WEEK:
            return None
        this = _voices(await self.rollups.totals(self.wall, end - WEEK, end, "voice:"))
        last = _voices(await self.rollups.totals(self.wall, end - 2 * WEEK, end - WEEK, "voice:"))
        if not this or not last:
            return None
        names = sorted((n for n in this if n != BRAND_KEY), key=lambda n: (-this[n], n))[:VOICES]
        return {"this": _shares(this, names), "last": _shares(last, names)}


async def trends(rollups: Rollups, wall: str, now: float, tz: str = "UTC") -> dict[str, Any]:
    """The wall's `trends` frame at `now`, read afresh."""
    return await WallTrends(rollups, wall, tz).frame(now)


def _voices(totals: Mapping[str, int]) -> dict[str, int]:
    return {name.removeprefix("voice:"): n for name, n in totals.items() if n > 0}


def _shares(counts: dict[str, int], names: list[str]) -> dict[str, Any]:
    """Mentions of the brand and of the named competitors, with the week's total of every name."""
    return {"mentions": sum(counts.values()), "brand": counts.get(BRAND_KEY, 0),
            "competitors": {n: counts.get(n, 0) for n in names}}


class TrendsTask:
    """One node's loop: every INTERVAL seconds, each wall's trends to its hub."""

    def __init__(self, rollups: Rollups, publish: Mapping[str, Callable[[bytes], None]],
                 timezones: Mapping[str, str], interval: float = INTERVAL) -> None:
        self.walls = {wall: (WallTrends(rollups, wall, timezones.get(wall, "UTC")), send)
                      for wall, send in publish.items()}  # send: the wall's hub's set_trends
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    async def refresh(self) -> None:
        """Read every wall's trends now and hand each to its hub."""
        now = time.time()
        for wall, (reader, send) in self.walls.items():
            try:
                frame = await reader.frame(now)
            except Exception as e:  # the store is down: screens keep the last trends they got
                log.warning("wall %s: cannot read the roll-ups for trends: %s", wall, e)
                continue
            if len(frame) > 2 or reader.shown:  # a new wall's screens get no frame with nothing in it
                reader.shown = True
                send(encode(frame))

    async def _run(self) -> None:
        while True:
            await self.refresh()
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="trends")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
