"""A wall's current content, folded from its events: what a new screen is shown first."""

from __future__ import annotations

from collections import OrderedDict

from wall.models import Event, Post, PostEvent, RetractEvent, UpdateEvent


class WallState:
    """The newest visible posts (bounded)."""

    def __init__(self, keep: int = 200) -> None:
        self.keep = keep
        self.posts: OrderedDict[str, Post] = OrderedDict()  # oldest first

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

    def newest(self, limit: int) -> list[Post]:
        """Up to `limit` visible posts, newest first."""
        out: list[Post] = []
        for post in reversed(self.posts.values()):
            if len(out) >= limit:
                break
            out.append(post)
        return out
