"""A wall's current content, folded from its events: what a new screen is shown first."""

from __future__ import annotations

import time
from collections import Counter, OrderedDict, deque
from itertools import takewhile

from wall.models import Event, Post, PostEvent, RetractEvent, StatsEvent, UpdateEvent
from wall.text import hashtags


class WallState:
    """The newest visible posts (bounded) and the latest stats."""

    def __init__(self, keep: int = 200) -> None:
        self.keep = keep
        self.posts: OrderedDict[str, Post] = OrderedDict()  # oldest first
        self.stats: StatsEvent | None = None

    def apply(self, event: Event) -> None:
        match event:
            case PostEvent(post=post) | UpdateEvent(post=post):
                if not post.visible:
                    self.posts.pop(post.id, None)
                elif post.id in self.posts:
                    self.posts[post.id] = post  # an edit keeps its place
                elif isinstance(event, PostEvent):
                    self.posts[post.id] = post
                    if len(self.posts) > self.keep:
                        self.posts.popitem(last=False)
            case RetractEvent(post_id=pid):
                self.posts.pop(pid, None)
            case StatsEvent():
                self.stats = event

    def newest(self, limit: int) -> list[Post]:
        """Up to `limit` visible posts, newest first."""
        out: list[Post] = []
        for post in reversed(self.posts.values()):
            if len(out) >= limit:
                break
            out.append(post)
        return out


class StatsCounter:
    """Posts per minute and trending hashtags over a sliding hour, fed by the events a hub sees."""

    WINDOW = 3600.0

    def __init__(self) -> None:
        self.total = 0
        self._recent: deque[tuple[float, list[str]]] = deque()
        self._tags: Counter[str] = Counter()

    def observe(self, event: Event, at: float) -> None:
        if isinstance(event, PostEvent) and event.post.visible:
            tags = hashtags(event.post.entities)
            self.total += 1
            self._recent.append((at, tags))
            self._tags.update(tags)

    def snapshot(self, now: float | None = None) -> StatsEvent:
        now = time.time() if now is None else now
        while self._recent and self._recent[0][0] < now - self.WINDOW:
            _, tags = self._recent.popleft()
            self._tags.subtract(tags)
        self._tags = +self._tags  # drop zero counts so the counter stays bounded
        per_minute = sum(1 for _ in takewhile(lambda r: r[0] >= now - 60, reversed(self._recent)))
        trending = tuple(self._tags.most_common(5))
        return StatsEvent(total=self.total, per_minute=per_minute, trending=trending)
