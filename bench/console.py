#!/usr/bin/env python3
"""Console action to screens: how long from a curator's or presenter's action to its effect on every screen.

It starts its own redis-server, two `wall serve` web nodes and one `wall curate` writer (engine redis, one
wall "bench" in pre-moderation, a SQLite store in a temp dir), connects N screens (raw WebSocket clients,
half on each node) from other processes, then acts as the console does, through the moderation service
(`wall.curate.actions.Actions` with its own engine and store objects, as a console node would):

- `approve`: a held post is approved; its effect is the `post` frame on a screen;
- `next`: the presenter presses "next"; its effect is the `control` frame with that `next_seq`.

`--via http` (the default) acts through the console's own HTTP routes on web node 0, logged in as a
curator with a session cookie and the CSRF token, as the console page does; `--via actions` calls the
service directly from this process; `--via control-api` presses "next" as stage hardware does
(`POST /api/v1/control/bench/next` with a control token, docs/control-api.md) and approves through the
service (the control API approves nothing).

Latency = the screen's receipt time - the time just before the action was called (one machine, one clock),
for every (action, screen) pair; it prints p50/p90/p99/max of those, and of the slowest screen per action.

    .venv/bin/python bench/console.py                        # 1,000 screens, 40 approvals + 40 "next"
    .venv/bin/python bench/console.py --clients 1000 --actions 40 --interval 0.25

A benchmark, not a test: it prints figures and asserts nothing. Everything stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import multiprocessing as mp
import os
import re
import secrets
import shlex
import signal
import sys
import tempfile
import time
import urllib.request
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
from aiohttp import WSMsgType


def _sibling(name: str) -> Any:
    """A sibling script as a module. bench/ itself leaves sys.path: its ingest.py would hide the package."""
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    spec = importlib.util.spec_from_file_location(f"bench_{name}", here / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


_fanout = _sibling("fanout")
Server, free_port, machine_info = _fanout.Server, _fanout.free_port, _fanout.machine_info
percentile, raise_nofile, start_redis = _fanout.percentile, _fanout.raise_nofile, _fanout.start_redis
usable_cores = _fanout.usable_cores

WALL = "bench"
TOKEN_ENV = "WALL_BENCH_TOKEN"
HELLO = '{"type":"hello"}'


class PostIn(msgspec.Struct):
    source_id: str = ""


class FrameIn(msgspec.Struct):
    type: str
    post: PostIn | None = None
    next_seq: int | None = None


def config(port: int, redis_port: int, store: Path) -> str:
    return (
        f'stats_interval = 5.0\n[web]\nhost = "127.0.0.1"\nport = {port}\nsecure_cookies = false\n'
        # every screen of the benchmark comes from this one machine: no per-address caps
        f'max_connections_per_client = 0\nmax_sockets_per_client = 0\n\n'
        f'[bus]\nengine = "redis"\nredis_url = "redis://127.0.0.1:{redis_port}/0"\n\n'
        f'[store]\nurl = "sqlite+aiosqlite:///{store}"\n\n'
        f'[walls.{WALL}]\ntitle = "Console benchmark"\ntoken_env = "{TOKEN_ENV}"\n\n'
        f'[walls.{WALL}.moderation]\nmode = "pre"\n\n'
        f'[[walls.{WALL}.sources]]\ntype = "webhook"\n'
    )


def wait_ready(port: int, server: Server, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        server.check()
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        time.sleep(0.2)
    raise RuntimeError(f"{server.name} did not answer /healthz on port {port}:\n{server.tail()}")


# ------------------------------------------------------------------------------------------------ screens


def screens_process(conn: Connection, urls: list[str], count: int) -> None:
    """Connect `count` screens spread over `urls`, report ready, then record each effect's receipt time."""
    raise_nofile()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(EOFError, BrokenPipeError, ConnectionResetError):
        asyncio.run(_screens(conn, urls, count))
    conn.close()


async def _screens(conn: Connection, urls: list[str], count: int) -> None:
    decode = msgspec.json.Decoder(FrameIn).decode
    received: list[tuple[str, float]] = []
    now = time.time
    failed = 0
    gate = asyncio.Semaphore(50)
    connected = 0

    async def screen(session: aiohttp.ClientSession, url: str) -> None:
        nonlocal failed, connected
        async with gate:
            try:
                ws = await session.ws_connect(url, max_msg_size=0, compress=0)
                await ws.send_str(HELLO)
            except Exception:
                failed += 1
                return
        connected += 1
        async for msg in ws:
            t = now()
            if msg.type is not WSMsgType.TEXT:
                continue
            frame = decode(msg.data)
            if frame.type == "post" and frame.post is not None:
                received.append((f"post:{frame.post.source_id}", t))
            elif frame.type == "control" and frame.next_seq is not None:
                received.append((f"next:{frame.next_seq}", t))

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        tasks = [asyncio.create_task(screen(session, urls[i % len(urls)])) for i in range(count)]
        while connected + failed < count:
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # welcome and snapshot frames are in
        conn.send(("ready", connected, failed))
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, conn.recv)  # "stop"
        conn.send(("received", received))
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


