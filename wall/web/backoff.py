"""Growing waits for a client that keeps sending wrong credentials, in bounded memory.

Per key (a client address): the FREE-th failure, and each one after, closes the door for FIRST seconds,
doubling each time up to LONGEST (a few typos before that cost nothing). While the door is closed the
caller refuses the client without checking its credentials, so guessing a token costs real time. A
success resets the key; a key quiet for LONGEST after its last failure starts afresh. The table keeps the
SIZE keys touched most recently (an attacker cycling through many addresses only makes it forget old
entries; memory stays bounded).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass


@dataclass
class _Strikes:
    failures: int
    last: float  # when the last failure came
    until: float  # the door is closed until then


class Backoff:
    FREE = 5
    FIRST = 5.0  # seconds
    LONGEST = 900.0
    SIZE = 10_000

    def __init__(self) -> None:
        self.keys: OrderedDict[str, _Strikes] = OrderedDict()

    def wait(self, key: str, now: float) -> float:
        """Seconds until `key` may try again; 0 when it may now."""
        found = self.keys.get(key)
        return 0.0 if found is None else max(0.0, found.until - now)

    def failed(self, key: str, now: float) -> None:
        found = self.keys.pop(key, None)
        if found is None or now - found.last > self.LONGEST:
            found = _Strikes(0, now, now)
        found.failures += 1
        found.last = now
        if found.failures >= self.FREE:
            found.until = now + min(self.FIRST * 2 ** min(found.failures - self.FREE, 30), self.LONGEST)
        self.keys[key] = found  # the most recent last
        while len(self.keys) > self.SIZE:
            self.keys.popitem(last=False)

    def succeeded(self, key: str) -> None:
        self.keys.pop(key, None)
