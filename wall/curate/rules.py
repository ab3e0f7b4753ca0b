"""How a post's status is decided (pure). Moderation rules and curators' stored decisions plug in here,
so a source can never set a status itself."""

from __future__ import annotations

from wall.models import Moderation, Post


def decide(post: Post) -> Moderation:
    """The status a wall gives a post from its source."""
    if post.held:  # a content warning or sensitive media: a curator looks first, never shown blindly
        return "pending"
    return "approved"
