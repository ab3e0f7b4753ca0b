"""Which period a digest covers and when it leaves (pure; docs/digests.md, "Schedule").

A daily digest covers one local day (midnight to midnight in the wall's `tz`, so 23 or 25 hours across a
clock change) and leaves the next day at `at`; a weekly one covers the seven days before `day` and leaves
that day at `at`. `due()` names the latest period whose time has come: the job sends it unless the store
says it went already, so a node that was down at 08:00 sends that morning's digest when it is back, and
never the ones before (a week offline sends one digest, not seven).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from wall.digests.settings import Digest


@dataclass(frozen=True, slots=True)
class Period:
    """A digest's time range [start, end) in epoch seconds, and its key in the store ("daily:2026-12-06"
    for the day it covers; "weekly:2026-11-30" for the week starting then; "range:A..B" asked for by
    hand). `first` and `last` are the local dates covered, for the subject line."""

    key: str
    start: float
    end: float
    first: date
    last: date

    @property
    def label(self) -> str:
        return self.first.isoformat() if self.first == self.last else f"{self.first} to {self.last}"


def _midnight(day: date, tz: ZoneInfo) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()


def covering(first: date, last: date, tz: str, kind: str = "range") -> Period:
    """The local days `first` to `last` (both included) in `tz`."""
    zone = ZoneInfo(tz)
    key = f"{kind}:{first}" if kind in ("daily", "weekly") else f"{kind}:{first}..{last}"
    return Period(key, _midnight(first, zone), _midnight(last + timedelta(days=1), zone), first, last)


def due(schedule: Digest, now: float) -> tuple[Period, float]:
    """The latest period whose digest should have left by `now`, and when it was due to leave."""
    zone = ZoneInfo(schedule.tz)
    local = datetime.fromtimestamp(now, zone)
    leaves = local.date()  # the day the digest leaves: today if `at` has passed, else the one before
    if schedule.every == "weekly":
        leaves -= timedelta(days=(leaves.weekday() - schedule.weekday) % 7)
    if local.time() < schedule.at and (schedule.every == "daily" or leaves == local.date()):
        leaves -= timedelta(days=1 if schedule.every == "daily" else 7)
    days = 1 if schedule.every == "daily" else 7
    period = covering(leaves - timedelta(days=days), leaves - timedelta(days=1), schedule.tz, schedule.every)
    at = datetime.combine(leaves, schedule.at, zone).timestamp()
    return period, at


def next_due(schedule: Digest, now: float) -> float:
    """When the period after the one due now leaves (epoch seconds): the job sleeps until then."""
    _, at = due(schedule, now)
    zone = ZoneInfo(schedule.tz)
    step = timedelta(days=1 if schedule.every == "daily" else 7)
    leaves = datetime.fromtimestamp(at, zone).date() + step
    return datetime.combine(leaves, schedule.at, zone).timestamp()


_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def named(name: str, tz: str, now: float) -> Period:
    """A period a person names on the command line: "yesterday", "today" (so far: to midnight tonight),
    "last-week" (Monday to Sunday before this week), "YYYY-MM-DD", or "YYYY-MM-DD..YYYY-MM-DD" (an event,
    both days included). Raises ValueError with the forms it takes."""
    today = datetime.fromtimestamp(now, ZoneInfo(tz)).date()
    text = name.strip().lower()
    if text == "yesterday":
        return covering(today - timedelta(days=1), today - timedelta(days=1), tz)
    if text == "today":
        return covering(today, today, tz)
    if text == "last-week":
        monday = today - timedelta(days=today.weekday() + 7)
        return covering(monday, monday + timedelta(days=6), tz)
    first, sep, last = text.partition("..")
    if _DAY.match(first) and (not sep or _DAY.match(last)):
        try:
            a, b = date.fromisoformat(first), date.fromisoformat(last or first)
        except ValueError:
            pass
        else:
            if a <= b:
                return covering(a, b, tz)
    raise ValueError(f"{name[:40]!r} is not a period; use yesterday, today, last-week, 2026-12-05 or "
                     "2026-12-01..2026-12-03 (days in the wall's time zone)")
