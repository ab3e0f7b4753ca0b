"""One sanitizer for every post from every source, between the connector and the inbox. Pure.

The supervisor runs it on every Upsert a connector yields, the webhook on every post it is sent, so text
from every network is cleaned the same way and no connector needs its own cleaning:
- text, author name and handle, media alt text and the hold reason lose C0/C1 controls (tab and newline
  stay in text), bidi embeddings, overrides and isolates, and invisible zero-width characters (the
  joiners stay: emoji sequences and several scripts need them); they are NFC-normalised, trimmed, capped;
- entity spans (links, mentions, hashtags, in code points) follow the text when cleaning moves it;
- links, media, avatars and the post URL must be http(s) URLs with a host (media, avatar and post URL may
  also be a path on the wall itself, as the bundled demo's media are) without whitespace or controls;
- the date is clamped between EARLIEST and now (a client-supplied date can be anything);
- a post left with no visible text and no media is refused (`Refused`, its reason names no content).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from datetime import UTC, datetime

import msgspec

from wall.models import Author, Entity, Media, Post

MAX_TEXT = 5_000  # code points; a wall never shows more than a few hundred
MAX_NAME = 200
MAX_ALT = 1_500
MAX_URL = 2_048
MAX_MEDIA = 10
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # nothing on a social wall is older; year 1 is a forged date

# Removed everywhere: C0 controls but tab and newline, DEL and C1, bidi embeddings/overrides (U+202A-E)
# and isolates (U+2066-9), and zero-width characters that only hide things (ZWSP, word joiner, BOM, MVS).
_DROP = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200b\u2060\ufeff\u180e]")
# A character someone can see: not whitespace, not a format character, not a blank lookalike.
_VISIBLE = re.compile("[^\\s\u00ad\u034f\u115f\u1160\u17b4\u17b5\u200b-\u200f\u2028-\u202f\u2060-\u206f"
                      "\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0]")
_SPACES = re.compile(r"\s+")
_URL_BAD = re.compile("[\\s\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
# Scheme, then a host (a name, IPv4 or [IPv6]; no user:password@, which only serves to mislead), port.
_WEB = re.compile(r"^https?://(?:[^/?#@:\[\]]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?(?:[/?#]|$)", re.IGNORECASE)
_LANG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3}$")


class Refused(ValueError):
    """The post cannot be shown; the message says why without quoting it."""


def web_url(url: str | None, local: bool = False) -> str | None:
    """The URL when it is http(s) with a host (or, with `local`, a path on this server), else None."""
    if not url or len(url) > MAX_URL:
        return None
    url = url.strip()
    if _URL_BAD.search(url):
        return None
    if local and url.startswith("/") and not url.startswith("//"):
        return url
    return url if _WEB.match(url) else None


def clean_line(value: str, limit: int = MAX_NAME) -> str:
    """A one-line field (a name, a handle, a tag): cleaned, whitespace runs as one space, capped."""
    if value.isprintable() and "  " not in value and value == value.strip() and unicodedata.is_normalized(
            "NFC", value):  # the common case: no control, format character or odd whitespace in it
        return value[:limit]
    value = _DROP.sub("", unicodedata.normalize("NFC", value))
    return _SPACES.sub(" ", value).strip()[:limit]


def clean_text(text: str, entities: tuple[Entity, ...] = ()) -> tuple[str, tuple[Entity, ...]]:
    """The cleaned text and its entities moved along with it (dropped when their span vanished)."""
    if (len(text) <= MAX_TEXT and not _DROP.search(text) and text == text.strip()
            and unicodedata.is_normalized("NFC", text)):
        return text, _checked(text, entities)  # the common case: nothing to clean, nothing moves
    marks = sorted({e.start for e in entities} | {e.end for e in entities})
    moved = {b: b for b in marks}
    if not unicodedata.is_normalized("NFC", text):
        moved = {b: len(unicodedata.normalize("NFC", text[:at])) for b, at in moved.items()}
        text = unicodedata.normalize("NFC", text)
    dropped = [m.start() for m in _DROP.finditer(text)]
    if dropped:
        moved = {b: at - bisect_left(dropped, at) for b, at in moved.items()}
        text = _DROP.sub("", text)
    lead = len(text) - len(text.lstrip())
    text = text.strip()[:MAX_TEXT]
    moved = {b: min(max(at - lead, 0), len(text)) for b, at in moved.items()}
    return text, _checked(text, tuple(
        msgspec.structs.replace(e, start=moved[e.start], end=moved[e.end]) for e in entities))


def _checked(text: str, entities: tuple[Entity, ...]) -> tuple[Entity, ...]:
    """Entities in range, in order, not overlapping, with an http(s) target or a clean tag/handle."""
    kept: list[Entity] = []
    for e in sorted(entities, key=lambda e: e.start):
        if not 0 <= e.start < e.end <= len(text) or (kept and e.start < kept[-1].end):
            continue
        value = web_url(e.value) if e.kind == "link" else clean_line(e.value)
        if not value:
            continue
        kept.append(e if value == e.value else msgspec.structs.replace(e, value=value))
    return tuple(kept)


def clamp_date(when: datetime, now: datetime) -> datetime:
    """In UTC, not before EARLIEST and not after now (a clock ahead of ours gets our time)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # naive: taken as UTC
    try:
        when = when.astimezone(UTC)
    except OverflowError:  # year 1 with a positive offset, 9999 with a negative one
        return EARLIEST if when.year < EARLIEST.year else now
    return min(max(when, EARLIEST), now)


def sanitize(post: Post, now: datetime | None = None) -> Post:
    """The post as every screen may show it; raises Refused when nothing showable is left."""
    now = now or datetime.now(UTC)
    text, entities = clean_text(post.text, post.entities)
    media = tuple(Media(url, clean_line(m.alt, MAX_ALT), m.kind) for m in post.media[:MAX_MEDIA]
                  if (url := web_url(m.url, local=True)))
    if not _VISIBLE.search(text) and not media:
        raise Refused("no visible text and no media left after cleaning" if post.text or post.media
                      else "empty post")
    a = post.author
    author = Author(clean_line(a.name), clean_line(a.handle).replace(" ", ""), web_url(a.avatar_url, True))
    created = clamp_date(post.created_at, now)
    url = web_url(post.url, local=True)
    lang = post.lang if post.lang and _LANG.match(post.lang) else None
    held = clean_line(post.held, MAX_NAME) or "held by its source" if post.held else None
    # (an equal date in another offset is not the same: screens get UTC)
    if (text == post.text and entities == post.entities and media == post.media and created is post.created_at
            and author == a and url == post.url and lang == post.lang and held == post.held):
        return post
    return msgspec.structs.replace(post, text=text, entities=entities, media=media, created_at=created,
                                   author=author, url=url, lang=lang, held=held)
