"""The curation writer: the only writer of a wall's display stream.

It holds the wall's writer lease (a fencing token with it), reads the wall's inbox from its stored
position, decides each post's status, and commits the resulting event, the new position, the shown set and
the stats counters in one atomic step. A writer that stalls past its lease is refused at its next commit;
the new holder goes on from the stored position, so nothing is lost and nothing shows twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import msgspec

from wall.bus.base import Commit, Engine, Fenced, Message, backoff, writer_lease
from wall.curate import rules
from wall.curate.stats import counts_for, figures, window
from wall.media.signing import MEDIA_SECRET, proxied
from wall.models import (
    InboxDelete,
    InboxEntry,
    InboxPost,
    InboxReload,
    Post,
    PostEvent,
    ReloadEvent,
    RetractEvent,
    UpdateEvent,
    decode_inbox,
    encode,
)

log = logging.getLogger(__name__)
LEASE_TTL = 6.0  # seconds: a dead writer's wall is taken over within about this long
RENEW_EVERY = 2.0
BATCH = 100  # inbox entries read at once


@dataclass
class WriterStatus:
    """What this process's writer for a wall is doing, for /healthz."""

    wall: str
    leading: bool = False
    committed: int = 0
    error: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"leading": self.leading, "committed": self.committed, "error": self.error}


# Enrichment, handed in by the composition root: posts in, the same posts annotated out, in order. It is
# CPU work, so the writer runs it on a worker thread, one batch of inbox entries at a time.
Annotate = Callable[[list[Post]], list[Post]]


