"""Pure text helpers: clean post text and find the links, hashtags and mentions in it."""

from __future__ import annotations

import re
import unicodedata

from wall.models import Entity

MAX_TEXT = 5_000  # code points; longer texts are cut, a wall never shows more than a few hundred

# Control characters other than newline and tab can reorder or hide text on screen.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_LINK = re.compile(r"https?://[^\s<>\"'\u00a0]+", re.IGNORECASE)
_TAG = re.compile(r"(?<![\w&/#])#(\w{1,100})")
_MENTION = re.compile(r"(?<![\w/@])@(\w{1,64}(?:@[\w.-]+\w)?)")
_TRAILING = ".,;:!?)]}'\"…"


def clean_text(text: str) -> str:
    """NFC-normalise, drop invisible control characters, trim and cap the length."""
    text = _CONTROL.sub("", unicodedata.normalize("NFC", text)).strip()
    return text[:MAX_TEXT]


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
