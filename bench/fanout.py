#!/usr/bin/env python3
"""Fan-out load benchmark: N WebSocket screens on one web node, events posted through the webhook.

It starts its own redis-server and a `wall serve` node (engine redis, one wall "bench" with a webhook
source) on free ports of 127.0.0.1, connects N screens from another process, posts events at a steady
rate, and measures on the screens' side what arrived and how late (receipt time - send time).

    .venv/bin/python bench/fanout.py --clients 1000 --rate 10 --duration 20 --baseline
    .venv/bin/python bench/fanout.py --find-max
    .venv/bin/python bench/fanout.py --clients 3000 --nodes 3 --proxy caddy    # against 1 node, same run

--nodes N runs N web nodes on the one Redis behind Debian's Caddy, with a minimal Caddyfile of the
benchmark's own (plain HTTP, least_conn; not deploy/Caddyfile), and the same load on one node in turn;
--baseline runs the same load against a minimal raw aiohttp broadcaster (defined below) for comparison;
--find-max steps the rate up until p99 > 1 s, delivery < 99 % or the posts fall behind schedule, for the
product and the baseline taking turns. See bench/README.md for what the figures mean.
Everything runs on 127.0.0.1, stops by itself and cleans up its subprocesses, also on Ctrl-C.
This is a benchmark, not a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import gc
import multiprocessing as mp
import os
import platform
import resource
import secrets
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from array import array
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
from aiohttp import WSMsgType, web

REPO = Path(__file__).resolve().parent.parent
WALL = "bench"
TOKEN_ENV = "WALL_BENCH_TOKEN"
HELLO = '{"type":"hello"}'
FIND_MAX_STEPS = (10, 20, 50, 100, 200)
ONE_NODE = "1 node"  # the reference run of --nodes N: the product with one web node
MAX_P99 = 1.0  # seconds: above it a rate is not sustained
MIN_DELIVERY = 0.99
# CPU (% of one core) used outside the benchmark's processes above which a run counts as disturbed. Some
# kernel work is charged to no process: quiet runs show under 30 here.
DISTURBED = 50.0
# Post text: "fanout <tag> <seq> <send time> <filler>"; the tag keeps one run's frames apart from another's.
FILLER = "Great keynote at the launch today, the new phone looks even better on the big screen #bench"


# ---------------------------------------------------------------------------------------------- helpers


def raise_nofile() -> int:
    """Raise this process's open-file limit to the hard limit (1,000 sockets need more than 1,024 fds)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else 1 << 20
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux /proc), or None when it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[float, float] | None:
    """(busy, total) CPU time of the whole machine so far, from /proc/stat, or None."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK"), sum(fields) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def machine_info() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    usable = usable_cores()
    try:
        redis = subprocess.run(["redis-server", "--version"], capture_output=True, text=True, timeout=5)
        redis_version = redis.stdout.split(" v=")[1].split()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        redis_version = "?"
    try:
        git = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"],
                             capture_output=True, text=True, timeout=5)
        commit = git.stdout.strip() or "?"
    except (OSError, subprocess.SubprocessError):
        commit = "?"
    return {
        "cores": f"{usable} usable of {os.cpu_count()} ({cpu})",
        "os": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "aiohttp": aiohttp.__version__,
        "msgspec": msgspec.__version__,
        "redis-server": redis_version,
        "repo": commit,
    }


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending sequence (q in 0..100)."""
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def quantiles_ms(ordered: Sequence[float]) -> dict[str, float]:
    """p50, p90, p99 and max of an ascending sequence of seconds, in ms."""
    return {name: percentile(ordered, q) * 1000
            for name, q in (("p50", 50), ("p90", 90), ("p99", 99), ("max", 100))}


NICE: int | None = None  # --nice: the priority of the benchmark's processes (None: as started)


def prioritize(nice: int, pid: int = 0) -> None:
    """Run a process (0: this one) at `nice`, and its session's autogroup too: with autogrouping (Linux's
    default) a plain nice value only ranks a process within its own session, not against other jobs.
    Below 0 needs root (CAP_SYS_NICE)."""
    os.setpriority(os.PRIO_PROCESS, pid, nice)
    with contextlib.suppress(OSError):  # no autogroups (or not allowed): the plain nice value stays
        Path(f"/proc/{pid or 'self'}/autogroup").write_text(str(nice))


try:
    _LIBC: ctypes.CDLL | None = ctypes.CDLL(None, use_errno=True)
except OSError:
    _LIBC = None


def _die_with_parent() -> None:
    """In a child before exec: get SIGTERM if the benchmark dies without cleaning up (Linux only)."""
    if _LIBC is not None and sys.platform == "linux":
        _LIBC.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


# --------------------------------------------------------------------------------------- subprocesses


class Server:
    """A subprocess of the benchmark with its log file; stop() is safe to call twice."""

    def __init__(self, name: str, argv: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.name, self.log = name, log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, cwd=REPO,
                env=env, start_new_session=True, preexec_fn=_die_with_parent,
            )
        if NICE is not None:  # its own session, so its own autogroup
            prioritize(NICE, self.proc.pid)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def check(self) -> None:
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited with code {self.proc.returncode}:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@dataclass
class Target:
    """A server under load: where to connect and which processes to account CPU to."""

    name: str
    port: int
    token: str
    processes: dict[str, int] = field(default_factory=dict)  # role -> pid

    @property
    def ws_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/w/{WALL}/ws"

    @property
    def posts_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1/walls/{WALL}/posts"

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/healthz"


