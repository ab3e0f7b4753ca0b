"""In-process engine for `wall demo` and single-box installs: history in a bounded deque per wall.

Everything lives in this process. Given a Keeper (`keep()`: the SQL store, on a box without Redis), it
also writes there, before changing anything in memory, what must outlive the process: source cursors,
dedupe digests, inbox entries, and what the writer commits (the display history's tail, position, shown
set, stats counters, recent posts, known authors, control); `keep()` restores it. Reads stay in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections import Counter, OrderedDict, deque
from collections.abc import AsyncIterator, Iterable
from typing import NamedTuple

from wall.bus import erasure
from wall.bus.base import (
    BUCKETS_KEPT,
    RECENT_KEPT,
    Announcement,
    BusStatus,
    Commit,
    Counters,
    Fenced,
    Forgotten,
    Gap,
    Keeper,
    Live,
    Message,
    Outcome,
    writer_lease,
)
from wall.bus.erasure import ErasedAuthor
from wall.models import Post, decode_recent, frame, id_key


class _Channel:
    def __init__(self, maxlen: int) -> None:
        self.history: deque[Message] = deque(maxlen=maxlen)
        self.subscribers: set[asyncio.Queue[Message | Announcement]] = set()
        self.last = (0, 0)
        self.announced: dict[str, bytes] = {}  # the latest of each kind
        self.forgotten = (0, 0)  # the last event retention removed: resuming from before it is a gap


def _next_id(last: tuple[int, int]) -> tuple[int, int]:
    ms = int(time.time() * 1000)
    return (ms, 0) if ms > last[0] else (last[0], last[1] + 1)


class _Inbox:
    """A wall's inbox and what its writer committed. Entries stay until committed (none is dropped)."""

    def __init__(self) -> None:
        self.entries: deque[Message] = deque()
        self.last = (0, 0)
        self.position = "0-0"
        self.arrived = asyncio.Event()
        self.shown: set[str] = set()
        self.buckets: dict[int, Counter[str]] = {}
        self.total = 0
        self.recent: OrderedDict[str, bytes] = OrderedDict()  # oldest first, by first arrival
        self.control: bytes | None = None
        self.authors: dict[str, float] = {}  # author key -> when a post of theirs was last approved
        self.queue_subscribers: set[asyncio.Queue[bytes | None]] = set()
        self.counted: OrderedDict[str, tuple[int, tuple[tuple[str, int], ...]]] = OrderedDict()
        self.writing = asyncio.Lock()  # with a keeper: entries reach it and the deque in id order


class _Lease(NamedTuple):
    owner: str
    token: int
    until: float  # time.monotonic()


