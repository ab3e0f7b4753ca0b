"""Polls counted by the curation writer: a generated stream from four networks (chat lines too) votes in a
poll opened through the inbox, with votes changed, edited and deleted at the source, written in every way
people write ("YES!", "#oui", "👍🏽", "1", "one", "zwei"), and a banned author. The stream goes to two walls
through real writers, a real bus (memory and Redis) and a real store (SQLite and PostgreSQL); the writer of
one wall is killed mid-poll and another takes it over. Both walls end with exactly the votes a reference
count of the stream says, author by author, and closing the poll freezes the result."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.helpers import eventually

# the session's PostgreSQL; a fresh store on SQLite then PostgreSQL; the memory engine then Redis
from tests.test_rollups import Writer, either_engine  # noqa: F401
from tests.test_store_contract import FAST, empty_database, fresh_store, postgres  # noqa: F401
from wall.bus.base import Engine
from wall.bus.memory import MemoryEngine
from wall.curate.ballot import Ballot, fold
from wall.models import (
    POLL_KIND,
    Author,
    InboxDelete,
    InboxEntry,
    InboxModeration,
    InboxPoll,
    InboxPost,
    Post,
    encode,
)
from wall.store import Store, connect
from wall.store.polls import Option

pytestmark = pytest.mark.timeout(300)
NETWORKS = ("bluesky", "mastodon", "twitch", "youtube")
OPTIONS = [Option("Yes", ("Yes", "oui", "👍")), Option("No", ("No", "non", "👎")),
           Option("Maybe", ("Maybe", "#vielleicht", "🤷"))]
# How people write each option; None: a post that names none, or two (ambiguous)
WRITTEN: dict[int | None, tuple[str, ...]] = {
    0: ("YES!", "yes yes", "#Oui", "👍🏽 from the back row", "1", "#1", "one", "Yes, definitely"),
    1: ("no", "NO!!", "#non", "👎", "2", "two", "zwei", "Nön"),
    2: ("maybe?", "#Vielleicht", "🤷‍♀️", "3", "third", "Vielleicht"),
    None: ("great talk", "yes and no", "hello from Oslo", "one of the best talks I have seen this year",
           "where is the coffee", "👍 👎"),
}
BANNED = "twitch:mallory"


@dataclass
class Stream:
    """The generated stream, and the votes a reference count of it ends with."""

    entries: list[InboxEntry] = field(default_factory=list)
    expected: dict[str, tuple[str, int]] = field(default_factory=dict)  # author -> (post id, option)


def generate(seed: int = 21) -> Stream:
    rng = random.Random(seed)
    stream, n = Stream(), 0
    authors = [(rng.choice(NETWORKS), f"user{k}") for k in range(60)] + [("twitch", "mallory")]
    posted: list[tuple[str, str]] = []  # (post id, author key) still up at the source
    for step in range(700):
        if step == 500:  # mallory is banned: her vote goes, later ones are not counted
            stream.entries.append(InboxModeration("ban"))
            stream.expected.pop(BANNED, None)
            continue
        roll = rng.random()
        if roll < 0.08 and posted:  # a post deleted at the source takes its vote back
            pid, author = posted.pop(rng.randrange(len(posted)))
            stream.entries.append(InboxDelete(pid))
            if stream.expected.get(author, ("", 0))[0] == pid:
                del stream.expected[author]
            continue
        if roll < 0.16 and posted:  # an edit: the same post, now saying something else
            pid, author = rng.choice(posted)
            network, handle = author.split(":")
        else:
            n += 1
            network, handle = authors[rng.randrange(len(authors))] if step < 650 else ("twitch", "mallory")
            pid, author = f"{network}-{n}", f"{network}:{handle}"
            posted.append((pid, author))
        option = rng.choice([0, 1, 2, None, None])
        text = rng.choice(WRITTEN[option])
        stream.entries.append(InboxPost(Post(pid, network, pid, text, datetime(2026, 12, 7, 0, 0, tzinfo=UTC),
                                             Author(handle.title(), handle))))
        if author == BANNED and step > 500:
            continue
        if option is not None:
            stream.expected[author] = (pid, option)
        elif stream.expected.get(author, ("", 0))[0] == pid:  # edited to name nothing: no vote
            del stream.expected[author]
    return stream


async def committed(engine: Engine, wall: str, inbox_id: str) -> None:
    async def done() -> bool:
        return await engine.position(wall) == inbox_id
    await eventually(done, timeout=60)


async def test_votes_are_counted_exactly_across_networks_edits_deletes_a_ban_and_a_writer_takeover(
        store: Store, engine: Engine) -> None:
    stream = generate()
    walls = ("steady", "takeover")
    polls = {}
    for wall in walls:
        poll = await store.polls.create(wall, "Ship it today?", OPTIONS, "ana")
        await store.polls.set_state(wall, poll.id, "open")
        await engine.enqueue(wall, encode(InboxPoll(poll.id, True)))
        polls[wall] = poll
    steady = Writer("steady", engine, store, "writer-a", rollups=None)
    first = Writer("takeover", engine, store, "writer-b", rollups=None)
    second: Writer | None = None
    kill_at = 350
    for k, entry in enumerate(stream.entries):
        if isinstance(entry, InboxModeration):
            for wall in walls:
                await store.bans.ban(wall, BANNED, "spam", "ana")
        last = {wall: await engine.enqueue(wall, encode(entry)) for wall in walls}
        if k == kill_at:  # mid-poll, mid-batch: the writer dies, another takes the wall from its position
            await eventually(lambda: first.writer.status.committed > kill_at - 40)
            await first.kill()
            second = Writer("takeover", engine, store, "writer-c", rollups=None)
        if k % 50 == 49:
            await committed(engine, "steady", last["steady"])
    for wall in walls:
        await committed(engine, wall, await engine.enqueue(wall, encode(InboxModeration("sentinel"))))
    assert second is not None and second.writer.status.leading

    expected = {author: (pid, option) for author, (pid, option) in stream.expected.items()}
    counts = [0, 0, 0]
    for _, option in expected.values():
        counts[option] += 1
    assert len(expected) > 30 and all(counts), counts
    for wall in walls:
        votes = {v.author: (v.post_id, v.option) for v in await store.polls.votes(polls[wall].id)}
        assert votes == expected, wall
        assert BANNED not in votes
        # the screens' bars say the same
        async def announced(wall: str = wall) -> bool:
            body = await engine.announced(wall, POLL_KIND)
            return body is not None and f'"counts":{counts}'.replace(" ", "").encode() in body
        await eventually(announced)

    # closing freezes the result: later votes change nothing, and the result stays after the votes go
    for wall in walls:
        await store.polls.set_state(wall, polls[wall].id, "closed")
        await engine.enqueue(wall, encode(InboxPoll(polls[wall].id, False)))
        late = InboxPost(Post("late-1", "bluesky", "late-1", "NO", datetime(2026, 12, 7, tzinfo=UTC),
                              Author("Late", "latecomer")))
        await committed(engine, wall, await engine.enqueue(wall, encode(late)))
        poll = await store.polls.get(wall, polls[wall].id)
        assert poll is not None and poll.results == tuple(counts) and not poll.counting
        assert await store.polls.purge(wall, before=poll.closed_at + 1) == len(expected)
        assert await store.polls.tallies(poll) == counts
    await steady.stop()
    await second.stop()


def test_tolerant_matching_folds_case_accents_emoji_variants_and_numbers() -> None:
    ballot = Ballot([["Yes", "👍", "#oui"], ["Nö", "👎"], ["Café"]])
    assert [ballot.vote(t) for t in ("yes", "YES!", "#Yes", "#oui", "Oui.", "👍🏿", "👍️", "1", "#1", "one",
                                     "first", "eins", "premier")] == [0] * 13
    assert [ballot.vote(t) for t in ("no", "NÖ", "#no", "👎🏽", "2", "two", "zwei", "2nd", "dos")] == [1] * 9
    assert [ballot.vote(t) for t in ("cafe", "CAFÉ", "#café", "3", "three", "drei")] == [2] * 6
    # no vote: nothing named, two options named, a number in a sentence, a number beyond the options
    assert [ballot.vote(t) for t in ("hello", "yes no", "one of the best talks of the day", "4", "",
                                     "👍 👎")] == [None] * 6
    assert fold("Ünïcödé 👍🏽") == "unicode 👍"
    with pytest.raises(ValueError, match="votes for option 1 and 2"):
        Ballot([["yes"], ["YES"]])
    with pytest.raises(ValueError, match="2 to 6 options"):
        Ballot([["only"]])


async def test_an_erased_author_leaves_no_vote_behind(tmp_path: Path) -> None:
    from wall.privacy.erasure import erase
    engine = MemoryEngine()
    async with connect(f"sqlite+aiosqlite:///{tmp_path}/wall.db", hasher=FAST) as store:
        poll = await store.polls.create("lobby", "Ship it?", OPTIONS, "ana")
        await store.polls.set_state("lobby", poll.id, "open")
        await engine.enqueue("lobby", encode(InboxPoll(poll.id, True)))
        writer = Writer("lobby", engine, store, "writer-a", rollups=None)
        at = datetime(2026, 12, 7, tzinfo=UTC)
        for pid, handle, text in (("e1", "aino", "yes"), ("e2", "bo", "no")):
            last = await engine.enqueue("lobby", encode(InboxPost(Post(pid, "bluesky", pid, text, at,
                                                                       Author(handle.title(), handle)))))
        await committed(engine, "lobby", last)
        await erase(engine, store, ["lobby"], "bluesky:aino", "root", None, history=100)
        await committed(engine, "lobby", await engine.enqueue("lobby", encode(InboxModeration("sentinel"))))
        assert [(v.author, v.option) for v in await store.polls.votes(poll.id)] == [("bluesky:bo", 1)]
        assert writer.writer.tally.counting[poll.id].counts == [0, 1, 0]
        await writer.stop()
    await engine.close()