def start_redis(stack: contextlib.ExitStack, tmp: Path) -> tuple[Server, int]:
    port = free_port()
    argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(tmp), "--daemonize", "no", "--protected-mode", "yes"]
    server = Server("redis-server", argv, tmp / "redis.log")
    stack.callback(server.stop)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        server.check()
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            if s.recv(16).startswith(b"+PONG"):
                return server, port
        time.sleep(0.05)
    raise RuntimeError(f"redis-server did not answer PING on port {port}:\n{server.tail()}")


def wall_config(port: int, engine: str, redis_port: int | None, client_buffer: int,
                stats_interval: float = 5.0, store: Path | None = None) -> str:
    bus = f'engine = "{engine}"\n'
    if redis_port is not None:
        bus += f'redis_url = "redis://127.0.0.1:{redis_port}/0"\n'
        bus += 'durability = "memory"\n'  # its Redis keeps no AOF: say so, or /healthz is degraded
    return (
        f'stats_interval = {stats_interval}\n'
        f'[web]\nhost = "127.0.0.1"\nport = {port}\nclient_buffer = {client_buffer}\n'
        # every screen of the benchmark comes from this one machine: no per-address caps
        f'max_connections_per_client = 0\nmax_sockets_per_client = 0\n\n'
        f"[bus]\n{bus}\n"
        + (f'[store]\nurl = "sqlite+aiosqlite:///{store}"\n\n' if store else "")
        + f'[walls.{WALL}]\ntitle = "Fan-out benchmark"\ntoken_env = "{TOKEN_ENV}"\n\n'
        f'[[walls.{WALL}.sources]]\ntype = "webhook"\n'
    )


def start_product(stack: contextlib.ExitStack, tmp: Path, args: argparse.Namespace, nodes: int) -> Target:
    """Redis, `nodes` web nodes and the wall's curation writer (one Redis and one writer for every node)."""
    token = secrets.token_urlsafe(18)
    processes: dict[str, int] = {}
    redis_port = None
    if args.engine == "redis":
        redis, redis_port = start_redis(stack, tmp)
        processes["redis"] = redis.pid
    ports = [free_port() for _ in range(nodes)]
    config = tmp / "wall.toml"
    config.write_text(wall_config(ports[0], args.engine, redis_port, args.client_buffer, args.stats_interval,
                                  store=tmp / "wall.db"))
    env = {**os.environ, TOKEN_ENV: token}
    started: list[tuple[Target, Server]] = []
    for i, port in enumerate(ports):
        role = "web node" if nodes == 1 else f"web node {i + 1}"
        argv = [sys.executable, "-m", "wall", "serve", "--config", str(config), "--port", str(port)]
        node = Server(f"wall serve ({role})", argv, tmp / f"wall-{i + 1}.log", env)
        stack.callback(node.stop)
        processes[role] = node.pid
        started.append((Target(role, port, token), node))
    if args.engine == "redis":  # the wall's curation writer: the inbox hop every post takes
        writer = Server("wall curate", [sys.executable, "-m", "wall", "curate", "--config", str(config)],
                        tmp / "curate.log", env)
        stack.callback(writer.stop)
        processes["curation writer"] = writer.pid
    for node_target, node in started:
        wait_healthy(node_target, node)
    return behind_proxy(stack, tmp, args, Target("product", ports[0], token, processes), ports)


def start_baseline(stack: contextlib.ExitStack, tmp: Path, args: argparse.Namespace) -> Target:
    token = secrets.token_urlsafe(18)
    port = free_port()
    argv = [sys.executable, str(Path(__file__).resolve()), "--serve-baseline", str(port)]
    server = Server("baseline server", argv, tmp / "baseline.log", {**os.environ, TOKEN_ENV: token})
    stack.callback(server.stop)
    target = Target("baseline", port, token, {"web node": server.pid})
    wait_healthy(target, server)
    return behind_proxy(stack, tmp, args, target, [port])


def caddy_config(port: int, upstreams: list[int]) -> str:
    """The benchmark's own minimal Caddyfile, not deploy/Caddyfile (TLS, health checks, limits): plain
    HTTP on 127.0.0.1, every node an upstream, least_conn (a screen's socket counts as a connection)."""
    to = " ".join(f"127.0.0.1:{p}" for p in upstreams)
    return ("{\n\tadmin off\n\tauto_https off\n}\n\n"
            f"http://127.0.0.1:{port} {{\n\tbind 127.0.0.1\n"
            f"\treverse_proxy {to} {{\n\t\tlb_policy least_conn\n\t}}\n}}\n")


def behind_proxy(stack: contextlib.ExitStack, tmp: Path, args: argparse.Namespace, target: Target,
                 upstreams: list[int]) -> Target:
    """With --proxy caddy: a Caddy of the benchmark's own in front of the upstreams; the target is Caddy."""
    if args.proxy == "none":
        return target
    port = free_port()
    config = tmp / "Caddyfile"
    config.write_text(caddy_config(port, upstreams))
    env = {**os.environ, "HOME": str(tmp), "XDG_DATA_HOME": str(tmp / "caddy-data"),
           "XDG_CONFIG_HOME": str(tmp / "caddy-config")}
    caddy = Server("caddy", ["caddy", "run", "--config", str(config), "--adapter", "caddyfile"],
                   tmp / "caddy.log", env)
    stack.callback(caddy.stop)
    proxied = Target(target.name, port, target.token, {**target.processes, "caddy": caddy.pid})
    wait_healthy(proxied, caddy)
    return proxied


