"""Serving a web node with the connection-level limits aiohttp leaves to the application:

- at most `[web] max_connections_per_client` open connections per client address (IPv6: per /64); the
  next one is aborted as soon as it is accepted (a reset: no handler, no request read) and counted;
  connections from `[web] trusted_proxies` are not capped (one proxy carries many clients, and caps them
  at the edge);
- file descriptors exhausted: asyncio's accept loop reports every failed accept() to the loop's exception
  handler with a traceback, and leaves the connection waiting in the backlog. Here the node keeps one
  spare descriptor: it frees it, accepts the waiting connection, closes it (the client sees a refusal at
  once, not a hang) and takes the spare again; the log gets one line per LOG_EVERY seconds with the count.

`Runner` is an aiohttp AppRunner with these limits; `run()` is `web.run_app` with it (wall/cli.py), and
SIGTERM drains first (wall/web/drain.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import resource
import signal
import socket
import struct
import time
from collections import Counter
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_server import Server

from wall.config import WebConfig
from wall.web.accesslog import AccessLogger
from wall.web.address import client_group, networks, trusted
from wall.web.drain import drain
from wall.web.keys import CONFIG, METRICS
from wall.web.metrics import Metrics

log = logging.getLogger(__name__)
LOG_EVERY = 10.0  # seconds between two "out of file descriptors" lines
OUT_OF_RESOURCES = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
KEEPALIVE = 75.0  # seconds an idle connection (or one that never sends a request) stays open: run_app's


class GuardedServer(Server):
    """aiohttp's connection manager, counting connections per client group and aborting those over cap."""

    def __init__(self, inner: Server, web_cfg: WebConfig, metrics: Metrics) -> None:
        # The app builds its Server; this one takes its handler and settings (aiohttp has no public hook
        # between a connection being accepted and its handler starting).
        super().__init__(inner.request_handler, request_factory=inner.request_factory,
                         handler_cancellation=inner.handler_cancellation, loop=asyncio.get_running_loop(),
                         **inner._kwargs)
        self.cap = web_cfg.max_connections_per_client
        self.proxies = networks(web_cfg.trusted_proxies)
        self.metrics = metrics
        self.open: Counter[str] = Counter()
        self._groups: dict[RequestHandler, str] = {}

    def connection_made(self, handler: RequestHandler, transport: asyncio.Transport) -> None:
        peer = transport.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, tuple) else ""
        group = client_group(address)
        if self.cap and not trusted(address, self.proxies) and self.open[group] >= self.cap:
            self.metrics.connections_refused.labels("per_client").inc()
            transport.abort()  # the handler sees connection_lost at once and never reads a request
            return
        self.open[group] += 1
        self._groups[handler] = group
        self.metrics.connections.inc()
        super().connection_made(handler, transport)

    def connection_lost(self, handler: RequestHandler, exc: BaseException | None = None) -> None:
        group = self._groups.pop(handler, None)
        if group is not None:
            self.metrics.connections.dec()
            self.open[group] -= 1
            if self.open[group] <= 0:
                del self.open[group]
        super().connection_lost(handler, exc)


class OutOfFiles:
    """The loop's exception handler while the node serves: accept() out of descriptors refuses the
    waiting connections and logs one line per LOG_EVERY seconds; anything else goes to the handler
    that was there before."""

    def __init__(self, loop: asyncio.AbstractEventLoop, metrics: Metrics) -> None:
        self.loop = loop
        self.metrics = metrics
        self.previous = loop.get_exception_handler()
        self.spare: int | None = os.open(os.devnull, os.O_RDONLY)
        self.refused = 0  # since the last line
        self.last_line = float("-inf")

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        listener = context.get("socket")
        if not (isinstance(exc, OSError) and exc.errno in OUT_OF_RESOURCES and listener is not None):
            if self.previous is not None:
                self.previous(loop, context)
            else:
                loop.default_exception_handler(context)
            return
        # asyncio calls this up to `backlog` times per wakeup (Linux says EMFILE before it looks at the
        # queue): only the calls that found connections waiting count them.
        refused = self._refuse_waiting(listener.fileno())
        self.metrics.connections_refused.labels("out_of_fds").inc(refused)
        self.refused += refused
        now = time.monotonic()
        if now - self.last_line >= LOG_EVERY:
            log.error("out of file descriptors (%s, limit %d): %d connection(s) refused since the last such "
                      "line; raise the limit (systemd LimitNOFILE=) or lower web.max_connections_per_client",
                      exc.strerror, _nofile_limit(), self.refused)
            self.refused, self.last_line = 0, now

    def _refuse_waiting(self, fd: int) -> int:
        """Accept and close the connections waiting on the listening socket, with the spare descriptor."""
        if self.spare is not None:  # else another thread took it last time: maybe one is free now
            os.close(self.spare)
            self.spare = None
        refused = 0
        listener = socket.socket(fileno=fd)  # the loop's own listening socket: detached, never closed here
        try:
            listener.setblocking(False)
            for _ in range(100):  # the backlog, in bounded bites (the loop retries accept() in a second)
                try:
                    conn, _ = listener.accept()
                except OSError:  # nothing waiting, or the spare went elsewhere
                    break
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()  # with linger 0: a reset, the client knows at once
                refused += 1
        finally:
            listener.detach()
            with contextlib.suppress(OSError):  # taken meanwhile by another thread: next time
                self.spare = os.open(os.devnull, os.O_RDONLY)
        return refused

    def close(self) -> None:
        self.loop.set_exception_handler(self.previous)
        if self.spare is not None:
            os.close(self.spare)
            self.spare = None


def _nofile_limit() -> int:
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Runner(web.AppRunner):
    """An AppRunner for a web node (wall/web/app.py) with the connection limits above."""

    def __init__(self, app: web.Application, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._out_of_files: OutOfFiles | None = None

    async def _make_server(self) -> Server:
        inner = await super()._make_server()
        return GuardedServer(inner, self.app[CONFIG].web, self.app[METRICS])

    async def setup(self) -> None:
        await super().setup()
        self._out_of_files = OutOfFiles(asyncio.get_running_loop(), self.app[METRICS])
        self._out_of_files.loop.set_exception_handler(self._out_of_files)

    async def cleanup(self) -> None:
        try:
            await super().cleanup()
        finally:
            if self._out_of_files is not None:
                self._out_of_files.close()
                self._out_of_files = None


def run(app: web.Application, host: str, port: int) -> None:
    """Serve the app with the limits, as `web.run_app` does. SIGTERM (a service stop, a rolling restart)
    drains first, then stops; SIGINT (Ctrl-C), or a second SIGTERM, stops at once. Stopping closes the
    listener, lets requests in flight finish, and closes the screens' sockets that are left."""

    async def serve() -> None:
        runner = Runner(app, handle_signals=False, access_log_class=AccessLogger, keepalive_timeout=KEEPALIVE)
        loop, stop = asyncio.get_running_loop(), asyncio.Event()
        draining: asyncio.Task[None] | None = None

        def terminate() -> None:
            nonlocal draining
            if draining is None:
                draining = asyncio.create_task(drain(app))
                draining.add_done_callback(lambda _: stop.set())
            else:
                stop.set()

        # Before setup: a stop during a slow start (models loading) waits for it instead of killing it.
        loop.add_signal_handler(signal.SIGTERM, terminate)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
            await stop.wait()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            if draining is not None:
                draining.cancel()
            await runner.cleanup()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
