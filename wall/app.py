"""The composition root: builds the shared services once and runs the roles a process is given.

Roles: "web" (pages, screens' socket, JSON API, health), "webhook" (the ingest role's routes on a web
node), "sources" (pulled connectors into the wall inboxes), "curate" (one writer per wall, leased).
`wall demo` runs all four in one process; `wall serve` runs web + webhook; `wall ingest` runs sources +
curate (docs/architecture.md). Only this module and cli.py know every role.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import secrets
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import msgspec
from aiohttp import web
from prometheus_client import CollectorRegistry

from ingest.enrich import language
from ingest.enrich.learning import Learner, Learners
from ingest.enrich.pipeline import Enricher, Item, config_from
from ingest.pipeline import Pipeline
from ingest.registry import check_options, display_names
from ingest.sources.webhook import add_webhook_routes
from ingest.supervisor import Sources
from wall import look
from wall.alerts.job import AlertJob
from wall.bus import open_engine
from wall.bus.base import RECENT_KEPT, Bus, Engine, writer_lease
from wall.bus.memory import MemoryEngine
from wall.bus.redis.durable import PrimaryWatch
from wall.config import Config, ConfigError, load, parse
from wall.curate import rules
from wall.curate.actions import Actions
from wall.curate.autoadvance import AutoAdvance
from wall.curate.writer import Annotate, Writers
from wall.digests.compose import compose
from wall.digests.job import DigestJobs
from wall.models import Post
from wall.privacy.retention import RetentionJobs, forget_media
from wall.store import Store, connect
from wall.web.app import create_web_app
from wall.web.keys import CONFIG, ENGINE, HEALTH, LOOKS, METRICS, NETWORKS, STORE
from wall.web.looks import Looks
from wall.web.media import MEDIA
from wall.web.metrics import Metrics
from wall.web.moderation import ACTIONS  # the console's moderation service: built once per process

log = logging.getLogger(__name__)
Role = str
ALL: frozenset[Role] = frozenset({"web", "webhook", "sources", "curate"})
SERVE: frozenset[Role] = frozenset({"web", "webhook"})
INGEST: frozenset[Role] = frozenset({"sources", "curate"})


def load_config(path: str | Path, env: dict[str, str] | None = None) -> Config:
    """The config file, validated with every source type's own options and each wall's enrichment
    settings (raises ConfigError listing every problem)."""
    return _check_enrich(load(path, check_options, env))


def parse_config(data: dict[str, Any], env: dict[str, str] | None = None) -> Config:
    """TOML data as a Config, validated like load_config()."""
    return _check_enrich(parse(data, check_options, env))


def _check_enrich(cfg: Config) -> Config:
    problems = []
    for wall in cfg.walls.values():
        try:
            config_from(wall.enrich)
        except ValueError as e:
            problems.append(f"walls.{wall.name}.enrich: {str(e).removeprefix('enrich config: ')}")
        settings = dict(wall.moderation)
        try:
            rules.policy_from(str(settings.pop("mode", "post")), settings, f"walls.{wall.name}.moderation")
        except ValueError as e:
            problems.append(str(e))
    if problems:
        raise ConfigError(problems)
    return cfg


def annotator(enricher: Enricher) -> Annotate:
    """The wall's enrichment as the curation writer runs it: one Enricher (it keeps the wall's safety
    state), posts in, the same posts with their annotations out."""

    def annotate(posts: list[Post]) -> list[Post]:
        items = [Item(p.text, p.author.handle or p.author.name or None, p.created_at.timestamp(), p.lang)
                 for p in posts]
        out = []
        for post, ann in zip(posts, enricher.enrich_batch(items), strict=True):
            out.append(msgspec.structs.replace(
                post, lang=post.lang or ann.lang, sentiment=ann.sentiment, topics=tuple(ann.topics),
                competitors=tuple(ann.competitors), brand=ann.brand_mentioned, flags=tuple(ann.flags),
                profanity=tuple(ann.profanity)))
        return out

    return annotate


def node_name() -> str:
    """This process's name in leases and logs."""
    return f"node-{secrets.token_hex(4)}"