def wait_healthy(target: Target, server: Server, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        server.check()
        with contextlib.suppress(OSError, urllib.error.URLError):
            with urllib.request.urlopen(target.health_url, timeout=2) as r:
                if r.status == 200 and b'"ok"' in r.read():
                    return
        time.sleep(0.1)
    raise RuntimeError(f"{server.name} was not healthy within {timeout:.0f} s:\n{server.tail()}")


# ------------------------------------------------------------------------------------- baseline server


def baseline_app(token: str) -> web.Application:
    """The simplest honest broadcaster: same endpoints and frame shape, no bus, no queues, no state."""
    sockets: set[web.WebSocketResponse] = set()

    async def wall_socket(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=False, max_msg_size=4096)
        await ws.prepare(request)
        msg = await ws.receive(timeout=10)  # the hello
        if msg.type != WSMsgType.TEXT:
            return ws
        await ws.send_str(f'{{"type":"welcome","wall":"{WALL}"}}')
        sockets.add(ws)
        try:
            async for _ in ws:
                pass
        finally:
            sockets.discard(ws)
        return ws

    async def posts(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {token}":
            return web.json_response({"error": "unauthorized"}, status=401)
        body = await request.text()
        data = '{"type":"post","post":' + body + "}"
        for ws in list(sockets):
            try:
                await ws.send_str(data)
            except (ConnectionError, RuntimeError):
                sockets.discard(ws)
        return web.json_response({"accepted": 1}, status=202)

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "clients": len(sockets)})

    app = web.Application()
    app.router.add_get(f"/w/{WALL}/ws", wall_socket)
    app.router.add_post(f"/api/v1/walls/{WALL}/posts", posts)
    app.router.add_get("/healthz", healthz)
    return app


def serve_baseline(port: int) -> int:
    raise_nofile()
    web.run_app(baseline_app(os.environ[TOKEN_ENV]), host="127.0.0.1", port=port, print=None)
    return 0


# ------------------------------------------------------------------------------ screens (own process)


class PostIn(msgspec.Struct):
    text: str = ""


class FrameIn(msgspec.Struct):
    type: str = ""
    id: str | None = None  # the bus id (the product's frames have one, the baseline's do not)
    post: PostIn | None = None


@dataclass
class Screen:
    received: int = 0
    misordered: int = 0  # post frames whose event id was not above the previous one (repeat or reorder)
    last_id: tuple[int, int] = (-1, -1)
    connected: bool = False
    closed_by_server: bool = False
    close_code: str | None = None


@dataclass
class ScreensReport:
    """What one screens process sends back once the load is over."""

    connected: int
    connect_failures: int
    connect_errors: list[str]
    delivered: int
    misordered: int
    dropped: int
    close_codes: dict[str, int]
    first_receipt: float | None
    last_receipt: float | None
    latencies: bytes  # array("d") of seconds
    from_bus: bytes  # array("d"): receipt - the time in the frame's bus id (the display stream's XADD)
    spread: dict[int, tuple[float, float]]  # event seq -> (first, last) receipt time on this process


def screens_process(conn: Connection, url: str, count: int, tag: str, concurrency: int,
                    connect_timeout: float, nice: int | None) -> None:
    """Entry point of a screens process: connect, report ready, count frames until told to drain."""
    raise_nofile()
    if nice is not None:
        os.setsid()  # an autogroup of its own, not the shell's that started the benchmark
        prioritize(nice)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it stops us
    try:
        asyncio.run(_screens_main(conn, url, count, tag, concurrency, connect_timeout))
    except (EOFError, BrokenPipeError, ConnectionResetError):
        pass  # the parent went away
    finally:
        conn.close()


async def _screens_main(conn: Connection, url: str, count: int, tag: str, concurrency: int,
                        connect_timeout: float) -> None:
    loop = asyncio.get_running_loop()
    screens = [Screen() for _ in range(count)]
    latencies: array[float] = array("d")
    from_bus: array[float] = array("d")
    spread: dict[int, tuple[float, float]] = {}
    first_last = [0.0, 0.0]  # receipt times of the first and the last post frame
    errors: Counter[str] = Counter()
    stopping = asyncio.Event()
    gate = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    timeout = aiohttp.ClientTimeout(total=None, connect=connect_timeout, sock_connect=connect_timeout)
    decode = msgspec.json.Decoder(FrameIn).decode
    now = time.time
    ready = asyncio.Queue[bool]()

    async def screen(sc: Screen) -> None:
        async with gate:
            try:
                ws = await session.ws_connect(url, autoping=True, max_msg_size=0, compress=0)
                await ws.send_str(HELLO)
                welcome = await ws.receive(timeout=connect_timeout)
                if welcome.type != WSMsgType.TEXT or '"welcome"' not in welcome.data:
                    raise RuntimeError(f"expected a welcome frame, got {welcome.type.name} {welcome.data!r}")
            except Exception as e:
                errors[f"{type(e).__name__}: {e}"[:160]] += 1
                ready.put_nowait(False)
                return
        sc.connected = True
        ready.put_nowait(True)
        sockets.append(ws)
        try:
            async for msg in ws:
                t = now()
                if msg.type is not WSMsgType.TEXT:
                    continue
                frame = decode(msg.data)
                if frame.type != "post" or frame.post is None:
                    continue
                parts = frame.post.text.split(" ", 4)
                if len(parts) < 4 or parts[0] != "fanout" or parts[1] != tag:
                    continue
                latencies.append(t - float(parts[3]))
                seq = int(parts[2])
                first = spread.get(seq)
                spread[seq] = (t, t) if first is None else (first[0], t)
                if not first_last[0]:
                    first_last[0] = t
                first_last[1] = t
                sc.received += 1
                if frame.id is not None:  # docs/protocol.md: live events in id order, each exactly once
                    ms, _, n = frame.id.partition("-")
                    key = (int(ms), int(n or 0))
                    if key <= sc.last_id:
                        sc.misordered += 1
                    sc.last_id = key
                    from_bus.append(t - key[0] / 1000)
            code = str(ws.close_code)
        except (msgspec.DecodeError, ValueError) as e:
            code = f"bad frame ({e})"[:80]
        if not stopping.is_set():
            sc.closed_by_server = True
            sc.close_code = code

    sockets: list[aiohttp.ClientWebSocketResponse] = []
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        tasks = [asyncio.create_task(screen(sc)) for sc in screens]
        ok = 0
        for _ in screens:
            ok += await ready.get()
        gc.collect()
        gc.freeze()  # the sockets and tasks live all run long: spare them every collection
        conn.send(("ready", ok, count - ok))

        command, sent, grace = await loop.run_in_executor(None, conn.recv)
        if command != "drain":
            raise RuntimeError(f"unexpected command from the benchmark: {command!r}")
        deadline = loop.time() + grace
        while loop.time() < deadline:
            live = [sc for sc in screens if sc.connected and not sc.closed_by_server]
            if all(sc.received >= sent for sc in live):
                break
            await asyncio.sleep(0.05)
        stopping.set()

        codes = Counter(str(sc.close_code) for sc in screens if sc.closed_by_server)
        conn.send(ScreensReport(
            connected=ok,
            connect_failures=count - ok,
            connect_errors=[f"{n} x {e}" for e, n in errors.most_common(5)],
            delivered=sum(sc.received for sc in screens),
            misordered=sum(sc.misordered for sc in screens),
            dropped=sum(sc.closed_by_server for sc in screens),
            close_codes=dict(codes),
            first_receipt=first_last[0] or None,
            last_receipt=first_last[1] or None,
            latencies=latencies.tobytes(),
            from_bus=from_bus.tobytes(),
            spread=spread,
        ))
        # Close politely so that the server sees clean goodbyes, but never wait long.
        with contextlib.suppress(TimeoutError):
            closing = asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
            await asyncio.wait_for(closing, 10)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


