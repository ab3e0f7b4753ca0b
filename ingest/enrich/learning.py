"""A wall's sentiment model that learns from its curators, in the curation writer's process.

Each poll (`[walls.W.enrich.learning] poll_seconds`), the learner puts the wall's current stored version
in use when it changed (another node's refit, an admin's rollback, or this process taking the wall over),
and, while this process's writer holds the wall, tries a refit once `refit_after` labels arrived since the
last try. A refit runs on a worker thread (the writer's event loop never waits for it) and is kept, as a
new version, only when it beats the model in use on the corrections that model never saw (model.compare,
the same folds for both); a refused one is logged and tried again after as many new labels.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence

from wall.store.labels import KINDS, Labels, ModelVersion

from . import language, model
from .pipeline import Enricher, LearningConfig

log = logging.getLogger(__name__)


class Learner:
    def __init__(self, wall: str, labels: Labels, enricher: Enricher, config: LearningConfig,
                 leading: Callable[[], bool], terms: Mapping[str, float] | None = None) -> None:
        self.wall = wall
        self.labels = labels
        self.enricher = enricher
        self.config = config
        self.leading = leading  # whether this process's writer holds the wall: only it refits
        self.terms = terms
        self.version: ModelVersion | None = None  # the stored version in use (None: the configured model)
        self.tried = 0  # labels there were at the last refit try, or when the version in use changed

    async def run(self) -> None:
        while True:
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # the store is down, say: the model in use stays, try again later
                log.warning("wall %s: sentiment learning failed: %s", self.wall, e)
            await asyncio.sleep(self.config.poll_seconds)

    async def step(self) -> None:
        """Follow the stored current version; refit when due."""
        await self.follow()
        if self.leading():
            await self.refit()

    async def follow(self) -> None:
        """Use the wall's current stored version, when it is not the one in use."""
        current = await self.labels.current_model(self.wall)
        if _number(current) == _number(self.version):
            return
        if current is not None:  # the bytes only now: most polls find the version in use
            current = await self.labels.current_model(self.wall, params=True)
        learned = await asyncio.to_thread(model.Model.loads, current.params) \
            if current is not None and current.params else None
        self.enricher.use(learned)
        self.version = current
        # Refits count new labels from here: a rollback is not undone at once by refitting the labels
        # it had, nor does a process that takes the wall over refit what its predecessor judged.
        self.tried = await self.labels.count(self.wall, self.kinds)
        log.info("wall %s: sentiment model %s in use", self.wall,
                 f"v{current.version}" if current else "(the configured one)")

    @property
    def kinds(self) -> tuple[str, ...]:
        return KINDS if self.config.weak_labels else ("correction",)

    async def refit(self) -> None:
        count = await self.labels.count(self.wall, self.kinds)
        if count - self.tried < self.config.refit_after:
            return
        self.tried = count
        rows = await self.labels.list(self.wall, self.kinds)
        examples = [model.Example(r.text, r.label, r.lang,
                                  1.0 if r.kind == "correction" else self.config.weak_weight) for r in rows]
        until = self.version.fitted_until if self.version else float("-inf")
        held = [r.at > until for r in rows]
        if sum(h and e.weight >= 1.0 for h, e in zip(held, examples, strict=True)) < 2:
            return  # nothing new to judge on yet (weak labels alone)
        comparison, fitted = await asyncio.to_thread(_fit_if_better, examples, held, self.enricher.model,
                                                     self.terms)
        if fitted is None:
            log.info("wall %s: sentiment refit on %d labels refused: %.3f on %d held-out corrections, the "
                     "model in use %.3f", self.wall, len(examples), comparison.new, comparison.held,
                     comparison.current)
            return
        names = [language.language_of(code).name.title() for code in fitted.facts.languages]
        saved = await self.labels.save_model(self.wall, fitted.dumps(), len(examples), rows[-1].at,
                                             comparison.new, comparison.current, names)
        self.enricher.use(fitted)
        self.version = saved  # the labels it was fitted on are `tried` already
        log.info("wall %s: sentiment model v%d kept: %d labels, %.3f on %d held-out corrections (was %.3f)",
                 self.wall, saved.version, len(examples), comparison.new, comparison.held, comparison.current)


def _fit_if_better(examples: Sequence[model.Example], held: Sequence[bool], current: model.Model,
                   terms: Mapping[str, float] | None) -> tuple[model.Comparison, model.Model | None]:
    comparison = model.compare(examples, current, held, terms=terms)
    if not comparison.better:
        return comparison, None
    return comparison, model.fit(examples, terms, accuracy=comparison.new)


def _number(version: ModelVersion | None) -> int | None:
    return None if version is None else version.version


class Learners:
    """The walls' learners, run while the context is open (the curate role, with a store)."""

    def __init__(self, learners: list[Learner]) -> None:
        self.learners = learners
        self.tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> Learners:
        for learner in self.learners:  # the stored version before the first post is scored
            try:
                await learner.follow()
            except Exception as e:
                log.warning("wall %s: stored sentiment model not loaded: %s", learner.wall, e)
        self.tasks = [asyncio.create_task(x.run(), name=f"learn:{x.wall}") for x in self.learners]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
