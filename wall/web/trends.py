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


async def trends(rollups: Rollups, wall: str, now: float, tz: str = "UTC") -> dict[str, Any]:
    """The wall's `trends` frame at `now`: each comparison only where the history covers it."""
    out: dict[str, Any] = {"type": "trends", "at": int(now)}
    first = await rollups.first_bucket(wall)
    if first is None:
        return out  # a new wall: nothing to compare with
    clock = Clock(now, tz)
    if (today := await _today(rollups, wall, clock, first)) is not None:
        out["today"] = today
    if (days := await _daily(rollups, wall, clock, first)) is not None:
        volume, sentiment = days
        if volume:
            out["volume_days"] = volume
        if sentiment:
            out["sentiment_days"] = sentiment
    if (voice := await _voice(rollups, wall, clock, first)) is not None:
        out["voice_weeks"] = voice
    return out


async def _today(rollups: Rollups, wall: str, clock: Clock, first: float) -> dict[str, Any] | None:
    """Posts today so far, and by the same time on the same weekday a week ago. The roll-ups keep minutes
    for 48 hours only, so the hour a week ago that holds "the same time" counts for its elapsed share."""
    midnight = clock.midnight(clock.today)
    if first > midnight - WEEK:
        return None
    today = (await rollups.totals(wall, midnight, clock.next_hour, "posts")).get("posts", 0)
    before = (await rollups.totals(wall, midnight - WEEK, clock.hour - WEEK, "posts")).get("posts", 0)
    hour = await rollups.series(wall, "hour", clock.hour - WEEK, clock.next_hour - WEEK, "posts")
    partial = sum(c.get("posts", 0) for _, c in hour) * (clock.now - clock.hour) / HOUR
    weekday = (clock.today - timedelta(days=7)).strftime("%A")
    return {"posts": today, "week_ago": round(before + partial), "weekday": weekday}


async def _daily(rollups: Rollups, wall: str, clock: Clock, first: float
                 ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]] | None:
    """Posts per local day over up to 30 days, and the sentiment split per day over the last 7: one
    read of hourly roll-ups (kept 90 days), grouped by the wall's days."""
    start_day = max(clock.today - timedelta(days=VOLUME_DAYS - 1), clock.first_whole_day(first))
    days = (clock.today - start_day).days + 1
    if days < MIN_VOLUME_DAYS:
        return None
    posts = {start_day + timedelta(days=i): 0 for i in range(days)}
    feel = {d: {"positive": 0, "neutral": 0, "negative": 0} for d in posts
            if d > clock.today - timedelta(days=SENTIMENT_DAYS)}
    for start, counts in await rollups.series(wall, "hour", clock.midnight(start_day), clock.next_hour):
        day = clock.day_of(start)
        if day in posts:
            posts[day] += counts.get("posts", 0)
        if day in feel:
            for label, n in feel[day].items():
                feel[day][label] = n + counts.get(f"sent:{label}", 0)
    volume = [{"day": d.isoformat(), "posts": n} for d, n in posts.items()]
    scored = sum(sum(split.values()) for split in feel.values())
    sentiment = [{"day": d.isoformat(), **split} for d, split in feel.items()] \
        if scored and len(feel) == SENTIMENT_DAYS else []
    return volume, sentiment


async def _voice(rollups: Rollups, wall: str, clock: Clock, first: float) -> dict[str, Any] | None:
    """Share of voice over the last 7 days against the 7 before (whole hours, the current one included)."""
    end = clock.next_hour
    if first > end - 2 * WEEK:
        return None
    this = _voices(await rollups.totals(wall, end - WEEK, end, "voice:"))
    last = _voices(await rollups.totals(wall, end - 2 * WEEK, end - WEEK, "voice:"))
    if not this or not last:
        return None
    names = sorted((n for n in this if n != BRAND_KEY), key=lambda n: (-this[n], n))[:VOICES]
    return {"this": _shares(this, names), "last": _shares(last, names)}


def _voices(totals: Mapping[str, int]) -> dict[str, int]:
    return {name.removeprefix("voice:"): n for name, n in totals.items() if n > 0}


def _shares(counts: dict[str, int], names: list[str]) -> dict[str, Any]:
    """Mentions of the brand and of the named competitors, with the week's total of every name."""
    return {"mentions": sum(counts.values()), "brand": counts.get(BRAND_KEY, 0),
            "competitors": {n: counts.get(n, 0) for n in names}}


class TrendsTask:
    """One node's loop: every INTERVAL seconds, each wall's trends to its hub (one read per wall)."""

    def __init__(self, rollups: Rollups, publish: Mapping[str, Callable[[bytes], None]],
                 timezones: Mapping[str, str], interval: float = INTERVAL) -> None:
        self.rollups = rollups
        self.publish = publish  # wall -> its hub's set_trends
        self.timezones = timezones
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    async def refresh(self) -> None:
        """Read every wall's trends now and hand each to its hub."""
        now = time.time()
        for wall, publish in self.publish.items():
            try:
                frame = await trends(self.rollups, wall, now, self.timezones.get(wall, "UTC"))
            except Exception as e:  # the store is down: screens keep the last trends they got
                log.warning("wall %s: cannot read the roll-ups for trends: %s", wall, e)
                continue
            publish(encode(frame))

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
