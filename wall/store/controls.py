"""Each wall's live controls (pause, scene, announcement, panic, spotlight, "next"), with compare-and-set.

Contract:
- One row per wall holding the whole state; a wall without a row has the default state (version 0).
- `change(wall, by, fn)` reads the state, applies the pure `fn` and writes the result only if nobody
  changed the row meanwhile (version compare-and-set), retrying on a race: two presenters pressing "next"
  at once move it twice, never once. It returns (before, after).
- The curation writer turns the stored state into the wall's `control` event; the store is what survives.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from wall.store.base import clock
from wall.store.schema import controls

STATE_FIELDS = ("paused", "panic", "panic_text", "scene", "announcement", "spotlight_post",
                "spotlight_until", "next_seq", "countdown_to", "countdown_title", "widgets", "rundown_item",
                "rundown_since", "rundown_auto", "meter")


@dataclass(frozen=True, slots=True)
class ControlState:
    wall: str
    paused: bool = False
    panic: bool = False
    panic_text: str = ""
    scene: str | None = None
    announcement: str | None = None
    spotlight_post: str | None = None  # a post id; the writer puts the post itself in the event
    spotlight_until: float | None = None  # epoch seconds
    next_seq: int = 0
    countdown_to: float | None = None  # epoch seconds on the server's clock (docs/rundown.md)
    countdown_title: str = ""
    widgets: tuple[str, ...] = ()  # stage widgets over the scenes: "clock", "countdown", "qr"
    rundown_item: int | None = None  # the rundown item on now (wall/store/rundown.py); None: none
    rundown_since: float | None = None  # when it was stepped to (epoch seconds): auto-advance counts from it
    rundown_auto: bool = False  # the server steps to the next item when this one's time is up
    meter: bool = False  # the reaction meter's overlay over the other scenes
    version: int = 0
    updated_by: str = ""
    updated_at: float = 0.0

    def state(self) -> dict[str, Any]:
        """The state without its bookkeeping (what the row's JSON holds, and the audit's before/after)."""
        return {name: getattr(self, name) for name in STATE_FIELDS}


class Controls:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def get(self, wall: str) -> ControlState:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(controls).where(controls.c.wall == wall))).first()
        return _state(wall, row._mapping) if row else ControlState(wall)

    async def change(self, wall: str, by: str, fn: Callable[[ControlState], ControlState],
                     now: float | None = None) -> tuple[ControlState, ControlState]:
        """Apply `fn` to the stored state (see the module doc); returns (before, after)."""
        for _ in range(20):
            before = await self.get(wall)
            wanted = fn(before)
            after = dataclasses.replace(wanted, wall=wall, version=before.version + 1, updated_by=by,
                                        updated_at=clock(now))
            values = {"state": after.state(), "version": after.version, "updated_by": by,
                      "updated_at": after.updated_at}
            async with self.engine.begin() as conn:
                if before.version == 0:
                    try:
                        await conn.execute(controls.insert().values(wall=wall, **values))
                        return before, after
                    except sa.exc.IntegrityError:
                        continue  # another presenter made the row first: read theirs and go again
                done = await conn.execute(controls.update().where(
                    controls.c.wall == wall, controls.c.version == before.version).values(**values))
                if done.rowcount > 0:
                    return before, after
        raise RuntimeError(f"controls of wall {wall} kept changing under us")


def _state(wall: str, row: Any) -> ControlState:
    saved = {k: v for k, v in dict(row["state"]).items() if k in STATE_FIELDS}
    if "widgets" in saved:  # JSON keeps it as a list
        saved["widgets"] = tuple(saved["widgets"])
    return ControlState(wall, **saved, version=row["version"], updated_by=row["updated_by"],
                        updated_at=row["updated_at"])
