"""The bus contract shared by every engine.

- publish() appends an event body to the wall's capped history and announces it live; it returns the id the
  bus gave it. Ids are "<ms>-<seq>" strings that grow strictly within a wall (Redis Stream ids).
- The epoch names one history. It changes when history is lost (memory engine restart, Redis flushed), so a
  saved id from another epoch is never trusted.
- read_after() returns exactly the events after an id (up to `upto`, inclusive), oldest first, or None when
  the history no longer reaches back that far ("too old, take a snapshot").
- subscribe() yields every event after `after` exactly once, in id order: first what history still holds,
  then live events. If the engine loses its connection it reconnects with backoff and fills the gap from
  history; when the gap cannot be filled it yields a Gap and carries on from the newest event.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import NamedTuple, Protocol


class Message(NamedTuple):
    id: str
    body: bytes


@dataclass(frozen=True, slots=True)
class Gap:
    """Events were lost between the last message and the next one: rebuild state from history."""

    epoch: str


class BusStatus(NamedTuple):
    engine: str
    connected: bool
    error: str | None = None


class Bus(Protocol):
    engine: str

    async def epoch(self, wall: str) -> str: ...

    async def publish(self, wall: str, body: bytes) -> str: ...

    async def read_after(self, wall: str, after: str, upto: str | None = None) -> list[Message] | None: ...

    async def latest(self, wall: str, count: int) -> list[Message]:
        """The newest `count` events of the wall, oldest first."""
        ...

    def subscribe(self, wall: str, after: str | None) -> AsyncIterator[Message | Gap]: ...

    def status(self) -> BusStatus: ...

    async def close(self) -> None: ...


class Store(Protocol):
    """Small shared state for the ingest side: dedupe digests and connector cursors."""

    async def remember(self, wall: str, post_id: str, digest: str) -> str | None:
        """Record the digest of a post; return the digest it had before, or None if it is new."""
        ...

    async def get_cursor(self, key: str) -> str | None: ...

    async def set_cursor(self, key: str, value: str) -> None: ...

    async def lease(self, name: str, owner: str, ttl: float) -> bool:
        """Take or renew a lease for `ttl` seconds; True while `owner` holds it (one stats publisher)."""
        ...


class Engine(Bus, Store, Protocol):
    """What a bus engine provides: the bus and the store."""


def backoff(attempt: int, base: float = 0.2, cap: float = 10.0) -> float:
    """Exponential backoff with full jitter (AWS architecture blog), in seconds."""
    return random.uniform(0, min(cap, base * 2**attempt))
