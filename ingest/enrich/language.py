"""Language detection for short posts, offline (lingua ships its models)."""

from __future__ import annotations

import re
import threading

from lingua import ConfidenceValue, Language, LanguageDetector, LanguageDetectorBuilder

# The demo's eight languages plus a few common ones; a fixed set keeps lingua fast and short posts reliable.
LANGUAGES = (
    Language.ENGLISH, Language.GERMAN, Language.SPANISH, Language.FRENCH, Language.FINNISH,
    Language.JAPANESE, Language.ARABIC, Language.BOKMAL, Language.SWEDISH, Language.DANISH,
    Language.ITALIAN, Language.PORTUGUESE, Language.DUTCH, Language.POLISH, Language.RUSSIAN,
    Language.TURKISH, Language.CHINESE, Language.KOREAN, Language.HEBREW, Language.PERSIAN,
    Language.URDU, Language.HINDI,
)
RTL = frozenset({"ar", "he", "fa", "ur"})
MIN_LETTERS = 3
# lingua's confidences are relative over the languages it knows: a post is called for a language when
# that one clearly leads (a margin over the runner-up), not when it passes an absolute bar.
MIN_CONFIDENCE = 0.10
MIN_LEAD = 1.25

# Hashtags, mentions and links say little about the language (#nordlys reads as Norwegian), so they go.
_NOISE = re.compile(r"https?://\S+|www\.\S+|[#@]\w+|\d+", re.UNICODE)

# High-accuracy mode costs about 0.8 ms a post (the whole-enrichment target is 5,000 posts/s); the fast
# mode is as reliable once a text has some length (on short ones it is confidently wrong), so short posts
# get the accurate one.
SHORT_LETTERS = 60

_lock = threading.Lock()
_detectors: dict[bool, LanguageDetector] = {}


def detector(accurate: bool = True) -> LanguageDetector:
    """A shared detector, built once on first use (building it loads the models)."""
    with _lock:
        found = _detectors.get(accurate)
        if found is None:
            # Preloaded: a model loaded lazily the first time its language shows up stalls that post
            # (and every post behind it) for seconds.
            builder = LanguageDetectorBuilder.from_languages(*LANGUAGES).with_preloaded_language_models()
            found = builder.build() if accurate else builder.with_low_accuracy_mode().build()
            _detectors[accurate] = found
        return found


def _code(language: Language) -> str:
    code: str = language.iso_code_639_1.name.lower()
    return "nb" if language is Language.BOKMAL else code


def detect(text: str, names: re.Pattern[str] | None = None) -> str | None:
    """ISO 639-1 code of the text's language, or None when it is too short or unclear.

    `names` matches words to leave out too (a wall's brand names), after links and hashtags are gone.
    """
    text = _NOISE.sub(" ", text[:1000])
    if names is not None:
        text = names.sub(" ", text)
    letters = sum(1 for ch in text if ch.isalpha())
    if letters < MIN_LETTERS:
        return None
    values = detector(letters < SHORT_LETTERS).compute_language_confidence_values(text)
    return _code(values[0].language) if _clear(values) else None


def _clear(values: list[ConfidenceValue]) -> bool:
    if not values or values[0].value < MIN_CONFIDENCE:
        return False
    return len(values) == 1 or values[0].value >= MIN_LEAD * values[1].value


def direction(lang: str | None) -> str:
    """Writing direction of a language: "rtl" for Arabic, Hebrew, Persian and Urdu, else "ltr"."""
    return "rtl" if lang in RTL else "ltr"



def warm() -> None:
    """Build both detectors now (about 5 s and 0.5 GB), so no post waits for a model to load."""
    detector(True)
    detector(False)
