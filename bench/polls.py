#!/usr/bin/env python3
"""Polls: how fast votes are counted, and how long from a vote posted to the bar moving on every screen.

`count` (one core, in this process): generated posts of mixed networks and languages ("YES!", "#oui",
"👍🏽", "zwei", long posts naming nothing) go through what the curation writer does per post for a poll
being counted: the compiled ballot's lookup and the author's vote set in the tally. It prints votes/s
(target >= 20,000).

`screens`: bench/console.py's harness (its own redis-server, two `wall serve` nodes, one `wall curate`
writer, N screens from other processes, half on each node). A 4-option poll is opened through the
moderation service; then votes are posted through the webhook, each from a new author, spaced by
`--interval`. Each screen keeps the receipt time of every `poll` frame with its total; vote n's latency
is the first frame on that screen whose total is n or more, minus the time vote n was posted (one
machine, one clock). It prints p50/p90/p99/max over every (vote, screen) pair (target p99 < 1 s).

    .venv/bin/python bench/polls.py --part count
    .venv/bin/python bench/polls.py --part screens --clients 1000 --votes 60 --interval 0.1

A benchmark, not a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import multiprocessing as mp
import os
import random
import secrets
import shlex
import signal
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
from aiohttp import WSMsgType


def _sibling(name: str) -> Any:
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    spec = importlib.util.spec_from_file_location(f"bench_{name}", here / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


_console = _sibling("console")
Server, free_port, machine_info = _console.Server, _console.free_port, _console.machine_info
percentile, raise_nofile, start_redis = _console.percentile, _console.raise_nofile, _console.start_redis
usable_cores, wait_ready, summary = _console.usable_cores, _console.wait_ready, _console.summary
WALL, TOKEN_ENV, HELLO = _console.WALL, _console.TOKEN_ENV, _console.HELLO

TEXTS = ("YES!", "yes yes", "#Oui", "👍🏽 from the back row", "1", "one", "Yes, definitely", "no", "NO!!",
         "#non", "👎", "2", "zwei", "Nön", "maybe?", "#Vielleicht", "🤷‍♀️", "3", "great talk, thank you all",
         "one of the best talks I have seen this year at any conference", "où est le café ? ☕", "4", "vier")


def count_part(n: int) -> None:
    from wall.curate.tally import Count
    from wall.store.polls import Option, Poll, Vote

    options = (Option("Yes", ("Yes", "oui", "👍")), Option("No", ("No", "non", "👎")),
               Option("Maybe", ("Maybe", "#vielleicht", "🤷")), Option("Later", ("later", "später", "⏰")))
    poll = Poll(1, WALL, "Ship it today?", options, "open", True, "bench", 0.0, 0.0, None)
    count = Count.of(poll, [])
    rng = random.Random(21)
    posts = [(f"bluesky:user{rng.randrange(5000)}", f"p{i}", rng.choice(TEXTS)) for i in range(n)]
    ballot, votes = count.ballot, count.votes
    started = time.process_time()
    cast = 0
    for author, pid, text in posts:  # what Tally.plan and Tally.write do per post, without the store
        option = ballot.vote(text)
        if option is not None:
            vote = Vote(author, pid, option)
            if votes.get(author) != vote:
                count.set(author, vote)
                cast += 1
    took = time.process_time() - started
    print(f"count: {n:,} posts matched and tallied in {took:.3f} s of CPU: {n / took:,.0f} posts/s "
          f"({cast:,} votes set; target >= 20,000/s: {'met' if n / took >= 20_000 else 'NOT met'})")


class PollIn(msgspec.Struct):
    total: int = 0


class FrameIn(msgspec.Struct):
    type: str
    poll: PollIn | None = None


def screens_process(conn: Connection, urls: list[str], count: int) -> None:
    raise_nofile()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(EOFError, BrokenPipeError, ConnectionResetError):
        asyncio.run(_screens(conn, urls, count))
    conn.close()


async def _screens(conn: Connection, urls: list[str], count: int) -> None:
    decode = msgspec.json.Decoder(FrameIn).decode
    received: list[list[tuple[int, float]]] = []
    failed = connected = 0
    gate = asyncio.Semaphore(50)

    async def screen(session: aiohttp.ClientSession, url: str) -> None:
        nonlocal failed, connected
        mine: list[tuple[int, float]] = []
        received.append(mine)
        async with gate:
            try:
                ws = await session.ws_connect(url, max_msg_size=0, compress=0)
                await ws.send_str(HELLO)
            except Exception:
                failed += 1
                return
        connected += 1
        async for msg in ws:
            t = time.time()
            if msg.type is WSMsgType.TEXT and msg.data.startswith('{"type":"poll"'):
                frame = decode(msg.data)
                if frame.poll is not None:
                    mine.append((frame.poll.total, t))

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        tasks = [asyncio.create_task(screen(session, urls[i % len(urls)])) for i in range(count)]
        while connected + failed < count:
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)
        conn.send(("ready", connected, failed))
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # "stop"
        conn.send(("received", received))
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def vote(cfg_path: Path, token: str, port: int, votes: int, interval: float) -> list[float]:
    """Open a poll, then post `votes` votes from new authors; returns each vote's send time."""
    from wall.app import load_config
    from wall.bus.redis import RedisEngine
    from wall.curate.actions import Actions
    from wall.store import connect

    cfg = load_config(cfg_path, env={**os.environ, TOKEN_ENV: token})
    engine = RedisEngine(cfg.bus.redis_url)
    sent: list[float] = []
    try:
        async with connect(cfg.store.url) as store, aiohttp.ClientSession() as http:
            actions = Actions(store, engine, cfg)
            options = [{"label": label, "words": []} for label in ("Yes", "No", "Maybe", "Later")]
            poll = await actions.create_poll(WALL, "bench", "Ship it today?", options)
            await actions.control(WALL, "bench", "poll_open", str(poll["id"]))
            await asyncio.sleep(2.0)  # the writer has it open and the screens its first frame
            base = f"http://127.0.0.1:{port}"
            for i in range(votes):
                body = {"id": f"vote-{i}", "text": random.choice(("Yes!", "#no", "maybe", "later")),
                        "author": {"handle": f"voter{i}"}}
                sent.append(time.time())
                async with http.post(f"{base}/api/v1/walls/{WALL}/posts", json=body,
                                     headers={"Authorization": f"Bearer {token}"}) as r:
                    assert r.status == 202, await r.text()
                await asyncio.sleep(interval)
            await asyncio.sleep(3.0)  # the last bars arrive
    finally:
        await engine.close()
    return sent


