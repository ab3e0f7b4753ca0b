"""The store parts insights reads, as the issue-19 contract writes them (docs/insights.md): the roll-ups
(`store.rollups`) and the display log (`store.display_log`). A store without one leaves its sections
empty and says so (`Insights.missing`), so a node running an older store still shows the rest."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

Grain = Literal["minute", "hour", "day"]


class RollupsReader(Protocol):
    async def series(self, wall: str, grain: Grain, start: float, end: float,
                     prefix: str = "") -> list[tuple[float, dict[str, int]]]: ...

    async def totals(self, wall: str, start: float, end: float, prefix: str = "") -> dict[str, int]: ...

    async def top(self, wall: str, prefix: str, start: float, end: float, limit: int = 10
                  ) -> list[tuple[str, int]]: ...

    async def first_bucket(self, wall: str) -> float | None: ...


class ShownRecord(Protocol):
    @property
    def post_id(self) -> str: ...

    @property
    def first_shown(self) -> float: ...

    @property
    def seconds(self) -> float: ...

    @property
    def screens(self) -> int: ...


class DisplayLogReader(Protocol):
    async def shown(self, wall: str, start: float, end: float, limit: int = 100
                    ) -> Sequence[ShownRecord]: ...
