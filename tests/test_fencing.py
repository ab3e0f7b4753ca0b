"""Two curation writers for one wall, and a Redis that loses data under them: flushed on a quiet wall, or
failed over to a replica that missed the last takeover. The lease's fence must still let one writer
through: every post that got a 2xx shows once on the screen, in order, and the display stream holds it once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.helpers import Screen, eventually, make_config, post, running_node
from tests.redis_server import RedisServer, free_port
from tests.tcp_proxy import Proxy
from wall.app import SERVE
from wall.bus.base import writer_lease
from wall.bus.redis import Keys, RedisEngine
from wall.curate.writer import CurationWriter

pytestmark = pytest.mark.timeout(180)
WALL = "lobby"


class Writer:
    """A curation writer as `wall curate` runs it (its own engine, its own name), in this process."""

    def __init__(self, url: str, owner: str) -> None:
        self.owner = owner
        self.engine = RedisEngine(url)
        self.writer = CurationWriter(WALL, self.engine, owner, stats_interval=0.5)
        self.task = asyncio.create_task(self.writer.run())

    @property
    def leading(self) -> bool:
        return self.writer.status.leading

    async def stop(self) -> None:
        """Gone without a word, as a killed process: its lease is left to lapse."""
        if self.task.done():
            return
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await self.engine.close()


def stored(server: RedisServer, key: str) -> bytes | None:
    """A string key's value, read from that one server."""
    reply = server.command(b"GET", key.encode()) or b""
    assert reply.startswith(b"$"), reply
    return None if reply.startswith(b"$-1") else reply.split(b"\r\n")[1]


def fence(server: RedisServer) -> int:
    """The wall's writer lease token on that server."""
    value = stored(server, Keys.fence(writer_lease(WALL)))
    assert value is not None
    return int(value)


async def send(s: aiohttp.ClientSession, base: str, prefix: str, count: int) -> list[str]:
    """Posts as a webhook sender makes them, a few a second; each must be accepted (2xx: recorded)."""
    accepted = []
    for i in range(count):
        pid = f"{prefix}-{i}"
        status, reply = await post(s, base, {"id": pid, "text": f"post {pid}"})
        assert status == 202, reply
        assert reply["accepted"][0]["id"] == pid, reply
        accepted.append(pid)
        await asyncio.sleep(0.05)  # spread over a few seconds, across lease checks and renewals
    return accepted


async def shown_once(s: aiohttp.ClientSession, base: str, screen: Screen, accepted: list[str],
                     engine: RedisEngine, since: int = 0, snapshot: dict[str, Any] | None = None) -> None:
    """A last post after them all: once the screen has it, nothing sent before is still on its way. Then
    the screen showed each accepted post once and in order (in the snapshot it got, or live since frame
    `since`), and the display stream holds each once."""
    await send(s, base, "last", 1)
    await screen.wait_for(lambda f: f["type"] == "post" and f["post"]["source_id"] == "last-0")
    order = {pid: n for n, pid in enumerate([*accepted, "last-0"])}
    first = sorted((p["source_id"] for p in (snapshot or {}).get("posts", []) if p["source_id"] in order),
                   key=order.__getitem__)
    live = [f["post"]["source_id"] for f in screen.frames[since:] if f["type"] == "post"]
    shown = first + [pid for pid in live if pid in order]
    assert shown == [*accepted, "last-0"], f"twice: {[p for p, n in Counter(shown).items() if n > 1]}"
    events = [json.loads(m.body) for m in await engine.latest(WALL, 1000)]
    published = Counter(e["post"]["source_id"] for e in events if e["type"] == "post")
    assert all(published[pid] == 1 for pid in accepted), {p: n for p, n in published.items() if n > 1}


async def reconnected(screen: Screen) -> tuple[dict[str, Any], int]:
    """What the page does when the node closes its socket: reconnect, saying where it was; return the
    snapshot it gets (history was lost: what it had is no longer trusted) and where its frames begin."""
    await asyncio.wait_for(screen.closed.wait(), timeout=30)
    had = len(screen.frames)
    await screen.connect(epoch=screen.welcome["epoch"], last_id=screen.last_id)
    await screen.wait_for(lambda f: f["type"] == "snapshot", count=1 + sum(
        f["type"] == "snapshot" for f in screen.frames[:had]))
    return next(f for f in screen.frames[had:] if f["type"] == "snapshot"), had


