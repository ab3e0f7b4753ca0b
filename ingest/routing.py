"""Which walls a post from a shared source goes to: those whose terms it mentions (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from wall.models import Post
from wall.text import fold


class Terms:
    """A wall's terms: "#tag" matches the hashtag, "@handle" the mention, a word or phrase the text on
    word boundaries (and the hashtag of the same letters). No terms: every post matches."""

    def __init__(self, terms: Iterable[str]) -> None:
        self.tags: set[str] = set()
        self.mentions: set[str] = set()
        words: list[str] = []
        for term in (fold(t.strip()) for t in terms):
            if term.startswith("#"):
                self.tags.add(term[1:])
            elif term.startswith("@"):
                self.mentions.add(term[1:])
            elif term:
                words.append(term)
                self.tags.add(term.replace(" ", ""))
        alternatives = "|".join(map(re.escape, words))
        self.pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)") if words else None
        self.everything = not (self.tags or self.mentions or words)

    def match(self, post: Post) -> bool:
        if self.everything:
            return True
        for e in post.entities:
            value = fold(e.value)
            if value in (self.tags if e.kind == "hashtag" else self.mentions if e.kind == "mention" else ()):
                return True
        return self.pattern is not None and self.pattern.search(fold(post.text)) is not None


class Router:
    """Per wall terms, built once; `walls_for` picks among the walls a source feeds."""

    def __init__(self, walls: dict[str, Iterable[str]]) -> None:
        self.terms = {name: Terms(t) for name, t in walls.items()}

    def walls_for(self, post: Post, fed: Iterable[str]) -> list[str]:
        return [w for w in fed if self.terms[w].match(post)]
