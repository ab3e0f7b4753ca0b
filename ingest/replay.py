"""Replays a dataset of posts (the bundled demo by default) at a steady pace, looping."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from ingest.pipeline import PostIn, check_post, normalize
from wall.models import Post

BUILTIN = Path(__file__).parent / "demo" / "posts.json"


def load_dataset(path: Path) -> list[PostIn]:
    """Read a JSON array of posts in the webhook format; raise ValueError naming the bad entry."""
    try:
        posts = msgspec.json.decode(path.read_bytes(), type=list[PostIn])
    except (OSError, msgspec.DecodeError) as e:
        raise ValueError(f"replay dataset {path}: {e}") from None
    for i, p in enumerate(posts):
        check_post(p, f"{path}[{i}]")
    if not posts:
        raise ValueError(f"replay dataset {path}: no posts in it")
    return posts


class ReplaySource:
    """Plays posts one by one every `interval` seconds, stamped with the current time.

    Each loop round gives the posts new source ids, so a looping demo keeps producing new posts for the
    dedupe step instead of being dropped as repeats. The cursor is "round:index" of the next post.
    """

    def __init__(self, name: str, dataset: Path = BUILTIN, interval: float = 3.0, loop: bool = True) -> None:
        self.name = name
        self.posts = load_dataset(dataset)
        self.interval = interval
        self.loop = loop

    async def stream(self, cursor: str | None) -> AsyncIterator[tuple[Post, str]]:
        round_, index = (int(x) for x in cursor.split(":")) if cursor else (0, 0)
        while True:
            for i in range(index, len(self.posts)):
                p = self.posts[i]
                live = msgspec.structs.replace(p, id=f"{p.id}~{round_}", created_at=datetime.now(UTC))
                yield normalize(self.name, live), f"{round_}:{i + 1}"
                await asyncio.sleep(self.interval)
            if not self.loop:
                return
            round_, index = round_ + 1, 0
