"""VADER's lexicon reading of a post, made better where it is weak on social posts: the lexicon features
of the sentiment model (model.py) for the languages VADER has a lexicon for (English).

Before scoring, hashtags are split into words (#EpicFail, #epicfail -> "epic fail"), a few emoji VADER reads
wrongly get a valence of their own, and a wall's brand terms join the lexicon.
"""

from __future__ import annotations

import copy
import functools
import math
import re
import types
import unicodedata
from collections.abc import Mapping

import vaderSentiment.vaderSentiment as vader_module
from vaderSentiment.vaderSentiment import NEGATE, SentimentIntensityAnalyzer

from .terms import lower_as_re

LABELS = ("negative", "neutral", "positive")
MAX_CHARS = 2_000

# Emoji that VADER's descriptions misread on social posts (fire reads as danger, poo and rage as nothing).
EMOJI_VALENCE = {
    "🔥": 2.0, "💯": 2.0, "🚀": 1.5, "🙌": 2.0, "👏": 2.0, "💙": 2.0, "💚": 2.0, "💜": 2.0, "🧡": 2.0,
    "❤️": 2.5, "❤": 2.5, "✨": 1.0, "🎉": 2.0, "🥳": 2.0, "😡": -2.5, "🤬": -3.0, "😠": -2.0,
    "💩": -2.0, "👎": -2.0, "🙄": -1.5, "😤": -1.5, "🤮": -2.5, "🤢": -2.0, "😒": -1.5, "💀": -0.5,
}
# Sarcasm markers: VADER reads "oh great" and "thanks for nothing" word by word, as praise.
SARCASM = {"thanks for nothing": -2.5, "oh great": -1.5, "just great": -1.5, "yeah right": -1.5,
           "well done genius": -2.0, "what a surprise": -1.0, "/s": -1.0}
_SARCASM_TOKEN = {phrase: f" sarcval{i} " for i, phrase in enumerate(SARCASM)}
_SARCASM_RE = re.compile("|".join(r"(?<!\w)" + re.escape(p) + r"(?!\w)" for p in SARCASM), re.IGNORECASE)
# The regex costs 10-20 µs a post (IGNORECASE, a lookbehind tried at every position): a substring test on
# the lowered text finds first whether a phrase is there at all.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ufe0f\ufe0e]")
_SURROGATES = re.compile("[\ud800-\udfff]")
_HASHTAG = re.compile(r"#(\w+)", re.UNICODE)
_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
# A negation word as a whole whitespace-separated token, give or take surrounding .,!? (VADER's NEGATE).
_NEGATIONS = "|".join(re.escape(w) for w in sorted(NEGATE, key=len, reverse=True))
_NEGATED = re.compile(r"(?<!\S)[.,!?]*(?:" + _NEGATIONS + r")[.,!?]*(?!\S)")
_EMOJI_TOKEN = {emoji: f" emjval{i} " for i, emoji in enumerate(EMOJI_VALENCE)}
_EMOJI_RE = re.compile("|".join(re.escape(e) for e in sorted(EMOJI_VALENCE, key=len, reverse=True)))


def clean(text: str) -> str:
    """Text safe to score: bounded, no lone surrogates, no zero-width or bidi controls."""
    if text.isascii():  # neither surrogates nor controls are ASCII
        return text[:MAX_CHARS]
    text = _SURROGATES.sub("", text[:MAX_CHARS])
    return _INVISIBLE.sub("", text)


@functools.lru_cache(maxsize=4096)
def _negated_word(word: str) -> bool:
    return bool(vader_module.negated([word]))


def _negated(input_words: list[str], include_nt: bool = True) -> bool:
    """VADER's negated(), remembered per word: its negation check asks about one word at a time, and
    negated() builds and walks its list of 60 negations on every call (a quarter of VADER's time)."""
    if len(input_words) == 1 and include_nt:
        return _negated_word(input_words[0])
    return bool(vader_module.negated(input_words, include_nt))


# VADER's own negation check, its code unchanged, with `negated` looked up where it is remembered.
_NEGATION_CHECK = types.FunctionType(SentimentIntensityAnalyzer._negation_check.__code__,
                                     {**vars(vader_module), "negated": _negated})


