"""A wall that remembers: a generated day of posts goes through real curation writers and a real bus
(memory and Redis) into the roll-ups of a real store (SQLite and PostgreSQL), with deletes, a ban, posts
held for a curator and a writer killed in the middle of a minute. The roll-ups of the wall whose writer
was killed are the same, row for row, as those of a wall whose writer never stopped, and they say what
the day held: every post counted once, under its latest status, what was taken back taken back."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from tests.helpers import eventually

# the session's PostgreSQL, and a fresh store on SQLite then on PostgreSQL
from tests.test_store_contract import FAST, empty_database, fresh_store, postgres  # noqa: F401
from wall.bus.base import Engine
from wall.bus.memory import MemoryEngine
from wall.bus.redis import RedisEngine
from wall.config import ConfigError, RollupsKept, parse
from wall.curate.stats import counts_for, decided_counts, figures, for_rollups
from wall.curate.writer import CurationWriter
from wall.models import Author, Entity, InboxDelete, InboxModeration, InboxPost, Post, Sentiment, encode
from wall.store import Store, connect
from wall.store.rollups import GRAINS

pytestmark = pytest.mark.timeout(300)
DAY0 = (int(time.time()) // 86_400 - 2) * 86_400  # a UTC midnight two days ago
BAN_AT = DAY0 + 14 * 3600  # 14:00: mallory, who posted since 13:00, is banned
AUTHORS = [f"user{k}" for k in range(25)]
TAGS = ["launch", "rust", "coffee", "nordlys", "demo", "keynote"]


class SimClock:
    """The day's time, moved by the test: writers count posts under it, a few minutes a step."""

    def __init__(self) -> None:
        self.now = float(DAY0)

    def __call__(self) -> float:
        return self.now


@dataclass
class Planned:
    post: Post
    minute: int  # when the writer decides it
    status: str  # "approved" or "pending"
    gone: bool = False  # deleted at the source
    recounted_at: int | None = None  # the ban's minute, for mallory's approved posts


@dataclass
class Day:
    """The generated day: what each step sends, and what the roll-ups must end up saying."""

    steps: list[tuple[float, list[object]]] = field(default_factory=list)
    posts: dict[str, Planned] = field(default_factory=dict)