# ------------------------------------------------------------------------------------ load generator


@dataclass
class LoadResult:
    planned: int
    sent: int  # accepted by the server (2xx)
    errors: Counter[str]
    first_send: float
    last_send: float
    max_lag: float  # how late the scheduler was at worst (s)
    max_post_latency: float  # slowest webhook answer (s)
    sent_at: dict[int, float]  # seq -> send time of each accepted post


async def generate_load(target: Target, tag: str, rate: float, duration: float,
                        max_in_flight: int = 256) -> LoadResult:
    """POST rate x duration posts on a steady schedule (post i at t0 + i/rate), over one session."""
    loop = asyncio.get_running_loop()
    planned = max(1, round(rate * duration))
    errors: Counter[str] = Counter()
    sent = 0
    slowest = 0.0
    sent_at: dict[int, float] = {}
    gate = asyncio.Semaphore(max_in_flight)  # bounded: an overloaded server must not pile up sockets
    headers = {"Authorization": f"Bearer {target.token}", "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=64)
    timeout = aiohttp.ClientTimeout(total=30)

    async def post(session: aiohttp.ClientSession, seq: int) -> None:
        nonlocal sent, slowest
        try:
            posted = time.time()
            body = msgspec.json.encode({
                "id": f"{tag}-{seq}",
                "text": f"fanout {tag} {seq} {posted:.6f} {FILLER}",
                "author": {"name": "Bench Mark", "handle": "bench"},
            })
            async with session.post(target.posts_url, data=body, headers=headers) as r:
                await r.read()
                if 200 <= r.status < 300:
                    sent += 1
                    sent_at[seq] = posted
                else:
                    errors[f"HTTP {r.status}"] += 1
            slowest = max(slowest, time.time() - posted)
        except (aiohttp.ClientError, TimeoutError) as e:
            errors[type(e).__name__] += 1
        finally:
            gate.release()

    tasks: set[asyncio.Task[None]] = set()
    max_lag = 0.0
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        first_send = time.time()
        t0 = loop.time()
        for seq in range(planned):
            delay = t0 + seq / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            await gate.acquire()
            max_lag = max(max_lag, loop.time() - (t0 + seq / rate))
            task = asyncio.create_task(post(session, seq))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        last_send = time.time()
        if tasks:
            await asyncio.wait(tasks, timeout=35)
    return LoadResult(planned, sent, errors, first_send, last_send, max_lag, slowest, sent_at)


# --------------------------------------------------------------------------------------- one run


@dataclass
class RunResult:
    target: str
    clients: int
    rate: float
    duration: float
    connected: int
    connect_failures: int
    connect_errors: list[str]
    load: LoadResult
    expected: int
    delivered: int
    misordered: int
    dropped: int
    close_codes: dict[str, int]
    frames_per_s: float
    latency_ms: dict[str, float]
    from_bus_ms: dict[str, float]  # receipt - the frame's bus id time (product only): the node's part
    first_screen_ms: dict[str, float]  # per event: send -> its first screen (the hops before the fan-out)
    last_screen_ms: dict[str, float]  # per event: send -> its last screen (hops + the whole fan-out)
    cpu: dict[str, float]  # role -> % of one core during load + drain
    rss_mb: dict[str, float]
    elapsed: float  # seconds of load + drain, over which cpu is averaged
    background: float  # % of one core the machine was busy just before the run (other processes)
    screen_procs: int

    @property
    def delivery(self) -> float:
        return self.delivered / self.expected if self.expected else 0.0

    @property
    def p99(self) -> float:
        return self.latency_ms["p99"]

    @property
    def node_cpu(self) -> float:
        """CPU of the web nodes together (% of one core)."""
        nodes = [v for k, v in self.cpu.items() if k.startswith("web node")]
        return sum(nodes) if nodes else float("nan")

    @property
    def node_us_per_frame(self) -> float:
        """Web nodes' CPU per delivered frame (µs): the fan-out's cost, whoever else is busy."""
        return self._us_per_frame(self.node_cpu)

    @property
    def proxy_us_per_frame(self) -> float:
        return self._us_per_frame(self.cpu.get("caddy", float("nan")))

    def _us_per_frame(self, cpu: float) -> float:
        if not self.delivered:
            return float("nan")
        return cpu / 100 * self.elapsed / self.delivered * 1e6

    @property
    def others(self) -> float:
        """CPU the machine spent outside the benchmark's processes (% of one core): other processes, and
        kernel work not charged to a process (part of the loopback traffic). High: a disturbed run."""
        ours = sum(v for k, v in self.cpu.items() if k != "whole machine")
        return self.cpu.get("whole machine", float("nan")) - ours

    @property
    def disturbed(self) -> bool:
        return self.others > DISTURBED

    @property
    def sent_rate(self) -> float:
        """Posts per second the server accepted, over the sending window."""
        ld = self.load
        return ld.sent / (ld.last_send - ld.first_send + 1 / self.rate)

    @property
    def sustained(self) -> bool:
        """The server took the planned rate, delivered nearly every frame, and on time."""
        on_schedule = self.sent_rate >= 0.95 * self.rate
        return on_schedule and self.delivery >= MIN_DELIVERY and self.p99 <= MAX_P99 * 1000


async def measure(target: Target, args: argparse.Namespace, rate: float) -> RunResult:
    """Connect the screens, post the load, let it drain, and gather what the screens saw."""
    tag = f"{target.name[0]}{secrets.token_hex(3)}"
    ctx = mp.get_context("spawn")
    procs: list[tuple[mp.process.BaseProcess, Connection]] = []
    shares = [args.clients // args.screen_procs + (i < args.clients % args.screen_procs)
              for i in range(args.screen_procs)]
    loop = asyncio.get_running_loop()
    background = await background_load()
    try:
        for share in shares:
            here, there = ctx.Pipe()
            child = ctx.Process(target=screens_process, daemon=True, name=f"screens-{len(procs)}",
                                args=(there, target.ws_url, share, tag, args.connect_concurrency, 30.0,
                                      args.nice))
            child.start()
            there.close()
            procs.append((child, here))

        async def recv(conn: Connection, timeout: float) -> Any:
            if not await loop.run_in_executor(None, conn.poll, timeout):
                raise RuntimeError(f"the screens process did not answer within {timeout:.0f} s")
            return conn.recv()

        connect_timeout = 30 + args.clients / 20
        readies = await asyncio.gather(*(recv(c, connect_timeout) for _, c in procs))
        connected = sum(r[1] for r in readies)
        if connected == 0:
            raise RuntimeError(f"no screen could connect to {target.ws_url}")
        await asyncio.sleep(1.0)  # let the connect storm settle (snapshots, welcome frames)

        cpu_before = _cpu(target, procs)
        started = time.monotonic()
        load = await generate_load(target, tag, rate, args.duration)
        for _, conn in procs:
            conn.send(("drain", load.sent, args.drain))
        reports: list[ScreensReport] = await asyncio.gather(*(recv(c, args.drain + 60) for _, c in procs))
        elapsed = time.monotonic() - started
        cpu_after = _cpu(target, procs)
        rss = {role: rss_mb(pid) for role, pid in target.processes.items()}
        for proc, _ in procs:
            await loop.run_in_executor(None, proc.join, 20)
    finally:
        for proc, conn in procs:
            if proc.is_alive():
                proc.terminate()
                proc.join(5)
            conn.close()

    lat = sorted(array("d", b"".join(r.latencies for r in reports)))
    from_bus = sorted(array("d", b"".join(r.from_bus for r in reports)))
    firsts: dict[int, float] = {}
    lasts_by_event: dict[int, float] = {}
    for r in reports:
        for seq, (first, last) in r.spread.items():
            firsts[seq] = min(first, firsts.get(seq, first))
            lasts_by_event[seq] = max(last, lasts_by_event.get(seq, last))
    first_lat = sorted(t - load.sent_at[seq] for seq, t in firsts.items() if seq in load.sent_at)
    last_lat = sorted(t - load.sent_at[seq] for seq, t in lasts_by_event.items() if seq in load.sent_at)
    lasts = [r.last_receipt for r in reports if r.last_receipt]
    delivered = sum(r.delivered for r in reports)
    span = (max(lasts) - load.first_send) if lasts else 0.0  # first post sent -> last frame received
    close_codes: Counter[str] = Counter()
    for r in reports:
        close_codes.update(r.close_codes)
    return RunResult(
        target=target.name, clients=args.clients, rate=rate, duration=args.duration,
        connected=connected, connect_failures=args.clients - connected,
        connect_errors=[e for r in reports for e in r.connect_errors],
        load=load,
        expected=load.sent * args.clients,
        delivered=delivered,
        misordered=sum(r.misordered for r in reports),
        dropped=sum(r.dropped for r in reports),
        close_codes=dict(close_codes),
        frames_per_s=delivered / span if span > 0 else 0.0,
        latency_ms=quantiles_ms(lat),
        from_bus_ms=quantiles_ms(from_bus) if from_bus else {},
        first_screen_ms=quantiles_ms(first_lat),
        last_screen_ms=quantiles_ms(last_lat),
        cpu={role: 100 * (cpu_after[role] - before) / elapsed
             for role, before in cpu_before.items() if role in cpu_after},
        rss_mb={role: v for role, v in rss.items() if v is not None},
        elapsed=elapsed,
        background=background,
        screen_procs=len(procs),
    )


async def background_load(seconds: float = 1.0) -> float:
    """How busy the machine is with nothing of the benchmark running but idle servers (% of one core)."""
    before = machine_busy()
    await asyncio.sleep(seconds)
    after = machine_busy()
    if before is None or after is None:
        return float("nan")
    return 100 * (after[0] - before[0]) / seconds


def _cpu(target: Target, procs: list[tuple[mp.process.BaseProcess, Connection]]) -> dict[str, float]:
    found: dict[str, float] = {}
    for role, pid in target.processes.items():
        if (s := cpu_seconds(pid)) is not None:
            found[role] = s
    screens = [cpu_seconds(p.pid) for p, _ in procs if p.pid is not None]
    if screens and all(s is not None for s in screens):
        found["screens"] = sum(s for s in screens if s is not None)
    t = os.times()
    found["load generator"] = t.user + t.system
    if (machine := machine_busy()) is not None:
        found["whole machine"] = machine[0]
    return found


# ---------------------------------------------------------------------------------------- reporting


def print_run(r: RunResult) -> None:
    ld = r.load
    lat = r.latency_ms
    lines = [
        f"[{r.target}] {r.clients} clients, {r.rate:g} events/s for {r.duration:g} s"
        f"  (machine busy just before: {r.background:.0f} % of one core)",
        f"  clients connected     {r.connected} of {r.clients}"
        + (f"  (failures: {'; '.join(r.connect_errors)})" if r.connect_failures else ""),
        f"  events sent           {ld.sent} of {ld.planned} planned"
        f"  (~{r.sent_rate:.1f}/s, scheduler lag max {ld.max_lag * 1000:.0f} ms,"
        f" slowest webhook answer {ld.max_post_latency * 1000:.0f} ms"
        + (f", errors {dict(ld.errors)}" if ld.errors else "") + ")",
        f"  frames expected       {r.expected}  (events x clients)",
        f"  frames delivered      {r.delivered}  ({100 * r.delivery:.2f} %)"
        + (f", {r.misordered} repeated or out of id order" if r.misordered else ""),
        f"  delivered frames/s    {r.frames_per_s:,.0f}",
        f"  dropped clients       {r.dropped}" + (f"  (close codes {r.close_codes})" if r.dropped else ""),
        f"  latency ms            p50 {lat['p50']:.1f}   p90 {lat['p90']:.1f}   p99 {lat['p99']:.1f}"
        f"   max {lat['max']:.1f}",
        f"  per event ms          first screen p50 {r.first_screen_ms['p50']:.1f} p99 "
        f"{r.first_screen_ms['p99']:.1f};  last screen p50 {r.last_screen_ms['p50']:.1f} p99 "
        f"{r.last_screen_ms['p99']:.1f}",
    ]
    if r.from_bus_ms:
        fb = r.from_bus_ms
        lines.append(f"  from bus id ms        p50 {fb['p50']:.1f}   p90 {fb['p90']:.1f}   "
                     f"p99 {fb['p99']:.1f}   max {fb['max']:.1f}"
                     "  (the display stream's XADD -> screen: what the node and the screens add)")
    lines += [
        "  CPU (% of one core)   " + "   ".join(f"{k} {v:.0f}" for k, v in r.cpu.items())
        + f" of {100 * usable_cores()}, others {r.others:.0f} (other processes, uncharged kernel work)",
        f"  web node CPU/frame    {r.node_us_per_frame:.1f} µs"
        + (f" (the nodes together)   caddy CPU/frame {r.proxy_us_per_frame:.1f} µs"
           if "caddy" in r.cpu else ""),
        "  RSS MB                " + "   ".join(f"{k} {v:.0f}" for k, v in r.rss_mb.items()),
    ]
    busy = r.cpu.get("whole machine", sum(r.cpu.values()))
    if busy >= 85 * usable_cores():
        lines.append(f"  note: the CPUs were saturated ({busy:.0f} % of {usable_cores()} cores): every "
                     "figure above is bounded by the shared machine, not by one process alone")
    elif r.cpu.get("screens", 0) >= 85 * r.screen_procs:
        lines.append("  note: the screens processes were CPU-bound: latency includes their own queueing")
    if r.disturbed:
        lines.append(f"  note: disturbed run: {r.others:.0f} % of a core went to other processes")
    print("\n".join(lines), flush=True)


def print_ratio(product: list[RunResult], baseline: list[RunResult], against: str = "baseline") -> None:
    def ratio(figure: Callable[[RunResult], float]) -> tuple[float, float, float]:
        p = statistics.median(figure(r) for r in product)
        b = statistics.median(figure(r) for r in baseline)
        return (p / b if b else float("nan")), p, b

    which = "medians, " if len(product) > 1 else ""
    fps = ratio(lambda r: r.frames_per_s)
    p99 = ratio(lambda r: r.p99)
    cost = ratio(lambda r: r.node_us_per_frame)
    print(f"product / {against} ({which}higher frames/s is better, lower p99 and CPU/frame are better):\n"
          f"  delivered frames/s     x{fps[0]:.2f}  ({fps[1]:,.0f} vs {fps[2]:,.0f})\n"
          f"  p99 latency            x{p99[0]:.2f}  ({p99[1]:.1f} ms vs {p99[2]:.1f} ms)\n"
          f"  web node CPU per frame x{cost[0]:.2f}  ({cost[1]:.1f} µs vs {cost[2]:.1f} µs)", flush=True)


def print_step(r: RunResult) -> None:
    verdict = "ok" if r.sustained else "NOT sustained"
    nan = float("nan")
    node = r.node_cpu
    screens, machine = (r.cpu.get(k, nan) for k in ("screens", "whole machine"))
    disturbed = " (disturbed)" if r.disturbed else ""
    print(f"  [{r.target}] {r.rate:>5g} ev/s: taken {r.sent_rate:5.1f}/s, "
          f"delivered {100 * r.delivery:6.2f} %, "
          f"{r.frames_per_s:>7,.0f} frames/s, p50 {r.latency_ms['p50']:6.1f} ms, "
          f"p99 {r.p99:7.1f} ms, max {r.latency_ms['max']:7.1f} ms, dropped {r.dropped}; "
          f"CPU % node {node:.0f} ({r.node_us_per_frame:.1f} µs/frame) screens {screens:.0f} "
          f"machine {machine:.0f}, others {r.others:.0f}{disturbed}  -> {verdict}", flush=True)


def rerun_command(args: argparse.Namespace) -> str:
    python = os.path.relpath(sys.executable) if sys.executable.startswith(str(REPO)) else sys.executable
    script = os.path.relpath(Path(__file__).resolve())
    argv = [python, script, "--clients", str(args.clients), "--rate", f"{args.rate:g}",
            "--duration", f"{args.duration:g}", "--engine", args.engine]
    argv += ["--screen-procs", str(args.screen_procs)]
    if args.nodes != 1 or args.proxy != "none":
        argv += ["--nodes", str(args.nodes), "--proxy", args.proxy]
    if args.stats_interval != 5.0:
        argv += ["--stats-interval", f"{args.stats_interval:g}"]
    if args.client_buffer != 4 << 20:
        argv += ["--client-buffer", str(args.client_buffer)]
    if args.nice is not None:
        argv += ["--nice", str(args.nice)]
    if args.baseline:
        argv.append("--baseline")
    if args.repeat != 1:
        argv += ["--repeat", str(args.repeat)]
    if args.find_max:
        argv += ["--find-max", "--steps", ",".join(f"{s:g}" for s in args.steps)]
    return shlex.join(argv)


# --------------------------------------------------------------------------------------------- main


async def run_once(args: argparse.Namespace, tmp: Path, name: str, rate: float) -> RunResult:
    """Start a fresh server (and its Redis), measure one rate on it, stop it."""
    run_dir = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=tmp))
    with contextlib.ExitStack() as stack:  # each server runs alone: the other one is stopped
        if name == "baseline":
            target = start_baseline(stack, run_dir, args)
        else:
            target = start_product(stack, run_dir, args, args.nodes if name == "product" else 1)
        result = await measure(target, args, rate)
        result.target = name
        return result


