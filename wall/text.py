"""Pure text helpers: find the links, hashtags and mentions in post text (ingest/sanitize.py cleans it)."""

from __future__ import annotations

import re

from wall.models import Entity

_LINK = re.compile(r"https?://[^\s<>\"'\u00a0]+", re.IGNORECASE)
_TAG = re.compile(r"(?<![\w&/#])#(\w{1,100})")
_MENTION = re.compile(r"(?<![\w/@])@(\w{1,64}(?:@[\w.-]+\w)?)")
_TRAILING = ".,;:!?)]}'\"…"


def find_entities(text: str) -> tuple[Entity, ...]:
    """Links first (a '#' inside a URL is not a hashtag), then hashtags and mentions outside links."""
    found: list[Entity] = []
    taken: list[tuple[int, int]] = []
    for m in _LINK.finditer(text):
        url = m.group(0).rstrip(_TRAILING)
        if url.count("(") > url.count(")") and m.group(0)[len(url) :].startswith(")"):
            url += ")"  # wikipedia-style links keep their closing parenthesis
        end = m.start() + len(url)
        found.append(Entity("link", m.start(), end, url))
        taken.append((m.start(), end))

    def free(start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in taken)

    for kind, pattern in (("hashtag", _TAG), ("mention", _MENTION)):
        for m in pattern.finditer(text):
            if free(m.start(), m.end()) and not m.group(1).isdigit():
                found.append(Entity(kind, m.start(), m.end(), m.group(1)))  # type: ignore[arg-type]
    return tuple(sorted(found, key=lambda e: e.start))


def hashtags(entities: tuple[Entity, ...]) -> list[str]:
    """Lowercased hashtag values, for trending counts."""
    return [e.value.lower() for e in entities if e.kind == "hashtag"]
