"""Times as people read them, in the wall's time zone; and the time ranges the console offers."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PRESETS = {"today": "Today", "yesterday": "Yesterday", "7d": "Last 7 days", "month": "This month",
           "custom": "An event or a custom range"}
MAX_DAYS = 400  # a longer range is refused: a year and a bit of daily roll-ups is what a page can show


def zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"tz: {tz!r} is not a time zone; use one like Europe/Helsinki") from None


def stamp(at: float, tz: str, grain: str) -> str:
    """A bucket's start: "2026-12-06" for days, "2026-12-06 14:00" otherwise."""
    t = datetime.fromtimestamp(at, zone(tz))
    return t.strftime("%Y-%m-%d") if grain == "day" else t.strftime("%Y-%m-%d %H:%M")


def resolve(preset: str, start: str, end: str, tz: str, now: float) -> tuple[float, float]:
    """The range [start, end) in epoch seconds of a preset, or of "custom" from and to
    ("YYYY-MM-DD" or "YYYY-MM-DDTHH:MM", local to `tz`; a date as `to` includes that day).
    ValueError names the field and what it takes."""
    z = zone(tz)
    today = datetime.fromtimestamp(now, z).date()

    def midnight(d: datetime | None = None, day: int = 0) -> float:
        base = today if d is None else d.date()
        return datetime.combine(base + timedelta(days=day), time(), z).timestamp()

    if preset == "today":
        return midnight(), now
    if preset == "yesterday":
        return midnight(day=-1), midnight()
    if preset == "7d":
        return midnight(day=-6), now
    if preset == "month":
        return datetime.combine(today.replace(day=1), time(), z).timestamp(), now
    if preset != "custom":
        raise ValueError(f"range: one of {', '.join(PRESETS)}")
    lo, hi = _local(start, "from", z, False), _local(end, "to", z, True)
    if hi <= lo:
        raise ValueError("to: must be after from")
    if hi - lo > MAX_DAYS * 86400:
        raise ValueError(f"to: a range of at most {MAX_DAYS} days")
    return lo, hi


def _local(value: str, field: str, z: ZoneInfo, end: bool) -> float:
    value = value.strip()
    try:
        if len(value) == 10:
            day = datetime.fromisoformat(value).replace(tzinfo=z)
            return (day + timedelta(days=1) if end else day).timestamp()
        return datetime.fromisoformat(value).replace(tzinfo=z).timestamp()
    except ValueError:
        raise ValueError(f"{field}: a date (2026-05-14) or a time (2026-05-14T09:00)") from None
