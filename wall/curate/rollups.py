"""The curation writer's roll-ups (docs/rollups.md): the bus's exact minute buckets, copied to the store.

The bus keeps a wall's minute buckets for BUCKETS_KEPT minutes, exact: each commit adds what it counted
and takes back what it retracted, fenced by the writer's lease. The writer's feed copies each minute of
that window whose counters changed into the store, replacing the stored minute (never adding to it),
every FLUSH_EVERY seconds, at each new minute, and once more before it hands its lease over; then it
derives the hours and days those minutes marked. A new lease holder starts from what the store holds and
copies what differs, so a takeover, whenever it happens, leaves the same rows as a run never interrupted.
"""

from __future__ import annotations

import logging
from typing import Protocol

from wall.bus.base import BUCKETS_KEPT
from wall.config import RollupsKept
from wall.curate.stats import for_rollups
from wall.store.rollups import SPAN, Grain, Rollups

log = logging.getLogger(__name__)
FLUSH_EVERY = 5.0  # seconds between copies of the changed minutes
# Minutes of the bus's window the feed copies: ten fewer than it keeps, so that a writer whose clock is
# behind the last one's (a takeover) never takes a minute the bus let go for one that became empty.
WINDOW = BUCKETS_KEPT - 10
DAY_EVERY = 300.0  # seconds between derivations of the current day (a sum over up to 1440 minutes)
TRIM_EVERY = 3600.0  # seconds between trims of the grains past their retention


class Counts(Protocol):
    async def counts(self, wall: str, minutes: list[int]) -> dict[int, dict[str, int]]: ...


class RollupFeed:
    """One wall's feed while this writer holds the lease (a new one each lead)."""

    def __init__(self, wall: str, bus: Counts, rollups: Rollups, kept: RollupsKept) -> None:
        self.wall = wall
        self.bus = bus
        self.rollups = rollups
        self.kept = kept
        self.written: dict[int, dict[str, int]] = {}  # minute -> the counters the store holds for it
        self.minute = -1  # the minute of the last flush
        self.flush_at = 0.0
        self.day_at = 0.0
        self.trim_at = 0.0

    async def start(self, token: int, now: float) -> None:
        """At lead: what the store holds of the bus's window, then a flush that finishes what a previous
        holder left (changed minutes, marked hours and days)."""
        minute = int(now // 60)
        found = await self.rollups.series(self.wall, "minute", (minute - WINDOW + 1) * 60,
                                          (minute + 1) * 60)
        self.written = {int(start // 60): counters for start, counters in found}
        await self.flush(token, now, final=True)

    def due(self, now: float) -> bool:
        return now >= self.flush_at or int(now // 60) != self.minute

    async def flush(self, token: int, now: float, final: bool = False) -> None:
        """Copy the changed minutes of the bus's window, derive what they marked, trim when it is time.
        `final`: the current day too, whenever it was last derived (at lead and before handing over)."""
        minute = int(now // 60)
        window = list(range(minute - WINDOW + 1, minute + 1))
        buckets = {m: for_rollups(c) for m, c in (await self.bus.counts(self.wall, window)).items()}
        changed = {m: buckets.get(m, {}) for m in window if buckets.get(m, {}) != self.written.get(m, {})}
        if not buckets:  # a bus that lost its buckets (Redis flushed) does not empty the stored minutes
            changed = {m: c for m, c in changed.items() if c}
        await self.rollups.replace(self.wall, token, changed)
        self.written = {m: c for m, c in {**self.written, **changed}.items() if m >= window[0]}
        if changed or final or now >= self.day_at:
            await self._derive(token, now, final)
        if now >= self.trim_at:
            await self._trim(now)
            self.trim_at = now + TRIM_EVERY
        self.minute, self.flush_at = minute, now + FLUSH_EVERY

    async def _derive(self, token: int, now: float, final: bool) -> None:
        today = now // SPAN["day"] * SPAN["day"]
        current_day = final or now >= self.day_at
        for grain, bucket in await self.rollups.marked(self.wall):
            if grain == "day" and bucket >= today and not current_day:
                continue  # today's day again in a while: hours and minutes answer until then
            await self.rollups.derive(self.wall, token, grain, bucket)
        if current_day:
            self.day_at = now + DAY_EVERY

    async def _trim(self, now: float) -> None:
        grains: tuple[tuple[Grain, float | None], ...] = (
            ("minute", self.kept.minutes), ("hour", self.kept.hours), ("day", self.kept.days))
        for grain, seconds in grains:
            if seconds is not None:
                removed = await self.rollups.trim(self.wall, grain, now - seconds)
                if removed:
                    log.info("wall %s: roll-ups: %d %s row(s) past retention removed", self.wall, removed,
                             grain)