def workers(cfg: Config, roles: frozenset[Role], engine: Engine, owner: str,
            store: Store | None = None, registry: CollectorRegistry | None = None) -> list[Any]:
    """The background roles (sources, curate; the web role's alerts job) as async context managers.
    Sources report their health through the engine (any worker may run them); the writers report theirs
    in this process's /healthz."""
    parts: list[Any] = []
    if "curate" in roles:
        parts.append(Warmup())  # first: nothing time-sensitive may run while it holds the GIL
    if roles & {"webhook", "sources"}:  # what admits posts promises what [bus] durability says: check it
        parts.append(PrimaryWatch(cfg.bus))
    if "sources" in roles:
        parts.append(Sources(cfg, Pipeline(engine), engine, owner))
    if "curate" in roles:
        enrichers = {name: Enricher(config_from(w.enrich)) for name, w in cfg.walls.items()}
        on_screen = frozenset(name for name, e in enrichers.items() if e.config.spikes_on_screen)
        writers = Writers(list(cfg.walls), engine, owner, cfg.stats_interval,
                          {name: annotator(e) for name, e in enrichers.items()}, store=store,
                          moderation={name: w.moderation for name, w in cfg.walls.items()},
                          optouts={name: w.optout for name, w in cfg.walls.items()},
                          alerts_on_screen=on_screen,
                          fold_windows={name: e.config.fold_window for name, e in enrichers.items()},
                          rollups={name: w.rollups for name, w in cfg.walls.items()})
        if store is not None:  # first: a stored model version is in use before the first post is scored
            parts.append(Learners([
                Learner(name, store.labels, e, e.config.learning, functools.partial(writers.leading, name),
                        e.config.sentiment_terms or None)
                for name, e in enrichers.items() if e.config.learning.enabled]))
        parts.append(writers)
        if store is not None:  # the role every deployment runs somewhere, beside the store it clears
            parts.append(RetentionJobs(cfg.walls.values(), engine, store, owner, registry))
        if store is not None:  # the rundown's auto-advance, one process per wall (leased)
            parts.append(AutoAdvance(cfg.walls, engine, Actions(store, engine, cfg), owner))
        if store is not None and cfg.smtp is not None:  # each wall's digest, once per period (leased)
            parts.append(DigestJobs(cfg.walls.values(), cfg.smtp, engine, store, owner, compose))
    if "web" in roles and store is not None and any(w.alerts.targets for w in cfg.walls.values()):
        # Web nodes, not writers: a dead writer is noticed by a process that is not it (docs/alerts.md).
        parts.append(AlertJob(cfg, engine, store, owner))
    return parts


class Warmup:
    """Loads the enrichment models once, at start, before the writers and sources start (so no post
    stalls the wall while a model is first needed). It is awaited, not left running beside them: loading
    lingua's models holds the GIL for seconds (3.8 s measured), so on a worker thread it froze the event
    loop all the same, and a Redis connect started meanwhile timed out (5 s) on a loaded machine."""

    async def __aenter__(self) -> Warmup:
        await asyncio.to_thread(language.warm)
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


def create_app(cfg: Config, roles: frozenset[Role] = SERVE, engine: Engine | None = None,
               store: Store | None = None, config_path: Path | None = None) -> web.Application:
    """A web node with the given roles. An engine or store handed in belongs to the caller (the memory
    engine keeps its state in the store only when this app opened both: docs/store.md). With the
    config's path, SIGHUP reloads it: walls' themes and runs of show change live on every screen of every
    node (reload_config)."""
    bus = engine or open_engine(cfg.bus)
    owner = node_name()

    async def engine_ctx(app: web.Application) -> AsyncIterator[None]:
        app[ENGINE] = bus
        yield
        if engine is None:
            await bus.close()

    async def store_ctx(app: web.Application) -> AsyncIterator[None]:
        # The system of record (decisions, bans, policies, controls): every role of the process uses it.
        async with AsyncExitStack() as stack:
            opened: Store = store if store is not None else await stack.enter_async_context(
                connect(cfg.store.url))
            if isinstance(bus, MemoryEngine) and engine is None and store is None:
                # A box without Redis (`wall serve`, `wall demo`): the bus's state outlives the process.
                # A store handed in is the caller's, who may run several nodes on it (tests do).
                await bus.keep(opened.bus_state(cfg.bus.stream_maxlen, RECENT_KEPT), cfg.walls)
            app[STORE] = opened
            app[ACTIONS] = Actions(opened, bus, cfg)
            yield

    async def workers_ctx(app: web.Application) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for part in workers(cfg, roles, bus, owner, app[STORE], app[METRICS].registry):
                entered = await stack.enter_async_context(part)
                if isinstance(entered, Writers | PrimaryWatch | RetentionJobs | DigestJobs | AlertJob):
                    app[HEALTH].append(entered)
            if "curate" not in roles:
                await _say_if_no_writer(cfg, bus)
            yield

    app = create_web_app(cfg, Metrics(), before=[engine_ctx, store_ctx, workers_ctx])
    app.cleanup_ctx.append(_media_retention_ctx)
    app[NETWORKS] = display_names()  # pages and the console name networks as the connectors do
    if config_path is not None:
        app[LOOKS].watch(config_path, load_config)  # /healthz compares it with the wall's look
        app.cleanup_ctx.append(_hangup_ctx(config_path))
    if "webhook" in roles:
        add_webhook_routes(app, Pipeline(bus))
    return app