class _Analyzer(SentimentIntensityAnalyzer):  # type: ignore[misc]  # vaderSentiment has no types
    """VADER with the same numbers, faster on long posts: its negation and idiom checks lower-case every
    word of the post to look at the few around word i (quadratic); here they get just those few."""

    @staticmethod
    def _negation_check(valence: float, words: list[str], start_i: int, i: int) -> float:
        start = max(0, i - 3)  # it reads words i-3 .. i-1
        return float(_NEGATION_CHECK(valence, words[start:i + 1], start_i, i - start))

    @staticmethod
    def _special_idioms_check(valence: float, words: list[str], i: int) -> float:
        start = max(0, i - 3)  # it reads words i-3 .. i+2, and whether i+1 and i+2 exist
        check = SentimentIntensityAnalyzer._special_idioms_check
        return float(check(valence, words[start:i + 3], i - start))


@functools.cache
def _base() -> SentimentIntensityAnalyzer:
    analyzer = _Analyzer()
    for emoji, token in _EMOJI_TOKEN.items():
        analyzer.lexicon[token.strip()] = EMOJI_VALENCE[emoji]
        analyzer.emojis.pop(emoji, None)
    for phrase, token in _SARCASM_TOKEN.items():
        analyzer.lexicon[token.strip()] = SARCASM[phrase]
    return analyzer


@functools.lru_cache(maxsize=64)
def _analyzer(terms: tuple[tuple[str, float], ...]) -> SentimentIntensityAnalyzer:
    # One analyzer per lexicon: a shallow copy shares the emoji table, the lexicon dict is its own.
    analyzer = copy.copy(_base())
    analyzer.lexicon = dict(_base().lexicon)
    analyzer.lexicon.update({term.casefold(): valence for term, valence in terms})
    return analyzer


def analyzer(terms: Mapping[str, float] | None = None) -> SentimentIntensityAnalyzer:
    """The VADER analyzer with a wall's brand terms (term -> valence, -4..4) added to its lexicon."""
    return _analyzer(tuple(sorted((terms or {}).items())))


def split_hashtag(tag: str, lexicon: Mapping[str, float]) -> list[str]:
    """Words of a hashtag: camel case first, else the split of a compound into two known words."""
    parts = _CAMEL.findall(tag)
    if len(parts) > 1:
        return [p.lower() for p in parts]
    low = tag.lower()
    if low in lexicon:
        return [low]
    for cut in range(len(low) - 2, 1, -1):
        head, tail = low[:cut], low[cut:]
        if head in lexicon or tail in lexicon:
            return [head, tail]
    return [low]


def _prepare(text: str, lexicon: Mapping[str, float]) -> tuple[str, float]:
    """The text VADER scores, and the summed valence its hashtags carry."""
    tag_valence = 0.0

    def words(match: re.Match[str]) -> str:
        nonlocal tag_valence
        parts = split_hashtag(match.group(1), lexicon)
        tag_valence += sum(lexicon.get(p, 0.0) for p in parts)
        return " ".join(parts)

    if "#" in text:
        text = _HASHTAG.sub(words, text)
    lowered = lower_as_re(text)
    if any(phrase in lowered for phrase in SARCASM):
        text = _SARCASM_RE.sub(lambda m: _SARCASM_TOKEN[lower_as_re(m.group(0))], text)
    if not text.isascii():  # every emoji of EMOJI_VALENCE is outside ASCII
        text = _EMOJI_RE.sub(lambda m: _EMOJI_TOKEN[m.group(0)], text)
    return text, tag_valence


def features(text: str, terms: Mapping[str, float] | None = None) -> list[float]:
    """VADER's eight features of one text (cleaned already): compound, pos, neg, neu, negated, "!", "?",
    the hashtags' valence."""
    vader = analyzer(terms)
    prepared, tag_valence = _prepare(text, vader.lexicon)
    s = vader.polarity_scores(prepared)
    lowered = prepared.lower()
    negated = "n't" in lowered or _NEGATED.search(lowered) is not None
    return [
        s["compound"], s["pos"], s["neg"], s["neu"],
        1.0 if negated else 0.0,
        min(text.count("!"), 5) / 5,
        1.0 if "?" in text else 0.0,
        math.tanh(tag_valence / 2),
    ]


def vader_label(compound: float, band: float = 0.05) -> str:
    """VADER's own rule: positive above +band, negative below -band, else neutral."""
    return "positive" if compound >= band else "negative" if compound <= -band else "neutral"


def is_scorable(text: str) -> bool:
    """Whether there is anything to score (letters or emoji VADER knows)."""
    return any(unicodedata.category(ch)[0] in "LS" for ch in text)
