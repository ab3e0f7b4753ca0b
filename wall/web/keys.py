"""Typed application keys, in one place."""

from __future__ import annotations

from aiohttp import web

from ingest.base import SourceStatus
from ingest.pipeline import Pipeline
from wall.bus.base import Engine
from wall.config import Config
from wall.web.hub import Hub
from wall.web.metrics import Metrics
from wall.web.static import StaticFiles

CONFIG = web.AppKey("config", Config)
ENGINE = web.AppKey("engine", Engine)
HUBS = web.AppKey("hubs", dict[str, Hub])
METRICS = web.AppKey("metrics", Metrics)
PIPELINE = web.AppKey("pipeline", Pipeline)
SOURCES = web.AppKey("sources", list[SourceStatus])
STATIC = web.AppKey("static", StaticFiles)
NODE = web.AppKey("node", str)
