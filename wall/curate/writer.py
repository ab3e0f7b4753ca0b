"""The curation writer: the only writer of a wall's display stream.

It holds the wall's writer lease (a fencing token with it), reads the wall's inbox from its stored
position, decides each post's status, and commits the resulting event, the new position, the shown set and
the stats counters in one atomic step. Each commit names the writer and its token, and the bus refuses it
unless that writer holds the lease with that token: a writer that stalls past its lease, or that Redis
forgot (flushed, failed over), is refused at its next commit; the holder goes on from the stored position,
so nothing is lost and nothing shows twice. While it holds the lease it also copies the bus's minute
buckets into the store's roll-ups (wall/curate/rollups.py, docs/rollups.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from wall.bus.base import (
    RECENT_KEPT,
    Commit,
    Counters,
    Engine,
    Fenced,
    Message,
    backoff,
    release,
    writer_lease,
)
from wall.config import DEFAULT_ROLLUPS, OptOutConfig, RollupsKept
from wall.curate import rules
from wall.curate.folding import Folds
from wall.curate.moderation import load_policy, stored_decisions
from wall.curate.rollups import RETRY, RollupFeed
from wall.curate.stats import COPY, counts_for, decided_counts, figures, window
from wall.curate.tally import Tally
from wall.media.signing import MEDIA_SECRET, proxied
from wall.models import (
    Author,
    ControlEvent,
    InboxControl,
    InboxDecision,
    InboxDelete,
    InboxEntry,
    InboxErase,
    InboxModeration,
    InboxPoll,
    InboxPost,
    InboxReload,
    Post,
    PostEvent,
    RecentPost,
    ReloadEvent,
    RetractEvent,
    ShownQuestion,
    UpdateEvent,
    author_key,
    decode_event,
    decode_inbox,
    decode_recent,
    encode,
)
from wall.redact import without_values
from wall.store import Store
from wall.store.controls import ControlState
from wall.store.rollups import Superseded
from wall.text import has_tag

log = logging.getLogger(__name__)
LEASE_TTL = 6.0  # seconds: a dead writer's wall is taken over within about this long
RENEW_EVERY = 2.0
BATCH = 100  # inbox entries read at once
STOP_GRACE = 10.0  # seconds a stopping writer may take to finish the entry in hand before it is cancelled
# seconds between looks at the store's opt-outs: one added where no inbox entry could say so (`wall optout`
# on the memory engine, whose bus lives in the serving process) takes effect this soon; expired ones go
OPTOUTS_EVERY = 5.0
# seconds between looks at where the wall's roll-ups start: spike alerts need that much history
# (docs/alerts.md); it moves only when retention trims the oldest buckets
HISTORY_EVERY = 60.0


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
                 store: Store | None = None, moderation: Mapping[str, Any] | None = None,
                 alerts_on_screen: bool = False, optout: OptOutConfig | None = None,
                 fold_window: float = 0.0, rollups: RollupsKept | None = DEFAULT_ROLLUPS,
                 clock: Callable[[], float] = time.time) -> None:
        self.wall = wall
        # Epoch seconds: what posts are counted under (their minute) and timed by; a test gives its own
        # to play a day in minutes (leases and renewals keep the monotonic clock).
        self.clock = clock
        self.engine = engine
        self.owner = owner
        self.stats_interval = stats_interval
        self.annotate = annotate
        self.media_secret = media_secret  # post images are shown through the wall's signed /media URLs
        self.store = store  # curators' decisions, the policy, bans, controls (None: rules of the config)
        self.moderation = dict(moderation or {})  # [walls.W.moderation]: the initial policy
        self.policy = rules.Policy()
        self.optout = optout or OptOutConfig()  # [walls.W.optout]: the tag and how long it opts out
        self.opted_out: dict[str, float] = {}  # author key -> until (epoch s), from the store
        self.control = ControlState(wall)
        self.question: ShownQuestion | None = None  # the Q&A question on screen, from the store
        # Spike alerts always reach curators in the stats event; screens show them only when the wall's
        # config says so (`[walls.W.enrich] spikes_on_screen`): the page reads "alerts_on_screen".
        self.alerts_on_screen = alerts_on_screen
        self.status = WriterStatus(wall)
        # Cross-network folding (`[walls.W.enrich] fold_window`, 0: off): rebuilt from the recent records
        # by the re-evaluation every lead starts with. `_orphaned`: a card with copies left the screen, so
        # its copies are settled again (the first becomes the card, the rest fold into it).
        self.fold_window = fold_window
        self.folds = Folds(fold_window)
        self._orphaned = False
        self._announced: bytes | None = None
        self._history: tuple[float, float | None] = (0.0, None)  # (next look, where the roll-ups start)
        # The figures' roll-ups in the store (docs/rollups.md; None, or no store: none), fed while leading.
        self.rollups = rollups if store is not None else None
        self.feed: RollupFeed | None = None
        self.stopping = asyncio.Event()  # set by stop(): finish the entry in hand, hand the lease over
        self.tally = Tally(wall, engine, store)  # the polls it counts (docs/polls.md)

    async def run(self) -> None:
        """Take the lease whenever it is free and write while holding it, until stop()."""
        attempt = 0
        while not self.stopping.is_set():
            try:
                token = await self.engine.lease(writer_lease(self.wall), self.owner, LEASE_TTL)
                if token is None:
                    self.status.leading = False
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.stopping.wait(), 1.0)
                    continue
                attempt = 0
                await self._lead(token)
                await self._hand_over()
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
        log.info("wall %s: writer %s holds the lease (token %d), from inbox position %s",
                 self.wall, self.owner, token, position)
        # The store is ahead of the inbox (the console writes it first): settle the screen on what it
        # says now, so a decision whose inbox entry was never written still takes effect. That settling
        # also rebuilds the folding index from the recent records, as the previous holder left them.
        self.folds = Folds(self.fold_window)
        await self._commit(token, await self._reevaluate(position))
        await self._commit(token, await self._control_commit(position, if_changed=True))
        await self.tally.load()
        await self.tally.announce(force=True)
        self.status.leading, self.status.error = True, None
        if self.rollups is not None and self.store is not None:
            self.feed = RollupFeed(self.wall, self.engine, self.store.rollups, self.rollups)
            await self._flush_rollups(token, start=True)
        renew_at = time.monotonic() + RENEW_EVERY
        stats_at = 0.0
        optouts_at = time.monotonic() + OPTOUTS_EVERY
        while not self.stopping.is_set():
            if time.monotonic() >= renew_at:
                if await self.engine.lease(writer_lease(self.wall), self.owner, LEASE_TTL) != token:
                    raise Fenced("the lease lapsed and was taken again")
                renew_at = time.monotonic() + RENEW_EVERY
            if time.monotonic() >= optouts_at:
                found = await self._optouts()
                if set(found) - set(self.opted_out):  # someone opted out meanwhile: off the screen now
                    await self._commit(token, await self._reevaluate(position))
                self.opted_out = found
                optouts_at = time.monotonic() + OPTOUTS_EVERY
            # bars waiting to move (docs/polls.md) shorten the wait for the inbox
            batch = await self.engine.read_inbox(self.wall, position, BATCH,
                                                 timeout=min(0.5, self.tally.due_in()))
            entries = await self._entries(batch)
            view = await self._view(entries)
            for k, (msg, entry) in enumerate(zip(batch, entries, strict=True)):
                # Votes are stored before the entry's commit: a takeover replays it to the same votes.
                voted = False
                match entry:
                    case InboxModeration():
                        commit = await self._reevaluate(msg.id)
                        await self.tally.write(token, self.tally.drop(self._barred))
                    case InboxControl():
                        commit = await self._control_commit(msg.id)
                    case InboxErase():
                        await self.tally.write(token, self.tally.drop(entry.names))
                        commit = await self._erase(msg.id, token, entry, entries, k + 1)
                    case InboxPoll():
                        await self.tally.switch(token, entry)
                        commit = Commit(msg.id)
                    case _:
                        commit = self._plan(msg.id, entry, view)
                        await self.tally.write(token, self.tally.plan(entry, self._barred))
                        voted = await self._qa(entry)
                await self._commit(token, commit)
                if voted:  # a vote for the question on screen: its count moves there
                    await self._commit(token, await self._control_commit(msg.id, if_changed=True))
                refolded = self._orphaned  # a card with copies left: they are settled again, now
                if refolded:
                    await self._commit(token, await self._reevaluate(msg.id))
                if isinstance(entry, (InboxModeration, InboxErase)) or refolded:  # it moved posts
                    view = await self._view(entries[k + 1:])
                position = msg.id
                self.status.committed += 1
                if self.stopping.is_set():  # the rest of the batch is the next holder's, from `position`
                    break
            if self.stopping.is_set():
                break
            await self.tally.announce()
            if self.feed is not None and self.feed.due(self.clock()):
                await self._flush_rollups(token)
            if time.monotonic() >= stats_at:
                await self._announce_stats()
                stats_at = time.monotonic() + self.stats_interval

        await self._flush_rollups(token, final=True)  # before the lease goes: nothing left to the next

    async def _qa(self, entry: InboxEntry | None) -> bool:
        """Keep the post's question or upvote in the Q&A queue (idempotent by post id, so an entry applied
        again after a takeover counts once; docs/qa.md). True when it voted for the question on screen."""
        if self.store is None or not isinstance(entry, InboxPost):
            return False
        if self.opted_out.get(rules.author_of(entry.post), 0.0) > self.clock():  # nothing of them is kept
            return False
        taken = await self.store.qa.take(self.wall, entry.post, self.clock())
        return taken.voted is not None and self.question is not None and taken.voted == self.question.number

    def _barred(self, author: str) -> bool:
        """A banned or opted-out author: casts no vote, and their votes go."""
        return author in self.policy.banned or self.opted_out.get(author, 0.0) > self.clock()

    async def _commit(self, token: int, commit: Commit) -> None:
        """Commit on the bus; the roll-ups' feed notes which minutes it changed."""
        await self.engine.commit(self.wall, self.owner, token, commit)
        if self.feed is not None:
            self.feed.touched(commit.minute if commit.counts else None, bool(commit.uncounted))

    async def _flush_rollups(self, token: int, start: bool = False, final: bool = False) -> None:
        """Copy the bus's changed minutes to the roll-ups. A store that fails is tried again RETRY
        seconds later (the bus keeps the minutes two hours); the screens go on meanwhile."""
        if self.feed is None:
            return
        now = self.clock()
        try:
            if start:
                await self.feed.start(token, now)
            else:
                await self.feed.flush(token, now, final=final)
            if self.status.error and self.status.error.startswith("roll-ups:"):
                self.status.error = None
        except Superseded as e:
            raise Fenced(str(e)) from e
        except Exception as e:
            self.status.error = f"roll-ups: {type(e).__name__}: {e}"
            self.feed.flush_at = now + RETRY
            log.warning("wall %s: roll-ups not written (again in %.0f s): %s", self.wall, RETRY, e)

    async def _hand_over(self) -> None:
        """Stopping while holding the lease: give it up now, so a standby takes the wall within its next
        try (about a second) instead of waiting out LEASE_TTL."""
        self.status.leading = False
        try:
            await release(self.engine, writer_lease(self.wall), self.owner)
            log.info("wall %s: writer %s handed its lease over", self.wall, self.owner)
        except Exception as e:  # the bus is down: the lease lapses on its own
            log.warning("wall %s: writer %s could not hand its lease over (it lapses in %.0f s): %s",
                        self.wall, self.owner, LEASE_TTL, e)

    def stop(self) -> None:
        """Finish the entry in hand (its commit), then hand the lease over and return from run()."""
        self.stopping.set()

    async def _entries(self, batch: list[Message]) -> list[InboxEntry | None]:
        """The batch decoded (None: unreadable, skipped) with its posts annotated, but for those of
        authors who opted out (by this batch's tags too)."""
        entries: list[InboxEntry | None] = []
        for msg in batch:
            try:
                entries.append(decode_inbox(msg.body))
            except (msgspec.DecodeError, msgspec.ValidationError) as e:
                log.warning("wall %s: inbox entry %s skipped, it cannot be read: %s", self.wall, msg.id,
                            without_values(str(e)))
                entries.append(None)
        # The opt-out tag first, so that no text of an opted-out author enters enrichment's memory
        # (repeated text, near-duplicates): they are not shown, and their posts need no annotation.
        for entry in entries:
            if isinstance(entry, InboxPost) and has_tag(entry.post.text, entry.post.entities,
                                                        self.optout.tag):
                await self._opt_out_by_tag(entry.post)
        now = self.clock()
        at = [(i, entry.post) for i, entry in enumerate(entries) if isinstance(entry, InboxPost)
              and self.opted_out.get(rules.author_of(entry.post), 0.0) <= now]
        if self.annotate and at:
            posts = [post for _, post in at]
            try:
                annotated = await asyncio.to_thread(self.annotate, posts)
            except Exception as e:  # a bug in a stage must not stop the wall: show the posts unannotated
                # Where it failed, and why without what it quoted: a stage's error may hold a post's words.
                frames = "".join(traceback.format_tb(e.__traceback__)).rstrip()
                log.error("wall %s: enrichment failed on a batch of %d posts: %s: %s\n%s", self.wall,
                          len(posts), type(e).__name__, without_values(str(e)), frames)
                annotated = posts
            for (i, _), post in zip(at, annotated, strict=True):
                entries[i] = InboxPost(post)
        return entries

    async def _view(self, entries: list[InboxEntry | None]) -> View:
        """What the batch's posts need, looked up once; this writer alone changes it, so it keeps it
        current as it plans each entry."""
        ids = list(dict.fromkeys(i for e in entries if (i := _post_id(e))))
        # The cards the batch's posts may fold into, or are folded into (an edit of a copy, a curator's
        # unfold), so that _settle can update them.
        now = self.clock()
        ids += [i for e in entries if isinstance(e, InboxPost) and (i := self.folds.original(e.post, now))]
        authors = [rules.author_of(e.post) for e in entries if isinstance(e, InboxPost)]
        recent = await self._recent_of(ids)
        cards = list({c for r in recent.values() if (c := r.folded_into) and c not in recent})
        recent |= await self._recent_of(cards)
        ids = list(dict.fromkeys([*ids, *cards]))
        return View(on_screen=await self.engine.shown(self.wall, ids), recent=recent,
                    decisions=await stored_decisions(self.store, self.wall, ids),
                    known=await self.engine.known_authors(self.wall, authors))

    async def _recent_of(self, ids: list[str]) -> dict[str, RecentPost]:
        return {pid: decode_recent(b) for pid, b in (await self.engine.recent_of(self.wall, ids)).items()}

    def _plan(self, inbox_id: str, entry: InboxEntry | None, view: View) -> Commit:
        """What one inbox entry does to the wall; `view` follows along."""
        match entry:
            case InboxPost(post=post):
                old = view.recent.get(post.id)
                arrived = old.arrived if old is not None else self.clock()
                return self._settle(inbox_id, [(post, arrived, old)], view)
            case InboxDecision(post_id=pid):
                old = view.recent.get(pid)
                if old is None or old.deleted:
                    return Commit(inbox_id)
                commit = self._settle(inbox_id, [(old.post, old.arrived, old)], view)
                return self._spotlit(commit, view) if pid == self.control.spotlight_post else commit
            case InboxDelete(post_id=pid, reason=reason):
                old = view.recent.get(pid)
                events: tuple[bytes, ...] = ()
                unshown: tuple[str, ...] = ()
                if pid in view.on_screen:
                    view.on_screen.discard(pid)
                    events, unshown = (encode(RetractEvent(pid, reason)),), (pid,)
                    self._unfold_from(pid, old.post.copies if old else ())
                if old is None:
                    return Commit(inbox_id, events, unshown=unshown, uncounted=unshown)
                gone = msgspec.structs.replace(old, deleted=True, folded_into=None)
                view.recent[pid] = gone
                changed = {pid: gone}
                uncounted = (pid,)  # shown or not: its status counts no more (docs/rollups.md)
                if old.folded_into:  # a folded copy: its card no longer names its network, nor counts it
                    card_events: list[bytes] = []
                    self._refold(old.folded_into, view, card_events, changed, drop=old.post.source)
                    events, uncounted = (*events, *card_events), (pid,)
                return Commit(inbox_id, events, unshown=unshown,
                              recent=tuple((i, encode(r)) for i, r in changed.items()),
                              queue=tuple(self._queue_body(r) for r in changed.values()), uncounted=uncounted)
            case InboxReload(version=version):
                return Commit(inbox_id, (encode(ReloadEvent(version)),))
        return Commit(inbox_id)

    def _settle(self, inbox_id: str, posts: list[tuple[Post, float, RecentPost | None]],
                view: View) -> Commit:
        """Decide each post from the policy and its stored decision, and bring the screen in line: show
        what is now allowed, retract what is now held, update what changed; keep the recent records."""
        events: list[bytes] = []
        shown: list[str] = []
        unshown: list[str] = []
        counts: list[tuple[str, Counters]] = []
        unfolded: list[str] = []  # copies that left their card: their count of copies comes off
        recounted: list[str] = []  # counted again (seen before): what they added before comes off first
        recent: dict[str, RecentPost] = {}
        authors: list[str] = []
        now = self.clock()
        for post, arrived, old in posts:
            if old is not None:  # a source's edit of a card keeps the copies folded into it
                post = msgspec.structs.replace(post, copies=old.post.copies)
            author = rules.author_of(post)
            opted_out = self.opted_out.get(author, 0.0) > now
            verdict = rules.decide(post, rules.Seen(author in view.known, opted_out), self.policy)
            stored = view.decisions.get(post.id)
            new = rules.effective(post, verdict, stored)
            # Names the author: DEBUG only (docs/privacy.md#logs), for "why is this post held?"
            log.debug("wall %s: post %s by %s: %s (%s)", self.wall, post.id, author, new.status,
                      verdict.reason)
            was_shown = post.id in view.on_screen
            into = self._fold_into(new, arrived, old, stored, view) if new.visible and not was_shown else None
            if old is not None and old.folded_into and old.folded_into != into:  # unfolded: a card again
                self._refold(old.folded_into, view, events, recent, drop=post.source)
                unfolded.append(post.id)
            # A post is counted once, under its latest status (docs/rollups.md): a new count of it takes
            # its earlier one back first (`recounted`, applied before `counts`).
            if into is not None:
                if old is None or old.folded_into != into:
                    self._refold(into, view, events, recent, add=post.source)
                    counts.append((post.id, (*COPY, *decided_counts(new))))
                    recounted += [post.id] if old is not None else []
            elif new.visible:
                self.folds.add(new, arrived)  # a card: a later copy from another network folds into it
                view.on_screen.add(post.id)
                if not was_shown:
                    events.append(encode(PostEvent(self._shown(new))))
                    shown.append(post.id)
                    counts.append((post.id, (*counts_for(new), *decided_counts(new))))
                    recounted += [post.id] if old is not None else []
                elif old is None or old.post != new or old.deleted:
                    events.append(encode(UpdateEvent(self._shown(new))))
                if author not in view.known:
                    view.known.add(author)
                    authors.append(author)
            elif was_shown:  # held, hidden or rejected now: off the screen and out of the figures
                view.on_screen.discard(post.id)
                events.append(encode(RetractEvent(post.id, new.status)))
                unshown.append(post.id)
                self._unfold_from(post.id, post.copies)
            if not new.visible and not opted_out and (old is None or old.post.status != new.status
                                                      or was_shown or old.folded_into):
                counts.append((post.id, decided_counts(new)))  # opted out: not even its id is kept
                recounted += [post.id] if old is not None else []
            record: RecentPost | None = RecentPost(
                new, arrived, None if stored else verdict.reason, stored.version if stored else 0,
                stored.decided_by if stored else None, stored.decided_at if stored else None,
                stored.spotlight_until if stored else None, folded_into=into)
            if opted_out:  # its content is not kept: nothing new, and what was kept is emptied
                record = None if old is None else _without_content(new, arrived)
            if record is not None and record != old:
                view.recent[post.id] = recent[post.id] = record
        queue = tuple(self._queue_body(record) for record in recent.values())
        return Commit(inbox_id, tuple(events), tuple(shown), tuple(unshown), tuple(counts),
                      int(self.clock() // 60) if counts else 0,
                      tuple((pid, encode(record)) for pid, record in recent.items()), queue,
                      authors=tuple(authors),
                      uncounted=tuple(dict.fromkeys((*unshown, *unfolded, *recounted))))

    def _fold_into(self, post: Post, arrived: float, old: RecentPost | None, stored: rules.Stored | None,
                   view: View) -> str | None:
        """The card on screen this post (allowed, not on screen) stays or becomes folded into, if any. A
        curator's decision on the post itself (the console's "unfold") makes it a card of its own."""
        if stored is not None:
            return None
        if old is not None and old.folded_into in view.on_screen:
            return old.folded_into
        into = self.folds.original(post, arrived)
        return into if into in view.on_screen and into in view.recent else None

    def _refold(self, pid: str, view: View, events: list[bytes], recent: dict[str, RecentPost], *,
                add: str | None = None, drop: str | None = None) -> None:
        """A copy from network `add` folds into card `pid`, or one from `drop` left it: the card says so."""
        card = view.recent.get(pid)
        if card is None:
            return
        copies = list(card.post.copies)
        if add is not None:
            copies.append(add)
        if drop is not None and drop in copies:
            copies.remove(drop)
        post = msgspec.structs.replace(card.post, copies=tuple(copies))
        view.recent[pid] = recent[pid] = msgspec.structs.replace(card, post=post)
        if pid in view.on_screen:
            events.append(encode(UpdateEvent(self._shown(post))))

    def _unfold_from(self, pid: str, copies: tuple[str, ...]) -> None:
        """Card `pid` left the screen: nothing folds into it now, and its `copies` are settled again."""
        self.folds.drop(pid)
        self._orphaned = self._orphaned or bool(copies)

    async def _reevaluate(self, inbox_id: str) -> Commit:
        """The policy, bans, blocked words or opt-outs changed: settle every recent post again."""
        self.policy = await load_policy(self.store, self.wall, self.moderation)
        self.opted_out = await self._optouts()
        records = [decode_recent(b) for b in await self.engine.recent(self.wall, RECENT_KEPT)]
        records = [r for r in reversed(records) if not r.deleted]  # oldest first: screens add in order
        ids = [r.post.id for r in records]
        view = View(on_screen=await self.engine.shown(self.wall, ids), recent={r.post.id: r for r in records},
                    decisions=await stored_decisions(self.store, self.wall, ids),
                    known=await self.engine.known_authors(self.wall,
                                                          list({rules.author_of(r.post) for r in records})))
        commit = self._settle(inbox_id, [(r.post, r.arrived, r) for r in records], view)
        self._orphaned = False  # every copy was settled again, after the cards it may fold into
        # a banned or opted-out author's spotlit post leaves the spotlight too, and new screens' snapshots
        return self._spotlit(commit, view) if self.control.spotlight_post in commit.unshown else commit

    def _spotlit(self, commit: Commit, view: View) -> Commit:
        """The spotlit post changed (hidden, retracted): the control event carries the new one (or none)."""
        if self.store is None:
            return commit
        event = encode(self._control_event(self.control, view.recent.get(self.control.spotlight_post or "")))
        return commit._replace(events=(*commit.events, event), control=True, queue=(*commit.queue, event))

    async def _optouts(self) -> dict[str, float]:
        """The wall's opt-outs in force (author -> until), the ended ones deleted from the store."""
        if self.store is None:
            return {a: until for a, until in self.opted_out.items() if until > self.clock()}
        await self.store.optouts.expire(self.wall)
        return {o.author: o.until for o in await self.store.optouts.current(self.wall)}

    async def _opt_out_by_tag(self, post: Post) -> None:
        """The post's author asked, with the wall's opt-out tag, not to be shown: opted out for the
        configured days, in the store first; a new opt-out re-evaluates the wall through the inbox, which
        takes the author's posts already on screen off."""
        author, until = rules.author_of(post), self.clock() + self.optout.days * 86_400
        fresh = self.opted_out.get(author, 0.0) <= self.clock()
        if self.store is not None:
            until = (await self.store.optouts.add(self.wall, author, "tag", "author", until)).until
        self.opted_out[author] = until
        if fresh:
            log.info("wall %s: post %s carries the opt-out tag; its author is opted out for %g days",
                     self.wall, post.id, self.optout.days)
            await self.engine.enqueue(self.wall, encode(InboxModeration("optout")))

    async def _erase(self, inbox_id: str, token: int, entry: InboxErase, entries: list[InboxEntry | None],
                     rest: int) -> Commit:
        """An erasure: off every screen, the posts it names and the author's recent ones (what this writer
        committed since the erasure looked), whose copies go from the bus again; the author's posts in the
        rest of the batch (`entries` from `rest`) are dropped; the controls are published again, in case the
        spotlight was theirs (the last commit)."""
        recent = [p for b in await self.engine.recent(self.wall, RECENT_KEPT)
                  if entry.names(author_key(p := decode_recent(b).post))]
        ids = list(dict.fromkeys([*entry.post_ids, *(p.id for p in recent)]))
        on_screen = await self.engine.shown(self.wall, ids)
        on = [pid for pid in ids if pid in on_screen]
        for post in recent:  # their copies on other networks' accounts are cards of their own again
            self._unfold_from(post.id, post.copies)
        await self._commit(token, Commit(
            inbox_id, tuple(encode(RetractEvent(pid, "erased")) for pid in on), unshown=tuple(on),
            uncounted=tuple(on)))
        if self.feed is not None:
            self.feed.touched(None, True)  # the author's counters left the buckets: read them all again
        for author in {author_key(p) for p in recent}:
            found = await self.engine.erase_author(self.wall, author)
            log.info("wall %s: an author erased from the bus again: %d post(s), %d record(s)", self.wall,
                     len(found.posts), found.removed)
        for j in range(rest, len(entries)):
            if isinstance(e := entries[j], InboxPost) and entry.names(author_key(e.post)):
                entries[j] = None
        return await self._control_commit(inbox_id, if_changed=True)

    async def _control_commit(self, inbox_id: str, if_changed: bool = False) -> Commit:
        """Publish the wall's stored live controls as its control event (at lead: only if it differs
        from the one screens have)."""
        if self.store is None:
            return Commit(inbox_id)
        self.control = await self.store.controls.get(self.wall)
        shown = await self.store.qa.showing(self.wall)
        self.question = None if shown is None else ShownQuestion(shown.number, shown.text, shown.name,
                                                                 shown.votes)
        spot = None
        if self.control.spotlight_post:
            found = await self.engine.recent_of(self.wall, [self.control.spotlight_post])
            spot = decode_recent(found[self.control.spotlight_post]) if found else None
        event = self._control_event(self.control, spot)
        if if_changed:
            latest = await self.engine.latest_control(self.wall)
            now = None if latest is None else decode_event(latest)
            if now == event or (now is None and self.control.version == 0):
                return Commit(inbox_id)
        body = encode(event)
        return Commit(inbox_id, (body,), control=True, queue=(body,))

    def _control_event(self, state: ControlState, spotlight: RecentPost | None) -> ControlEvent:
        """The control event of a stored state; the spotlight only while its post is approved."""
        post = spotlight.post if spotlight is not None and spotlight.post.visible \
            and not spotlight.deleted else None
        return ControlEvent(paused=state.paused, panic=state.panic, panic_text=state.panic_text,
                            scene=state.scene, announcement=state.announcement,
                            spotlight=None if post is None else self._shown(post),
                            spotlight_until=state.spotlight_until if post is not None else None,
                            next_seq=state.next_seq, countdown_to=state.countdown_to,
                            countdown_title=state.countdown_title, widgets=state.widgets,
                            rundown_item=state.rundown_item, rundown_auto=state.rundown_auto,
                            question=self.question, meter=state.meter)

    def _shown(self, post: Post) -> Post:
        return proxied(post, self.media_secret) if self.media_secret else post

    def _queue_body(self, record: RecentPost) -> bytes:
        """A recent post as consoles get it: images through the wall's own media URLs."""
        return encode(msgspec.structs.replace(record, post=self._shown(record.post)))

    async def _announce_stats(self) -> None:
        now = self.clock()
        minute = int(now // 60)
        buckets = await self.engine.counts(self.wall, window(minute))
        stats = figures(await self.engine.total(self.wall), buckets, now, await self._history_since())
        stats["alerts_on_screen"] = self.alerts_on_screen
        body = encode(stats)
        if body != self._announced:
            await self.engine.announce(self.wall, body)
            self._announced = body

    async def _history_since(self) -> float | None:
        """Where the wall's roll-ups start (None: a new wall): the spike baseline's history beyond the
        live buckets, across restarts and Redis forgetting. A store that does not answer keeps the last."""
        look_at, since = self._history
        if self.store is None or time.monotonic() < look_at:
            return since
        try:
            since = await self.store.rollups.first_bucket(self.wall)
            look_at = time.monotonic() + HISTORY_EVERY
        except Exception as e:  # asked again at the next figures
            log.warning("wall %s: cannot read where its roll-ups start (spikes wait for history): %s",
                        self.wall, e)
        self._history = (look_at, since)
        return since


@dataclass
class View:
    """The writer's picture of the posts one batch touches."""

    on_screen: set[str]
    recent: dict[str, RecentPost]
    decisions: dict[str, rules.Stored]
    known: set[str] = field(default_factory=set)


def _without_content(post: Post, arrived: float) -> RecentPost:
    """What the wall keeps of an opted-out author's post it had kept before: its id, network and date,
    never shown again (no text, names, handle, links or images)."""
    empty = Post(post.id, post.source, "", "", post.created_at, Author(), status="rejected")
    return RecentPost(empty, arrived, "opted out", deleted=True)


def _post_id(entry: InboxEntry | None) -> str | None:
    match entry:
        case InboxPost(post=post):
            return post.id
        case InboxDelete(post_id=pid) | InboxDecision(post_id=pid):
            return pid
    return None


class Writers:
    """The curate role: a writer for every wall of the config, run while the context is open."""

    def __init__(self, walls: list[str], engine: Engine, owner: str, stats_interval: float,
                 annotators: dict[str, Annotate] | None = None, media_secret: str | None = None,
                 store: Store | None = None, moderation: dict[str, dict[str, Any]] | None = None,
                 alerts_on_screen: frozenset[str] = frozenset(),
                 optouts: dict[str, OptOutConfig] | None = None,
                 fold_windows: dict[str, float] | None = None,
                 rollups: dict[str, RollupsKept] | None = None) -> None:
        found, policies, tags = annotators or {}, moderation or {}, optouts or {}
        windows, kept = fold_windows or {}, rollups or {}
        self.writers = [CurationWriter(w, engine, owner, stats_interval, found.get(w), media_secret, store,
                                       policies.get(w), w in alerts_on_screen, tags.get(w),
                                       windows.get(w, 0.0), kept.get(w, DEFAULT_ROLLUPS)) for w in walls]
        self.tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> Writers:
        self.tasks = [asyncio.create_task(w.run(), name=f"curate:{w.wall}") for w in self.writers]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for writer in self.writers:
            writer.stop()
        if self.tasks:
            _, late = await asyncio.wait(self.tasks, timeout=STOP_GRACE)
            for task in late:  # stuck on the bus: its lease lapses on its own
                task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def leading(self, wall: str) -> bool:
        """Whether this process's writer holds the wall now."""
        return any(w.wall == wall and w.status.leading for w in self.writers)

    def wall_health(self, wall: str) -> dict[str, object]:
        here = next((w for w in self.writers if w.wall == wall), None)
        return {} if here is None else {"writer_here": here.status.as_dict()}

    def problems(self) -> list[str]:
        return [f"{w.wall}: curation writer: {w.status.error}" for w in self.writers if w.status.error]
