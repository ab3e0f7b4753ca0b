"""What is wrong with a wall right now, as alerts (pure): spikes from its live figures, sources failing or
silent, no curation writer, kiosks offline. Each alert has a `key` naming its subject, so the outbox can
send the same one once per dedupe window (docs/alerts.md)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from wall.health import shown
from wall.store.kiosks import Kiosk


class Alert(msgspec.Struct, frozen=True):
    """One alert as every target gets it: a title, one line of text and a few facts (label, value).
    Counts and names of sources and kiosks only: never a post's text or an author."""

    kind: str  # spike | source_down | writer_down | kiosk_offline | test
    key: str  # its subject: the same key within the dedupe window is sent once
    wall: str
    wall_title: str
    title: str
    text: str
    at: float
    facts: list[tuple[str, str]] = []

    def body(self) -> dict[str, Any]:
        """As the outbox keeps it (JSON)."""
        return msgspec.to_builtins(self)  # type: ignore[no-any-return]


def alert_from(body: Mapping[str, Any]) -> Alert:
    """An alert back from the outbox."""
    return msgspec.convert(body, Alert)


class _Stats(msgspec.Struct):
    minute: int = 0
    alerts: list[dict[str, Any]] = []


def spikes(wall: str, title: str, stats: bytes | None, now: float) -> list[Alert]:
    """The spike alerts of the wall's latest figures (the curation writer raises them only once the wall
    has the history to compare with: wall/curate/figures.py). Figures older than the last minute are a
    writer that stopped announcing, not a spike now."""
    if stats is None:
        return []
    try:
        found = msgspec.json.decode(stats, type=_Stats)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return []
    if found.minute < math.floor(now / 60) - 1:
        return []
    out = []
    for a in found.alerts:
        if a.get("kind") == "volume":
            count, usual = int(a.get("count", 0)), float(a.get("baseline", 0))
            out.append(Alert("spike", "spike:volume", wall, title, f"Spike on {title}",
                             f"{count} posts this minute (usually {usual:g})", now,
                             [("Posts this minute", str(count)), ("Usually", f"{usual:g} a minute"),
                              ("z-score", f"{float(a.get('z', 0)):g}")]))
        elif a.get("kind") == "negative":
            share, usual = float(a.get("share", 0)), float(a.get("baseline", 0))
            out.append(Alert("spike", "spike:negative", wall, title, f"Negative spike on {title}",
                             f"{share:.0%} of this minute's scored posts are negative (usually {usual:.0%})",
                             now, [("Negative now", f"{share:.0%}"), ("Usually", f"{usual:.0%}"),
                                   ("z-score", f"{float(a.get('z', 0)):g}")]))
    return out


def sources_down(wall: str, title: str, records: Iterable[bytes], now: float) -> list[Alert]:
    """Sources feeding the wall whose health record says failing, or that nobody refreshed (stale)."""
    out = []
    for raw in records:
        try:
            record = shown(raw, now)
        except (msgspec.DecodeError, msgspec.ValidationError):
            continue
        walls = record["walls"]
        if record["state"] not in ("failing", "stale") or not isinstance(walls, list) or wall not in walls:
            continue
        name = str(record["name"])
        out.append(Alert("source_down", f"source_down:{name}", wall, title, f"Source {name} is down",
                         f"{title} gets nothing from {name}: {record['error'] or record['state']}", now,
                         [("Source", name), ("State", str(record["state"])),
                          ("Worker", str(record["worker"]))]))
    return out


def writer_down(wall: str, title: str, holder: str | None, now: float) -> list[Alert]:
    """No curation writer holds the wall's lease: nothing new reaches its screens."""
    if holder is not None:
        return []
    return [Alert("writer_down", "writer_down", wall, title, f"No curation writer for {title}",
                  f"No process curates {title}: new posts wait in its inbox and its screens show nothing "
                  "new. Is `wall ingest` (or `wall curate`) running?", now)]


def kiosks_offline(wall: str, title: str, kiosks: Iterable[Kiosk], offline_after: float,
                   now: float) -> list[Alert]:
    """The wall's kiosks (paired, not revoked) that have not reported for `offline_after` seconds."""
    out = []
    for k in kiosks:
        if k.wall != wall or k.revoked_at is not None or k.last_seen is None:
            continue
        silent = now - k.last_seen
        if silent > offline_after:
            out.append(Alert("kiosk_offline", f"kiosk_offline:{k.id}", wall, title,
                             f"Kiosk {k.name} is offline",
                             f"Kiosk {k.name} (screen {k.screen} of {k.screens} of {title}) has not "
                             f"reported for {silent:.0f} s: is it powered and on the network?", now,
                             [("Kiosk", k.name), ("Screen", f"{k.screen} of {k.screens}"),
                              ("Silent for", f"{silent:.0f} s")]))
    return out


class Held:
    """Conditions of one kind on one wall that count only once they held for a while (a lease moving, a
    source's retry): each key's first sighting, forgotten as soon as a look does not see it."""

    def __init__(self) -> None:
        self.since: dict[str, float] = {}

    def look(self, alerts: list[Alert], after: float, now: float) -> list[Alert]:
        """Of these alerts, those whose key has been seen in every look for `after` seconds."""
        keys = {a.key for a in alerts}
        self.since = {k: t for k, t in self.since.items() if k in keys}
        return [a for a in alerts if now - self.since.setdefault(a.key, now) >= after]
