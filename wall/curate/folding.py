"""Cross-network folding (pure): a post that repeats one already on screen from another network, within the
wall's window, is folded into that card instead of showing as a card of its own (docs/folding.md)."""

from __future__ import annotations

import functools
import hashlib
import re

from wall.models import Post
from wall.text import fold

_LINK = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_NOISE = re.compile(r"@[\w.@-]+|#")  # mentions differ between networks; hashtags count as their words
_WORD = re.compile(r"\w+")
MIN_WORDS = 4  # fewer words ("Hello!", "Great talk") say too little to call two posts one


def fold_key(post: Post) -> str | None:
    """What makes two posts one: their words without links, mentions and case, or, for a post that is
    little more than a link, the link itself (a repost of a link). None: too little to compare."""
    return _text_key(post.text)


@functools.lru_cache(maxsize=1024)  # the writer asks for a post's key when it reads, settles and shows it
def _text_key(text: str) -> str | None:
    words = _WORD.findall(fold(_NOISE.sub(" ", _LINK.sub(" ", text))))
    if len(words) >= MIN_WORDS:
        basis = "text:" + " ".join(words)
    elif links := _LINK.findall(text):
        basis = "link:" + links[0].rstrip(".,;:!?)").split("://", 1)[-1].removeprefix("www.").rstrip("/")
    else:
        return None
    return hashlib.blake2b(basis.encode("utf-8", "replace"), digest_size=12).hexdigest()


class Folds:
    """The originals on screen by fold key, with when they arrived: the writer's index, rebuilt from the
    wall's recent records when it takes the lease, so that a takeover folds as its predecessor would."""

    def __init__(self, window: float) -> None:
        self.window = window
        self._originals: dict[str, tuple[str, str, float]] = {}  # key -> (post id, network, arrived)

    def add(self, post: Post, arrived: float) -> None:
        """`post` shows as a card: later copies from other networks fold into it."""
        key = fold_key(post) if self.window > 0 else None
        if key is not None and key not in self._originals:
            self._originals[key] = (post.id, post.source, arrived)
        while self._originals:  # bounded by the window: the oldest cards first, as they were added
            first = next(iter(self._originals))
            if arrived - self._originals[first][2] <= self.window:
                break
            del self._originals[first]

    def drop(self, post_id: str) -> None:
        """`post_id` is off the screen: nothing folds into it any more."""
        for key in [k for k, (pid, _, _) in self._originals.items() if pid == post_id]:
            del self._originals[key]

    def original(self, post: Post, arrived: float) -> str | None:
        """The id of the card `post` folds into, if any: same key, another network, within the window."""
        if self.window <= 0 or (key := fold_key(post)) is None:
            return None
        found = self._originals.get(key)
        if found is None or found[0] == post.id:
            return None
        pid, network, at = found
        if arrived - at > self.window:  # too old to stand for this one: the new post starts its own card
            del self._originals[key]
            return None
        return pid if network != post.source else None
