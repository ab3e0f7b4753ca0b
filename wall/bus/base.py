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
  Announcements come in between, in no particular order with the events, at most once.
  Live(True) comes once the subscription is live (subscribed and caught up), Live(False) when it lost its
  link and is reconnecting: a web node is healthy only while its feeds are live.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple, Protocol

from wall.bus.erasure import ErasedAuthor


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

    def subscribe(self, wall: str,
                  after: str | None) -> AsyncIterator[Message | Gap | Announcement | Live]: ...

    async def announce(self, wall: str, body: bytes, kind: str = "stats") -> None:
        """Send live-only data to the wall's subscribers and keep it as the latest of its kind (see
        announced()): "stats" (the writer's figures), "config" (the wall's published look, wall/look.py)."""
        ...

    async def announced(self, wall: str, kind: str = "stats") -> bytes | None:
        """The latest announcement of that kind of the wall, for snapshots."""
        ...

    async def latest_control(self, wall: str) -> bytes | None:
        """The wall's newest control event as a frame (with its id), for snapshots: it may be older than
        anything history still holds. The writer keeps it in its commit (Commit.control)."""
        ...

    def status(self) -> BusStatus: ...

    async def close(self) -> None: ...


BUCKETS_KEPT = 120  # minutes of stats buckets an engine keeps: the figures look back one hour
RECENT_KEPT = 2000  # recent posts (held ones too) kept per wall for the console and re-evaluation
Outcome = Literal["new", "updated", "duplicate"]


class Announcement(NamedTuple):
    """Live-only data (stats): not in the history, no id; the latest one is kept for snapshots."""

    body: bytes


class Live(NamedTuple):
    """The subscription is live (up) or lost its link and is reconnecting (not up)."""

    up: bool


class Fenced(Exception):
    """A commit came from a writer that no longer holds the wall's lease with that token: another writer
    took over (or the lease lapsed and was taken again since)."""


Counters = tuple[tuple[str, int], ...]  # (counter name, amount)


class Commit(NamedTuple):
    """What the curation writer does for one inbox entry, applied atomically by Inbox.commit()."""

    inbox_id: str  # the inbox entry this finishes: the writer's stored position moves to it
    events: tuple[bytes, ...] = ()  # display events to publish, in order
    shown: tuple[str, ...] = ()  # post ids now on screen
    unshown: tuple[str, ...] = ()  # post ids no longer on screen
    # (post id, its stats counters) for each post newly counted, added to the `minute` bucket. The engine
    # keeps each post's share and bucket, so that a later `uncounted` takes exactly that back.
    counts: tuple[tuple[str, Counters], ...] = ()
    minute: int = 0  # the bucket: minutes since the epoch
    recent: tuple[tuple[str, bytes], ...] = ()  # (post id, RecentPost body) to keep as the wall's recent
    queue: tuple[bytes, ...] = ()  # messages for the wall's queue channel (consoles), sent after commit
    control: bool = False  # the last event is the wall's control state: keep it as latest_control()
    authors: tuple[str, ...] = ()  # author keys with an approved post: known from now on
    uncounted: tuple[str, ...] = ()  # posts whose recorded counts come off their bucket and the total


