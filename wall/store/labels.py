"""Curators' sentiment labels with the text they labelled, and the per-wall sentiment model's versions.

Contract: one row per (wall, post id). A correction replaces whatever the post had; a weak signal (an
approval, a rejection) is written only where the post has no correction, so approving a corrected post
never undoes the correction. The text is kept with the label because the post itself leaves the bus
within days, while a label is worth keeping for good.

Model versions count up per wall; the current one is the newest not rolled back (none: the shipped
default). The parameters are bytes the enrichment layer writes and reads; the store never decodes them.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from wall.store.base import clock, upsert
from wall.store.schema import sentiment_labels, sentiment_models

LABELS = ("positive", "neutral", "negative")
KINDS = ("correction", "approval", "rejection")


@dataclass(frozen=True, slots=True)
class Label:
    wall: str
    post_id: str
    text: str
    label: str
    by: str
    at: float
    kind: str = "correction"
    lang: str | None = None


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """A stored model's facts (`params` only when asked for)."""

    wall: str
    version: int
    labels: int
    fitted_until: float
    accuracy: float
    baseline: float
    languages: list[str]
    at: float
    rolled_back_by: str | None = None
    params: bytes | None = None


class Labels:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def put(self, wall: str, post_id: str, text: str, label: str, by: str, now: float | None = None,
                  kind: str = "correction", lang: str | None = None) -> Label:
        if label not in LABELS:
            raise ValueError(f"sentiment label {label!r} is not one of {', '.join(LABELS)}")
        if kind not in KINDS:
            raise ValueError(f"label kind {kind!r} is not one of {', '.join(KINDS)}")
        row = Label(wall, post_id, text.replace("\x00", ""), label, by, clock(now), kind, lang)
        values = {"wall": wall, "post_id": post_id, "text": row.text, "label": label, "by": by, "at": row.at,
                  "kind": kind, "lang": lang}
        async with self.engine.begin() as conn:
            if kind == "correction":
                await upsert(conn, sentiment_labels, values, keys=("wall", "post_id"))
                return row
            c = sentiment_labels.c
            query = sa.select(c.kind).where(c.wall == wall, c.post_id == post_id)
            existing = (await conn.execute(query)).first()
            if existing is not None and existing.kind == "correction":
                return row  # a curator's own label outranks a weak signal
            await upsert(conn, sentiment_labels, values, keys=("wall", "post_id"))
        return row

    async def list(self, wall: str | None = None, kinds: tuple[str, ...] = KINDS) -> list[Label]:
        """Labels of the wall (all walls when None) of the given kinds, oldest first."""
        c = sentiment_labels.c
        query = sa.select(sentiment_labels).where(c.kind.in_(kinds)).order_by(c.at)
        if wall is not None:
            query = query.where(c.wall == wall)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [Label(r.wall, r.post_id, r.text, r.label, r.by, r.at, r.kind, r.lang) for r in rows]

    async def count(self, wall: str, kinds: tuple[str, ...] = KINDS) -> int:
        c = sentiment_labels.c
        query = sa.select(sa.func.count()).select_from(sentiment_labels).where(c.wall == wall,
                                                                                c.kind.in_(kinds))
        async with self.engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    # --- the wall's model versions ------------------------------------------------------------------

    async def save_model(self, wall: str, params: bytes, labels: int, fitted_until: float, accuracy: float,
                         baseline: float, languages: builtins.list[str],
                         now: float | None = None) -> ModelVersion:
        """Store a new version, numbered after every earlier one (rolled back too); it becomes current."""
        c = sentiment_models.c
        async with self.engine.begin() as conn:
            last = (await conn.execute(sa.select(sa.func.max(c.version)).where(c.wall == wall))).scalar()
            version = ModelVersion(wall, (last or 0) + 1, labels, fitted_until, accuracy, baseline,
                                   list(languages), clock(now))
            await conn.execute(sa.insert(sentiment_models).values(
                wall=wall, version=version.version, params=params, labels=labels, fitted_until=fitted_until,
                accuracy=accuracy, baseline=baseline, languages=version.languages, at=version.at))
        return version

    async def current_model(self, wall: str, params: bool = False) -> ModelVersion | None:
        """The wall's current version (None: the shipped default); its bytes when `params`."""
        found = await self.models(wall, params, current=True)
        return found[0] if found else None

    async def models(self, wall: str, params: bool = False,
                     current: bool = False) -> builtins.list[ModelVersion]:
        """The wall's versions, newest first (only the current one with `current`)."""
        c = sentiment_models.c
        columns = [col for col in sentiment_models.c if params or col.name != "params"]
        query = sa.select(*columns).where(c.wall == wall).order_by(c.version.desc())
        if current:
            query = query.where(c.rolled_back_by.is_(None)).limit(1)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [ModelVersion(r.wall, r.version, r.labels, r.fitted_until, r.accuracy, r.baseline,
                             list(r.languages), r.at, r.rolled_back_by, r.params if params else None)
                for r in rows]

    async def roll_back(self, wall: str, by: str) -> ModelVersion | None:
        """Take the current version out of use; returns the one current now (None: the shipped default).
        ValueError when there is nothing to roll back."""
        c = sentiment_models.c
        async with self.engine.begin() as conn:
            top = (await conn.execute(sa.select(c.version).where(c.wall == wall, c.rolled_back_by.is_(None))
                                      .order_by(c.version.desc()).limit(1))).scalar()
            if top is None:
                raise ValueError("the wall already uses the shipped default model: nothing to roll back")
            await conn.execute(sa.update(sentiment_models).where(c.wall == wall, c.version == top)
                               .values(rolled_back_by=by))
        return await self.current_model(wall)
