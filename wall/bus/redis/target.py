"""Where the Redis engine finds Redis: one URL, or the primary that Redis Sentinel names (docs/redis.md).

Every connection the engine makes (the stream, pub/sub, leases, the inbox) comes from the one client built
here, so after a failover each new connection goes to the promoted primary. Also the probe a feed uses to
come back as soon as Redis answers again, instead of sleeping out a long backoff.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from wall.bus.base import backoff
from wall.config import BusConfig
from wall.redact import redact_url

SENTINEL_TIMEOUT = 2.0  # seconds for a sentinel to answer "who is the primary?": then the next one is asked
PROBE_EVERY = (0.1, 0.3)  # seconds between PINGs while Redis is down (jittered: walls do not probe in step)
PROBE_TIMEOUT = 2.0


@dataclass(frozen=True)
class Target:
    """Where Redis is and what each admit must wait for."""

    url: str = "redis://127.0.0.1:6379/0"
    sentinels: tuple[tuple[str, int], ...] = ()  # with them, url is not used
    master_name: str = ""
    password: str | None = field(default=None, repr=False)  # never in a log line, even by mistake
    sentinel_password: str | None = field(default=None, repr=False)
    replicas: int = 0  # replicas that must acknowledge each admit (WAIT); 0: none
    replica_timeout: float = 1.0

    def name(self) -> str:
        """For logs and status: never a password (a URL's is redacted, the sentinels' are not in it)."""
        if not self.sentinels:
            return redact_url(self.url, keep_path=True)  # the db number helps; the password goes
        sentinels = ",".join(f"{h}:{p}" for h, p in self.sentinels)
        return f"{self.master_name} (Sentinel {sentinels})"  # no scheme: the log's URL redaction leaves it


def target(cfg: BusConfig) -> Target:
    """The Target a [bus] section describes (checked by wall/config.py)."""
    sentinels = tuple((host, int(port)) for host, _, port in (s.rpartition(":") for s in cfg.sentinels))
    return Target(url=cfg.redis_url, sentinels=sentinels, master_name=cfg.master_name, password=cfg.password,
                sentinel_password=cfg.sentinel_password,
                replicas=cfg.replicas if cfg.durability == "replica" else 0,
                replica_timeout=cfg.replica_timeout)


def client(to: Target) -> Redis:
    """A client whose pool connects to the primary: the URL's server, or the one the sentinels name at
    each new connection (a connection to a demoted primary fails on its next write and is replaced)."""
    # No retries inside redis-py: a retried XADD could append twice, and a pub/sub connection silently
    # re-established would hide the events published while it was down. RESP2 because with RESP3 redis-py
    # 8 skips its check for pooled connections the server has closed, so the first command after a Redis
    # restart would fail. socket_timeout=None: with one every write goes through asyncio.wait_for, which on
    # Python 3.11 can swallow a task's cancellation; the engine times out with asyncio.timeout instead.
    common: dict[str, Any] = {"retry": Retry(NoBackoff(), 0), "socket_connect_timeout": 5.0,
                              "socket_timeout": None, "protocol": 2}
    if not to.sentinels:
        return Redis.from_url(to.url, **common)
    asking = {"password": to.sentinel_password, "protocol": 2, "socket_connect_timeout": SENTINEL_TIMEOUT,
              "socket_timeout": SENTINEL_TIMEOUT}
    sentinel = Sentinel(list(to.sentinels), password=to.password, sentinel_kwargs=asking,  # type: ignore[no-untyped-call]
                        **common)
    primary: Redis = sentinel.master_for(to.master_name)
    return primary


async def answers(redis: Redis) -> bool:
    """Whether the primary answers a PING now."""
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            await redis.ping()
    except (RedisError, OSError, TimeoutError):
        return False
    return True


async def until_up(redis: Callable[[], Redis], attempt: int, closed: Callable[[], bool]) -> None:
    """Wait until Redis answers again (or the engine is closed), probing every few hundred ms: a feed that
    slept out an exponential backoff (up to 10 s) left screens without news long after Redis was back. The
    first pause still grows a little with `attempt` (to 1 s), so a link that answers PING but keeps failing
    is not hammered."""
    await asyncio.sleep(backoff(attempt, base=0.05, cap=1.0))
    while not closed() and not await answers(redis()):
        await asyncio.sleep(random.uniform(*PROBE_EVERY))
