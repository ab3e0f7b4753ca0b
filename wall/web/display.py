"""What this node's screens showed (docs/display-log.md): each screen's `shown` reports, checked, summed
per wall and post in memory, and written to the store's display log every `[web] display_flush` seconds
and when the node stops.

Bounded whatever the number of screens: a report names at most MAX_POSTS posts; between flushes a wall
keeps at most MAX_POSTS_PER_WALL posts and MAX_PAIRS (post, screen) pairs. Past a bound the seconds of a
post already kept still add up, but a new post or a new screen of it waits for the next flush's room: it
is counted in `wall_display_dropped_total`, and its screen's next report brings it again. A failed write
keeps what it held for the next flush (within the same bounds).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Literal

import msgspec
from prometheus_client import CollectorRegistry, Counter

from wall.models import BadJSON, decode_untrusted, encode
from wall.store import Store
from wall.web.hub import Hub

log = logging.getLogger(__name__)

MAX_POSTS = 100  # posts in one report: a minute of the busiest scene, with room for a reconnect's backlog
MAX_SECONDS = 86_400.0  # one post's seconds in one report: a day (a screen offline that long)
MAX_AGE = 86_400.0  # a report's first showings older than this are left out
MAX_POSTS_PER_WALL = 5_000
MAX_PAIRS = 100_000  # (post, screen) pairs per wall between flushes: a thousand screens, 100 posts each
REPORT_BYTES = 16_384  # the socket's frame limit: 100 ids of 64 characters with their numbers fit

PostId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]
Seconds = Annotated[float, msgspec.Meta(ge=0, le=MAX_SECONDS)]
At = Annotated[float, msgspec.Meta(ge=0, le=1e11)]  # epoch seconds
Known = Callable[[str, str], bool]  # (wall, post_id): may the post's seconds be written
ScreenId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.-]{8,64}$")]


class Kind(msgspec.Struct):
    """Just the frame's type, to route it."""

    type: str = ""


class Report(msgspec.Struct, forbid_unknown_fields=True):
    """`{"type": "shown", "seq": 7, "screen": "…", "posts": [[post_id, seconds, first_shown], …]}`"""

    type: Literal["shown"]
    seq: Annotated[int, msgspec.Meta(ge=0, le=2**53)]
    screen: ScreenId
    posts: Annotated[list[tuple[PostId, Seconds, At]], msgspec.Meta(max_length=MAX_POSTS)]


def kind_of(data: str) -> str:
    """A screen frame's "type", or "" when it is not a JSON object with one."""
    try:
        return decode_untrusted(data, Kind).type
    except BadJSON:
        return ""


def read_report(data: str) -> Report:
    """The report in a frame, or BadJSON whose message says what is wrong (for the error frame)."""
    if len(data) > REPORT_BYTES:
        raise BadJSON(f"report is {len(data)} bytes; at most {REPORT_BYTES}")
    return decode_untrusted(data, Report)


def screen_key(wall: str, screen: str) -> str:
    """What the store keeps of a screen: a digest of the page's random id (never the id itself), so
    counting distinct screens is all it can be used for."""
    return hashlib.sha256(f"{wall}\0{screen}".encode()).hexdigest()[:16]


@dataclass(slots=True)
class _Seen:
    first: float
    seconds: float
    screens: set[str] = field(default_factory=set)


class _Wall:
    __slots__ = ("pairs", "posts")

    def __init__(self) -> None:
        self.posts: dict[str, _Seen] = {}
        self.pairs = 0


