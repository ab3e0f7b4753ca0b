"""Which option of a poll a post votes for (pure; docs/polls.md).

A poll's options are compiled once into one dict from folded token to option; a post is folded (case,
accents, emoji variants), split into tokens by one regex, and each token looked up. A post whose tokens
name two different options votes for neither (ambiguous), one with none votes for nothing. Numbers ("2",
"#2", "two", "zwei", "2nd", "second") vote for that option, but only in a short post (NUMBERS_UPTO tokens):
in a longer one "one of the best talks" is no vote.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

# Accents (combining marks after NFKD), emoji presentation selectors, zero-width joiners, skin tones.
_STRIP = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u20d0-\u20ff\ufe0e\ufe0f\u200d\U0001f3fb-\U0001f3ff]")
_TOKEN = re.compile(r"#?\w+|[^\w\s]")
NUMBERS_UPTO = 4  # tokens: a post this short may vote with a bare number
OPTIONS_MIN, OPTIONS_MAX = 2, 6

# The number words and ordinals of the languages the wall sees most (en, de, fr, es, it, nl, pt).
_NUMBER_WORDS: tuple[tuple[str, ...], ...] = (
    ("one", "first", "1st", "eins", "erste", "erster", "un", "une", "premier", "premiere", "uno", "primero",
     "primera", "primo", "een", "eerste", "um", "primeiro"),
    ("two", "second", "2nd", "zwei", "zweite", "zweiter", "deux", "deuxieme", "second", "dos", "segundo",
     "segunda", "due", "secondo", "twee", "tweede", "dois"),
    ("three", "third", "3rd", "drei", "dritte", "dritter", "trois", "troisieme", "tres", "tercero",
     "tercera", "tre", "terzo", "drie", "derde", "terceiro"),
    ("four", "fourth", "4th", "vier", "vierte", "vierter", "quatre", "quatrieme", "cuatro", "cuarto",
     "quattro", "quarto", "vierde", "quatro"),
    ("five", "fifth", "5th", "funf", "funfte", "funfter", "cinq", "cinquieme", "cinco", "quinto",
     "cinque", "vijf", "vijfde"),
    ("six", "sixth", "6th", "sechs", "sechste", "sechster", "sixieme", "seis", "sexto", "sei", "sesto",
     "zes", "zesde"),
)


def fold(text: str) -> str:
    """Text as votes compare it: case-folded, accents and emoji variants (skin tone, VS16) gone."""
    return _STRIP.sub("", unicodedata.normalize("NFKD", text)).casefold()


def _term(word: str) -> str:
    """One vote word as tokens compare: folded, without a leading #."""
    return fold(word.strip()).lstrip("#")


class Ballot:
    """A poll's options compiled for lookup: `vote(text)` is the option index or None."""

    __slots__ = ("numbers", "terms")

    def __init__(self, options: Sequence[Sequence[str]]) -> None:
        """`options`: each option's vote words, hashtags or emoji (its label is usually one of them).
        ValueError when two options share a word, or the count is out of range."""
        if not OPTIONS_MIN <= len(options) <= OPTIONS_MAX:
            raise ValueError(f"options: a poll has {OPTIONS_MIN} to {OPTIONS_MAX} options, "
                             f"got {len(options)}")
        self.terms: dict[str, int] = {}
        for k, words in enumerate(options):
            for word in words:
                term = _term(word)
                if not term:
                    continue
                if self.terms.get(term, k) != k:
                    raise ValueError(f"options: {word!r} votes for option {self.terms[term] + 1} and "
                                     f"{k + 1}; give each word to one option")
                self.terms[term] = k
        self.numbers: dict[str, int] = {}
        for k in range(len(options)):
            for word in (str(k + 1), *_NUMBER_WORDS[k]):
                self.numbers.setdefault(word, k)

    def vote(self, text: str) -> int | None:
        """The option the text votes for, or None (no option named, or two different ones)."""
        tokens = _TOKEN.findall(fold(text))
        numbers = len(tokens) <= NUMBERS_UPTO
        found: int | None = None
        for token in tokens:
            bare = token[1:] if token[0] == "#" and len(token) > 1 else token
            k = self.terms.get(bare)
            if k is None and numbers:
                k = self.numbers.get(bare)
            if k is None:
                continue
            if found is not None and found != k:
                return None
            found = k
        return found
