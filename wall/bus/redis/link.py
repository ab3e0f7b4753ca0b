"""The engine's link to Redis: the client, one command at a time with status kept, pub/sub, the scripts.

Every part of the engine (stream, inbox, coordination) talks to Redis through one Link, so status() tells
the truth whichever part last spoke.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from importlib.resources import files
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from wall.bus.base import BusStatus
from wall.bus.redis.target import Target, client

ENGINE = "redis"
HEARTBEAT = 5.0  # seconds of pub/sub silence before a PING; no answer in as long again means the link is dead
COMMAND_TIMEOUT = 10.0  # seconds for one command, connecting included
# Errors that mean "Redis is unreachable": the subscriber reconnects, status() says disconnected.
LINK_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)
# Every Lua script, each in its own file beside this module (package data: wheels carry them).
SCRIPTS = ("publish", "range", "lease", "admit", "commit", "announce", "forget")


def script_source(name: str) -> str:
    return (files(__package__) / f"{name}.lua").read_text(encoding="utf-8")


SOURCES = {name: script_source(name) for name in SCRIPTS}  # read once, at import


def describe(error: BaseException) -> str:
    """The error as status() and the logs show it: redis-py's own words, without the context we add."""
    said = getattr(error, "bus_said", None)
    if said is not None:
        return str(said)
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def decode(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class Link:
    """A lazily connected client with its scripts, and the status of the last thing it tried."""

    def __init__(self, target: Target) -> None:
        self.target = target  # the URL, or the sentinels that name the primary (target.py)
        self.safe_url = target.name()  # never a password
        self.heartbeat = HEARTBEAT
        self.closed = False
        self._redis: Redis | None = None
        self.scripts: dict[str, AsyncScript] = {}
        self._status = BusStatus(ENGINE, False, None)
        self._pubsubs: set[PubSub] = set()

    def client(self) -> Redis:
        if self.closed:
            raise RuntimeError(f"the Redis bus at {self.safe_url} is closed")
        if self._redis is None:
            self._redis = client(self.target)  # the one place a client is built
            self.scripts = {name: self._redis.register_script(src) for name, src in SOURCES.items()}
        return self._redis

    def up(self) -> None:
        if not self._status.connected:
            self._status = BusStatus(ENGINE, True, None)

    def down(self, error: BaseException) -> None:
        self._status = BusStatus(ENGINE, False, describe(error))

    def status(self) -> BusStatus:
        return self._status

    async def call(self, op: Callable[[Redis], Awaitable[Any]]) -> Any:
        """Run one command, keeping status() up to date; errors propagate to the caller. redis-py's
        replies are loosely typed (bytes, str, lists of either): callers decode what they expect."""
        try:
            async with asyncio.timeout(COMMAND_TIMEOUT):
                result = await op(self.client())
        except TimeoutError as e:  # ours, from asyncio.timeout
            said = f"TimeoutError: no answer within {COMMAND_TIMEOUT:g} s"
            error = RedisTimeoutError(f"Redis at {self.safe_url} is unreachable: {said}")
            error.bus_said = said  # type: ignore[attr-defined]
            self.down(error)
            raise error from e
        except LINK_ERRORS as e:
            self.down(e)
            # redis-py's message may not say which server ("Connection closed by server."): add it.
            said = describe(e)
            lost: Exception = type(e)(f"Redis at {self.safe_url} is unreachable: {said}")
            lost.bus_said = said  # type: ignore[attr-defined]
            raise lost from e
        self.up()
        return result

    async def script(self, name: str, keys: list[str], args: list[Any]) -> Any:
        """Run one of SCRIPTS (EVALSHA, loading it first if Redis does not know it yet)."""
        return await self.call(lambda r: self.scripts[name](keys=keys, args=args))

    async def subscribed(self, channel: str) -> PubSub:
        """A pub/sub connection whose SUBSCRIBE Redis has confirmed: from then on nothing is missed."""
        pubsub = self.client().pubsub()
        self._pubsubs.add(pubsub)
        try:
            async with asyncio.timeout(self.heartbeat * 2):
                await pubsub.subscribe(channel)
                while True:
                    reply = await pubsub.get_message(timeout=self.heartbeat)
                    if reply is not None and reply["type"] == "subscribe":
                        break
        except BaseException as e:
            await self.unsubscribe(pubsub)
            if isinstance(e, TimeoutError):
                raise RedisTimeoutError(
                    f"Redis did not take the subscription within {self.heartbeat * 2:g} s") from e
            raise
        self.up()
        return pubsub

    async def unsubscribe(self, pubsub: PubSub) -> None:
        self._pubsubs.discard(pubsub)
        await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def next_message(self, pubsub: PubSub) -> bytes:
        """The next published payload; PINGs a quiet connection and raises if it stays silent."""
        pinged_at: float | None = None
        while True:
            reply = await pubsub.get_message(timeout=self.heartbeat)
            if reply is None:
                if pinged_at is not None and time.monotonic() - pinged_at >= self.heartbeat:
                    raise RedisTimeoutError(f"Redis did not answer a PING within {self.heartbeat:g} s")
                if pinged_at is None:
                    async with asyncio.timeout(self.heartbeat):
                        await pubsub.ping()
                    pinged_at = time.monotonic()
                continue
            pinged_at = None
            if reply["type"] == "message":
                return bytes(reply["data"])
            if reply["type"] == "subscribe":
                # redis-py re-subscribed behind our back: events may have been missed meanwhile.
                raise RedisConnectionError("the pub/sub connection was re-established")

    async def close(self) -> None:
        self.closed = True
        for pubsub in list(self._pubsubs):
            await pubsub.aclose()  # type: ignore[no-untyped-call]
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None
        self._status = BusStatus(ENGINE, False, "closed")
