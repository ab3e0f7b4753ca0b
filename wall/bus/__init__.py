"""Bus engines behind one interface, picked by `bus.engine` in the config."""

from __future__ import annotations

from wall.bus.base import Engine
from wall.config import BusConfig


def open_engine(cfg: BusConfig) -> Engine:
    """The engine the config names; it connects lazily."""
    if cfg.engine == "memory":
        from wall.bus.memory import MemoryEngine

        return MemoryEngine(cfg.stream_maxlen)
    if cfg.engine == "redis":
        from wall.bus.redis import RedisEngine
        from wall.bus.redis.target import target

        return RedisEngine(cfg.redis_url, cfg.stream_maxlen, target(cfg))
    raise ValueError(f"bus.engine: unknown engine {cfg.engine!r}; use memory or redis")