class MemoryEngine:
    engine = "memory"

    def __init__(self, stream_maxlen: int = 10_000, remember_max: int = 100_000) -> None:
        self._maxlen = stream_maxlen
        self._epoch = secrets.token_hex(8)
        self._channels: dict[str, _Channel] = {}
        self._digests: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._remember_max = remember_max
        self._cursors: dict[str, str] = {}
        self._inboxes: dict[str, _Inbox] = {}
        self._health: dict[str, bytes] = {}
        self._secrets: dict[str, str] = {}
        self._leases: dict[str, _Lease] = {}
        self._fences: dict[str, int] = {}  # the last token of each lease
        self._keeper: Keeper | None = None
        self._epochs: dict[str, str] = {}  # walls whose history the keeper named (kept across restarts)

    async def keep(self, keeper: Keeper, walls: Iterable[str]) -> None:
        """From now on, keep what must outlive this process in `keeper`, starting from what it kept of
        `walls`. Called once, before anything uses the engine (a wall first seen later starts empty)."""
        self._keeper = keeper
        for wall in walls:
            await self._restore(wall)

    async def _restore(self, wall: str) -> None:
        if self._keeper is None or wall in self._epochs:
            return
        kept = await self._keeper.restore(wall, self._epoch)
        ch, box = self._channel(wall), self._inbox(wall)
        ch.history.extend(Message(i, b) for i, b in kept.events)
        box.entries.extend(Message(i, b) for i, b in kept.inbox)
        if ch.history:  # new ids go on after the kept ones, even if the clock went back
            ch.last = max(ch.last, id_key(ch.history[-1].id))
        if box.entries:
            box.last = max(box.last, id_key(box.entries[-1].id))
        box.position, box.total, box.control = kept.position, kept.total, kept.control
        box.buckets = {m: Counter(c) for m, c in kept.buckets.items()}
        box.counted = OrderedDict((pid, (minute, counters)) for pid, minute, counters in kept.counted)
        box.shown, box.authors = set(kept.shown), dict(kept.authors)
        box.recent = OrderedDict(kept.recent)
        self._epochs[wall] = kept.epoch

    def _channel(self, wall: str) -> _Channel:
        ch = self._channels.get(wall)
        if ch is None:
            ch = self._channels[wall] = _Channel(self._maxlen)
        return ch

    async def epoch(self, wall: str) -> str:
        return self._epochs.get(wall, self._epoch)

    async def publish(self, wall: str, body: bytes) -> str:
        ch = self._channel(wall)
        ch.last = _next_id(ch.last)
        return self._append(ch, Message(f"{ch.last[0]}-{ch.last[1]}", body))

    @staticmethod
    def _append(ch: _Channel, msg: Message) -> str:
        ch.history.append(msg)
        for q in ch.subscribers:
            q.put_nowait(msg)
        return msg.id

    async def announce(self, wall: str, body: bytes, kind: str = "stats") -> None:
        ch = self._channel(wall)
        ch.announced[kind] = body
        for q in ch.subscribers:
            q.put_nowait(Announcement(body))

    async def announced(self, wall: str, kind: str = "stats") -> bytes | None:
        return self._channel(wall).announced.get(kind)

    def _after(self, ch: _Channel, after: str | None) -> list[Message] | None:
        if after is None:
            return []
        key = id_key(after)
        if ch.history and id_key(ch.history[0].id) > key and len(ch.history) == ch.history.maxlen:
            return None  # trimmed past the id
        if key < ch.forgotten:
            return None  # retention removed events after it
        return [m for m in ch.history if id_key(m.id) > key]

    async def read_after(self, wall: str, after: str, upto: str | None = None) -> list[Message] | None:
        found = self._after(self._channel(wall), after)
        if found is None or upto is None:
            return found
        limit = id_key(upto)
        return [m for m in found if id_key(m.id) <= limit]

    async def latest(self, wall: str, count: int) -> list[Message]:
        history = self._channel(wall).history
        return list(history)[-count:] if count else []

    async def subscribe(self, wall: str,
                        after: str | None) -> AsyncIterator[Message | Gap | Announcement | Live]:
        ch = self._channel(wall)
        queue: asyncio.Queue[Message | Announcement] = asyncio.Queue()
        ch.subscribers.add(queue)  # before reading history, so nothing falls between the two
        try:
            backlog = self._after(ch, after)
            if backlog is None:
                yield Gap(await self.epoch(wall))
                backlog = []
            last = id_key(backlog[-1].id) if backlog else (id_key(after) if after else (0, 0))
            for msg in backlog:
                yield msg
            yield Live(True)  # in-process: live from here on, never down
            while True:
                item = await queue.get()
                if isinstance(item, Announcement):
                    yield item
                elif id_key(item.id) > last:
                    last = id_key(item.id)
                    yield item
        finally:
            ch.subscribers.discard(queue)

    def status(self) -> BusStatus:
        return BusStatus(self.engine, True)

    # -- inbox ------------------------------------------------------------------------------------

    def _inbox(self, wall: str) -> _Inbox:
        box = self._inboxes.get(wall)
        if box is None:
            box = self._inboxes[wall] = _Inbox()
        return box

    async def admit(self, wall: str, post_id: str, digest: str, body: bytes) -> tuple[Outcome, str | None]:
        if self._keeper is not None:  # the digests live in the keeper, beside the entries they guard
            await self._restore(wall)
            box = self._inbox(wall)
            async with box.writing:
                msg = self._new_entry(box, body)
                before = await self._keeper.admit(wall, post_id, digest, msg)
                if before == digest:
                    return "duplicate", None
                return ("new" if before is None else "updated"), self._arrive(box, msg)
        key = (wall, post_id)
        before = self._digests.get(key)
        if before == digest:
            return "duplicate", None
        self._digests.pop(key, None)
        self._digests[key] = digest
        if len(self._digests) > self._remember_max:
            self._digests.popitem(last=False)
        return ("new" if before is None else "updated"), await self.enqueue(wall, body)

    async def enqueue(self, wall: str, body: bytes) -> str:
        if self._keeper is None:
            box = self._inbox(wall)
            return self._arrive(box, self._new_entry(box, body))
        await self._restore(wall)
        box = self._inbox(wall)
        async with box.writing:
            msg = self._new_entry(box, body)
            await self._keeper.enqueue(wall, msg)
            return self._arrive(box, msg)

    @staticmethod
    def _new_entry(box: _Inbox, body: bytes) -> Message:
        box.last = _next_id(box.last)
        return Message(f"{box.last[0]}-{box.last[1]}", body)

    @staticmethod
    def _arrive(box: _Inbox, msg: Message) -> str:
        box.entries.append(msg)
        box.arrived.set()
        return msg.id

    async def read_inbox(self, wall: str, after: str, count: int, timeout: float) -> list[Message]:
        box, key = self._inbox(wall), id_key(after)
        found = [m for m in box.entries if id_key(m.id) > key][:count]
        if not found:
            box.arrived.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await box.arrived.wait()
            found = [m for m in box.entries if id_key(m.id) > key][:count]
        return found

    async def inbox_backlog(self, wall: str) -> int:
        box = self._inbox(wall)
        return sum(1 for m in box.entries if id_key(m.id) > id_key(box.position))

    async def position(self, wall: str) -> str:
        return self._inbox(wall).position

    async def commit(self, wall: str, owner: str, token: int, commit: Commit) -> list[str]:
        name = writer_lease(wall)
        if self._holding(name) != owner:
            raise Fenced(f"wall {wall}: the writer lease is held by another writer, or by none")
        if self._fences.get(name) != token:
            raise Fenced(f"wall {wall}: the token is no longer the lease's (it lapsed and was taken again)")
        await self._restore(wall)
        box, ch = self._inbox(wall), self._channel(wall)
        ids = []
        for _ in commit.events:  # taken now: the writer is the wall's only publisher
            ch.last = _next_id(ch.last)
            ids.append(f"{ch.last[0]}-{ch.last[1]}")
        buckets, total, forgotten = self._tally(box, commit)
        control = frame(ids[-1], commit.events[-1]) if commit.control and ids else None
        if self._keeper is not None:  # first: when it fails, nothing changed here either
            await self._keeper.commit(
                wall, commit.inbox_id, list(zip(ids, commit.events, strict=True)), total=total,
                buckets=buckets, counted=[(pid, commit.minute, c) for pid, c in commit.counts],
                uncounted=forgotten, shown=commit.shown, unshown=commit.unshown, recent=commit.recent,
                authors=commit.authors, control=control)
        for msg in zip(ids, commit.events, strict=True):
            self._append(ch, Message(*msg))
        box.position = commit.inbox_id
        done = id_key(commit.inbox_id)
        while box.entries and id_key(box.entries[0].id) <= done:
            box.entries.popleft()  # committed: the display stream has it now
        box.shown.update(commit.shown)
        box.shown.difference_update(commit.unshown)
        for minute, bucket in buckets.items():
            if bucket:
                box.buckets[minute] = bucket
            else:
                box.buckets.pop(minute, None)  # as a Redis hash goes with its last field
        box.total = total
        for post_id in forgotten:
            box.counted.pop(post_id, None)
        for post_id, counters in commit.counts:
            box.counted.pop(post_id, None)
            box.counted[post_id] = (commit.minute, counters)
        for pid, body in commit.recent:
            box.recent[pid] = body  # an existing key keeps its place: ordered by first arrival
        while len(box.recent) > RECENT_KEPT:
            box.recent.popitem(last=False)
        box.authors.update(dict.fromkeys(commit.authors, time.time()))
        if control is not None:
            box.control = control
        for message in commit.queue:
            for q in box.queue_subscribers:
                q.put_nowait(message)
        return ids

    @staticmethod
    def _tally(box: _Inbox, commit: Commit) -> tuple[dict[int, Counter[str]], int, list[str]]:
        """What the commit makes of the stats, without changing them: the touched buckets' new counters
        (empty: the bucket goes), the new total, and the posts whose counts are forgotten (taken back,
        or older than the kept buckets)."""
        touched: dict[int, Counter[str]] = {}
        total = box.total

        def add(minute: int, counts: Counters, sign: int) -> None:
            nonlocal total
            if minute in touched or minute in box.buckets or sign > 0:
                bucket = touched.setdefault(minute, Counter(box.buckets.get(minute, {})))
            else:
                bucket = None  # a bucket gone already: only the total changes
            for name, n in counts:
                if name == "posts":
                    total += sign * n
                if bucket is not None:
                    bucket[name] += sign * n
                    if bucket[name] <= 0:
                        del bucket[name]

        forgotten: dict[str, None] = {}  # in order, each once
        for post_id in commit.uncounted:
            if post_id in box.counted and post_id not in forgotten:
                forgotten[post_id] = None
                add(*box.counted[post_id], -1)
        for _post_id, counters in commit.counts:
            add(commit.minute, counters, 1)
        if commit.counts:
            horizon = commit.minute - BUCKETS_KEPT
            touched.update((m, Counter()) for m in list(box.buckets) + list(touched) if m < horizon)
            for post_id, (minute, _counts) in box.counted.items():
                if minute >= horizon:
                    break
                forgotten.setdefault(post_id)
        return touched, total, list(forgotten)

    async def shown(self, wall: str, post_ids: list[str]) -> set[str]:
        return self._inbox(wall).shown.intersection(post_ids)

    async def counts(self, wall: str, minutes: list[int]) -> dict[int, dict[str, int]]:
        buckets = self._inbox(wall).buckets
        return {m: dict(buckets[m]) for m in minutes if m in buckets}

    async def total(self, wall: str) -> int:
        return self._inbox(wall).total

    async def recent(self, wall: str, count: int) -> list[bytes]:
        return list(reversed(self._inbox(wall).recent.values()))[:count]

    async def recent_of(self, wall: str, post_ids: list[str]) -> dict[str, bytes]:
        recent = self._inbox(wall).recent
        return {pid: recent[pid] for pid in post_ids if pid in recent}

    async def subscribe_queue(self, wall: str) -> AsyncIterator[bytes | None]:
        box = self._inbox(wall)
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        box.queue_subscribers.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            box.queue_subscribers.discard(queue)

    async def latest_control(self, wall: str) -> bytes | None:
        return self._inbox(wall).control

    async def known_authors(self, wall: str, authors: list[str]) -> set[str]:
        known = self._inbox(wall).authors
        return {a for a in authors if a in known}

    async def forget_before(self, wall: str, cutoff: float) -> Forgotten:
        await self._restore(wall)
        if self._keeper is not None:  # first: what it removed must not come back at the next start
            await self._keeper.forget_before(wall, cutoff)
        ch, box = self._channel(wall), self._inbox(wall)
        edge, events = (int(cutoff * 1000), 0), 0
        while ch.history and id_key(ch.history[0].id) < edge:
            ch.forgotten = id_key(ch.history.popleft().id)
            events += 1
        old = []
        for pid, body in box.recent.items():  # oldest first arrival first
            if decode_recent(body).arrived >= cutoff:
                break
            old.append(pid)
        for pid in old:
            del box.recent[pid]
        authors = [a for a, at in box.authors.items() if at < cutoff]
        for author in authors:
            del box.authors[author]
        # The figures' minute buckets count authors too; past BUCKETS_KEPT nobody reads them (Redis lets
        # them expire), but here they go only when a new post is counted: an idle wall's would stay.
        minute = cutoff // 60
        for gone in [m for m in box.buckets if m < minute]:
            del box.buckets[gone]
        for pid in [p for p, (m, _) in box.counted.items() if m < minute]:
            del box.counted[pid]
        return Forgotten(events, len(old), len(authors))

    async def erase_author(self, wall: str, author: str) -> ErasedAuthor:
        await self._restore(wall)
        ch, box = self._channel(wall), self._inbox(wall)
        found: dict[str, Post] = {}
        async with box.writing:  # no inbox entry arrives between finding and forgetting
            events: dict[str, bytes] = {}  # by id: a commit may append (and trim) while the keeper writes
            for msg in ch.history:
                if (hit := erasure.in_event(msg.body, author)) is not None:
                    found[hit[0].id] = hit[0]
                    events[msg.id] = hit[1]
            inbox = []
            for msg in box.entries:
                if (post := erasure.in_entry(msg.body, author)) is not None:
                    found[post.id] = post
                    inbox.append(msg.id)
            for body in box.recent.values():
                if (post := erasure.in_recent(body, author)) is not None:
                    found[post.id] = post
            posts = tuple(found.values())
            recent = [pid for pid in found if pid in box.recent]
            counted = [pid for pid in found if pid in box.counted]
            names = list({n for bucket in box.buckets.values() for n in bucket})
            counters = erasure.author_counters(names, author, posts)
            control = erasure.in_control(box.control, author)
            if self._keeper is not None:  # first: when it fails, nothing changed here either
                await self._keeper.forget(wall, events=list(events.items()), inbox=inbox,
                                          posts=list(found), author=author, counters=counters,
                                          control=control)
            ch.history = deque((Message(m.id, events.get(m.id, m.body)) for m in ch.history), self._maxlen)
            gone = set(inbox)
            box.entries = deque(m for m in box.entries if m.id not in gone)
            for pid in found:
                box.recent.pop(pid, None)
                box.counted.pop(pid, None)
            known = author in box.authors
            box.authors.pop(author, None)
            for bucket in box.buckets.values():
                for name in counters:
                    bucket.pop(name, None)
            if control:
                box.control = None
            stats = erasure.mentions(ch.announced.get("stats"), author, posts)
            if stats:
                del ch.announced["stats"]  # the writer's next announcement has the figures without them
        removed = len(events) + len(inbox) + len(recent) + len(counted) + len(counters)
        return ErasedAuthor(posts, removed + known + control + stats)

    # -- store --------------------------------------------------------------------------------------

    async def get_cursor(self, key: str) -> str | None:
        if self._keeper is not None:
            return await self._keeper.get_cursor(key)
        return self._cursors.get(key)

    async def set_cursor(self, key: str, value: str) -> None:
        if self._keeper is not None:
            await self._keeper.set_cursor(key, value)
        else:
            self._cursors[key] = value

    async def lease(self, name: str, owner: str, ttl: float) -> int | None:
        # As on Redis (wall/bus/redis/lease.lua), though one process holds them all in a single box: the
        # same semantics for every engine, and a new engine's tokens start above the old one's.
        holder = self._holding(name)
        if holder is not None and holder != owner:
            return None
        token = self._fences.get(name, 0)
        if holder is None:
            token = self._fences[name] = max(token + 1, time.time_ns() // 1000)
        self._leases[name] = _Lease(owner, token, time.monotonic() + ttl)
        return token

    def _holding(self, name: str) -> str | None:
        held = self._leases.get(name)
        return held.owner if held is not None and held.until > time.monotonic() else None

    async def holder(self, name: str) -> str | None:
        return self._holding(name)

    async def shared_secret(self, name: str) -> str:
        if name not in self._secrets and self._keeper is not None:
            self._secrets[name] = await self._keeper.shared_secret(name, secrets.token_urlsafe(32))
        return self._secrets.setdefault(name, secrets.token_urlsafe(32))

    async def put_health(self, key: str, record: bytes) -> None:
        self._health[key] = record

    async def health_records(self) -> dict[str, bytes]:
        return dict(self._health)

    async def close(self) -> None:
        self._channels.clear()
