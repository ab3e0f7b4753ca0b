"""The rundown's auto-advance (docs/rundown.md): when a wall's presenter turned it on (`rundown_auto on`),
the server, not a screen or a phone, steps to the next item once the current one's duration is up
(counted from when it was stepped to, `rundown_since`), through `Actions.control` like a presenter's press,
audited as `rundown:auto`. One process per wall does it, by a lease in the curate role; it stops at the
last item. A presenter's press in the meantime restarts the count (it moves `rundown_since`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable

from wall.bus.base import Engine, backoff, release
from wall.curate.actions import Actions

log = logging.getLogger(__name__)
LEASE_TTL = 6.0  # seconds, as the writer's: a dead holder's job moves within about that
EVERY = 0.5  # seconds between looks: an item ends at most this late
ACTOR = "rundown:auto"


def advance_lease(wall: str) -> str:
    return f"rundown:{wall}"


class AutoAdvance:
    """Each wall's auto-advance, run while the context is open."""

    def __init__(self, walls: Iterable[str], engine: Engine, actions: Actions, owner: str) -> None:
        self.walls, self.engine, self.actions, self.owner = list(walls), engine, actions, owner
        self.stopping = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> AutoAdvance:
        self.tasks = [asyncio.create_task(self.run(w), name=f"rundown:{w}") for w in self.walls]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stopping.set()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def run(self, wall: str) -> None:
        name, attempt, leading = advance_lease(wall), 0, False
        while not self.stopping.is_set():
            try:
                leading = await self.engine.lease(name, self.owner, LEASE_TTL) is not None
                if leading:
                    await self.step_if_due(wall, time.time())
                attempt = 0
            except asyncio.CancelledError:
                raise
            except Exception as e:  # the store or the bus is down a moment: look again soon
                log.warning("wall %s: rundown auto-advance failed: %s", wall, type(e).__name__)
                await asyncio.sleep(backoff(attempt, base=0.5, cap=10.0))
                attempt += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), EVERY)
        if leading:
            with contextlib.suppress(Exception):
                await release(self.engine, name, self.owner)

    async def step_if_due(self, wall: str, now: float) -> bool:
        """Step to the next item if auto-advance is on and the current item's time is up."""
        state = await self.actions.store.controls.get(wall)
        if not state.rundown_auto or state.rundown_item is None or state.rundown_since is None:
            return False
        items = await self.actions.store.rundown.items(wall)
        at = next((k for k, i in enumerate(items) if i.id == state.rundown_item), None)
        if at is None or at + 1 >= len(items) or now < state.rundown_since + items[at].seconds:
            return False
        # rundown_go to the next item's id, not rundown_next: a presenter's press meanwhile is not doubled.
        await self.actions.control(wall, ACTOR, "rundown_go", str(items[at + 1].id))
        log.info("wall %s: rundown auto-advanced to item %d", wall, items[at + 1].id)
        return True