def print_medians(name: str, runs: list[RunResult], label: str = "") -> None:
    def med(figure: Callable[[RunResult], float]) -> float:
        return statistics.median(figure(r) for r in runs)

    print(f"[{name}] median of {len(runs)} {label}runs: delivered {100 * med(lambda r: r.delivery):.2f} %, "
          f"{med(lambda r: r.frames_per_s):,.0f} frames/s, p50 {med(lambda r: r.latency_ms['p50']):.1f} ms, "
          f"p99 {med(lambda r: r.p99):.1f} ms, max {med(lambda r: r.latency_ms['max']):.1f} ms, "
          f"dropped {sum(r.dropped for r in runs)} in all, "
          f"web node {med(lambda r: r.node_us_per_frame):.1f} µs/frame", flush=True)


async def fixed_rate(args: argparse.Namespace, tmp: Path, names: list[str]) -> None:
    """The load at --rate on each target, --repeat times, the targets taking turns (same background)."""
    runs: dict[str, list[RunResult]] = {name: [] for name in names}
    for i in range(args.repeat):
        for name in names:
            print(f"\n== {name}" + (f", run {i + 1} of {args.repeat}" if args.repeat > 1 else ""), flush=True)
            r = await run_once(args, tmp, name, args.rate)
            runs[name].append(r)
            print_run(r)
    print()
    if args.repeat > 1:
        for name in names:
            print_medians(name, runs[name])
    print_ratios(runs)
    quiet = {name: [r for r in rs if not r.disturbed] for name, rs in runs.items()}
    if args.repeat > 1 and all(quiet.values()) and quiet != runs:
        print(f"\nthe same without the disturbed runs (others above {DISTURBED:g} % of a core):")
        for name in names:
            print_medians(name, quiet[name], "undisturbed ")
        print_ratios(quiet)


