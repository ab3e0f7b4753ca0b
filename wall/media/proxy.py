"""The media proxy: one fetch per original, rendered to every width, kept in the disk cache."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge

from wall.media.cache import DiskCache, NegativeCache, cache_name
from wall.media.fetch import AllowList, Fetcher, MediaError
from wall.media.images import WIDTHS, render_all
from wall.media.signing import media_url, originals
from wall.models import Post
from wall.redact import redact_url

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MediaSettings:
    cache_dir: Path
    cache_bytes: int
    secret: str
    allow_hosts: tuple[str, ...] = ()
    max_bytes: int = 20_000_000
    timeout: float = 10.0


class MediaMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.hits = Counter("wall_media_hits", "Media served from the cache", registry=r)
        self.misses = Counter("wall_media_misses", "Media that had to be fetched", registry=r)
        self.bytes = Counter("wall_media_bytes", "Media bytes served", registry=r)
        self.failures = Counter(
            "wall_media_fetch_failures", "Refused or failed fetches", ["reason"], registry=r
        )
        self.cache_bytes = Gauge("wall_media_cache_bytes", "Bytes in the media cache", registry=r)


@dataclass(frozen=True)
class Rendered:
    body: bytes
    etag: str


class MediaProxy:
    def __init__(
        self, settings: MediaSettings, registry: CollectorRegistry | None = None, render_slots: int = 2
    ) -> None:
        self.settings = settings
        self.fetcher = Fetcher(AllowList(settings.allow_hosts), settings.max_bytes, settings.timeout)
        self.cache = DiskCache(settings.cache_dir, settings.cache_bytes)
        self.failed = NegativeCache()
        self.metrics = MediaMetrics(registry or CollectorRegistry())
        self._flights: dict[str, asyncio.Task[None]] = {}
        self._prefetching: set[asyncio.Task[None]] = set()
        self._render_slots = asyncio.Semaphore(render_slots)

    async def get(self, url: str, width: int) -> Rendered:
        """The rendered image of url at width; raises MediaError (also for recent failures)."""
        if width not in WIDTHS:
            raise MediaError("type", f"width {width} not one of {WIDTHS}")
        name = cache_name(url, width)
        data = self.cache.get(name)
        if data is None:
            self.metrics.misses.inc()
            await self._flight(url)
            data = self.cache.get(name)
            if data is None:  # evicted at once by a tiny cache: render again rather than fail
                raise MediaError("size", f"cache too small to hold {url}")
        else:
            self.metrics.hits.inc()
        self.metrics.bytes.inc(len(data))
        return Rendered(data, f'"{hashlib.blake2b(data, digest_size=12).hexdigest()}"')

    async def prefetch(self, post: Post) -> None:
        """Warm the cache for a post's original media and avatar URLs (call before proxied())."""
        urls = [m.url for m in post.media if m.kind == "image"] + [post.author.avatar_url or ""]
        for url in urls:
            if url.startswith(("http://", "https://")):
                try:
                    await self._flight(url)
                except MediaError:
                    pass  # logged and counted in _flight; the card shows without it

    def prefetch_shown(self, post: Post) -> None:
        """Warm the cache, in the background, for a post as screens get it (its /media URLs signed)."""
        task = asyncio.get_running_loop().create_task(self.prefetch(originals(post)))
        self._prefetching.add(task)
        task.add_done_callback(self._prefetching.discard)

    async def _flight(self, url: str) -> None:
        if all(cache_name(url, w) in self.cache for w in WIDTHS):
            return
        reason = self.failed.get(url)
        if reason is not None:
            raise MediaError(reason, f"failed recently: {url}")
        flight = self._flights.get(url)
        if flight is None:
            # A task of its own, so a screen that hangs up does not cancel the fetch others wait for.
            flight = asyncio.create_task(self._fill(url))
            self._flights[url] = flight
            flight.add_done_callback(lambda t: self._done(url, t))
        await asyncio.shield(flight)

    def _done(self, url: str, flight: asyncio.Task[None]) -> None:
        del self._flights[url]
        e = None if flight.cancelled() else flight.exception()
        if isinstance(e, MediaError):
            self.failed.put(url, e.reason)
            self.metrics.failures.labels(e.reason).inc()
            log.warning("media refused %s: %s (%s)", redact_url(url), e.reason, e)
        elif e is not None:
            log.error("media fetch of %s failed: %r", redact_url(url), e)

    async def _fill(self, url: str) -> None:
        original = (await self.fetcher.fetch(url)).body
        loop = asyncio.get_running_loop()
        async with self._render_slots:
            rendered = await loop.run_in_executor(None, render_all, original)
        for width, data in rendered.items():
            self.cache.put(cache_name(url, width), data)
        self.metrics.cache_bytes.set(self.cache.used)

    def url(self, original_url: str) -> str:
        return media_url(self.settings.secret, original_url)

    async def close(self) -> None:
        """Wait for fetches in flight; each hop's session is closed as the hop ends."""
        for task in list(self._prefetching):
            task.cancel()
        if self._flights:
            await asyncio.gather(*self._flights.values(), return_exceptions=True)
