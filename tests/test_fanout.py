"""Posts go webhook → Redis → every web node → every screen, exactly once and in order, across
screen reconnects and a Redis restart."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import pytest

from ingest.pipeline import Pipeline, PostIn, normalize
from tests.helpers import HEALTH_AUTH, WAIT, Screen, eventually, make_config, post, running_node
from tests.redis_server import RedisServer, free_port
from wall.bus.redis import RedisEngine
from wall.models import id_key
from wall.web import hub


async def post_many(s: aiohttp.ClientSession, bases: list[str], ids: list[str]) -> list[str]:
    """Post each id through the nodes in turn, several senders at once; return the inbox ids."""

    async def one(i: int, pid: str) -> str:
        status, reply = await post(s, bases[i % len(bases)], {"id": pid, "text": f"post {pid} #nordlys"})
        assert status == 202, reply
        return reply["accepted"][0]["inbox_id"]

    return list(await asyncio.gather(*(one(i, pid) for i, pid in enumerate(ids))))


async def post_in_turn(s: aiohttp.ClientSession, base: str, *ids: str) -> None:
    """Post one after the other, so the wall's order is the order given."""
    for pid in ids:
        status, reply = await post(s, base, {"id": pid, "text": f"post {pid}"})
        assert status == 202, reply


async def wait_health(s: aiohttp.ClientSession, base: str, connected: bool) -> dict:
    """Poll /healthz until it reports the bus (dis)connected."""
    async with asyncio.timeout(WAIT):
        while True:
            async with s.get(f"{base}/healthz", headers=HEALTH_AUTH) as r:
                health = await r.json()
            if health["bus"]["connected"] == connected:
                return health
            await asyncio.sleep(0.05)


async def wait_posts_api(s: aiohttp.ClientSession, base: str, count: int) -> list[dict]:
    """Poll the wall's posts API until the node shows `count` posts."""
    async with asyncio.timeout(WAIT):
        while True:
            async with s.get(f"{base}/api/v1/walls/lobby/posts") as r:
                posts = (await r.json())["posts"]
            if len(posts) >= count:
                return posts
            await asyncio.sleep(0.02)


async def test_every_screen_on_every_node_gets_every_post_once_in_bus_order(redis_url):
    cfg = make_config("redis", redis_url)
    async with running_node(cfg) as a, running_node(cfg) as b, aiohttp.ClientSession() as s:
        screens = [await Screen(s, base).connect() for base in (a, b) for _ in range(15)]
        await post_many(s, [a, b], [f"p{i}" for i in range(60)])
        for screen in screens:
            await screen.wait_posts(60)
        expected = [f["id"] for f in screens[0].frames if f["type"] == "post"]
        assert expected == sorted(expected, key=id_key) and len(set(expected)) == 60
        assert sorted(screens[0].posts()) == sorted(f"p{i}" for i in range(60))
        for screen in screens:
            got = [f["id"] for f in screen.frames if f["type"] == "post"]
            assert got == expected  # each once, in the order the bus gave
        # Nothing more trickles in: a last post reaches every screen right after the 60.
        assert (await post(s, a, {"id": "last", "text": "the last post"}))[0] == 202
        for screen in screens:
            assert (await screen.wait_posts(61))[60:] == ["last"]


async def test_a_screen_that_reconnects_gets_exactly_what_it_missed(redis_url):
    cfg = make_config("redis", redis_url)
    async with running_node(cfg) as base, aiohttp.ClientSession() as s:
        screen = await Screen(s, base).connect()
        await post_in_turn(s, base, "a", "b")
        await screen.wait_posts(2)
        epoch, last = screen.welcome["epoch"], screen.last_id
        await screen.close()

        await post_in_turn(s, base, "c", "d", "e")
        back = await Screen(s, base).connect(epoch=epoch, last_id=last)
        assert await back.wait_posts(3) == ["c", "d", "e"]
        assert not [f for f in back.frames if f["type"] == "snapshot"]