class Inbox(Protocol):
    """The way into a wall: ingest admits posts, the one curation writer reads and commits.

    - admit() is the dedupe decision and the write it guards in one atomic step: the same content
      again is a "duplicate" and writes nothing; otherwise the digest is recorded and the entry appended.
      If it raises, nothing was recorded; if it returns, the entry is in the inbox.
    - enqueue() appends an entry with no dedupe (deletes, curators' commands).
    - read_inbox() returns entries after `after`, oldest first, waiting up to `timeout` s for one.
    - commit() applies a Commit if `owner` holds the wall's writer lease and `token` is its current
      fencing token, else raises Fenced; it returns the ids of the published events. Both are checked:
      the holder alone would let a writer that stalled, lost the lease and took it again write with its
      old plan; the token alone would let two writers through when a bus that lost data hands an old
      token out again (engines never do, see Coordination.lease, but the holder check does not rely on it).
      Publishing, the position, the shown set and the stats counters move together, so a writer that
      dies mid-way leaves nothing half done. Each post's counts are recorded with it; `uncounted` takes a
      post's recorded counts back from the bucket they went to (and "posts" from the total), once; a post
      with no record (never counted, taken back already, or older than the kept buckets) changes nothing.
    """

    async def admit(
        self, wall: str, post_id: str, digest: str, body: bytes
    ) -> tuple[Outcome, str | None]: ...

    async def enqueue(self, wall: str, body: bytes) -> str: ...

    async def read_inbox(self, wall: str, after: str, count: int, timeout: float) -> list[Message]: ...

    async def inbox_backlog(self, wall: str) -> int:
        """Entries not yet committed by the writer."""
        ...

    async def position(self, wall: str) -> str:
        """The last inbox id the writer committed ("0-0" before the first)."""
        ...

    async def commit(self, wall: str, owner: str, token: int, commit: Commit) -> list[str]: ...

    async def shown(self, wall: str, post_ids: list[str]) -> set[str]:
        """Which of these posts are on screen (published and not retracted)."""
        ...

    async def counts(self, wall: str, minutes: list[int]) -> dict[int, dict[str, int]]:
        """The stats counters of these minute buckets (missing buckets are left out)."""
        ...

    async def total(self, wall: str) -> int:
        """Posts the writer approved for the wall, less those it took back (retracted)."""
        ...

    async def recent(self, wall: str, count: int) -> list[bytes]:
        """The newest `count` recent-post records the writer kept (Commit.recent), newest first. Each
        wall keeps the last RECENT_KEPT posts, by when the writer first saw them."""
        ...

    async def recent_of(self, wall: str, post_ids: list[str]) -> dict[str, bytes]:
        """The recent-post records of these posts that are still kept, by post id."""
        ...

    def subscribe_queue(self, wall: str) -> AsyncIterator[bytes | None]:
        """The wall's queue channel from now on (at most once; None after a reconnect, when messages
        may have been missed: the consumer reloads the queue)."""
        ...

    async def known_authors(self, wall: str, authors: list[str]) -> set[str]:
        """Which of these author keys had a post approved on the wall (Commit.authors)."""
        ...

    async def erase_author(self, wall: str, author: str) -> ErasedAuthor:
        """Remove every copy of the author's posts ("network:handle", lowercased) the engine keeps for the
        wall: display events (wall/bus/erasure.py says how), inbox entries, recent posts, the known author,
        the posts' stats records and the author's counters in the kept buckets and announcement, and a
        kept control frame's spotlight. Returns the posts found. It retracts nothing on screen: that is
        the writer's (models.InboxErase), which calls this again after its retraction. Idempotent; safe
        beside the writer and another erase (each removal is by id; what is committed after it, the
        writer's second call removes)."""
        ...

    async def forget_before(self, wall: str, cutoff: float) -> Forgotten:
        """Retention (wall/privacy/retention.py): remove what the wall holds of posts from before `cutoff`
        (epoch seconds): display events published before it, recent posts the writer first saw before
        it, authors whose last approved post is older, and inbox entries from before it that the writer
        committed (never one it has not). A subscriber or read_after() from an id
        before the last removed event is told the history no longer reaches back (a Gap, None)."""
        ...


class Forgotten(NamedTuple):
    """What forget_before() removed, by place."""

    events: int = 0
    recent: int = 0
    authors: int = 0
    inbox: int = 0  # committed inbox entries still kept (Redis trims them roughly at commit)


class Coordination(Protocol):
    """Coordination state: connector cursors, leases, health records (Redis, or memory in one process)."""

    async def get_cursor(self, key: str) -> str | None: ...

    async def set_cursor(self, key: str, value: str) -> None: ...

    async def lease(self, name: str, owner: str, ttl: float) -> int | None:
        """Take or renew a lease for `ttl` seconds. While `owner` holds it, return its fencing token, else
        None. The token stays the same while the lease is renewed and changes each time it is taken
        (changing hands, or taken again after it lapsed). A token is never handed out twice for a lease,
        even after the engine lost its data (Redis flushed, evicted or failed over to a replica that
        missed the last write; the memory engine restarted): a new one is the greater of the last + 1 and
        the clock in microseconds, so tokens grow as long as the clock does not go back by more than the
        time between two takeovers."""
        ...

    async def holder(self, name: str) -> str | None:
        """Who holds the lease now, or None."""
        ...

    async def shared_secret(self, name: str) -> str:
        """A random secret every process of the installation agrees on (made by whoever asks first)."""
        ...

    async def put_health(self, key: str, record: bytes) -> None:
        """Publish the health record of a part (a source) that runs in some process; every node reads it."""
        ...

    async def health_records(self) -> dict[str, bytes]:
        """Every part's latest health record, by key (records carry their own time: stale ones show it)."""
        ...


Entry = tuple[str, bytes]  # (id, body) of an inbox entry or a display event