async def _media_retention_ctx(app: web.Application) -> AsyncIterator[None]:
    """This node's media cache forgets images past the walls' retention (docs/retention.md)."""
    task = asyncio.create_task(forget_media(app[MEDIA].cache, app[CONFIG].walls.values()))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def reload_config(path: Path, bus: Bus, by: str, looks: Looks | None = None) -> bool:
    """Read the config file again and publish the look of each of its walls (theme, run of show, night,
    ticker; wall/look.py): every web node applies it to its screens. A file with problems changes nothing
    and says why, in the log and (on a web node) in /healthz. Other changes take effect at the next start."""
    try:
        cfg = load_config(path)
    except ConfigError as e:
        log.error("config %s not reloaded, it has problems (the running config stays):", path)
        for problem in e.problems:  # one line each: the log escapes line breaks inside a message
            log.error("  %s", problem)
        if looks is not None:
            looks.failed(e.problems)
        return False
    if looks is not None:
        looks.loaded(cfg)
    try:
        published = await look.publish_all(bus, cfg.walls.values(), by)
    except Exception as e:
        log.error("config %s read, but its walls' looks were not published (%s): every screen keeps the "
                  "look it has; reload again once the bus answers", path, e)
        if looks is not None:
            looks.failed([f"publishing the walls' looks: {e}"])
        return False
    log.info("config %s reloaded: published the look of %s; every node's screens take it; other changes "
             "take effect at the next start", path, ", ".join(f"{w} ({d})" for w, d in published.items()))
    return True


def _reload_on_hangup(path: Path, bus: Bus, by: str, looks: Looks | None = None) -> Callable[[], None]:
    """`kill -HUP` (systemctl reload) on any process: reload_config, in a task kept until it ends."""
    tasks: set[asyncio.Task[bool]] = set()

    def hangup() -> None:
        task = asyncio.create_task(reload_config(path, bus, by, looks))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    return hangup


def _hangup_ctx(path: Path) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGHUP, _reload_on_hangup(path, app[ENGINE], app[LOOKS].name,
                                                                 app[LOOKS]))
        yield
        loop.remove_signal_handler(signal.SIGHUP)

    return ctx


async def _say_if_no_writer(cfg: Config, engine: Engine) -> None:
    """A web node without writers for its walls shows nothing new: say so where the operator looks."""
    for wall in cfg.walls:
        with contextlib.suppress(Exception):  # the bus being down is reported by the hubs
            if await engine.holder(writer_lease(wall)) is None:
                log.warning("wall %s: no curation writer holds its lease yet: posts wait in its inbox "
                            "until `wall ingest --config FILE` runs", wall)


async def run_workers(cfg: Config, roles: frozenset[Role] = INGEST,
                      on_ready: Callable[[], None] | None = None, config_path: Path | None = None) -> int:
    """Run the background roles without a web node (`wall ingest`) until SIGINT or SIGTERM; SIGHUP
    publishes the file's walls' looks (reload_config)."""
    engine = open_engine(cfg.bus)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):  # finish the entry in hand, then stop
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    if config_path is not None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, _reload_on_hangup(
            config_path, engine, look.process_name(f"wall {' + '.join(sorted(roles))}")))
    try:
        async with AsyncExitStack() as stack:
            store = await stack.enter_async_context(connect(cfg.store.url)) if "curate" in roles else None
            parts = [await stack.enter_async_context(p)
                     for p in workers(cfg, roles, engine, node_name(), store)]
            sources = [p for p in parts if isinstance(p, Sources)]
            if sources and not sources[0].supervisors:
                log.info("no pulled sources in the config (webhooks are served by `wall serve`)")
            log.info("running %s for walls %s on the %s bus", " + ".join(sorted(roles)),
                     ", ".join(cfg.walls), cfg.bus.engine)
            if on_ready:
                on_ready()
            await stop.wait()
    finally:
        with contextlib.suppress(Exception):
            await engine.close()
    log.info("ingest stopped")
    return 0