async def test_a_screen_from_another_history_gets_a_snapshot_newest_first(redis_url):
    cfg = make_config("redis", redis_url)
    async with running_node(cfg) as base, aiohttp.ClientSession() as s:
        await post_in_turn(s, base, "a", "b")
        await wait_posts_api(s, base, 2)  # the node has folded both in
        screen = await Screen(s, base).connect(epoch="some-old-epoch", last_id="1-0")
        snap = (await screen.wait_for(lambda f: f["type"] == "snapshot"))[0]
        assert [p["source_id"] for p in snap["posts"]] == ["b", "a"]
        assert screen.posts() == []


async def test_a_node_started_later_shows_the_history_from_the_stream(redis_url):
    cfg = make_config("redis", redis_url)
    async with aiohttp.ClientSession() as s:
        async with running_node(cfg) as first:
            await post_in_turn(s, first, "old-1", "old-2")
        async with running_node(cfg) as second:
            posts = await wait_posts_api(s, second, 2)
            assert [p["source_id"] for p in posts] == ["old-2", "old-1"]


async def test_screens_stay_connected_through_a_redis_restart_and_miss_nothing(tmp_path):
    redis = RedisServer(free_port(), tmp_path)
    redis.start()
    try:
        cfg = make_config("redis", redis.url)
        async with running_node(cfg) as base, aiohttp.ClientSession() as s:
            screen = await Screen(s, base).connect()
            await post_in_turn(s, base, "before-1", "before-2")
            await screen.wait_posts(2)

            redis.stop()
            health = await wait_health(s, base, connected=False)
            assert health["status"] == "degraded" and health["bus"]["error"]
            status, reply = await post(s, base, {"id": "during", "text": "while Redis is down"})
            assert status == 503 and "retry" in reply["error"] and reply["accepted"] == []

            redis.start()
            await post_in_turn(s, base, "after-1", "after-2", "during")
            assert await screen.wait_posts(5, timeout=60) == ["before-1", "before-2", "after-1", "after-2",
                                                               "during"]
            assert not screen.closed.is_set()  # the same socket all along
            assert (await wait_health(s, base, connected=True))["status"] == "ok"
    finally:
        redis.stop()


async def test_a_node_catches_up_from_the_stream_on_what_was_published_while_it_was_cut_off(tmp_path):
    """An ingest worker publishes while the node's subscription is down: the node reads it from the stream."""

    redis = RedisServer(free_port(), tmp_path)
    redis.start()
    worker = RedisEngine(redis.url)
    try:
        async with running_node(make_config("redis", redis.url)) as base, aiohttp.ClientSession() as s:
            screen = await Screen(s, base).connect()
            await post_in_turn(s, base, "first")
            await screen.wait_posts(1)
            redis.restart()
            # Published at once, quite possibly before the node has subscribed again.
            await Pipeline(worker).submit("lobby", normalize("worker", PostIn(id="gap", text="in the gap")))
            await post_in_turn(s, base, "last")
            assert await screen.wait_posts(3, timeout=60) == ["first", "gap", "last"]
    finally:
        await worker.close()
        redis.stop()


@pytest.mark.parametrize("engine", ["memory"])
async def test_a_slow_screen_is_dropped_without_holding_up_the_others(engine):
    cfg = make_config(engine, client_buffer=65_536, max_body_bytes=4_000_000)
    async with running_node(cfg) as base, aiohttp.ClientSession() as s:
        fast = await Screen(s, base).connect()
        stuck = stuck_screen(base)
        # The stuck screen never reads: its socket buffers fill, then its queue, then it is dropped.
        text = "x" * 15_000
        for batch in range(12):
            posts = [{"id": f"{batch}-{i}", "text": text} for i in range(50)]
            assert (await post(s, base, {"posts": posts}))[0] == 202
        assert len(await fast.wait_posts(600, timeout=30)) == 600
        async with s.get(f"{base}/metrics") as r:
            assert 'wall_clients_dropped_total{wall="lobby"} 1.0' in await r.text()
        stuck.close()
        assert not fast.closed.is_set()