def print_ratios(runs: dict[str, list[RunResult]]) -> None:
    for against in (ONE_NODE, "baseline"):
        if against in runs:
            print_ratio(runs["product"], runs[against], against)


async def find_max(args: argparse.Namespace, tmp: Path, names: list[str]) -> None:
    """Step the rate up; at each step the targets take turns, each on a fresh server, until each fails."""
    best: dict[str, float | None] = dict.fromkeys(names)
    going = list(names)
    print(f"\nstepping {', '.join(f'{s:g}' for s in args.steps)} events/s; a step is sustained when "
          f"p99 <= {MAX_P99:g} s, delivery >= {100 * MIN_DELIVERY:g} % and the posts are taken on schedule",
          flush=True)
    for rate in args.steps:
        for name in list(going):
            try:
                r = await run_once(args, tmp, name, rate)
                print_step(r)
                if not r.sustained and r.disturbed:  # other processes took the CPU: give it a second chance
                    print(f"  [{name}] {rate:>5g} ev/s: once more, that run was disturbed", flush=True)
                    r = await run_once(args, tmp, name, rate)
                    print_step(r)
            except RuntimeError as e:
                print(f"  [{name}] {rate:>5g} ev/s: failed: {e}  -> NOT sustained", flush=True)
                going.remove(name)
                continue
            if r.sustained:
                best[name] = rate
            else:
                going.remove(name)
        if not going:
            break
    print()
    for name, rate in best.items():
        shown = f"{rate:g} events/s" if rate is not None else f"none (not even {args.steps[0]:g} events/s)"
        if name in going:
            shown = f"at least {shown} (every step was sustained; add higher --steps)"
        print(f"sustained max rate at {args.clients} clients, {name}: {shown}")
    product, baseline = best.get("product"), best.get("baseline")
    if product and baseline:
        print(f"product / baseline sustained rate: {product / baseline:.2f}")


