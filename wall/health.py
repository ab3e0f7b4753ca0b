"""Health records of the parts that may run in any process (sources): written by the worker that runs
the part, read by every web node for /healthz. Pure; imports nothing of ours."""

from __future__ import annotations

import msgspec

STALE_AFTER = 15.0  # seconds: a record nobody refreshed for this long means its worker died or lost Redis


class SourceHealth(msgspec.Struct, frozen=True):
    name: str
    walls: tuple[str, ...]
    state: str  # starting | running | throttled | failing | finished
    error: str | None
    posts: int
    posts_per_minute: int
    connected_since: float | None
    last_post_at: float | None
    retry_at: float | None
    worker: str
    at: float  # when the worker wrote it
    skipped: int = 0  # messages passed over (unparsable, or refused by the sanitizer), since start


def shown(raw: bytes, now: float) -> dict[str, object]:
    """A record as /healthz shows it: ages instead of times, and 'stale' when nobody refreshed it."""
    rec = msgspec.json.decode(raw, type=SourceHealth)

    def age(t: float | None) -> float | None:
        return None if t is None else round(now - t, 1)

    state, error = rec.state, rec.error
    if now - rec.at > STALE_AFTER:
        state = "stale"
        error = (f"no worker has reported this source for {now - rec.at:.0f} s: is `wall ingest` running "
                 "and connected to Redis?")
    return {
        "name": rec.name, "walls": list(rec.walls), "state": state, "error": error, "posts": rec.posts,
        "skipped": rec.skipped,
        "posts_per_minute": rec.posts_per_minute, "connected_for_s": age(rec.connected_since),
        "last_post_age_s": age(rec.last_post_at),
        "retry_in_s": None if rec.retry_at is None else round(max(0.0, rec.retry_at - now), 1),
        "worker": rec.worker,
    }