def stuck_screen(base: str) -> socket.socket:
    """A screen that says hello and then never reads, with a small receive buffer (a hung kiosk)."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    sock.sendall(f"GET /w/lobby/ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                 "Sec-WebSocket-Version: 13\r\n\r\n".encode())
    hello = b'{"type":"hello"}'
    sock.sendall(bytes([0x81, 0x80 | len(hello)]) + b"\0\0\0\0" + hello)  # masked with a zero key
    return sock


async def test_stats_reach_every_screen_from_a_single_publisher(redis_url):
    cfg = make_config("redis", redis_url)  # stats every 0.5 s
    async with running_node(cfg) as a, running_node(cfg) as b, aiohttp.ClientSession() as s:
        screen = await Screen(s, b).connect()
        for i, tags in enumerate(["#nordlys #x3", "#Nordlys", "#nordlys #launch"]):
            assert (await post(s, a if i % 2 else b, {"id": f"s{i}", "text": f"post {tags}"}))[0] == 202
        found = await screen.wait_for(lambda f: f["type"] == "stats" and f["total"] == 3)
        assert found[0]["per_minute"] == 3
        assert found[0]["trending"][0] == ["nordlys", 3]
        # One node holds the lease: its figures come once, never doubled by the other node's writer, up
        # to the figures of one more post.
        assert (await post(s, a, {"id": "s3", "text": "one more #nordlys"}))[0] == 202
        await screen.wait_for(lambda f: f["type"] == "stats" and f["total"] == 4)
        stats = [(f["total"], f["per_minute"], f["trending"]) for f in screen.frames if f["type"] == "stats"]
        assert len(stats) == len({repr(x) for x in stats})
        # A screen that connects later gets the latest figures in its snapshot (from the node whose hub
        # just passed them on).
        late = await Screen(s, b).connect()
        snap = (await late.wait_for(lambda f: f["type"] == "snapshot"))[0]
        assert snap["stats"]["total"] == 4


async def test_a_post_is_not_held_up_behind_figures_on_their_way_to_many_screens(redis_url, monkeypatch):
    # Figures go out a slice of screens at a time; here 2 screens per slice and a slice every WAIT s, so
    # the pass started by the first figures is still under way when the next post comes.
    monkeypatch.setattr(hub, "PACE_SLICE", 2)
    monkeypatch.setattr(hub, "PACE_PAUSE", WAIT)
    cfg = make_config("redis", redis_url)
    async with running_node(cfg) as base, aiohttp.ClientSession() as s:
        screens = [await Screen(s, base).connect() for _ in range(6)]
        assert (await post(s, base, {"id": "first", "text": "the first post #nordlys"}))[0] == 202
        for screen in screens:
            await screen.wait_posts(1)
        await eventually(lambda: any(f["type"] == "stats" for sc in screens for f in sc.frames))
        assert (await post(s, base, {"id": "second", "text": "the second post"}))[0] == 202
        for screen in screens:
            assert await screen.wait_posts(2) == ["first", "second"]
        # The post reached every screen at once; the screens past the first slice still wait for their
        # figures (newer figures restart the pass, whose first slice may be two other screens).
        waiting = [sc for sc in screens if not any(f["type"] == "stats" for f in sc.frames)]
        assert len(waiting) >= 2


async def test_figures_reach_every_screen_slice_by_slice_and_the_newest_wins(redis_url, monkeypatch):
    monkeypatch.setattr(hub, "PACE_SLICE", 2)
    cfg = make_config("redis", redis_url)
    async with running_node(cfg) as base, aiohttp.ClientSession() as s:
        screens = [await Screen(s, base).connect() for _ in range(7)]
        for i in range(5):
            assert (await post(s, base, {"id": f"f{i}", "text": f"post {i} #nordlys"}))[0] == 202
        for screen in screens:
            await screen.wait_for(lambda f: f["type"] == "stats" and f["total"] == 5)
            totals = [f["total"] for f in screen.frames if f["type"] == "stats"]
            assert totals == sorted(set(totals))  # each figure once, never an older one after a newer