# ------------------------------------------------------------------------------------------------ console


class Console:
    """A curator's browser on the console's HTTP routes: session cookie and CSRF token."""

    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http, self.base, self.csrf = http, base, ""

    async def login(self, username: str, password: str) -> None:
        async with self.http.post(f"{self.base}/console/login", allow_redirects=False,
                                  data={"username": username, "password": password, "next": "/console"},
                                  headers={"Origin": self.base, "Sec-Fetch-Site": "same-origin"}) as r:
            if r.status != 303:
                raise RuntimeError(f"login refused: {r.status} {await r.text()}")
        async with self.http.get(f"{self.base}/console", headers={"Accept": "text/html"}) as page:
            found = re.search(r'<meta name="csrf-token" content="([0-9a-f]+)">', await page.text())
        if not found:
            raise RuntimeError("no CSRF token on the console page")
        self.csrf = found.group(1)

    async def post(self, path: str, body: dict[str, Any]) -> None:
        headers = {"Origin": self.base, "Sec-Fetch-Site": "same-origin", "X-CSRF-Token": self.csrf}
        async with self.http.post(f"{self.base}{path}", json=body, headers=headers) as r:
            if r.status != 200:
                raise RuntimeError(f"{path}: {r.status} {await r.text()}")


async def act(cfg_path: Path, token: str, port: int, actions_count: int, interval: float,
              via: str) -> tuple[dict[str, float], list[float]]:
    """Post the held posts, then approve them and press "next", spaced by `interval`; returns the send
    times and how long each Actions call took (the store writes and the inbox entry)."""
    from wall.app import load_config
    from wall.bus.redis import RedisEngine
    from wall.curate.actions import Actions
    from wall.store import connect

    cfg = load_config(cfg_path, env={**os.environ, TOKEN_ENV: token})
    engine = RedisEngine(cfg.bus.redis_url)
    sent: dict[str, float] = {}
    calls: list[float] = []
    try:
        async with connect(cfg.store.url) as store, aiohttp.ClientSession() as http, \
                aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
            actions = Actions(store, engine, cfg)
            base = f"http://127.0.0.1:{port}"
            console = Console(browser, base)
            if via == "http":
                password = secrets.token_urlsafe(16)
                await store.users.add("bench", password, "curator")
                await console.login("bench", password)
            deck = ""
            if via == "control-api":
                deck, _ = await store.control_tokens.issue(WALL, "bench deck", "presenter", "bench", None)

            async def approve(post_id: str) -> None:
                if via == "http":
                    await console.post(f"/console/api/w/{WALL}/decide",
                                       {"post_id": post_id, "action": "approve", "expected_version": None})
                else:
                    await actions.decide(WALL, post_id, "bench", "approve", expected_version=None)

            async def press_next() -> None:
                if via == "http":
                    await console.post(f"/console/api/w/{WALL}/control", {"op": "next"})
                elif via == "control-api":
                    async with http.post(f"{base}/api/v1/control/{WALL}/next", json={},
                                         headers={"Authorization": f"Bearer {deck}"}) as r:
                        if r.status != 200:
                            raise RuntimeError(f"control API: {r.status} {await r.text()}")
                else:
                    await actions.control(WALL, "bench", "next")

            for i in range(actions_count):
                body = {"id": f"held-{i}", "text": f"held post {i} for the console benchmark"}
                async with http.post(f"{base}/api/v1/walls/{WALL}/posts", json=body,
                                     headers={"Authorization": f"Bearer {token}"}) as r:
                    assert r.status == 202, await r.text()
            held: dict[str, str] = {}
            async with asyncio.timeout(60):
                while len(held) < actions_count:
                    held = {i["post"]["source_id"]: i["post"]["id"] for i in await actions.queue(WALL)
                            if i["status"] == "pending"}
                    await asyncio.sleep(0.1)
            state = await actions.control_state(WALL)
            seq = int(state["next_seq"])
            for i in range(actions_count):
                sent[f"post:held-{i}"] = time.time()
                await approve(held[f"held-{i}"])
                calls.append(time.time() - sent[f"post:held-{i}"])
                await asyncio.sleep(interval / 2)
                seq += 1
                sent[f"next:{seq}"] = time.time()
                await press_next()
                calls.append(time.time() - sent[f"next:{seq}"])
                await asyncio.sleep(interval / 2)
            await asyncio.sleep(2.0)  # the last effects arrive
    finally:
        await engine.close()
    return sent, calls


