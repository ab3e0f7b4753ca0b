"""The curation writer's roll-ups (docs/rollups.md): the bus's exact minute buckets, copied to the store.

The bus keeps a wall's minute buckets for BUCKETS_KEPT minutes, exact: each commit adds what it counted
and takes back what it retracted, fenced by the writer's lease. The writer's feed copies each minute of
that window whose counters changed into the store, replacing the stored minute (never adding to it), every
`flush` seconds of the wall's clock and once more before it hands its lease over; then it derives the hours
and days those minutes marked once they have ended (readers sum an open one from its minutes). A new lease
holder starts from what the store holds and copies what differs, so a takeover, whenever it happens,
leaves the same rows as a run never interrupted.
"""

from __future__ import annotations

import logging
from typing import Protocol

from wall.bus.base import BUCKETS_KEPT
from wall.config import RollupsKept
from wall.curate.stats import for_rollups
from wall.store.rollups import SPAN, Grain, Rollups

log = logging.getLogger(__name__)
RETRY = 5.0  # seconds before a flush that failed is tried again
# Minutes of the bus's window the feed copies: ten fewer than it keeps, so that a writer whose clock is
# behind the last one's (a takeover) never takes a minute the bus let go for one that became empty.
WINDOW = BUCKETS_KEPT - 10
DERIVED: tuple[Grain, ...] = ("hour", "day")
TRIM_EVERY = 3600.0  # seconds between trims of the grains past their retention


class Counts(Protocol):
    async def epoch(self, wall: str) -> str: ...

    async def counts(self, wall: str, minutes: list[int]) -> dict[int, dict[str, int]]: ...


class RollupFeed:
    """One wall's feed while this writer holds the lease (a new one each lead)."""

    def __init__(self, wall: str, bus: Counts, rollups: Rollups, kept: RollupsKept) -> None:
        self.wall = wall
        self.bus = bus
        self.rollups = rollups
        self.kept = kept
        self.written: dict[int, dict[str, int]] = {}  # minute -> the counters the store holds for it
        self.flush_at = 0.0  # the next flush: the next multiple of kept.flush (RETRY after a failure)
        self.pending: set[tuple[Grain, int]] = set()  # hours and days marked, not derived yet
        # What the writer's commits changed since the last flush: the minutes it counted posts in, and
        # whether it took any back (from a minute only the bus knows: the whole window is read again).
        self.dirty: set[int] = set()
        self.everything = True
        self.epoch = ""  # the bus's history; a stored minute the bus lacks is trusted empty only in it
        self.trusted = False
        self.trim_at = 0.0

    async def start(self, token: int, now: float) -> None:
        """At lead: what the store holds of the bus's window, then a flush that finishes what a previous
        holder left (changed minutes, marked hours and days)."""
        minute = int(now // 60)
        found = await self.rollups.series(self.wall, "minute", (minute - WINDOW + 1) * 60,
                                          (minute + 1) * 60)
        self.written = {int(start // 60): counters for start, counters in found}
        self.pending = set(await self.rollups.marked(self.wall))
        # The same bus history as the last writer's: a stored minute it lacks was emptied by retractions.
        # Another one (Redis flushed or restarted): it lost them, and the stored minutes stay as they are.
        self.epoch = await self.bus.epoch(self.wall)
        self.trusted = await self.rollups.bus_epoch(self.wall) in (None, "", self.epoch)
        await self.flush(token, now, final=True)

    def touched(self, minute: int | None, retracted: bool) -> None:
        if minute is not None:
            self.dirty.add(minute)
        self.everything = self.everything or retracted

    def due(self, now: float) -> bool:
        return now >= self.flush_at

    async def flush(self, token: int, now: float, final: bool = False) -> None:
        """Copy the changed minutes of the bus's window, derive the ended hours and days they marked, trim
        when it is time. `final` (at lead and before handing over): the whole window is compared."""
        minute = int(now // 60)
        window = list(range(minute - WINDOW + 1, minute + 1))
        everything, dirty = self.everything or final, self.dirty
        self.everything, self.dirty = False, set()
        read = window if everything else sorted(m for m in dirty if m >= window[0])
        try:
            buckets = {m: for_rollups(c) for m, c in (await self.bus.counts(self.wall, read)).items()}
        except BaseException:
            self.everything, self.dirty = everything, dirty | self.dirty
            raise
        if not self.trusted:
            self.written = {m: c for m, c in self.written.items() if m in buckets}
            self.trusted = True
        changed = {m: buckets.get(m, {}) for m in read if buckets.get(m, {}) != self.written.get(m, {})}
        if not everything or not buckets:  # a bus that lost its buckets (Redis flushed) does not empty
            changed = {m: c for m, c in changed.items() if c}  # the stored minutes
        try:
            await self.rollups.replace(self.wall, token, changed, self.epoch)
        except BaseException:
            self.everything, self.dirty = everything, dirty | self.dirty
            raise
        self.written = {m: c for m, c in {**self.written, **changed}.items() if m >= window[0]}
        self.pending.update((grain, m * 60 // SPAN[grain] * SPAN[grain]) for m in changed
                            for grain in DERIVED)
        for grain, bucket in sorted(self.pending, key=lambda gb: (gb[1], SPAN[gb[0]])):
            # An hour or day still open stays marked: readers sum it from its minutes until it has ended
            # (a day sums up to 1440 minutes: deriving it as it goes would cost more than all the rest).
            if bucket + SPAN[grain] <= now:
                await self.rollups.derive(self.wall, token, grain, bucket)
                self.pending.discard((grain, bucket))
        if now >= self.trim_at:
            await self._trim(now)
            self.trim_at = now + TRIM_EVERY
        self.flush_at = (now // self.kept.flush + 1) * self.kept.flush

    async def _trim(self, now: float) -> None:
        grains: tuple[tuple[Grain, float | None], ...] = (
            ("minute", self.kept.minutes), ("hour", self.kept.hours), ("day", self.kept.days))
        for grain, seconds in grains:
            if seconds is not None:
                removed = await self.rollups.trim(self.wall, grain, now - seconds)
                if removed:
                    log.info("wall %s: roll-ups: %d %s row(s) past retention removed", self.wall, removed,
                             grain)
