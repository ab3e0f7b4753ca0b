"""Request-level limits against slow and many clients (the connection-level ones are in runner.py):

- a request body must arrive within `[web] body_timeout` seconds, else 408 and the connection is closed;
- at most `[web] max_sockets_per_client` wall sockets per client address (IPv6: per /64), else 429 before
  the upgrade;
- at most `[web] max_password_checks` argon2 verifications at once, as many again wait, more get 503
  with Retry-After.

Each refusal is counted in /metrics. docs/api.md ("Limits") has the reverse-proxy settings that do the same
at the edge.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from aiohttp import web

from wall.web.address import client_address, client_group
from wall.web.keys import CONFIG, METRICS
from wall.web.metrics import Metrics

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
BUSY_RETRY_AFTER = 1  # seconds: a verification takes a fraction of one


class BodyTimeout(Exception):
    """The request body did not arrive within the deadline (raised in whatever reads it)."""


@web.middleware
async def body_deadline(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every route that reads a body reads it under one deadline: when it passes with the body still
    incomplete, the pending (or next) read raises BodyTimeout, answered here with 408. A handler that
    reads nothing, or a body that arrived in time, is untouched."""
    if not request.body_exists:
        return await handler(request)
    payload = request.content
    timeout = request.app[CONFIG].web.body_timeout

    def expire() -> None:
        if not payload.is_eof():
            payload.set_exception(BodyTimeout())

    timer = asyncio.get_running_loop().call_later(timeout, expire)
    try:
        return await handler(request)
    except BodyTimeout:
        request.app[METRICS].body_timeouts.inc()
        log.info("request body from %s not received within %g s: 408", client_address(request), timeout)
        response = web.Response(status=408, text=f"the request body did not arrive within {timeout:g} s\n")
        response.force_close()  # the rest of the body may still be on its way: do not wait for it
        return response
    finally:
        timer.cancel()


class SocketCount:
    """Open wall sockets per client group, and the cap."""

    def __init__(self, cap: int, metrics: Metrics) -> None:
        self.cap = cap
        self.metrics = metrics
        self.open: Counter[str] = Counter()

    def take(self, group: str) -> bool:
        if self.cap and self.open[group] >= self.cap:
            self.metrics.sockets_refused.inc()
            return False
        self.open[group] += 1
        return True

    def release(self, group: str) -> None:
        self.open[group] -= 1
        if self.open[group] <= 0:
            del self.open[group]


SOCKETS = web.AppKey("wall_sockets_per_client", SocketCount)


def socket_cap(handler: Handler) -> Handler:
    """Guard the wall socket: one client address (a /64 for IPv6) may hold `max_sockets_per_client`
    of them; the next is refused with 429 before the upgrade, which costs nothing to hold open."""

    @functools.wraps(handler)
    async def capped(request: web.Request) -> web.StreamResponse:
        sockets = request.app[SOCKETS]
        group = client_group(client_address(request))
        if not sockets.take(group):
            raise web.HTTPTooManyRequests(
                text=f"too many wall sockets from one address (at most {sockets.cap}); close a screen or "
                     f"raise web.max_sockets_per_client", headers={"Retry-After": "30"})
        try:
            return await handler(request)
        finally:
            sockets.release(group)

    return capped


class Busy(Exception):
    """All password-verification slots and their queue are taken: try again in a moment."""


class PasswordChecks:
    """At most `limit` password verifications at once (each argon2 check holds 64 MiB and a core for
    tens of milliseconds); as many again wait their turn; more are refused at once with Busy."""

    def __init__(self, limit: int, metrics: Metrics) -> None:
        self.limit = limit
        self.metrics = metrics
        self._slots = asyncio.Semaphore(limit)
        self._admitted = 0  # running and waiting

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self._admitted >= 2 * self.limit:
            self.metrics.password_checks_refused.inc()
            raise Busy
        self._admitted += 1
        try:
            async with self._slots:
                self.metrics.password_checks.inc()
                try:
                    yield
                finally:
                    self.metrics.password_checks.dec()
        finally:
            self._admitted -= 1


PASSWORD_CHECKS = web.AppKey("password_checks", PasswordChecks)


def password_check(request: web.Request) -> AbstractAsyncContextManager[None]:
    """`async with password_check(request):` around a password verification; raises Busy when the
    node already checks as many as it may (answer 503 with Retry-After: BUSY_RETRY_AFTER)."""
    return request.app[PASSWORD_CHECKS].slot()


def add_limits(app: web.Application) -> None:
    """The counters these limits keep on a web node (app[CONFIG] and app[METRICS] set)."""
    cfg = app[CONFIG].web
    app[SOCKETS] = SocketCount(cfg.max_sockets_per_client, app[METRICS])
    app[PASSWORD_CHECKS] = PasswordChecks(cfg.max_password_checks, app[METRICS])