def summary(name: str, values: list[float]) -> str:
    v = sorted(values)
    ms = [percentile(v, q) * 1000 for q in (50, 90, 99)] + [v[-1] * 1000 if v else float("nan")]
    return f"{name:<34} n={len(v):>6}  p50 {ms[0]:6.1f} ms  p90 {ms[1]:6.1f} ms  p99 {ms[2]:6.1f} ms  " \
           f"max {ms[3]:6.1f} ms"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--actions", type=int, default=40, help="approvals, and as many 'next' presses")
    ap.add_argument("--interval", type=float, default=None,
                    help="seconds between two actions' pairs (0.25; 0.6 with --via control-api, whose "
                         "tokens may act twice a second after a burst of ten)")
    ap.add_argument("--via", choices=("http", "actions", "control-api"), default="http",
                    help="act through the console's HTTP routes (default), call Actions directly, or press "
                         "'next' through the control API with a token")
    ap.add_argument("--screen-procs", type=int, default=max(1, usable_cores()))
    ap.add_argument("--keep", action="store_true", help="keep the temp dir with the servers' logs")
    args = ap.parse_args()
    if args.interval is None:
        args.interval = 0.6 if args.via == "control-api" else 0.25
    raise_nofile()
    print("rerun:", shlex.join([sys.executable, *sys.argv]))
    print("machine:", ", ".join(f"{k} {v}" for k, v in machine_info().items()))
    tmp = Path(tempfile.mkdtemp(prefix="wall-bench-console-"))
    token = secrets.token_urlsafe(18)
    env = {**os.environ, TOKEN_ENV: token}
    with contextlib.ExitStack() as stack:
        if not args.keep:
            stack.callback(lambda: __import__("shutil").rmtree(tmp, ignore_errors=True))
        _, redis_port = start_redis(stack, tmp)
        ports = [free_port(), free_port()]
        configs = []
        for n, port in enumerate(ports):
            path = tmp / f"node{n}.toml"
            path.write_text(config(port, redis_port, tmp / "wall.db"))
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
        pipes, procs = [], []
        per = [args.clients // args.screen_procs + (i < args.clients % args.screen_procs)
               for i in range(args.screen_procs)]
        for count in per:
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=screens_process, args=(child, urls, count), daemon=True)
            proc.start()
            stack.callback(proc.kill)
            pipes.append(parent)
            procs.append(proc)
        connected = failed = 0
        for pipe in pipes:
            if not pipe.poll(120):
                raise RuntimeError("screens did not connect within 120 s")
            _, ok, bad = pipe.recv()
            connected, failed = connected + ok, failed + bad
        print(f"screens: {connected} connected ({failed} failed) over 2 web nodes, "
              f"{args.screen_procs} screen processes")
        sent, calls = asyncio.run(act(configs[0], token, ports[0], args.actions, args.interval, args.via))
        received: list[tuple[str, float]] = []
        for pipe in pipes:
            pipe.send("stop")
            if pipe.poll(60):
                received += pipe.recv()[1]
        latencies: dict[str, list[float]] = {"approve": [], "next": []}
        slowest: dict[str, dict[str, float]] = {"approve": {}, "next": {}}
        for key, t in received:
            if key not in sent:
                continue
            kind = "approve" if key.startswith("post:") else "next"
            lat = t - sent[key]
            latencies[kind].append(lat)
            slowest[kind][key] = max(slowest[kind].get(key, 0.0), lat)
        for kind in ("approve", "next"):
            prefix = "post:" if kind == "approve" else "next:"
            expected = connected * sum(1 for k in sent if k.startswith(prefix))
            print(f"{kind}: {len(latencies[kind])} of {expected} effects seen on screens")
            print(summary(f"  {kind}, every screen", latencies[kind]))
            print(summary(f"  {kind}, slowest screen per action", list(slowest[kind].values())))
        print(summary(f"the action's own call ({args.via})", calls))
        both = latencies["approve"] + latencies["next"]
        print(summary("all actions, every screen", both))
        p99 = percentile(sorted(both), 99) * 1000
        print(f"target p99 < 250 ms: {'met' if p99 < 250 else 'NOT met'} ({p99:.1f} ms)")
        if args.keep:
            print("logs in", tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
