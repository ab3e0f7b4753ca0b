"""Pure text helpers: find the links, hashtags and mentions in post text (ingest/sanitize.py cleans it),
and match text as people mean it (case, accents and invisible characters aside)."""

from __future__ import annotations

import re
import unicodedata

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


def fold(text: str) -> str:
    """Case- and accent-insensitive form for matching ("Nordlýs" and "NORDLYS" alike)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# Left out before a tag is looked for: format characters (zero-width spaces and joiners, soft hyphens,
# bidi marks) and marks (accents, variation selectors), which change nothing a reader sees.
_UNSEEN = frozenset(("Cf", "Mn", "Me"))


def has_tag(text: str, entities: tuple[Entity, ...], tag: str) -> bool:
    """Whether a post carries the hashtag `tag` ("#nowall") however it is written: any case, accented,
    full-width or styled letters (NFKD), invisible characters inside it (a zero-width space after
    "#no"), in its text or among the hashtags its network tagged it with. "" never matches."""
    wanted = _seen(tag)
    if not wanted:
        return False
    if any(e.kind == "hashtag" and "#" + _seen(e.value) == wanted for e in entities):
        return True
    return re.search(rf"(?<![\w&/]){re.escape(wanted)}(?!\w)", _seen(text)) is not None


def _seen(text: str) -> str:
    if text.isascii():  # most posts: nothing to decompose and no invisible characters
        return text.lower()
    return "".join(c for c in fold(text) if unicodedata.category(c) not in _UNSEEN)
