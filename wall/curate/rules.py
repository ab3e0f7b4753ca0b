"""How a post's status is decided (pure). Today every post is approved; moderation rules and curators'
stored decisions plug in here, so a source can never set a status itself."""

from __future__ import annotations

from wall.models import Moderation, Post


def decide(post: Post) -> Moderation:
    """The status a wall gives a post from its source."""
    return "approved"