async def bench(args: argparse.Namespace, tmp: Path) -> None:
    names = ["product"]
    if args.nodes > 1:
        names.append(ONE_NODE)  # the same load on one node in the same run: is the cost per frame flat?
    if args.baseline or args.find_max:
        names.append("baseline")
    if args.find_max:
        await find_max(args, tmp, names)
    else:
        await fixed_rate(args, tmp, names)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clients", type=int, default=1000, help="WebSocket screens (default 1000)")
    p.add_argument("--rate", type=float, default=10.0, help="events per second (default 10)")
    p.add_argument("--duration", type=float, default=20.0, help="seconds of load per run (default 20)")
    p.add_argument("--baseline", action="store_true", help="also run the load against a raw aiohttp server")
    p.add_argument("--find-max", action="store_true",
                   help="step the rate up (see --steps) until p99 > 1 s, delivery < 99 %% or the posts "
                        "fall behind schedule, for the product and the baseline")
    p.add_argument("--repeat", type=int, default=1,
                   help="runs per target at --rate, the targets taking turns; medians are printed too")
    p.add_argument("--steps", type=lambda s: [float(x) for x in s.split(",")], default=list(FIND_MAX_STEPS),
                   help="rates for --find-max, comma-separated (default 10,20,50,100,200)")
    p.add_argument("--nodes", type=int, default=1,
                   help="web nodes on the one Redis (default 1); above 1 the screens and posts go through "
                        "--proxy, and the same load also runs on one node for comparison")
    p.add_argument("--proxy", choices=("none", "caddy"), default=None,
                   help="caddy: Debian's caddy in front of the node(s), with the benchmark's own Caddyfile "
                        "(plain HTTP, reverse_proxy to every node, lb_policy least_conn); default none for "
                        "one node, caddy for more")
    p.add_argument("--engine", choices=("redis", "memory"), default="redis",
                   help="the web node's bus engine (default redis, with a redis-server of its own)")
    p.add_argument("--stats-interval", type=float, default=5.0,
                   help="seconds between the writer's live figures (the product default; 3600 measures the "
                        "inbox hop alone, as the baseline has no figures to send)")
    p.add_argument("--client-buffer", type=int, default=4 << 20,
                   help="web.client_buffer of the node: bytes a screen may lag before it is dropped "
                        "(default 4 MiB, about 6,000 frames)")
    p.add_argument("--screen-procs", type=int, default=usable_cores(),
                   help="processes the screens are spread over (default: one per usable core); reading "
                        "1,000 sockets costs a core, and one process alone adds its queueing to the latency")
    p.add_argument("--connect-concurrency", type=int, default=50, help="screens connecting at once")
    p.add_argument("--drain", type=float, default=5.0,
                   help="seconds the screens may take after the last post to receive everything")
    p.add_argument("--nice", type=int, default=None,
                   help="run the servers and screens at this nice value, their autogroups too (e.g. -10 as "
                        "root on a machine shared with other jobs, so that those disturb the runs less)")
    p.add_argument("--keep", action="store_true", help="keep the temp dir with the servers' logs")
    p.add_argument("--serve-baseline", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if min(args.clients, args.screen_procs, args.repeat) < 1 or args.rate <= 0 or args.duration <= 0:
        p.error("--clients, --rate, --duration, --screen-procs and --repeat must be positive")
    if args.nodes < 1:
        p.error("--nodes must be positive")
    if args.nodes > 1 and args.engine != "redis":
        p.error("--nodes above 1 needs --engine redis: nodes share their walls through Redis")
    if args.proxy is None:
        args.proxy = "caddy" if args.nodes > 1 else "none"
    if args.nodes > 1 and args.proxy == "none":
        p.error("--nodes above 1 needs --proxy caddy: the screens reach the nodes through one address")
    args.screen_procs = min(args.screen_procs, args.clients)
    return args


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # run the same cleanup as Ctrl-C


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve_baseline is not None:
        return serve_baseline(args.serve_baseline)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started in the background
    if args.nice is not None:
        global NICE
        NICE = args.nice
        os.setpriority(os.PRIO_PROCESS, 0, args.nice)  # the load generator (its session is the shell's)
    nofile = raise_nofile()
    print("rerun:  " + rerun_command(args))
    info = machine_info()
    print("machine: " + "; ".join(f"{k} {v}" for k, v in info.items()) + f"; open files {nofile}")
    rates = f"rates {','.join(f'{s:g}' for s in args.steps)}" if args.find_max else f"rate {args.rate:g}"
    print(f"load:   {args.clients} clients, {rates} events/s, duration {args.duration:g} s, "
          f"engine {args.engine}, {args.nodes} web node(s)"
          + (f" behind {args.proxy}" if args.proxy != "none" else "")
          + f", client_buffer {args.client_buffer}, "
          f"screens in {args.screen_procs} process(es)")
    tmp = Path(tempfile.mkdtemp(prefix="wall-fanout-"))
    try:
        asyncio.run(bench(args, tmp))
    except KeyboardInterrupt:
        print("\ninterrupted; servers stopped", file=sys.stderr)
        return 130
    except RuntimeError as e:
        print(f"\nbenchmark failed: {e}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"logs kept in {tmp}")
        else:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