def generate(seed: int = 19) -> Day:
    rng = random.Random(seed)
    day, n = Day(), 0
    t = float(DAY0 + 30)
    while t < DAY0 + 86_400:
        sent: list[object] = []
        for _ in range(rng.randint(1, 4)):
            n += 1
            mallory = BAN_AT - 3600 <= t < BAN_AT + 3600 and rng.random() < 0.4
            tags = rng.sample(TAGS, rng.randint(0, 2))
            text = f"post {n} " + " ".join(f"#{tag}" for tag in tags)
            entities, at = [], len(f"post {n} ")
            for tag in tags:
                entities.append(Entity("hashtag", at, at + len(tag) + 1, tag))
                at += len(tag) + 2
            score = rng.choice([None, -0.8, -0.1, 0.0, 0.35, 0.9])
            post = Post(f"p{n}", "bluesky", f"s{n}", text, datetime.fromtimestamp(t, UTC),
                        Author("Mallory" if mallory else "", "mallory" if mallory else rng.choice(AUTHORS)),
                        entities=tuple(entities), lang=rng.choice(["en", "fi", "de", None]),
                        held="content warning" if rng.random() < 0.1 else None,
                        sentiment=None if score is None else Sentiment(score, "positive" if score > 0.3
                                                                       else "negative" if score < -0.3
                                                                       else "neutral"))
            banned = mallory and t >= BAN_AT
            day.posts[post.id] = Planned(post, int(t // 60),
                                         "pending" if post.held or banned else "approved")
            sent.append(InboxPost(post))
        recent = [p for p in day.posts.values() if t - 1800 <= p.minute * 60 and not p.gone
                  and p.post.author.handle != "mallory"]
        if recent and rng.random() < 0.15:  # deleted at the source within half an hour
            gone = rng.choice(recent)
            gone.gone = True
            sent.append(InboxDelete(gone.post.id))
        day.steps.append((t, sent))
        if t < BAN_AT <= t + 420:
            for p in day.posts.values():
                if p.post.author.handle == "mallory" and p.status == "approved":
                    p.status, p.recounted_at = "pending", BAN_AT // 60
            day.steps.append((float(BAN_AT), [InboxModeration("ban")]))
            t = BAN_AT
        t += rng.randint(180, 420) + rng.random()
    return day


def expected(day: Day) -> tuple[Counter[int], Counter[str]]:
    """Posts shown per hour, and the day's counters, from the plan alone."""
    hours: Counter[int] = Counter()
    total: Counter[str] = Counter()
    for p in day.posts.values():
        if p.gone:
            continue
        total[f"status:{p.status}"] += 1
        if p.status != "approved":
            continue
        hours[p.minute * 60 // 3600 * 3600] += 1
        post = p.post
        total["posts"] += 1
        total[f"author:{post.author.handle}"] += 1
        total[f"source:{post.source}"] += 1
        total.update(f"tag:{e.value}" for e in post.entities)
        if post.lang:
            total[f"lang:{post.lang}"] += 1
        if post.sentiment is not None:
            total["scored"] += 1
            total["sentsum"] += round((post.sentiment.score + 1) * 1000) - 1000
            total[f"sent:{post.sentiment.label}"] += 1
        else:
            total["sent:unscored"] += 1
    return hours, total


class Writer:
    """A curation writer as `wall curate` runs it (on the day's clock, or `writer` options of a test's)."""

    def __init__(self, wall: str, engine: Engine, store: Store, owner: str, clock: SimClock | None = None,
                 **writer: Any) -> None:
        if clock is not None:
            writer["clock"] = clock
        self.writer = CurationWriter(wall, engine, owner, stats_interval=3600, store=store, **writer)
        self.task = asyncio.create_task(self.writer.run())

    async def stop(self) -> None:
        """As `wall` stopping: the entry in hand, a last flush, the lease handed over."""
        self.writer.stop()
        await asyncio.wait_for(self.task, 30)

    async def kill(self) -> None:
        """Gone without a word, as a killed process: no last flush, its lease left to lapse."""
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


@pytest.fixture(name="engine", params=["memory", "redis"])
async def either_engine(request: pytest.FixtureRequest) -> AsyncIterator[Engine]:
    """The memory engine, then a real Redis (test_polls takes it too)."""
    bus: Engine = MemoryEngine() if request.param == "memory" \
        else RedisEngine(request.getfixturevalue("redis_url"))
    yield bus
    await bus.close()


async def test_a_day_of_posts_is_remembered_exactly_even_when_the_writer_is_killed_mid_minute(
        store: Store, engine: Engine) -> None:
    day, clock = generate(), SimClock()
    walls = ("steady", "takeover")
    steady = Writer("steady", engine, store, "writer-a", clock)
    first = Writer("takeover", engine, store, "writer-b", clock)
    await eventually(lambda: steady.writer.status.leading and first.writer.status.leading)
    second: Writer | None = None
    # mid-afternoon, a step of two posts or more: the first killed after committing one in this minute
    kill_at = next(k for k, (_, sent) in enumerate(day.steps) if k >= len(day.steps) // 2 and len(sent) >= 2
                   and all(isinstance(e, InboxPost) for e in sent))
    for k, (t, entries) in enumerate(day.steps):
        clock.now = t
        for wall in walls:
            sent = list(entries)
            if k == kill_at and wall == "takeover":
                for entry in sent[:2]:  # the first flushes with the new minute, the second waits for more
                    await committed(engine, wall, await engine.enqueue(wall, encode(entry)))
                await first.kill()
                second = Writer("takeover", engine, store, "writer-c", clock)
                sent = sent[2:]
            last = None
            for entry in sent:
                if isinstance(entry, InboxModeration):
                    await store.bans.ban(wall, "bluesky:mallory", "spam", "ana")
                last = await engine.enqueue(wall, encode(entry))
            if last is not None:
                await committed(engine, wall, last)
    clock.now = DAY0 + 86_400 + 30
    await steady.stop()
    assert second is not None
    await second.stop()

    rollups = store.rollups
    for grain in GRAINS:  # the same rows, the takeover's as the uninterrupted run's
        taken = dict(await rollups.series("takeover", grain, DAY0, DAY0 + 86_400))
        kept = dict(await rollups.series("steady", grain, DAY0, DAY0 + 86_400))
        assert taken == kept, (grain, {b: (taken.get(b), kept.get(b)) for b in {*taken, *kept}
                                       if taken.get(b) != kept.get(b)})
    hours, total = expected(day)
    series = await rollups.series("steady", "hour", DAY0, DAY0 + 86_400, prefix="posts")
    assert {int(start): c["posts"] for start, c in series} == dict(hours)
    assert await rollups.totals("steady", DAY0, DAY0 + 86_400) == dict(total)
    assert (await rollups.series("steady", "day", DAY0, DAY0 + 1))[0][1] == dict(total)
    authors = [(k[7:], n) for k, n in total.items() if k.startswith("author:")]
    assert await rollups.top("steady", "author:", DAY0, DAY0 + 86_400, limit=1) == \
        [min(authors, key=lambda kn: (-kn[1], kn[0]))]
    # what the bus still holds of the day (the last two hours on the memory engine) is what the minutes say
    minutes = list(range(DAY0 // 60, DAY0 // 60 + 1440))
    held = {m: for_rollups(c) for m, c in (await engine.counts("steady", minutes)).items()}
    stored = {int(s // 60): c for s, c in await rollups.series("steady", "minute", DAY0, DAY0 + 86_400)}
    assert len(held) >= 10 and {m: stored.get(m) for m in held} == held

async def committed(engine: Engine, wall: str, inbox_id: str) -> None:
    """Wait until the wall's writer (whichever holds it: a takeover waits out a lease) committed it."""
    async def done() -> bool:
        return await engine.position(wall) == inbox_id
    await eventually(done, timeout=60)


def test_the_new_counters_leave_the_screens_figures_as_they_were() -> None:
    post = Post("p1", "bluesky", "s1", "hello #launch", datetime.fromtimestamp(DAY0, UTC), Author("A", "a"),
                entities=(Entity("hashtag", 6, 13, "launch"),), lang="fi",
                sentiment=Sentiment(-0.5, "negative"))
    minute = DAY0 // 60
    live = {minute: dict(counts_for(post))}
    both = {minute: dict(counts_for(post)) | dict(decided_counts(post))}
    assert figures(1, both, DAY0 + 30) == figures(1, live, DAY0 + 30)
    assert for_rollups(both[minute]) == {**live[minute], "status:approved": 1, "lang:fi": 1, "scored": 1,
                                         "sentsum": -500}


def test_a_wrong_rollups_section_is_refused_with_the_key_and_the_fix() -> None:
    def problems(table: dict[str, str]) -> str:
        with pytest.raises(ConfigError) as e:
            parse({"walls": {"lobby": {"rollups": table}}}, lambda *_: (None, []))
        return str(e.value)
    assert 'walls.lobby.rollups.minutes: "12h" is too short' in problems({"minutes": "12h"}).replace("'", '"')
    assert "walls.lobby.rollups.days" in problems({"days": "30d", "hours": "90d"})
    assert "walls.lobby.rollups.hours: 'soon' is not a duration" in problems({"hours": "soon"})
    assert "walls.lobby.rollups.weeks" in problems({"weeks": "3"})
    assert 'walls.lobby.rollups.flush: "2h" is not a duration from "1m" to "30m"' in \
        problems({"flush": "2h"}).replace("'", '"')
    kept = parse({"walls": {"lobby": {"rollups": {"minutes": "3d", "hours": "keep", "days": "keep",
                                                  "flush": "1m"}}}},
                 lambda *_: (None, [])).walls["lobby"].rollups
    assert (kept.minutes, kept.hours, kept.days, kept.flush) == (3 * 86_400, None, None, 60)


async def test_the_writer_copies_every_flush_and_derives_an_hour_once_it_has_ended(store: Store) -> None:
    engine, clock = MemoryEngine(), SimClock()
    clock.now = DAY0 + 10 * 3600 + 5  # 10:00:05
    writer = Writer("lobby", engine, store, "writer-a", clock, rollups=RollupsKept(flush=120))
    rollups = store.rollups

    async def post(n: int, at: float) -> None:
        clock.now = at
        await committed(engine, "lobby", await engine.enqueue("lobby", encode(InboxPost(Post(
            f"p{n}", "bluesky", f"s{n}", "hi", datetime.fromtimestamp(at, UTC), Author("", "a"))))))

    async def copied(minutes: int) -> bool:
        return len(await rollups.series("lobby", "minute", DAY0, DAY0 + 86_400)) == minutes

    async def derived() -> bool:
        return ("hour", DAY0 + 10 * 3600) not in await rollups.marked("lobby")
    await post(1, DAY0 + 10 * 3600 + 5)
    await post(2, DAY0 + 10 * 3600 + 65)  # 10:01:05
    await post(3, DAY0 + 10 * 3600 + 125)  # 10:02:05: the copy of 10:00 to 10:02, after this post
    await eventually(lambda: copied(3))
    # the hour is open: marked, not derived, and read from its minutes
    assert ("hour", DAY0 + 10 * 3600) in await rollups.marked("lobby")
    assert await rollups.series("lobby", "hour", DAY0, DAY0 + 86_400, "posts") == [
        (DAY0 + 10 * 3600, {"posts": 3})]
    await post(4, DAY0 + 11 * 3600 + 5)  # 11:00:05: 10:00 has ended and is derived
    await eventually(derived)
    assert await rollups.marked("lobby") == [("day", DAY0), ("hour", DAY0 + 11 * 3600)]
    assert await rollups.series("lobby", "hour", DAY0, DAY0 + 86_400, "posts") == [
        (DAY0 + 10 * 3600, {"posts": 3}), (DAY0 + 11 * 3600, {"posts": 1})]
    await writer.stop()
    await engine.close()


async def test_the_rollups_outlive_a_redis_that_lost_everything(redis_url: str, tmp_path: Path) -> None:
    async with connect(f"sqlite+aiosqlite:///{tmp_path}/wall.db", hasher=FAST) as store:
        engine = RedisEngine(redis_url)
        clock = SimClock()
        clock.now = DAY0 + 10 * 3600 + 5
        writer = Writer("lobby", engine, store, "writer-a", clock)
        for n in range(3):
            last = await engine.enqueue("lobby", encode(InboxPost(Post(
                f"p{n}", "bluesky", f"s{n}", "hi", datetime.fromtimestamp(clock.now, UTC), Author("", "a")))))
        await committed(engine, "lobby", last)
        await writer.stop()
        assert await engine.counts("lobby", [int(clock.now // 60)])
        async with aioredis.Redis.from_url(redis_url) as r:
            await r.flushall()  # a Redis restarted without persistence
        clock.now += 60
        writer = Writer("lobby", engine, store, "writer-b", clock)
        last = await engine.enqueue("lobby", encode(InboxPost(Post(
            "p9", "bluesky", "s9", "hi", datetime.fromtimestamp(clock.now, UTC), Author("", "b")))))
        await committed(engine, "lobby", last)
        await writer.stop()
        await engine.close()
        assert await store.rollups.series("lobby", "minute", DAY0, DAY0 + 86_400, "posts") == [
            (DAY0 + 10 * 3600, {"posts": 3}), (DAY0 + 10 * 3600 + 60, {"posts": 1})]
        assert (await store.rollups.totals("lobby", DAY0, DAY0 + 86_400))["author:a"] == 3
