"""Who a Bluesky DID is: handles from Jetstream's identity events, names and avatars from the AppView.

Lookups go to `app.bsky.actor.getProfiles` (public, no credentials) in batches of up to 25 DIDs, at most
`rate` calls per second, one at a time. Answers are kept for `TTL` seconds (an expired one is still used
while it is fetched again); a DID the AppView did not answer for is not asked again for `MISS_TTL`
seconds, so a failing AppView costs one call per batch, never one per post. A 429 pauses the lookups
until the AppView's `RateLimit-Reset`; the batch is asked again then.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import aiohttp
import msgspec

log = logging.getLogger(__name__)

MAX_ACTORS = 25  # getProfiles refuses more
TTL = 6 * 3600.0  # display names and avatars change rarely; a changed handle comes as an identity event
MISS_TTL = 300.0
CACHE_SIZE = 20_000
BATCH_WINDOW = 0.2  # seconds spent gathering DIDs into one call


@dataclass(frozen=True, slots=True)
class Profile:
    handle: str = ""
    name: str = ""
    avatar: str | None = None


class _View(msgspec.Struct):
    did: str
    handle: str = ""
    displayName: str | None = None
    avatar: str | None = None


class _Answer(msgspec.Struct):
    profiles: list[_View] = []


_answer = msgspec.json.Decoder(_Answer)


def _usable(handle: str | None) -> str:
    return "" if not handle or handle == "handle.invalid" else handle


def _reset_in(headers: aiohttp.typedefs.LooseHeaders, now: float) -> float:
    """Seconds until the AppView takes calls again: RateLimit-Reset (epoch s) or Retry-After; else 60."""
    h = {k.lower(): v for k, v in dict(headers).items()}
    reset, after = h.get("ratelimit-reset", ""), h.get("retry-after", "")
    if reset.isdigit():
        return max(0.0, int(reset) - now)
    if after.isdigit():
        return float(after)
    try:
        return max(0.0, parsedate_to_datetime(after).timestamp() - now)
    except (TypeError, ValueError, IndexError):
        return 60.0


class Profiles:
    """DID -> Profile: ask with `want()`, read with `get()`; `run()` does the batched calls."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        appview: str,
        user_agent: str,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.http, self.user_agent, self.clock = http, user_agent, clock
        self.url = f"{appview.rstrip('/')}/xrpc/app.bsky.actor.getProfiles"
        self.host = urlsplit(appview).netloc
        self.interval = 1.0 / rate
        self._cache: OrderedDict[str, tuple[float, Profile | None]] = OrderedDict()  # None: not found
        self._handles: OrderedDict[str, str] = OrderedDict()  # from identity events, newest wins
        self._wanted: dict[str, None] = {}  # an ordered set
        self._wake = asyncio.Event()
        self.updated = asyncio.Event()  # set after every call; the connector clears it before waiting

    def note_handle(self, did: str, handle: str | None) -> None:
        """An identity event: the DID's current handle (None or handle.invalid: it has none that works)."""
        self._handles[did] = _usable(handle)
        self._handles.move_to_end(did)
        if len(self._handles) > CACHE_SIZE:
            self._handles.popitem(last=False)

    def handle(self, did: str) -> str:
        """The best handle known without waiting: an identity event's, else the cached profile's."""
        if handle := self._handles.get(did):
            return handle
        cached = self._cache.get(did)
        return cached[1].handle if cached is not None and cached[1] is not None else ""

    def known(self, did: str) -> bool:
        """True when a lookup answered (or failed recently): waiting longer would not help."""
        return did in self._cache

    def get(self, did: str) -> Profile | None:
        """The profile as last looked up, its handle replaced by a newer identity event's."""
        cached = self._cache.get(did)
        if cached is None:
            return None
        expires, profile = cached
        if expires <= self.clock():
            self.want(did)  # used meanwhile: an old name beats a DID
        if profile is None:
            return None
        newer = self._handles.get(did)
        return Profile(newer, profile.name, profile.avatar) if newer else profile

    def want(self, did: str) -> None:
        """Look this DID up soon (unless it is fresh in the cache or already asked for)."""
        cached = self._cache.get(did)
        if (cached is None or cached[0] <= self.clock()) and did not in self._wanted:
            self._wanted[did] = None
            self._wake.set()

    async def run(self) -> None:
        """Answer what is wanted, a batch at a time, for as long as the connector runs."""
        last = float("-inf")
        while True:
            await self._wake.wait()
            if len(self._wanted) < MAX_ACTORS:
                await asyncio.sleep(BATCH_WINDOW)
            await asyncio.sleep(max(0.0, last + self.interval - self.clock()))
            batch = list(self._wanted)[:MAX_ACTORS]
            last = self.clock()
            pause = await self._fetch(batch)
            if pause is not None:  # throttled: the batch stays wanted and is asked again after the pause
                await asyncio.sleep(pause)
                continue
            for did in batch:
                self._wanted.pop(did, None)
            if not self._wanted:
                self._wake.clear()
            self.updated.set()

    async def _fetch(self, batch: list[str]) -> float | None:
        """One getProfiles call; None when it was answered (or failed), else the pause the AppView asked
        for with a 429."""
        params = [("actors", did) for did in batch]
        found: dict[str, Profile] = {}
        try:
            async with self.http.get(
                self.url,
                params=params,
                headers={"User-Agent": self.user_agent, "Accept": "application/json"},
                timeout=aiohttp.ClientTimeout(total=10),
            ) as resp:
                if resp.status == 429:
                    pause = _reset_in(resp.headers, time.time())
                    log.warning("bluesky appview %s: 429, pausing profile lookups %.0f s", self.host, pause)
                    return pause
                if resp.status != 200:
                    log.warning("bluesky appview %s: %s for a profile lookup", self.host, resp.status)
                else:
                    answer = _answer.decode(await resp.read())
                    found = {
                        v.did: Profile(_usable(v.handle), v.displayName or "", v.avatar or None)
                        for v in answer.profiles
                    }
        except (aiohttp.ClientError, TimeoutError, msgspec.DecodeError, msgspec.ValidationError) as e:
            log.warning("bluesky appview %s: profile lookup failed: %s", self.host, e or type(e).__name__)
        now = self.clock()
        for did in batch:
            profile = found.get(did)
            if profile is None and (old := self._cache.get(did)) is not None:
                profile = old[1]  # a failed refresh keeps the name it had, for a while
                self._cache[did] = (now + MISS_TTL, profile)
            else:
                self._cache[did] = (now + (TTL if profile else MISS_TTL), profile)
            self._cache.move_to_end(did)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return None