class KeptWall(Protocol):
    """A wall as its Keeper last recorded it: what the memory engine restores at start."""

    @property
    def epoch(self) -> str: ...
    @property
    def position(self) -> str: ...
    @property
    def total(self) -> int: ...
    @property
    def control(self) -> bytes | None: ...
    @property
    def inbox(self) -> Sequence[Entry]:
        """Entries not yet committed, oldest first."""
        ...
    @property
    def events(self) -> Sequence[Entry]:
        """The newest display events, oldest first."""
        ...
    @property
    def buckets(self) -> Mapping[int, Mapping[str, int]]: ...
    @property
    def counted(self) -> Sequence[tuple[str, int, Counters]]:
        """(post id, minute, counters) of each counted post still in a kept bucket, oldest first."""
        ...
    @property
    def shown(self) -> Collection[str]: ...
    @property
    def authors(self) -> Mapping[str, float]:
        """Known authors and when their last post was approved (epoch seconds)."""
        ...
    @property
    def recent(self) -> Sequence[tuple[str, bytes]]:
        """(post id, RecentPost body), oldest first arrival first."""
        ...


class Keeper(Protocol):
    """Where the memory engine keeps what must outlive its process, so that a single box restarted neither
    repeats nor loses posts: the SQL store (wall/store/box.py), handed in by the composition root. Each
    call is one transaction: when it raises, nothing of it was recorded (and the engine changes nothing)."""

    async def get_cursor(self, key: str) -> str | None: ...

    async def set_cursor(self, key: str, value: str) -> None: ...

    async def shared_secret(self, name: str, make: str) -> str:
        """The secret kept under `name`, or `make` kept as it when there is none (the media proxy signs
        the URLs in kept events with it: a new one at each start would break their images)."""
        ...

    async def restore(self, wall: str, epoch: str) -> KeptWall:
        """The wall as kept (its display history's tail, as long as the keeper keeps it); a wall never
        kept starts empty, its history named `epoch`."""
        ...

    async def admit(self, wall: str, post_id: str, digest: str, entry: Entry) -> str | None:
        """Record the post's digest and return the one recorded before (None: a new post). Equal digests
        are a duplicate: the inbox entry is not written. Otherwise it is, in the same transaction."""
        ...

    async def enqueue(self, wall: str, entry: Entry) -> None: ...

    async def commit(self, wall: str, position: str, events: Sequence[Entry], *, total: int,
                     buckets: Mapping[int, Mapping[str, int]], counted: Sequence[tuple[str, int, Counters]],
                     uncounted: Sequence[str], shown: Sequence[str], unshown: Sequence[str],
                     recent: Sequence[tuple[str, bytes]], authors: Sequence[str],
                     control: bytes | None) -> None:
        """One writer commit: the position moves (inbox entries up to it go), the events are appended,
        `buckets` are the touched buckets' new counters (empty: the bucket goes), `total` the new total,
        `counted` the posts counted now and `uncounted` those taken back; `control`, when not None,
        replaces the kept control frame."""
        ...

    async def forget(self, wall: str, *, events: Sequence[Entry], inbox: Sequence[str],
                     posts: Sequence[str], author: str, counters: Sequence[str],
                     control: bool) -> None:
        """An erasure (Inbox.erase_author): `events` rewritten to these bodies, these inbox entries and
        the posts' recent records and stats records gone, the author no longer known, these counters
        out of every kept bucket, and the kept control frame dropped when `control`."""
    async def forget_before(self, wall: str, cutoff: float) -> None:
        """Inbox.forget_before() in what is kept, in batches (each its own transaction), so that commits go
        on meanwhile; what each batch removed is gone for good."""
        ...


class Engine(Bus, Inbox, Coordination, Protocol):
    """What a bus engine provides: the bus, the wall inboxes and the store."""


RELEASE_TTL = 0.001  # seconds: a lease renewed for this long has lapsed by the time anyone else asks


async def release(coordination: Coordination, name: str, owner: str) -> None:
    """Give up a lease `owner` holds, so a standby takes it at its next try instead of after the TTL
    (a process stopping on SIGTERM). Renewed for a millisecond it lapses; whoever takes it next gets a new
    fencing token, so nothing of the old holder's can commit after that. Only for a lease `owner` holds
    (on a free one it would take it for that millisecond)."""
    await coordination.lease(name, owner, RELEASE_TTL)


def writer_lease(wall: str) -> str:
    """The lease that makes one curation writer per wall."""
    return f"curate:{wall}"


def backoff(attempt: int, base: float = 0.2, cap: float = 10.0) -> float:
    """Exponential backoff with full jitter (AWS architecture blog), in seconds."""
    return random.uniform(0, min(cap, base * 2**attempt))
