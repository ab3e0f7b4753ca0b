"""Brand terms, competitors and topics of a wall, matched in one Aho-Corasick pass.

Matching is case- and accent-insensitive (casefold, then combining marks dropped) and on word boundaries:
"nordlys" matches "Nordlys", "NORDLYS", "nordlys!" and "#nordlys", not "unordlys" or "nordlysphones". A
hashtag that starts with a term is a mention too (#NordlysX3 names Nordlys), because hashtags glue words.
Terms written in scripts without spaces (Chinese, Japanese, Thai) match as substrings: there is no
boundary to look for. Multi-word terms also match without their spaces ("Nordlys X3" in #NordlysX3).
"""

from __future__ import annotations

import unicodedata

import ahocorasick
import msgspec

BRAND = "brand"
COMPETITOR = "competitor"
TOPIC = "topic"


class TermsConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A wall's terms: an unknown key is a decode error that names it."""

    brand: list[str] = []
    competitors: dict[str, list[str]] = {}
    topics: dict[str, list[str]] = {}


class Matches(msgspec.Struct, frozen=True):
    brand_mentioned: bool
    competitors: list[str]
    topics: list[str]
    terms: list[str]


def parse_config(raw: object) -> TermsConfig:
    """A TermsConfig from decoded TOML/JSON; errors name the bad key (e.g. `unknown field `competitor``)."""
    try:
        return msgspec.convert(raw, TermsConfig)
    except msgspec.ValidationError as exc:
        raise ValueError(f"terms config: {exc}") from None


# Every combining mark but the kana voicing marks (in Japanese those make a different letter, not an accent).
_MARKS = {cp: None for cp in range(0x300, 0x10FFFF)
          if unicodedata.combining(chr(cp)) and cp not in (0x3099, 0x309A)}


def fold(text: str) -> str:
    """Casefolded text without accents (é -> e, Ä -> a), compatibility forms unified (ｶ -> カ)."""
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFC", unicodedata.normalize("NFKD", text.casefold()).translate(_MARKS))


def lower_as_re(text: str) -> str:
    """Lower-cased so that every character re.IGNORECASE equates with an ASCII letter becomes that letter:
    str.lower() leaves dotless i (U+0131) and long s (U+017F) as they are and lowers capital I with a dot
    (U+0130) to i and a combining dot. A regex of ASCII words with IGNORECASE can only match where the
    words are substrings of this: a cheap test first."""
    lowered = text.lower()
    if lowered.isascii():
        return lowered
    return lowered.replace("\u0131", "i").replace("\u017f", "s").replace("\u0307", "")


def _spaceless(ch: str) -> bool:
    # Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar: scripts written without spaces between words.
    cp = ord(ch)
    return (0x3040 <= cp <= 0x30FF or 0x3400 <= cp <= 0x9FFF or 0xF900 <= cp <= 0xFAFF
            or 0x0E00 <= cp <= 0x0EFF or 0x1000 <= cp <= 0x109F or 0x1780 <= cp <= 0x17FF
            or 0xFF66 <= cp <= 0xFF9F)


def _word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


class TermMatcher:
    """All of a wall's terms in one automaton; `match(text)` is pure and thread-safe once built."""

    def __init__(self, config: TermsConfig) -> None:
        self._automaton = ahocorasick.Automaton()
        entries: dict[str, list[tuple[str, str, str]]] = {}
        groups = [(BRAND, "brand", config.brand)]
        groups += [(COMPETITOR, name, terms) for name, terms in config.competitors.items()]
        groups += [(TOPIC, name, terms) for name, terms in config.topics.items()]
        for kind, name, terms in groups:
            for term in terms:
                folded = fold(term).strip().lstrip("#")
                for key in {folded, folded.replace(" ", "")}:
                    if key:
                        entries.setdefault(key, []).append((kind, name, term))
        for key, values in entries.items():
            self._automaton.add_word(key, (len(key), key, values))
        self._empty = not entries
        if not self._empty:
            self._automaton.make_automaton()

    def match(self, text: str, folded: str | None = None) -> Matches:
        """Which brand, competitors and topics the text names (`folded`: fold(text), if the caller has it)."""
        if self._empty:
            return Matches(False, [], [], [])
        folded = fold(text) if folded is None else folded
        brand = False
        competitors: set[str] = set()
        topics: set[str] = set()
        terms: set[str] = set()
        for end, (length, key, values) in self._automaton.iter(folded):
            start = end - length + 1
            if not self._bounded(folded, start, end, key):
                continue
            for kind, name, term in values:
                terms.add(term.lstrip("#"))
                if kind == BRAND:
                    brand = True
                elif kind == COMPETITOR:
                    competitors.add(name)
                else:
                    topics.add(name)
        return Matches(brand, sorted(competitors), sorted(topics), sorted(terms))

    @staticmethod
    def _bounded(text: str, start: int, end: int, key: str) -> bool:
        left_ok, right_ok = edges(text, start, end, key)
        if left_ok and right_ok:
            return True
        # A hashtag that starts with the term: #NordlysX3, #nordlysfans.
        return left_ok and _hashtag_start(text, start)


def edges(text: str, start: int, end: int, key: str) -> tuple[bool, bool]:
    """Whether `key`, found at text[start:end + 1], begins and ends on a word boundary (always true next
    to a script written without spaces)."""
    before = text[start - 1] if start > 0 else " "
    after = text[end + 1] if end + 1 < len(text) else " "
    return (_spaceless(key[0]) or not _word(before) or _spaceless(before),
            _spaceless(key[-1]) or not _word(after) or _spaceless(after))


def _hashtag_start(text: str, start: int) -> bool:
    return start > 0 and text[start - 1] == "#"
