"""A bounded on-disk cache of rendered images, least recently used first out.

The index lives in memory and is rebuilt from the directory at start; each hit touches the file's
mtime so the order survives a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import time
from collections import OrderedDict
from pathlib import Path

from wall.media.fetch import Reason

log = logging.getLogger(__name__)


def cache_name(url: str, width: int) -> str:
    return f"{hashlib.sha256(url.encode()).hexdigest()[:40]}-{width}.webp"


class DiskCache:
    def __init__(self, directory: Path, limit: int) -> None:
        self.dir, self.limit = directory, limit
        self.dir.mkdir(parents=True, exist_ok=True)
        self._index: OrderedDict[str, int] = OrderedDict()  # name -> bytes, oldest access first
        self.used = 0
        entries = []
        for p in self.dir.glob("*.webp"):
            st = p.stat()
            entries.append((st.st_mtime, p.name, st.st_size))
        for _, name, size in sorted(entries):
            self._index[name] = size
            self.used += size
        for p in self.dir.glob("*.tmp"):  # a write cut short by a crash
            p.unlink(missing_ok=True)
        self._evict()

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def get(self, name: str) -> bytes | None:
        if name not in self._index:
            return None
        path = self.dir / name
        try:
            data = path.read_bytes()
            os.utime(path)
        except FileNotFoundError:
            self.used -= self._index.pop(name)
            return None
        self._index.move_to_end(name)
        return data

    def put(self, name: str, data: bytes) -> None:
        tmp = self.dir / f"{name}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, self.dir / name)
        self.used -= self._index.pop(name, 0)
        self._index[name] = len(data)
        self.used += len(data)
        self._evict()

    async def forget_before(self, cutoff: float) -> int:
        """Retention: remove the images nobody asked for since `cutoff` (epoch seconds; a hit touches a
        file, so an image some screen still shows stays); how many went. The files on a worker thread."""
        old = await asyncio.to_thread(self._unlink_older, list(self._index), cutoff)
        for name in old:
            self.used -= self._index.pop(name, 0)
        return len(old)

    def _unlink_older(self, names: list[str], cutoff: float) -> list[str]:
        old = []
        for name in names:  # oldest access first
            path = self.dir / name
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime >= cutoff:
                    break
                path.unlink()
            old.append(name)
        return old

    def _evict(self) -> None:
        while self.used > self.limit and self._index:
            name, size = self._index.popitem(last=False)
            (self.dir / name).unlink(missing_ok=True)
            self.used -= size
            log.debug("media cache evicted %s (%s bytes)", name, size)


class NegativeCache:
    """Recent failures by original URL, so a flood of posts naming a bad image costs one fetch."""

    def __init__(self, ttl: float = 300.0, size: int = 10_000) -> None:
        self.ttl, self.size = ttl, size
        self._until: OrderedDict[str, tuple[float, Reason]] = OrderedDict()

    def get(self, url: str) -> Reason | None:
        hit = self._until.get(url)
        if hit is None:
            return None
        if hit[0] < time.monotonic():
            del self._until[url]
            return None
        return hit[1]

    def put(self, url: str, reason: Reason) -> None:
        self._until[url] = (time.monotonic() + self.ttl, reason)
        self._until.move_to_end(url)
        while len(self._until) > self.size:
            self._until.popitem(last=False)
