"""The bus contract (wall/bus/base.py), told as stories and run against both engines; then what only Redis
can do to a subscriber: restart, lose its data, be down when someone publishes."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import shutil
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from random import Random

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError

from tests.helpers import eventually
from tests.redis_server import RedisServer, free_port
from wall.bus.base import Announcement, Commit, Engine, Fenced, Forgotten, Gap, Live, Message, writer_lease
from wall.bus.erasure import ErasedAuthor
from wall.bus.memory import MemoryEngine
from wall.bus.redis import Keys, RedisEngine
from wall.models import (
    Author,
    ControlEvent,
    InboxPost,
    Media,
    Post,
    PostEvent,
    RecentPost,
    UpdateEvent,
    decode_recent,
    encode,
    id_key,
    post_id,
)

WALL = "lobby"
MakeEngine = Callable[..., Engine]


@pytest.fixture(params=["memory", "redis"])
async def make_engine(request: pytest.FixtureRequest) -> AsyncIterator[MakeEngine]:
    """Open engines of the kind under test (on the same Redis, for redis); all closed after the test."""
    url = request.getfixturevalue("redis_url") if request.param == "redis" else ""
    opened: list[Engine] = []

    def make(stream_maxlen: int = 10_000) -> Engine:
        engine: Engine = MemoryEngine(stream_maxlen) if not url else RedisEngine(url, stream_maxlen)
        opened.append(engine)
        return engine

    yield make
    for engine in opened:
        await engine.close()


@pytest.fixture
def engine(make_engine: MakeEngine) -> Engine:
    return make_engine()


class Follower:
    """A consumer of subscribe() in its own task, like a web node's hub: keeps every item it gets."""

    def __init__(self, engine: Engine, after: str | None, wall: str = WALL) -> None:
        self.items: list[Message | Gap | Announcement] = []
        self.links: list[bool] = []  # each Live it got: up, or lost and reconnecting
        self._task = asyncio.create_task(self._run(engine.subscribe(wall, after)))

    async def _run(self, stream: AsyncIterator[Message | Gap | Announcement | Live]) -> None:
        async for item in stream:
            if isinstance(item, Live):
                self.links.append(item.up)
            else:
                self.items.append(item)

    @property
    def messages(self) -> list[Message]:
        return [m for m in self.items if isinstance(m, Message)]

    @property
    def ids(self) -> list[str]:
        return [m.id for m in self.messages]

    async def wait(self, pred: Callable[[Follower], bool], timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while not pred(self):
                if self._task.done():
                    self._task.result()  # a failure in the subscriber shows up here, not as a timeout
                    raise AssertionError("the subscription ended")
                await asyncio.sleep(0.01)

    async def wait_messages(self, count: int, timeout: float = 10.0) -> list[Message]:
        await self.wait(lambda f: len(f.messages) >= count, timeout)
        return self.messages

    async def ended(self, timeout: float = 5.0) -> None:
        """Wait for the subscription to end by itself; its error, if any, is raised here."""
        async with asyncio.timeout(timeout):
            await self._task

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


async def publish_all(engine: Engine, bodies: list[bytes], wall: str = WALL) -> list[Message]:
    return [Message(await engine.publish(wall, body), body) for body in bodies]


def bodies(prefix: str, n: int) -> list[bytes]:
    return [f'{{"n":"{prefix}-{i}"}}'.encode() for i in range(n)]


PROBE, LAST = b'{"n":"probe"}', b'{"n":"last"}'  # the sentinels of the two helpers below


async def until_live(engine: Engine, follower: Follower) -> None:
    """A subscriber "from now on" is live once it gets an event published after it began: publish probes
    until it gets one (those published before it began are rightly never seen), then forget them."""
    sent: list[str] = []
    async with asyncio.timeout(30):
        while not follower.messages:
            sent.append(await engine.publish(WALL, PROBE))
            with contextlib.suppress(TimeoutError):
                await follower.wait_messages(1, timeout=0.1)
        await follower.wait_messages(len(sent) - sent.index(follower.messages[0].id))  # none on its way
    assert [m.body for m in follower.items] == [PROBE] * len(follower.items)
    follower.items.clear()


async def nothing_more(engine: Engine, follower: Follower) -> list[Message | Gap | Announcement]:
    """What the follower got before a last event published now: once it has that one, anything that was
    still on its way has come."""
    (last,) = await publish_all(engine, [LAST])
    await follower.wait(lambda f: last in f.items, timeout=30)
    return follower.items[:[isinstance(i, Message) and i.body == LAST for i in follower.items].index(True)]


# -- the contract, on both engines ------------------------------------------------------------------


async def test_ids_grow_strictly_even_within_one_millisecond(engine: Engine) -> None:
    ids = [m.id for m in await publish_all(engine, bodies("x", 100))]
    assert all(isinstance(i, str) for i in ids)
    assert all(id_key(a) < id_key(b) for a, b in itertools.pairwise(ids))


async def test_two_subscribers_get_every_event_of_five_busy_publishers_once_in_bus_order(
        make_engine: MakeEngine) -> None:
    # Each publisher is its own process in production: give each its own engine (one engine for memory).
    shared = make_engine()
    start = await shared.publish(WALL, b'{"n":"start"}')
    followers = [Follower(shared, after=start), Follower(shared, after=start)]
    publishers = [shared if isinstance(shared, MemoryEngine) else make_engine() for _ in range(5)]

    async def run(n: int, engine: Engine) -> list[Message]:
        sent = []
        for body in bodies(f"p{n}", 200):
            sent.append(Message(await engine.publish(WALL, body), body))
            if len(sent) % 20 == 0:
                await asyncio.sleep(0)  # let the others interleave on the memory engine too
        return sent

    sent = await asyncio.gather(*(run(n, e) for n, e in enumerate(publishers)))
    for per_publisher in sent:
        assert per_publisher == sorted(per_publisher, key=lambda m: id_key(m.id))  # each one's order kept
    expected = sorted((m for batch in sent for m in batch), key=lambda m: id_key(m.id))
    assert len({m.id for m in expected}) == 1000
    for follower in followers:
        assert await follower.wait_messages(1000, timeout=60) == expected
    for follower in followers:
        assert await nothing_more(shared, follower) == expected  # and nothing more trickles in
        await follower.stop()


async def test_a_subscriber_that_says_where_it_was_gets_what_followed_then_live(engine: Engine) -> None:
    _, b, c, d = await publish_all(engine, bodies("early", 4))
    follower = Follower(engine, after=b.id)
    assert await follower.wait_messages(2) == [c, d]
    (e,) = await publish_all(engine, [b'{"n":"live"}'])
    assert await follower.wait_messages(3) == [c, d, e]
    assert not [i for i in follower.items if isinstance(i, Gap)]
    await follower.stop()


async def test_a_subscriber_from_now_on_gets_only_new_events(engine: Engine) -> None:
    await publish_all(engine, bodies("old", 3))
    follower = Follower(engine, after=None)
    await until_live(engine, follower)
    new = await publish_all(engine, bodies("new", 3))
    assert await nothing_more(engine, follower) == new
    await follower.stop()


async def test_read_after_returns_exactly_the_range_asked_for(engine: Engine) -> None:
    assert await engine.read_after(WALL, "0-0") == []  # a wall nobody published to yet
    sent = await publish_all(engine, bodies("r", 10))
    assert await engine.read_after(WALL, sent[2].id) == sent[3:]
    assert await engine.read_after(WALL, sent[2].id, upto=sent[6].id) == sent[3:7]
    assert await engine.read_after(WALL, sent[2].id, upto=sent[2].id) == []
    assert await engine.read_after(WALL, sent[-1].id) == []
    assert await engine.read_after(WALL, "0-0") == sent
    assert await engine.read_after("another-wall", sent[2].id) == []


async def test_history_trimmed_past_an_id_says_too_old_and_a_subscriber_from_there_gets_a_gap(
        make_engine: MakeEngine) -> None:
    # MAXLEN ~ trims Redis streams a whole node (100 entries) at a time: publish well past that.
    engine = make_engine(stream_maxlen=10)
    sent = await publish_all(engine, bodies("t", 300))
    assert await engine.read_after(WALL, sent[0].id) is None
    assert await engine.read_after(WALL, sent[-3].id) == sent[-2:]  # recent history is still there
    assert await engine.latest(WALL, 3) == sent[-3:]

    follower = Follower(engine, after=sent[0].id)
    await follower.wait(lambda f: len(f.items) >= 1)
    assert follower.items == [Gap(await engine.epoch(WALL))]
    (live,) = await publish_all(engine, [b'{"n":"after the gap"}'])
    assert await follower.wait_messages(1) == [live]  # carries on from the newest event
    await follower.stop()


async def test_latest_gives_the_newest_events_oldest_first(engine: Engine) -> None:
    assert await engine.latest(WALL, 5) == []
    sent = await publish_all(engine, bodies("l", 5))
    assert await engine.latest(WALL, 3) == sent[2:]
    assert await engine.latest(WALL, 10) == sent
    assert await engine.latest(WALL, 0) == []


async def test_the_epoch_names_one_history_and_stays_put(make_engine: MakeEngine) -> None:
    engine = make_engine()
    epoch = await engine.epoch(WALL)
    assert epoch and isinstance(epoch, str)
    await publish_all(engine, bodies("e", 3))
    assert await engine.epoch(WALL) == epoch
    if isinstance(engine, RedisEngine):  # another node or worker on the same Redis sees the same history
        other = make_engine()
        assert await other.epoch(WALL) == epoch
        assert await other.latest(WALL, 3) == await engine.latest(WALL, 3)


async def test_admit_writes_new_and_changed_content_and_nothing_for_the_same_again(engine: Engine) -> None:
    outcome, first = await engine.admit(WALL, "post-1", "digest-a", b'{"v":1}')
    assert outcome == "new" and first
    assert await engine.admit(WALL, "post-1", "digest-a", b'{"v":1}') == ("duplicate", None)
    outcome, second = await engine.admit(WALL, "post-1", "digest-b", b'{"v":2}')
    assert outcome == "updated" and second and id_key(second) > id_key(first)
    assert (await engine.admit("another-wall", "post-1", "digest-a", b"{}"))[0] == "new"
    entries = await engine.read_inbox(WALL, "0-0", 10, timeout=0.1)
    assert [(m.id, m.body) for m in entries] == [(first, b'{"v":1}'), (second, b'{"v":2}')]
    assert await engine.inbox_backlog(WALL) == 2


async def test_a_reader_of_the_inbox_waits_for_the_next_entry(engine: Engine) -> None:
    reader = asyncio.create_task(engine.read_inbox(WALL, "0-0", 10, timeout=60))
    if isinstance(engine, RedisEngine):  # the reader waits once Redis counts it blocked in its XREAD
        async with aioredis.Redis.from_url(engine.url) as r:
            async def blocked() -> bool:
                return int((await r.info("clients"))["blocked_clients"]) >= 1
            await eventually(blocked)
    else:
        await asyncio.sleep(0)  # the memory engine's reader waits from its first step on
    assert not reader.done()
    entry = await engine.enqueue(WALL, b'{"delete":1}')
    assert [m.id for m in await reader] == [entry]
    assert await engine.read_inbox(WALL, entry, 10, timeout=0.1) == []


async def test_a_commit_moves_everything_together_and_a_stale_token_is_refused(
    make_engine: MakeEngine,
) -> None:
    a = make_engine()
    b = make_engine() if isinstance(a, RedisEngine) else a  # b: another process, where there can be one
    token = await a.lease(writer_lease(WALL), "writer-a", ttl=5)
    assert token
    entry = await a.enqueue(WALL, b"{}")
    follower = Follower(b, after="0-0")
    ids = await a.commit(WALL, "writer-a", token, Commit(entry, (b'{"type":"post"}',), shown=("p1", "p2"),
                                              counts=(("p1", (("posts", 1), ("tag:x", 1))),
                                                      ("p2", (("posts", 1),))), minute=100))
    assert len(ids) == 1
    await follower.wait_messages(1)
    assert await b.position(WALL) == entry
    assert await b.shown(WALL, ["p1", "p2", "p3"]) == {"p1", "p2"}
    assert await b.counts(WALL, [99, 100]) == {100: {"posts": 2, "tag:x": 1}}
    assert await b.total(WALL) == 2
    assert await b.inbox_backlog(WALL) == 0
    await a.commit(WALL, "writer-a", token, Commit(entry, unshown=("p1",)))
    assert await b.shown(WALL, ["p1", "p2"]) == {"p2"}
    if isinstance(a, RedisEngine):  # another process takes the lease: the first writer's token is void
        await a.close()
        redis = aioredis.from_url(a.url)
        await redis.delete(Keys.lease(writer_lease(WALL)))  # as if it lapsed while the writer stalled
        await redis.aclose()
        newer = await b.lease(writer_lease(WALL), "writer-b", ttl=5)
        assert newer and newer > token
        with pytest.raises(Fenced):
            await b.commit(WALL, "writer-a", token, Commit(entry, (b'{"type":"late"}',)))
        assert [m.body for m in await b.latest(WALL, 5)] == [b'{"type":"post"}']


async def test_a_commit_keeps_recent_posts_the_latest_control_and_tells_the_queue_channel(
    make_engine: MakeEngine,
) -> None:
    a = make_engine()
    b = make_engine() if isinstance(a, RedisEngine) else a  # b: a console in another process
    token = await a.lease(writer_lease(WALL), "writer-a", ttl=5)
    assert token
    queue: list[bytes | None] = []

    async def follow() -> None:
        async for message in b.subscribe_queue(WALL):
            queue.append(message)

    task = asyncio.create_task(follow())
    try:
        entry = await a.enqueue(WALL, b"{}")
        # Subscribed once a probe sent after it began comes through; then forget the probes.
        sent = 0
        async with asyncio.timeout(30):
            while not queue:
                sent += 1
                await a.commit(WALL, "writer-a", token, Commit(entry, queue=(f"probe {sent}".encode(),)))
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.1):
                        while not queue:
                            await asyncio.sleep(0.01)
            while queue[-1] != f"probe {sent}".encode():
                await asyncio.sleep(0.01)
        queue.clear()
        await a.commit(WALL, "writer-a", token, Commit(entry, recent=(("p1", b"one"), ("p2", b"two")),
                                                       queue=(b"q1",), authors=("webhook:aino",)))
        await a.commit(WALL, "writer-a", token,
                       Commit(entry, (b'{"type":"post"}', b'{"type":"control","n":1}'),
                              recent=(("p1", b"one, decided"),), queue=(b"q2",), control=True))
        assert await b.recent(WALL, 10) == [b"two", b"one, decided"]  # newest first, by first arrival
        assert await b.recent_of(WALL, ["p1", "p3"]) == {"p1": b"one, decided"}
        latest = await b.latest(WALL, 1)
        framed = b'{"id":"' + latest[0].id.encode() + b'","type":"control","n":1}'
        assert await b.latest_control(WALL) == framed
        assert await b.known_authors(WALL, ["webhook:aino", "webhook:troll"]) == {"webhook:aino"}
        async with asyncio.timeout(5):
            while len(queue) < 2:
                await asyncio.sleep(0.01)
        assert queue == [b"q1", b"q2"]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_recent_posts_are_capped_oldest_out(make_engine: MakeEngine,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine()
    monkeypatch.setattr("wall.bus.memory.RECENT_KEPT", 3)
    monkeypatch.setattr("wall.bus.redis.inbox.RECENT_KEPT", 3)
    token = await engine.lease(writer_lease(WALL), "writer-a", ttl=5)
    assert token
    entry = await engine.enqueue(WALL, b"{}")
    for i in range(5):
        await engine.commit(WALL, "writer-a", token, Commit(entry, recent=((f"p{i}", f"post {i}".encode()),)))
    assert await engine.recent(WALL, 10) == [b"post 4", b"post 3", b"post 2"]
    assert await engine.recent_of(WALL, ["p0", "p4"]) == {"p4": b"post 4"}


async def test_retention_forgets_events_recent_posts_and_authors_from_before_a_time_and_keeps_the_rest(
    engine: Engine,
) -> None:
    token = await engine.lease(writer_lease(WALL), "writer-a", ttl=5)
    assert token
    entry = await engine.enqueue(WALL, b"{}")

    async def commit(name: str) -> list[str]:
        post = Post(id=name, source="webhook", source_id=name, text=f"{name} text",
                    created_at=datetime.now(UTC), author=Author(name.title(), name))
        recent = encode(RecentPost(post, arrived=time.time()))
        return await engine.commit(WALL, "writer-a", token, Commit(
            entry, tuple(bodies(name, 3)), recent=((name, recent),), authors=(f"webhook:{name}",)))

    old = await commit("old")
    cutoff = (id_key(old[-1])[0] + 1) / 1000  # just after the last old event
    while time.time() <= cutoff:  # the clock must pass it before the new ones
        await asyncio.sleep(0.001)
    new = await commit("new")

    forgotten = await engine.forget_before(WALL, cutoff)  # and the committed entry, if still kept
    assert forgotten._replace(inbox=0) == Forgotten(events=3, recent=1, authors=1)
    assert [m.id for m in await engine.latest(WALL, 10)] == new
    assert [decode_recent(b).post.id for b in await engine.recent(WALL, 10)] == ["new"]
    assert (await engine.recent_of(WALL, ["old", "new"])).keys() == {"new"}
    assert await engine.known_authors(WALL, ["webhook:old", "webhook:new"]) == {"webhook:new"}
    # A screen that last saw an old event cannot be caught up: it is told to take a snapshot.
    assert await engine.read_after(WALL, old[0]) is None
    follower = Follower(engine, old[0])
    await follower.wait(lambda f: bool(f.items))
    assert isinstance(follower.items[0], Gap)
    await follower.stop()
    assert [m.id for m in await engine.read_after(WALL, new[0]) or []] == new[1:]
    assert await engine.forget_before(WALL, cutoff) == Forgotten()  # twice is harmless


async def test_a_retracted_post_takes_back_exactly_what_it_added_to_its_own_minute_once(
    make_engine: MakeEngine,
) -> None:
    a = make_engine()
    b = make_engine() if isinstance(a, RedisEngine) else a  # b: the writer after a lease move
    token = await a.lease(writer_lease(WALL), "writer-a", ttl=5)
    assert token
    entry = await a.enqueue(WALL, b"{}")
    first = (("posts", 1), ("sent:negative", 1), ("tag:fail", 1), ("voice:Kestrel", 1))
    await a.commit(WALL, "writer-a", token,
                   Commit(entry, shown=("p1", "p2"), minute=100,
                          counts=(("p1", first), ("p2", (("posts", 1), ("tag:fail", 1))))))
    await a.commit(WALL, "writer-a", token,
                   Commit(entry, shown=("p3",), counts=(("p3", (("posts", 1),)),), minute=101))
    assert await b.counts(WALL, [100, 101]) == {
        100: {"posts": 2, "sent:negative": 1, "tag:fail": 2, "voice:Kestrel": 1}, 101: {"posts": 1}}
    assert await b.total(WALL) == 3
    # p1 is deleted at its source three minutes later: its own minute loses what p1 added, nothing else.
    await b.commit(WALL, "writer-a", token, Commit(entry, unshown=("p1",), uncounted=("p1",), minute=103))
    assert await b.counts(WALL, [100, 101, 103]) == {100: {"posts": 1, "tag:fail": 1}, 101: {"posts": 1}}
    assert await b.total(WALL) == 2
    # Taken back once only; a post that was never counted changes nothing.
    await b.commit(WALL, "writer-a", token, Commit(entry, uncounted=("p1", "never-shown")))
    assert await b.total(WALL) == 2
    await b.commit(WALL, "writer-a", token, Commit(entry, uncounted=("p3",)))
    assert await b.counts(WALL, [100, 101]) == {100: {"posts": 1, "tag:fail": 1}}
    assert await b.total(WALL) == 1


def by(handle: str, n: int, text: str) -> Post:
    return Post(post_id("webhook", f"{handle}-{n}"), "webhook", str(n), text, datetime.now(UTC),
                Author(handle.title(), handle.title(), f"https://img.example/{handle}.png"),
                media=(Media(f"https://img.example/{handle}-{n}.jpg"),))


async def test_an_author_is_erased_from_every_part_of_the_bus_twice_at_once_and_nobody_else(
    make_engine: MakeEngine,
) -> None:
    a = make_engine()
    b = make_engine() if isinstance(a, RedisEngine) else a  # b: an erasure from another node
    token = await a.lease(writer_lease(WALL), "writer-a", ttl=5)
    assert token
    aino, bea = [by("aino", n, "sauna at dawn") for n in (1, 2, 3)], by("bea", 1, "coffee first")
    entry = await a.enqueue(WALL, b"{}")
    minute = int(time.time() // 60)
    await a.commit(WALL, "writer-a", token, Commit(
        entry, (encode(PostEvent(aino[0])), encode(PostEvent(bea)), encode(UpdateEvent(aino[0])),
                encode(ControlEvent(spotlight=aino[1], spotlight_until=1e10))),
        shown=(aino[0].id, bea.id), minute=minute,
        counts=((aino[0].id, (("posts", 1), ("author:Aino", 1))),
                (bea.id, (("posts", 1), ("author:Bea", 1)))),
        recent=tuple((p.id, encode(RecentPost(p, 1.0))) for p in (aino[0], aino[1], bea)),
        authors=("webhook:aino", "webhook:bea"), control=True))
    await a.announce(WALL, b'{"type":"stats","authors":[["Aino",1],["Bea",1]]}')
    waiting = await a.enqueue(WALL, encode(InboxPost(aino[2])))  # not committed yet
    kept = await a.enqueue(WALL, encode(InboxPost(bea)))

    first, second = await asyncio.gather(a.erase_author(WALL, "webhook:aino"),
                                         b.erase_author(WALL, "webhook:aino"))
    found = {p.id for p in first.posts} | {p.id for p in second.posts}
    assert found == {p.id for p in aino}
    # Nothing of Aino's is left: history, recent posts, inbox, known authors, counters, control, stats.
    history = b"".join(m.body for m in await b.latest(WALL, 100))
    assert b"sauna" not in history and b"aino" not in history.lower() and b"coffee first" in history
    assert [decode_recent(r).post.id for r in await b.recent(WALL, 10)] == [bea.id]
    assert [m.id for m in await b.read_inbox(WALL, entry, 10, 0.1)] == [kept]
    assert waiting != kept
    assert await b.known_authors(WALL, ["webhook:aino", "webhook:bea"]) == {"webhook:bea"}
    assert await b.counts(WALL, [minute]) == {minute: {"posts": 2, "author:Bea": 1}}
    assert b"aino" not in (await b.latest_control(WALL) or b"").lower()
    assert b"Aino" not in (await b.announced(WALL) or b"")
    # The writer's retraction and the figures' total are its own (InboxErase): the shown set is untouched.
    assert await b.shown(WALL, [aino[0].id, bea.id]) == {aino[0].id, bea.id}
    # Again: nothing found, nothing removed.
    assert await a.erase_author(WALL, "webhook:aino") == ErasedAuthor((), 0)


async def test_one_lease_holder_at_a_time_until_it_lapses(make_engine: MakeEngine) -> None:
    a = make_engine()
    b = make_engine() if isinstance(a, RedisEngine) else a  # b: another worker, where there can be one
    first = await a.lease("curate:lobby", "node-a", ttl=60)
    assert first
    assert await b.lease("curate:lobby", "node-b", ttl=60) is None
    assert await a.lease("curate:lobby", "node-a", ttl=60) == first  # renewed: same token
    assert await b.holder("curate:lobby") == "node-a"
    assert await a.lease("curate:lobby", "node-a", ttl=0.3) == first  # its last renewal
    second = await eventually(lambda: b.lease("curate:lobby", "node-b", ttl=60))  # once it lapsed
    assert second > first  # a new holder, a greater fencing token
    assert await a.lease("curate:lobby", "node-a", ttl=60) is None
    assert await b.holder("curate:lobby") == "node-b"


async def test_a_commit_needs_the_lease_holder_with_its_current_token(make_engine: MakeEngine) -> None:
    a = make_engine()
    b = make_engine() if isinstance(a, RedisEngine) else a  # b: the standby, in another process or not
    lease = writer_lease(WALL)
    entry = await a.enqueue(WALL, b"{}")
    first = await a.lease(lease, "writer-a", ttl=0.5)
    assert first
    with pytest.raises(Fenced):  # the right token from the wrong writer
        await b.commit(WALL, "writer-b", first, Commit(entry, (b'{"n":"from the standby"}',)))
    await a.commit(WALL, "writer-a", first, Commit(entry, (b'{"n":"from the holder"}',)))

    second = await eventually(lambda: b.lease(lease, "writer-b", ttl=60))  # a's lease lapsed
    assert second > first
    with pytest.raises(Fenced):  # the writer that stalled past its lease
        await a.commit(WALL, "writer-a", first, Commit(entry, (b'{"n":"stalled"}',)))
    with pytest.raises(Fenced):  # the holder with a token from an earlier hold
        await b.commit(WALL, "writer-b", first, Commit(entry, (b'{"n":"old token"}',)))
    await b.commit(WALL, "writer-b", second, Commit(entry, (b'{"n":"from the new holder"}',)))
    assert [m.body for m in await b.latest(WALL, 10)] == [b'{"n":"from the holder"}',
                                                         b'{"n":"from the new holder"}']


async def test_a_lease_token_is_never_handed_out_again_even_after_the_bus_lost_its_data(
    make_engine: MakeEngine,
) -> None:
    """Redis flushed (or failed over to a replica that missed the last INCR), the memory engine restarted:
    the counter behind the tokens is gone, yet a writer that held a token then must not find it valid
    again, and the new holder's token is not one handed out before."""
    a = make_engine()
    lease = writer_lease(WALL)
    first = await a.lease(lease, "writer-a", ttl=60)
    assert first
    if isinstance(a, RedisEngine):
        async with aioredis.from_url(a.url) as redis:
            await redis.flushall()
    b = make_engine()  # Redis: another writer's process; memory: the process restarted, nothing kept
    second = await b.lease(lease, "writer-b", ttl=60)
    assert second and second > first
    entry = await b.enqueue(WALL, b"{}")
    with pytest.raises(Fenced):
        await b.commit(WALL, "writer-a", first, Commit(entry, (b'{"n":"the old holder"}',)))
    await b.commit(WALL, "writer-b", second, Commit(entry, (b'{"n":"the new holder"}',)))
    assert [m.body for m in await b.latest(WALL, 10)] == [b'{"n":"the new holder"}']


async def test_an_announcement_reaches_subscribers_and_stays_out_of_history(engine: Engine) -> None:
    follower = Follower(engine, after="0-0")
    (first,) = await publish_all(engine, [b'{"n":1}'])
    await follower.wait_messages(1)
    await engine.announce(WALL, b'{"type":"stats","total":1}')
    async with asyncio.timeout(5):
        while not any(isinstance(i, Announcement) for i in follower.items):
            await asyncio.sleep(0.01)
    assert await engine.announced(WALL) == b'{"type":"stats","total":1}'
    assert await engine.latest(WALL, 10) == [first]


async def test_each_kind_of_announcement_keeps_its_own_latest(engine: Engine) -> None:
    follower = Follower(engine, after="0-0")
    await publish_all(engine, [b'{"n":1}'])
    await follower.wait_messages(1)  # subscribed: announcements from now on reach it
    await engine.announce(WALL, b'{"type":"screen_config","n":1}', kind="config")
    await engine.announce(WALL, b'{"type":"stats","total":2}')
    async with asyncio.timeout(5):
        while sum(isinstance(i, Announcement) for i in follower.items) < 2:
            await asyncio.sleep(0.01)
    # Stats every few seconds never push the wall's look out, and the look is no stats event.
    assert await engine.announced(WALL) == b'{"type":"stats","total":2}'
    assert await engine.announced(WALL, kind="config") == b'{"type":"screen_config","n":1}'
    assert await engine.announced("elsewhere", kind="config") is None


async def test_a_connector_cursor_is_kept(engine: Engine) -> None:
    assert await engine.get_cursor("mastodon:lobby") is None
    await engine.set_cursor("mastodon:lobby", "109-abc")
    await engine.set_cursor("rss:lobby", "etag-1")
    assert await engine.get_cursor("mastodon:lobby") == "109-abc"
    await engine.set_cursor("mastodon:lobby", "110-def")
    assert await engine.get_cursor("mastodon:lobby") == "110-def"


async def test_a_subscriber_says_it_is_live_once_it_has_caught_up(engine: Engine) -> None:
    history = await publish_all(engine, bodies("h", 3))
    follower = Follower(engine, after="0-0")
    await follower.wait(lambda f: f.links == [True])
    assert follower.messages == history  # live comes after the history it had to catch up on
    await follower.stop()


async def test_a_subscriber_ends_cleanly_when_its_consumer_stops(engine: Engine) -> None:
    await publish_all(engine, bodies("c", 2))
    stream = engine.subscribe(WALL, "0-0")
    async with asyncio.timeout(5):
        first = await anext(stream)
        assert isinstance(first, Message)
        await stream.aclose()
    follower = Follower(engine, after="0-0")
    await follower.wait_messages(2)
    await follower.stop()
    if isinstance(engine, RedisEngine):  # both pub/sub connections were given back
        async with aioredis.Redis.from_url(engine.url) as r:
            assert await r.pubsub_numsub(Keys.live(WALL)) == [(Keys.live(WALL).encode(), 0)]
    assert engine.status().connected


async def test_a_subscriber_stops_at_once_when_cancelled_whatever_it_is_doing(
        make_engine: MakeEngine) -> None:
    """A hub that stops must not hang: cancel subscribers at random moments of their life."""
    random = Random(7)
    for _ in range(100):
        engine = make_engine()
        if isinstance(engine, RedisEngine):
            engine.link.heartbeat = 0.005  # so cancels also land on its PINGs and read timeouts
        follower = Follower(engine, after=None)
        for _ in range(random.randint(0, 3)):
            await engine.publish(WALL, b'{"n":"x"}')
        await asyncio.sleep(random.uniform(0, 0.02))
        async with asyncio.timeout(2):
            await follower.stop()
        await engine.close()


# -- what only Redis does -----------------------------------------------------------------------------


@pytest.fixture
async def own_redis(tmp_path: Path) -> AsyncIterator[RedisServer]:
    """A Redis of this test's own, to stop, restart and wipe."""
    server = RedisServer(free_port(), tmp_path / "redis")
    server.start()
    yield server
    server.stop()


async def wait_status(engine: RedisEngine, connected: bool, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while engine.status().connected != connected:
            await asyncio.sleep(0.01)


async def test_a_subscriber_gets_everything_once_across_a_redis_restart(own_redis: RedisServer) -> None:
    node, worker = RedisEngine(own_redis.url), RedisEngine(own_redis.url)
    try:
        follower = Follower(node, after=await node.publish(WALL, b'{"n":"start"}'))
        before = await publish_all(worker, bodies("before", 20))
        await follower.wait_messages(20)

        own_redis.stop()
        await wait_status(node, connected=False)
        assert node.status().error

        own_redis.start()
        # Published at once, most likely while the node is still waiting to reconnect: read from the stream.
        after = await publish_all(worker, bodies("after", 20))
        await wait_status(node, connected=True)
        more = await publish_all(worker, bodies("later", 20))  # and these live, on the new subscription
        assert await follower.wait_messages(60, timeout=60) == before + after + more
        await follower.wait(lambda f: f.links[-1:] == [True])  # said when it was lost and when live again
        assert follower.links == [True, False, True]
        assert await nothing_more(worker, follower) == before + after + more  # no Gap, no repeat
        assert node.status() == (node.engine, True, None)
        await follower.stop()
    finally:
        await node.close()
        await worker.close()


async def test_a_redis_that_stops_answering_is_noticed_and_nothing_is_lost(redis_server: RedisServer,
                                                                            redis_url: str) -> None:
    """A hung Redis, or a cable pulled, closes no socket: the subscriber's PINGs find it out."""
    node, worker = RedisEngine(redis_url), RedisEngine(redis_url)
    node.link.heartbeat = 0.2
    try:
        follower = Follower(node, after=await node.publish(WALL, b'{"n":"start"}'))
        before = await publish_all(worker, bodies("before", 3))
        await follower.wait_messages(3)

        assert redis_server.command(b"CLIENT", b"PAUSE", b"1500", b"ALL") == b"+OK\r\n"
        during = asyncio.create_task(publish_all(worker, bodies("during", 3)))  # waits for Redis
        await wait_status(node, connected=False, timeout=5)
        assert "PING" in (node.status().error or "")

        await wait_status(node, connected=True, timeout=10)
        assert await follower.wait_messages(6) == before + await during
        after = await publish_all(worker, bodies("after", 3))
        assert await follower.wait_messages(9) == before + await during + after
        assert len(await nothing_more(worker, follower)) == 9
        await follower.stop()
    finally:
        await node.close()
        await worker.close()


async def test_when_redis_loses_its_data_the_subscriber_says_so_with_a_new_epoch(
        redis_server: RedisServer, redis_url: str) -> None:
    engine = RedisEngine(redis_url)
    try:
        old_epoch = await engine.epoch(WALL)
        follower = Follower(engine, after=await engine.publish(WALL, b'{"n":"start"}'))
        await publish_all(engine, bodies("before", 3))
        await follower.wait_messages(3)

        assert redis_server.command(b"FLUSHALL") == b"+OK\r\n"
        (first,) = await publish_all(engine, [b'{"n":"first of the new history"}'])
        await follower.wait(lambda f: any(isinstance(i, Gap) for i in f.items))
        gap = follower.items[3]
        assert isinstance(gap, Gap) and gap.epoch != old_epoch
        assert gap.epoch == await engine.epoch(WALL)
        assert await engine.latest(WALL, 10) == [first]  # what the consumer rebuilds from

        (next_one,) = await publish_all(engine, [b'{"n":"next"}'])
        await follower.wait_messages(4)
        assert follower.items[4:] == [next_one]
        await follower.stop()
    finally:
        await engine.close()


async def test_when_redis_comes_back_empty_the_subscriber_says_so_with_a_new_epoch(
        own_redis: RedisServer) -> None:
    engine = RedisEngine(own_redis.url)
    try:
        old_epoch = await engine.epoch(WALL)
        follower = Follower(engine, after=None)
        await until_live(engine, follower)
        await publish_all(engine, bodies("before", 3))
        await follower.wait_messages(3)

        own_redis.stop()
        shutil.rmtree(own_redis.dir / "appendonlydir")  # the disk was lost too
        own_redis.start()

        await follower.wait(lambda f: any(isinstance(i, Gap) for i in f.items), timeout=15)
        gap = follower.items[3]
        assert isinstance(gap, Gap) and gap.epoch != old_epoch
        assert gap.epoch == await engine.epoch(WALL)
        (after,) = await publish_all(engine, [b'{"n":"after"}'])
        await follower.wait_messages(4)
        assert follower.items[4:] == [after]
        await follower.stop()
    finally:
        await engine.close()


async def test_publishing_while_redis_is_down_fails_loudly_and_status_says_why(
        own_redis: RedisServer) -> None:
    engine = RedisEngine(own_redis.url)
    try:
        await engine.publish(WALL, b'{"n":"up"}')
        assert engine.status() == ("redis", True, None)

        own_redis.stop()
        with pytest.raises(RedisConnectionError, match=f"Redis at {own_redis.url} is unreachable"):
            await engine.publish(WALL, b'{"n":"down"}')
        assert not engine.status().connected
        assert engine.status().error
        with pytest.raises(RedisConnectionError):
            await engine.read_after(WALL, "0-0")

        own_redis.start()
        await engine.publish(WALL, b'{"n":"up again"}')
        assert engine.status() == ("redis", True, None)
        assert [m.body for m in await engine.latest(WALL, 10)] == [b'{"n":"up"}', b'{"n":"up again"}']
    finally:
        await engine.close()


async def test_closing_the_engine_ends_its_subscriptions(redis_url: str) -> None:
    engine = RedisEngine(redis_url)
    follower = Follower(engine, after="0-0")
    (first,) = await publish_all(engine, [b'{"n":"one"}'])
    await follower.wait_messages(1)
    await engine.close()
    await follower.ended()  # without an error
    assert follower.items == [first]
    assert not engine.status().connected


def test_logs_never_show_the_redis_password() -> None:
    def redact(url: str) -> str:
        return RedisEngine(url).link.safe_url

    assert redact("redis://:s3cret@db.internal:6379/0") == "redis://db.internal:6379/0"
    assert redact("rediss://wall:s3cret@db.internal/1") == "rediss://db.internal/1"
    assert redact("unix:///run/redis.sock?db=0&password=s3cret") == "unix:///run/redis.sock?db=…&password=…"
    assert redact("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
