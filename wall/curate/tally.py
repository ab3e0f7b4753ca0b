"""The curation writer's polls: votes counted from the inbox in order, written under its fencing token
(docs/polls.md, wall/store/polls.py), and the shown poll announced to screens (kind "poll").

Every post of the inbox may vote, shown or not, whatever its network: its author's vote in each poll being
counted is set to what the post names (the latest counts), or taken back when the post that cast it is
edited to name nothing or deleted. Banned and opted-out authors' votes go, and they cast none.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from wall.bus.base import Engine, Fenced
from wall.curate.ballot import Ballot
from wall.models import POLL_KIND, InboxDelete, InboxEntry, InboxPoll, InboxPost, author_key, encode
from wall.store import Store
from wall.store.polls import Poll, Vote
from wall.store.rollups import Superseded

log = logging.getLogger(__name__)
ANNOUNCE_EVERY = 0.2  # seconds: bars move at most this often, however fast votes come
Change = tuple[int, str, Vote | None]  # (poll id, author, their vote now or None)


@dataclass
class Count:
    """One poll being counted: its compiled ballot and every author's vote."""

    poll: Poll
    ballot: Ballot
    votes: dict[str, Vote] = field(default_factory=dict)
    counts: list[int] = field(default_factory=list)

    @classmethod
    def of(cls, poll: Poll, votes: list[Vote]) -> Count:
        count = cls(poll, Ballot([o.words for o in poll.options]), {}, [0] * len(poll.options))
        for vote in votes:
            count.set(vote.author, vote)
        return count

    def set(self, author: str, vote: Vote | None) -> None:
        old = self.votes.pop(author, None)
        if old is not None and 0 <= old.option < len(self.counts):
            self.counts[old.option] -= 1
        if vote is not None:
            self.votes[author] = vote
            self.counts[vote.option] += 1


class Tally:
    """The polls one writer counts for a wall."""

    def __init__(self, wall: str, engine: Engine, store: Store | None) -> None:
        self.wall, self.engine, self.store = wall, engine, store
        self.counting: dict[int, Count] = {}
        self.shown: Poll | None = None
        self.frozen: list[int] | None = None  # the shown poll's results when it is not counted here
        self.dirty = False
        self._announced_at = 0.0

    async def load(self) -> None:
        """At lead: the polls being counted and their votes as the previous holder left them."""
        self.counting = {}
        if self.store is None:
            return
        for poll in await self.store.polls.counting(self.wall):
            self.counting[poll.id] = Count.of(poll, await self.store.polls.votes(poll.id))
        await self._reshow()
        if self.shown is None:  # a wall that never had a poll sends its screens no poll frame at all
            was = await self.engine.announced(self.wall, POLL_KIND)
            self.dirty = was is not None and was != encode(self.event())

    async def _reshow(self) -> None:
        assert self.store is not None
        self.shown = await self.store.polls.shown(self.wall)
        self.frozen = None
        if self.shown is not None and self.shown.id not in self.counting:
            self.frozen = await self.store.polls.tallies(self.shown)
        self.dirty = True

    async def switch(self, token: int, entry: InboxPoll) -> None:
        """A presenter opened, closed or hid a poll: count it from here on, or stop (its results freeze)."""
        if self.store is None:
            return
        try:
            await self.store.polls.set_counting(self.wall, token, entry.poll_id, entry.counting)
        except Superseded as e:
            raise Fenced(str(e)) from e
        if entry.counting and entry.poll_id not in self.counting:
            poll = await self.store.polls.get(self.wall, entry.poll_id)
            if poll is not None:
                self.counting[poll.id] = Count.of(poll, await self.store.polls.votes(poll.id))
        elif not entry.counting:
            self.counting.pop(entry.poll_id, None)
        await self._reshow()

    def plan(self, entry: InboxEntry | None, barred: Callable[[str], bool]) -> list[Change]:
        """The vote changes an inbox entry makes (`barred(author)`: banned or opted out, casts none)."""
        changes: list[Change] = []
        match entry:
            case InboxPost(post=post):
                author = author_key(post)
                for pid, count in self.counting.items():
                    option = None if barred(author) else count.ballot.vote(post.text)
                    old = count.votes.get(author)
                    if option is not None:
                        vote = Vote(author, post.id, option)
                        if vote != old:
                            changes.append((pid, author, vote))
                    elif old is not None and old.post_id == post.id:  # edited to name no option
                        changes.append((pid, author, None))
            case InboxDelete(post_id=post_id):
                for pid, count in self.counting.items():
                    changes += [(pid, a, None) for a, v in count.votes.items() if v.post_id == post_id]
        return changes

    def drop(self, gone: Callable[[str], bool]) -> list[Change]:
        """Take back the votes of every author `gone(author)` names (a ban, an opt-out, an erasure)."""
        return [(pid, a, None) for pid, count in self.counting.items() for a in count.votes if gone(a)]

    async def write(self, token: int, changes: list[Change]) -> None:
        """Store the changes under the writer's token, then count them."""
        if not changes or self.store is None:
            return
        try:
            await self.store.polls.write(self.wall, token, changes)
        except Superseded as e:
            raise Fenced(str(e)) from e
        for pid, author, vote in changes:
            self.counting[pid].set(author, vote)
        self.dirty = True

    def due_in(self) -> float:
        """Seconds until changed bars may be announced (a long time when nothing changed)."""
        if not self.dirty:
            return 3600.0
        return max(0.02, ANNOUNCE_EVERY - (time.monotonic() - self._announced_at))

    async def announce(self, force: bool = False) -> None:
        """Send the shown poll to screens, if it changed and ANNOUNCE_EVERY passed (or `force`)."""
        now = time.monotonic()
        if not self.dirty or (not force and now - self._announced_at < ANNOUNCE_EVERY):
            return
        await self.engine.announce(self.wall, encode(self.event()), POLL_KIND)
        self.dirty, self._announced_at = False, now

    def event(self) -> dict[str, object]:
        """The poll screens show: {"type": "poll", "poll": None} when none is."""
        poll = self.shown
        if poll is None:
            return {"type": "poll", "poll": None}
        count = self.counting.get(poll.id)
        counts = list(count.counts) if count is not None else list(self.frozen or [0] * len(poll.options))
        return {"type": "poll", "poll": {"id": poll.id, "question": poll.question, "state": poll.state,
                                         "options": [o.label for o in poll.options], "counts": counts,
                                         "total": sum(counts)}}
