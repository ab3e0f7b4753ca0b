"""Typed application keys, in one place, and the small interface roles use to add to /healthz."""

from __future__ import annotations

from typing import Protocol

from aiohttp import web

from wall.bus.base import Engine
from wall.config import Config
from wall.store import Store
from wall.web.display import Tally
from wall.web.hub import Hub
from wall.web.looks import Looks
from wall.web.metrics import Metrics
from wall.web.static import StaticFiles


class HealthPart(Protocol):
    """A role running in this process (sources, writers) that adds to /healthz."""

    def wall_health(self, wall: str) -> dict[str, object]:
        """Fields added to the wall's entry."""
        ...

    def problems(self) -> list[str]:
        """Plain sentences for the person who can fix them; any makes the status 'degraded'."""
        ...


CONFIG = web.AppKey("config", Config)
ENGINE = web.AppKey("engine", Engine)
HUBS = web.AppKey("hubs", dict[str, Hub])
METRICS = web.AppKey("metrics", Metrics)
HEALTH = web.AppKey("health", list[HealthPart])
STATIC = web.AppKey("static", StaticFiles)
STORE = web.AppKey("store", Store)
LOOKS = web.AppKey("looks", Looks)  # this node's file against the walls' published looks
NETWORKS = web.AppKey("networks", dict[str, str])  # {post source: display name}, from the connectors
TALLY = web.AppKey("tally", Tally)  # what this node's screens showed since the last flush (display.py)