class CurationWriter:
    def __init__(self, wall: str, engine: Engine, owner: str, stats_interval: float = 1.0,
                 annotate: Annotate | None = None, media_secret: str | None = None,
                 alerts_on_screen: bool = False) -> None:
        self.wall = wall
        self.engine = engine
        self.owner = owner
        self.stats_interval = stats_interval
        self.annotate = annotate
        self.media_secret = media_secret  # post images are shown through the wall's signed /media URLs
        # Spike alerts always reach curators in the stats event; screens show them only when the wall's
        # config says so (`[walls.W.enrich] spikes_on_screen`): the page reads "alerts_on_screen".
        self.alerts_on_screen = alerts_on_screen
        self.status = WriterStatus(wall)
        self._announced: bytes | None = None

    async def run(self) -> None:
        """Take the lease whenever it is free and write while holding it; forever."""
        attempt = 0
        while True:
            try:
                token = await self.engine.lease(writer_lease(self.wall), self.owner, LEASE_TTL)
                if token is None:
                    self.status.leading = False
                    await asyncio.sleep(1.0)
                    continue
                attempt = 0
                await self._lead(token)
            except asyncio.CancelledError:
                raise
            except Fenced as e:
                log.warning("wall %s: writer %s lost its lease: %s", self.wall, self.owner, e)
            except Exception as e:
                self.status.error = f"{type(e).__name__}: {e}"
                log.warning("wall %s: curation writer failed: %s", self.wall, e)
                await asyncio.sleep(backoff(attempt, base=0.5, cap=5.0))
                attempt += 1
            self.status.leading = False

    async def _lead(self, token: int) -> None:
        position = await self.engine.position(self.wall)
        if self.media_secret is None:
            self.media_secret = await self.engine.shared_secret(MEDIA_SECRET)
        self.status.leading, self.status.error = True, None
        log.info("wall %s: writer %s holds the lease (token %d), from inbox position %s",
                 self.wall, self.owner, token, position)
        renew_at = time.monotonic() + RENEW_EVERY
        stats_at = 0.0
        while True:
            if time.monotonic() >= renew_at:
                if await self.engine.lease(writer_lease(self.wall), self.owner, LEASE_TTL) != token:
                    raise Fenced("the lease lapsed and was taken again")
                renew_at = time.monotonic() + RENEW_EVERY
            batch = await self.engine.read_inbox(self.wall, position, BATCH, timeout=0.5)
            entries = await self._entries(batch)
            # One look-up for the whole batch; this writer alone changes the set, so it keeps it current.
            on_screen = await self.engine.shown(self.wall, [i for e in entries if (i := _post_id(e))])
            for msg, entry in zip(batch, entries, strict=True):
                await self.engine.commit(self.wall, token, self._plan(msg.id, entry, on_screen))
                position = msg.id
                self.status.committed += 1
            if time.monotonic() >= stats_at:
                await self._announce_stats()
                stats_at = time.monotonic() + self.stats_interval

    async def _entries(self, batch: list[Message]) -> list[InboxEntry | None]:
        """The batch decoded (None: unreadable, skipped) with its posts annotated."""
        entries: list[InboxEntry | None] = []
        for msg in batch:
            try:
                entries.append(decode_inbox(msg.body))
            except (msgspec.DecodeError, msgspec.ValidationError) as e:
                log.warning("wall %s: inbox entry %s skipped, it cannot be read: %s", self.wall, msg.id, e)
                entries.append(None)
        at = [i for i, e in enumerate(entries) if isinstance(e, InboxPost)]
        if self.annotate and at:
            posts = [e.post for e in entries if isinstance(e, InboxPost)]
            try:
                annotated = await asyncio.to_thread(self.annotate, posts)
            except Exception:  # a bug in a stage must not stop the wall: show the posts unannotated
                log.exception("wall %s: enrichment failed on a batch of %d posts", self.wall, len(posts))
                annotated = posts
            for i, post in zip(at, annotated, strict=True):
                entries[i] = InboxPost(post)
        return entries

    def _plan(self, inbox_id: str, entry: InboxEntry | None, on_screen: set[str]) -> Commit:
        """What one inbox entry does to the wall; `on_screen` follows along."""
        match entry:
            case None:
                return Commit(inbox_id)
            case InboxPost(post=post):
                post = msgspec.structs.replace(post, status=rules.decide(post))
                was_shown = post.id in on_screen
                if post.visible:
                    on_screen.add(post.id)
                    shown = proxied(post, self.media_secret) if self.media_secret else post
                    event = UpdateEvent(shown) if was_shown else PostEvent(shown)
                    counts = () if was_shown else counts_for(post)
                    return Commit(inbox_id, (encode(event),), shown=(post.id,), counts=counts,
                                  minute=int(time.time() // 60), counted=post.id if counts else None)
                if was_shown:  # hidden or rejected now: off the screen and out of the figures
                    on_screen.discard(post.id)
                    return Commit(inbox_id, (encode(RetractEvent(post.id, post.status)),), unshown=(post.id,),
                                  uncounted=(post.id,))
                return Commit(inbox_id)
            case InboxDelete(post_id=pid, reason=reason):
                if pid in on_screen:  # deleted at the source
                    on_screen.discard(pid)
                    return Commit(inbox_id, (encode(RetractEvent(pid, reason)),), unshown=(pid,),
                                  uncounted=(pid,))
                return Commit(inbox_id)
            case InboxReload(version=version):
                return Commit(inbox_id, (encode(ReloadEvent(version)),))

    async def _announce_stats(self) -> None:
        now = time.time()
        minute = int(now // 60)
        buckets = await self.engine.counts(self.wall, window(minute))
        stats = figures(await self.engine.total(self.wall), buckets, now)
        stats["alerts_on_screen"] = self.alerts_on_screen
        body = encode(stats)
        if body != self._announced:
            await self.engine.announce(self.wall, body)
            self._announced = body


def _post_id(entry: InboxEntry | None) -> str | None:
    match entry:
        case InboxPost(post=post):
            return post.id
        case InboxDelete(post_id=pid):
            return pid
    return None


class Writers:
    """The curate role: a writer for every wall of the config, run while the context is open."""

    def __init__(self, walls: list[str], engine: Engine, owner: str, stats_interval: float,
                 annotators: dict[str, Annotate] | None = None, media_secret: str | None = None,
                 alerts_on_screen: frozenset[str] = frozenset()) -> None:
        found = annotators or {}
        self.writers = [CurationWriter(w, engine, owner, stats_interval, found.get(w), media_secret,
                                       w in alerts_on_screen) for w in walls]
        self.tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> Writers:
        self.tasks = [asyncio.create_task(w.run(), name=f"curate:{w.wall}") for w in self.writers]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def wall_health(self, wall: str) -> dict[str, object]:
        here = next((w for w in self.writers if w.wall == wall), None)
        return {} if here is None else {"writer_here": here.status.as_dict()}

    def problems(self) -> list[str]:
        return [f"{w.wall}: curation writer: {w.status.error}" for w in self.writers if w.status.error]
