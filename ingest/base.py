"""What every source connector provides, and the status it reports to /healthz."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from wall.models import Post


class Connector(Protocol):
    """An async iterator of normalized posts, each with the cursor to resume after it."""

    name: str

    def stream(self, cursor: str | None) -> AsyncIterator[tuple[Post, str]]: ...


@dataclass
class SourceStatus:
    """What a running source last did, for /healthz and the logs."""

    wall: str
    name: str
    state: str = "starting"  # starting | running | failing | finished
    error: str | None = None
    posts: int = 0
    last_post_at: float | None = None

    def ok(self) -> None:
        self.state, self.error = "running", None
        self.posts += 1
        self.last_post_at = time.time()

    def failed(self, error: str) -> None:
        self.state, self.error = "failing", error

    def as_dict(self) -> dict[str, object]:
        age = None if self.last_post_at is None else round(time.time() - self.last_post_at, 1)
        return {"name": self.name, "state": self.state, "error": self.error, "posts": self.posts,
                "last_post_age_s": age}