async def test_after_redis_is_flushed_on_a_quiet_wall_every_post_shows_once(redis_server: RedisServer,
                                                                           redis_url: str) -> None:
    """The issue's case: two `wall curate`, one node, one screen, FLUSHALL on a quiet wall, then posts.
    The fence counter restarts from nothing: the standby must not get a token the holder still uses, and
    the holder's commits must not pass because Redis forgot who held the lease."""
    first = Writer(redis_url, "writer-a")
    await eventually(lambda: first.leading)
    standby = Writer(redis_url, "writer-b")
    engine = RedisEngine(redis_url)
    try:
        async with running_node(make_config("redis", redis_url), roles=SERVE) as base, \
                aiohttp.ClientSession() as s:
            screen = await Screen(s, base).connect()
            await screen.wait_posts(len(await send(s, base, "before", 5)))
            token = fence(redis_server)

            assert redis_server.command(b"FLUSHALL") == b"+OK\r\n"
            # The wall stays quiet until a writer holds its lease again: the standby taking it then (or
            # the holder renewing it) finds no counter, and with the old fence both had token 1.
            await eventually(lambda: engine.holder(writer_lease(WALL)))
            # Then posts. The first event of the new history tells the node that history was lost: it
            # drops its screens, which come back for a snapshot and then get the rest live.
            sending = asyncio.create_task(send(s, base, "after", 60))
            snapshot, since = await reconnected(screen)
            await shown_once(s, base, screen, await sending, engine, since, snapshot)

            holder = await engine.holder(writer_lease(WALL))
            assert holder in ("writer-a", "writer-b")
            assert fence(redis_server) > token  # a token of its own, not the one the old holder had
    finally:
        await asyncio.gather(first.stop(), standby.stop())
        await engine.close()


async def test_after_a_failover_to_a_replica_that_missed_the_last_takeover_every_post_shows_once(
    tmp_path: Path,
) -> None:
    """A primary and its replica; the replica stops hearing from the primary, where the lease then moves
    (the holder died, the standby took it). The primary fails, the stale replica is promoted and everyone
    is pointed at it: its fence is the one from before the move, yet no token is handed out twice."""
    primary = RedisServer(free_port(), tmp_path / "primary")
    primary.start()
    replication = await Proxy(primary.port).start()  # the replica's link to the primary, to cut
    replica = RedisServer(free_port(), tmp_path / "replica", replica_of=replication.port)
    replica.start()
    front = await Proxy(primary.port).start()  # where every process finds "the" Redis, as a failover moves
    url = f"redis://127.0.0.1:{front.port}/0"
    writers: list[Writer] = []
    engine = RedisEngine(url)
    try:
        await eventually(lambda: b"master_link_status:up" in (replica.command(b"INFO") or b""))
        writers.append(Writer(url, "writer-x"))
        await eventually(lambda: writers[0].leading)
        writers.append(Writer(url, "writer-y"))
        async with running_node(make_config("redis", url), roles=SERVE) as base, \
                aiohttp.ClientSession() as s:
            screen = await Screen(s, base).connect()
            await screen.wait_posts(len(await send(s, base, "before", 5)))
            assert primary.command(b"WAIT", b"1", b"10000") == b":1\r\n"  # the replica has all of it

            replication.cut = True
            replication.cut_links()
            await writers[0].stop()  # the holder dies; the standby takes the wall on the primary alone
            await eventually(lambda: writers[1].leading)
            moved = fence(primary)
            assert stored(replica, Keys.fence(writer_lease(WALL))) != str(moved).encode()  # it missed it

            primary.stop()
            assert replica.command(b"REPLICAOF", b"NO", b"ONE") == b"+OK\r\n"
            front.target_port = replica.port
            front.cut_links()
            writers.append(Writer(url, "writer-z"))  # the dead holder's process, restarted: a standby

            async def taken_on_replica() -> bool:
                holder = await engine.holder(writer_lease(WALL))
                return any(w.owner == holder and w.leading for w in writers)

            await eventually(taken_on_replica)
            assert fence(replica) > moved  # not the token the standby was given on the lost primary
            accepted = await send(s, base, "after", 60)
            await shown_once(s, base, screen, accepted, engine)
    finally:
        await asyncio.gather(*(w.stop() for w in writers))
        await engine.close()
        await front.stop()
        await replication.stop()
        replica.stop()
        primary.stop()