class Tally:
    """Every wall's reports on this node since the last flush."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.walls: dict[str, _Wall] = {}
        self.reports = Counter("wall_display_reports", "Display reports from screens, by outcome",
                               ["wall", "outcome"], registry=registry)
        self.dropped = Counter("wall_display_dropped", "Posts or screens of display reports left out: "
                               "unknown to this node, too old, or past the bounds until the next flush",
                               ["wall", "why"], registry=registry)

    def add(self, wall: str, report: Report, known: Callable[[str], bool], now: float) -> int:
        """Sum one checked report in; how many of its posts were taken. Posts this node never sent the
        wall's screens are left out: a page cannot write made-up ids into the log."""
        tally = self.walls.setdefault(wall, _Wall())
        screen = screen_key(wall, report.screen)
        taken = 0
        for post_id, seconds, at in report.posts:
            if at < now - MAX_AGE:
                self.dropped.labels(wall, "old").inc()
                continue
            if not known(post_id):
                self.dropped.labels(wall, "unknown").inc()
                continue
            at = min(at, now)
            seen = tally.posts.get(post_id)
            if seen is None:
                if len(tally.posts) >= MAX_POSTS_PER_WALL or tally.pairs >= MAX_PAIRS:
                    self.dropped.labels(wall, "bounds").inc()
                    continue
                seen = tally.posts[post_id] = _Seen(at, 0.0)
            seen.first = min(seen.first, at)
            seen.seconds += seconds
            if screen not in seen.screens:
                if tally.pairs < MAX_PAIRS:
                    seen.screens.add(screen)
                    tally.pairs += 1
                else:
                    self.dropped.labels(wall, "bounds").inc()
            taken += 1
        self.reports.labels(wall, "accepted").inc()
        return taken

    def take(self, known: Known) -> dict[str, list[tuple[str, float, float, str]]]:
        """Each wall's sums as the store's observations, and start afresh: the seconds go with the
        post's first screen, the others add themselves to its count. A post the wall's hub no longer
        knows (its author was erased meanwhile) is left out."""
        batches = {}
        for wall, tally in self.walls.items():
            batch = []
            for post_id, seen in tally.posts.items():
                if not known(wall, post_id):
                    continue
                screens = sorted(seen.screens) or [""]
                batch.append((post_id, seen.first, seen.seconds, screens[0]))
                batch.extend((post_id, seen.first, 0.0, s) for s in screens[1:])
            if batch:
                batches[wall] = batch
        self.walls = {}
        return batches

    def put_back(self, wall: str, batch: list[tuple[str, float, float, str]]) -> None:
        """A batch the store could not take, kept for the next flush (within the bounds)."""
        tally = self.walls.setdefault(wall, _Wall())
        for post_id, at, seconds, screen in batch:
            seen = tally.posts.get(post_id)
            if seen is None:
                if len(tally.posts) >= MAX_POSTS_PER_WALL:
                    continue
                seen = tally.posts[post_id] = _Seen(at, 0.0)
            seen.first, seen.seconds = min(seen.first, at), seen.seconds + seconds
            if screen and screen not in seen.screens and tally.pairs < MAX_PAIRS:
                seen.screens.add(screen)
                tally.pairs += 1

    async def flush(self, store: Store, known: Known) -> int:
        """Write every wall's sums to the store; how many posts went."""
        written = 0
        for wall, batch in self.take(known).items():
            try:
                await store.display_log.add(wall, batch)
                written += len({post_id for post_id, *_ in batch})
            except Exception as e:  # the store is down: keep it for the next flush
                log.warning("wall %s: display log not written (kept for the next flush): %s", wall, e)
                self.put_back(wall, batch)
        return written


class Reports:
    """One screen's socket's reports: each checked, at most one per half its wall's interval, and
    answered: `{"type": "shown", "seq": 7, "taken": 12}`, or an error frame for one that is refused."""

    def __init__(self, tally: Tally, hub: Hub) -> None:
        self.tally, self.hub = tally, hub
        self.last = -MAX_AGE

    def answer(self, data: str) -> bytes:
        wall, now = self.hub.wall.name, time.monotonic()
        try:
            report = read_report(data)
        except BadJSON as e:
            self.tally.reports.labels(wall, "malformed").inc()
            return refusal(None, f"report refused: {e}")
        gap = self.hub.wall.screen.display.report_every / 2
        if now - self.last < gap:
            self.tally.reports.labels(wall, "too_soon").inc()
            return refusal(report.seq, f"report refused: too soon; at most one every {gap:g} s")
        self.last = now
        taken = self.tally.add(wall, report, self.hub.knows, time.time())
        return encode({"type": "shown", "seq": report.seq, "taken": taken})


def refusal(seq: int | None, why: str) -> bytes:
    return encode({"type": "error", "about": "shown", "seq": seq, "error": why})


@asynccontextmanager
async def flushing(tally: Tally, store: Store, hubs: dict[str, Hub], every: float) -> AsyncIterator[None]:
    """While the context is open, flush every `every` seconds; flush once more on the way out."""

    def known(wall: str, post_id: str) -> bool:
        hub = hubs.get(wall)
        return hub is not None and hub.knows(post_id)

    async def loop() -> None:
        while True:
            await asyncio.sleep(every)
            started = time.monotonic()
            if n := await tally.flush(store, known):
                log.debug("display log: %d post(s) written in %.3f s", n, time.monotonic() - started)

    task = asyncio.create_task(loop(), name="display-log")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await tally.flush(store, known)
