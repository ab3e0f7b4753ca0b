"""Curators' sentiment labels with the text they labelled: training lines for `wall sentiment fit`.

Contract: one row per (wall, post id); labelling again replaces the label. The text is kept with the
label because the post itself leaves the bus within days, while a label is worth keeping for good.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from wall.store.base import clock, upsert
from wall.store.schema import sentiment_labels

LABELS = ("positive", "neutral", "negative")


@dataclass(frozen=True, slots=True)
class Label:
    wall: str
    post_id: str
    text: str
    label: str
    by: str
    at: float


class Labels:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def put(self, wall: str, post_id: str, text: str, label: str, by: str,
                  now: float | None = None) -> Label:
        if label not in LABELS:
            raise ValueError(f"sentiment label {label!r} is not one of {', '.join(LABELS)}")
        row = Label(wall, post_id, text.replace("\x00", ""), label, by, clock(now))
        async with self.engine.begin() as conn:
            await upsert(conn, sentiment_labels, {"wall": wall, "post_id": post_id, "text": row.text,
                                                  "label": label, "by": by, "at": row.at},
                         keys=("wall", "post_id"))
        return row

    async def list(self, wall: str | None = None) -> list[Label]:
        """Labels of the wall (all walls when None), oldest first."""
        query = sa.select(sentiment_labels).order_by(sentiment_labels.c.at)
        if wall is not None:
            query = query.where(sentiment_labels.c.wall == wall)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [Label(r.wall, r.post_id, r.text, r.label, r.by, r.at) for r in rows]
