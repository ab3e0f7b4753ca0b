"""One look per wall on every node: this node's side of the published looks (wall/look.py).

Screens show the wall's published look, whatever this node's own file says; /healthz says when the two
differ (the node's file is older, or newer and not published yet), and when a reload found problems in the
file. A wall nobody published a look for yet gets this node's; a node that missed a live look (a reconnect
can lose an announcement) finds it at its next recheck.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path

from wall import look
from wall.config import Config, ConfigError
from wall.web.hub import Hub

log = logging.getLogger(__name__)
RECHECK = 15.0  # seconds between two reads of each wall's published look (and of this node's file)


class Looks:
    """This node's config file against the walls' published looks, for /healthz (a HealthPart)."""

    def __init__(self, cfg: Config, hubs: dict[str, Hub]) -> None:
        self.file = cfg  # the node's file as last read without problems
        self.hubs = hubs
        self.name = look.process_name("web node")
        self.reload_problems: list[str] = []  # the last reload's, until one succeeds
        self.file_problems: list[str] = []  # the file's now, when it has any (a reload would refuse it)
        self.path: Path | None = None  # this node's config file (None: a node started without one)
        self.load: Callable[[Path], Config] | None = None  # the composition root's loader
        self._stamp: tuple[int, int] | None = None  # the file's (mtime, size) when last read

    def loaded(self, cfg: Config) -> None:
        self.file, self.reload_problems, self.file_problems = cfg, [], []

    def watch(self, path: Path, load: Callable[[Path], Config]) -> None:
        self.path, self.load = path, load

    async def _read_file(self) -> None:
        """The file may have changed without a reload here (`wall reload-config` ran with a copy of it).
        Read again only when it changed: a read costs about 20 ms of CPU."""
        if self.path is None or self.load is None:
            return
        path, load = self.path, self.load

        def read() -> None:
            try:
                found = path.stat()
            except OSError:
                stamp = None
            else:
                stamp = (found.st_mtime_ns, found.st_size)
            if stamp is not None and stamp == self._stamp:
                return
            try:
                self.file, self.file_problems = load(path), []
            except ConfigError as e:
                self.file_problems = e.problems
            self._stamp = stamp

        await asyncio.to_thread(read)

    def failed(self, problems: list[str]) -> None:
        at = time.strftime("%H:%M:%S UTC", time.gmtime())
        self.reload_problems = [f"{at}: {p}" for p in problems]

    def _differs(self, wall: str) -> tuple[str, look.Look] | None:
        """(this node's digest, the published look) when they differ."""
        hub, mine = self.hubs.get(wall), self.file.walls.get(wall)
        if hub is None or hub.look is None:
            return None
        own = look.digest(mine.screen) if mine is not None else "none"
        return None if own == hub.look.digest else (own, hub.look)

    def wall_health(self, wall: str) -> dict[str, object]:
        hub, mine = self.hubs.get(wall), self.file.walls.get(wall)
        shown = hub.look if hub is not None else None
        return {"config": {
            "node": self.name,
            "file": look.digest(mine.screen) if mine is not None else None,
            "shown": shown.digest if shown is not None else None,
            "published_by": shown.by if shown is not None else None,
            "published_age_s": round(time.time() - shown.at, 1) if shown is not None else None,
            "agrees": self._differs(wall) is None,
        }}

    def problems(self) -> list[str]:
        found = [f"config reload failed, the running config stays: {p}" for p in self.reload_problems]
        found += [f"config file: {p} (a reload would keep the running config)" for p in self.file_problems]
        for wall in self.hubs:
            differs = self._differs(wall)
            if differs is not None:
                own, published = differs
                found.append(
                    f"{wall}: the config file of this node ({self.name}) says another look "
                    f"(digest {own}) than the one published by {published.by} "
                    f"{time.time() - published.at:.0f} s ago (digest {published.digest}), which its "
                    "screens show; give this node the same file, or publish this node's with "
                    "`wall reload-config --config FILE`")
        return found

    async def keep(self) -> None:
        """Publish this node's look for walls without one; take any look a live announcement missed;
        read this node's file again when a new look arrives, and every RECHECK seconds."""
        checked = -RECHECK
        compared: dict[str, look.Look | None] = {}
        while True:
            try:
                if time.monotonic() - checked >= RECHECK:
                    checked = time.monotonic()
                    await self._recheck()
                    await self._read_file()
                shown = {name: hub.look for name, hub in self.hubs.items()}
                if shown != compared:
                    await self._read_file()
                    compared = shown
            except Exception:  # never the end of it: the next round tries again
                log.exception("checking the walls' looks failed")
            await asyncio.sleep(1.0)

    async def _recheck(self) -> None:
        for name, hub in self.hubs.items():
            mine = self.file.walls.get(name)
            try:
                if not await hub.recheck_look() and mine is not None:
                    await look.publish_all(hub.bus, [mine], self.name)
                    log.info("wall %s: no look was published; published this node's", name)
            except Exception as e:  # the bus is down: the hub says so, and the next round retries
                log.debug("wall %s: cannot read the published look: %s", name, e)

