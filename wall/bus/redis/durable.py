"""What a 2xx from the webhook promises with the Redis engine (docs/redis.md, `[bus] durability`).

- "replica": each admit is followed, on the same connection, by `WAIT replicas timeout`; fewer
  acknowledgements raise NotReplicated (the webhook answers 503 with Retry-After, the sender retries, and
  the dedupe on the post id makes the retry safe).
- "fsync": the primary runs `appendfsync always`, so Redis answers a write only once its AOF is fsynced.
- "memory": Redis's memory only: the explicit choice for one box.

The primary's own settings are checked (primary_problems) at start and every minute, since a failover can
promote a server configured otherwise: a mismatch is a WARNING in the log and a problem in /healthz.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from wall.bus.redis.target import Target, client, target
from wall.config import BusConfig

log = logging.getLogger(__name__)
RECHECK = 60.0  # seconds between checks of the primary's settings (a failover may change them)


class NotReplicated(RedisError):
    """Fewer replicas than configured acknowledged the write in time: it may be lost in a failover."""


async def admit(redis: Redis, script: Any, keys: list[Any], args: list[Any], seen_key: str, ttl: int,
                to: Target) -> Any:
    """Run the admit script; with `to.replicas`, return only once that many replicas have it."""
    if not to.replicas:
        return await script(keys=keys, args=args)
    pipe = redis.pipeline(transaction=False)  # one connection: WAIT covers what this connection wrote
    await script(keys=keys, args=args, client=pipe)
    # The first try of this post may have been written and not acknowledged (its sender got a 503); this
    # try is then a duplicate that writes nothing. Whether a command that wrote nothing moves the offset
    # WAIT waits for differs between Redis versions (7.0: it does); touching the digest makes it a write
    # on every version, so this reply waits for everything the primary had, that first write included.
    pipe.expire(seen_key, ttl)
    pipe.wait(to.replicas, max(1, int(to.replica_timeout * 1000)))
    reply, _, acked = await pipe.execute()
    if int(acked) < to.replicas:
        raise NotReplicated(f"{acked} of {to.replicas} replicas acknowledged the post within "
                            f"{to.replica_timeout:g} s")
    return reply


def primary_problems(durability: str, replicas: int, info: dict[str, Any], appendfsync: str,
                     appendonly: str) -> list[str]:
    """What the primary lacks for the configured durability (pure: the caller reads INFO and CONFIG)."""
    if durability == "fsync" and (appendonly != "yes" or appendfsync != "always"):
        return [f"bus.durability is \"fsync\" but the primary has appendonly {appendonly}, appendfsync "
                f"{appendfsync}: an accepted post can be lost if Redis crashes; set `appendonly yes` and "
                "`appendfsync always` on every Redis server, or choose bus.durability = \"memory\" knowingly"]
    if durability == "replica":
        online = sum(1 for key, value in info.items() if key.startswith("slave") and key[5:].isdigit()
                     and isinstance(value, dict) and value.get("state") == "online")
        if info.get("role") != "master":
            return ["bus.durability is \"replica\" but the server answering is not a primary"]
        if online < replicas:
            return [f"bus.durability is \"replica\" with replicas = {replicas} but the primary has {online} "
                    "replica(s) online: the webhook answers 503 until enough replicas acknowledge posts; "
                    "start or repair a replica (`replicaof <primary> <port>`)"]
    return []


async def check_primary(redis: Redis, durability: str, replicas: int) -> list[str]:
    """Ask the primary what it really does (INFO replication, CONFIG GET) and compare with the config."""
    if durability == "memory":
        return []
    try:
        info = await redis.info("replication")
        config = await redis.config_get("append*")
    except RedisError as e:
        if "unknown command" in str(e).lower() or "NOPERM" in str(e):  # CONFIG renamed or denied
            return [f"bus.durability: cannot check the primary's settings ({type(e).__name__}); make sure "
                    "it has what bus.durability claims"]
        raise

    def text(v: Any) -> str:
        return v.decode() if isinstance(v, bytes) else str(v)

    settings = {text(k): text(v) for k, v in config.items()}
    return primary_problems(durability, replicas, info, settings.get("appendfsync", "?"),
                            settings.get("appendonly", "?"))


class PrimaryWatch:
    """Checks at start and every minute that the primary does what `[bus] durability` claims; says so at
    WARNING when it does not (once per change) and in /healthz (a HealthPart: problems())."""

    def __init__(self, cfg: BusConfig, every: float = RECHECK) -> None:
        self.cfg = cfg
        self.every = every
        self.found: list[str] = []
        self.checked = asyncio.Event()  # set after the first check that reached Redis
        self._task: asyncio.Task[None] | None = None
        self._redis: Redis | None = None

    async def __aenter__(self) -> PrimaryWatch:
        if self.cfg.engine == "redis" and self.cfg.durability != "memory":
            self._redis = client(target(self.cfg))
            self._task = asyncio.create_task(self._watch(), name="durability watch")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._redis is not None:
            await self._redis.aclose()

    async def _watch(self) -> None:
        assert self._redis is not None
        while True:
            try:
                async with asyncio.timeout(10.0):
                    found = await check_primary(self._redis, self.cfg.durability, self.cfg.replicas)
            except (RedisError, OSError, TimeoutError):
                found = self.found  # Redis is down: the bus status says so; keep what we knew
            else:
                for problem in found:
                    if problem not in self.found:
                        log.warning("%s", problem)
                if self.found and not found:
                    log.info("the Redis primary now does what bus.durability = %r says", self.cfg.durability)
                self.checked.set()
            self.found = found
            await asyncio.sleep(self.every if self.checked.is_set() else 1.0)

    def wall_health(self, wall: str) -> dict[str, object]:
        return {}

    def problems(self) -> list[str]:
        return list(self.found)

