"""Replays a dataset of posts (the bundled demo by default) at a steady pace, looping."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import msgspec

from ingest.connector import Checkpoint, ConnectorSpec, Item, SourceContext, Upsert
from ingest.pipeline import InputError, PostIn, check_post, normalize
from wall.redact import without_values

BUILTIN = Path(__file__).resolve().parent.parent / "demo" / "posts.json"
log = logging.getLogger(__name__)


def load_dataset(path: Path) -> list[PostIn]:
    """Read a JSON array of posts in the webhook format. A broken entry is logged and skipped; a file
    that cannot be read, is not a JSON array or has no good entry raises ValueError saying why."""
    try:
        raw = msgspec.json.decode(path.read_bytes(), type=list[Any])
    except (OSError, msgspec.DecodeError, msgspec.ValidationError) as e:
        raise ValueError(f"replay dataset {path}: {e}") from None
    posts = []
    for i, entry in enumerate(raw):
        try:
            post = msgspec.convert(entry, PostIn)
            check_post(post, f"$[{i}]")
        except (msgspec.ValidationError, InputError) as e:
            log.warning("replay dataset %s: entry %d skipped: %s", path, i, without_values(str(e)))
            continue
        posts.append(post)
    if not posts:
        raise ValueError(f"replay dataset {path}: no valid post in it")
    return posts


class ReplayConnector:
    """Plays posts one by one every `interval` seconds, stamped with the current time.

    Each loop round gives the posts new source ids, so a looping demo keeps producing new posts for the
    dedupe step instead of being dropped as repeats. The cursor is "round:index" of the next post.
    """

    def __init__(self, name: str, dataset: Path = BUILTIN, interval: float = 3.0, loop: bool = True) -> None:
        self.name = name
        self.posts = load_dataset(dataset)
        self.interval = interval
        self.loop = loop

    async def stream(self, cursor: str | None) -> AsyncIterator[Item]:
        round_, index = (int(x) for x in cursor.split(":")) if cursor else (0, 0)
        while True:
            for i in range(index, len(self.posts)):
                p = self.posts[i]
                live = msgspec.structs.replace(p, id=f"{p.id}~{round_}", created_at=datetime.now(UTC))
                yield Upsert(normalize(self.name, live))
                yield Checkpoint(f"{round_}:{i + 1}")
                await asyncio.sleep(self.interval)
            if not self.loop:
                return
            round_, index = round_ + 1, 0




class Options(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """[[walls.X.sources]] type = "replay": the bundled demo stream, or a JSON array of posts."""

    dataset: str = "builtin"  # "builtin" or a path to a JSON array of posts in the webhook format
    interval: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 3.0  # seconds between posts
    loop: bool = True

    def __post_init__(self) -> None:
        if self.dataset != "builtin" and not Path(self.dataset).is_file():
            raise ValueError(f"file {self.dataset} does not exist; give a path or 'builtin'")


def build(name: str, options: Options, ctx: SourceContext) -> ReplayConnector:
    dataset = BUILTIN if options.dataset == "builtin" else Path(options.dataset)
    return ReplayConnector(name, dataset, interval=options.interval, loop=options.loop)


SPEC = ConnectorSpec(type="replay", display_name="Demo", network="replay",
                     options=Options, build=build)