def screens_part(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="wall-bench-polls-"))
    token = secrets.token_urlsafe(18)
    env = {**os.environ, TOKEN_ENV: token}
    with contextlib.ExitStack() as stack:
        stack.callback(lambda: __import__("shutil").rmtree(tmp, ignore_errors=True))
        _, redis_port = start_redis(stack, tmp)
        ports = [free_port(), free_port()]
        configs = []
        for n, port in enumerate(ports):
            path = tmp / f"node{n}.toml"
            path.write_text(_console.config(port, redis_port, tmp / "wall.db").replace('mode = "pre"',
                                                                                      'mode = "post"'))
            configs.append(path)
        writer = Server("wall curate", [sys.executable, "-m", "wall", "curate", "--config", str(configs[0])],
                        tmp / "curate.log", env)
        stack.callback(writer.stop)
        nodes = []
        for n, path in enumerate(configs):
            node = Server(f"wall serve {n}", [sys.executable, "-m", "wall", "serve", "--config", str(path)],
                          tmp / f"node{n}.log", env)
            stack.callback(node.stop)
            nodes.append(node)
        for port, node in zip(ports, nodes, strict=True):
            wait_ready(port, node)
        urls = [f"http://127.0.0.1:{p}/w/{WALL}/ws" for p in ports]
        ctx = mp.get_context("spawn")
        pipes = []
        per = [args.clients // args.screen_procs + (i < args.clients % args.screen_procs)
               for i in range(args.screen_procs)]
        for count in per:
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=screens_process, args=(child, urls, count), daemon=True)
            proc.start()
            stack.callback(proc.kill)
            pipes.append(parent)
        connected = failed = 0
        for pipe in pipes:
            if not pipe.poll(120):
                raise RuntimeError("screens did not connect within 120 s")
            _, ok, bad = pipe.recv()
            connected, failed = connected + ok, failed + bad
        print(f"screens: {connected} connected ({failed} failed) over 2 web nodes")
        sent = asyncio.run(vote(configs[0], token, ports[0], args.votes, args.interval))
        screens: list[list[tuple[int, float]]] = []
        for pipe in pipes:
            pipe.send("stop")
            if pipe.poll(60):
                screens += pipe.recv()[1]
        latencies: list[float] = []
        missed = 0
        for frames in screens:
            for n, at in enumerate(sent, 1):
                seen = next((t for total, t in frames if total >= n), None)
                if seen is None:
                    missed += 1
                else:
                    latencies.append(seen - at)
        print(f"votes: {len(sent)}; (vote, screen) pairs seen {len(latencies)}, never seen {missed}")
        print(summary("vote posted -> bar moved", latencies))
        p99 = percentile(sorted(latencies), 99)
        print(f"target p99 < 1 s: {'met' if p99 < 1.0 else 'NOT met'} ({p99 * 1000:.1f} ms)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--part", choices=("count", "screens", "both"), default="both")
    ap.add_argument("--posts", type=int, default=200_000, help="posts matched by the count part")
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--votes", type=int, default=60)
    ap.add_argument("--interval", type=float, default=0.1, help="seconds between two votes")
    ap.add_argument("--screen-procs", type=int, default=max(1, usable_cores()))
    args = ap.parse_args()
    raise_nofile()
    print("rerun:", shlex.join([sys.executable, *sys.argv]))
    print("machine:", ", ".join(f"{k} {v}" for k, v in machine_info().items()))
    if args.part in ("count", "both"):
        count_part(args.posts)
    if args.part in ("screens", "both"):
        screens_part(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
