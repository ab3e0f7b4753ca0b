"""Language detection for short posts, offline (the models ship with the code).

Cheapest first. A script that only one candidate language writes decides alone, with no model: kana is
Japanese, Hangul Korean, Hebrew Hebrew, Cyrillic Russian when Russian is the only candidate written in it.
Otherwise only the candidates that write the text's script compete (Latin: English against German,
Spanish...), in fastText's language identification model (lid.176.ftz: word and character n-grams, 176
languages in about 3 MB); a text with some length that fastText is not sure of (close languages: Bokmål
against Danish) goes to lingua's fast trigram mode. A wall naming a language fastText lacks (Zulu,
Maori...) gets lingua for that script instead: its fast trigram mode for a text with some length, its
accurate mode (1- to 5-grams) for short texts, where trigrams alone are confidently wrong, at about 30 MB
a language; that was the default's 650 MB writer before (docs/architecture.md, Enrichment).
"""

from __future__ import annotations

import bisect
import functools
import re
import string
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import fasttext
from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

from .terms import lower_as_re

# The demo's eight languages plus a few common ones: the candidates when a wall names none.
LANGUAGES = (
    Language.ENGLISH, Language.GERMAN, Language.SPANISH, Language.FRENCH, Language.FINNISH,
    Language.JAPANESE, Language.ARABIC, Language.BOKMAL, Language.SWEDISH, Language.DANISH,
    Language.ITALIAN, Language.PORTUGUESE, Language.DUTCH, Language.POLISH, Language.RUSSIAN,
    Language.TURKISH, Language.CHINESE, Language.KOREAN, Language.HEBREW, Language.PERSIAN,
    Language.URDU, Language.HINDI,
)
RTL = frozenset({"ar", "he", "fa", "ur"})
# fastText's language identification model (data/langid/README.md, CC BY-SA 3.0), and its label of a
# language where that is not the ISO 639-1 code.
LANGID_MODEL = Path(__file__).with_name("data") / "langid" / "lid.176.ftz"
FASTTEXT_LABELS = {Language.BOKMAL: "no"}
FASTTEXT_TOP = 5  # fastText's best guesses looked at: a text none of whose top five is a candidate is unknown
MIN_LETTERS = 3
# lingua's confidences are relative over the languages it compares: a post is called for a language when
# that one clearly leads (a margin over the runner-up), not when it passes an absolute bar.
MIN_CONFIDENCE = 0.10
MIN_LEAD = 1.25
SURE_LEAD = 10.0  # fastText's lead over the runner-up that decides a longer text without lingua
# Below this many letters the trigram mode is unreliable and the accurate one is used.
SHORT_LETTERS = 50
LONG_CHARS = 120  # what lingua reads of a longer text
RUNNERS_UP = 3  # on short texts, the fast mode's top three go to the accurate one
MAX_CHARS = 1000

# Common English words that are not words of the other Latin-script candidates ("was", "will", "so", "in",
# "im", "is", "on", "for", "to", "bad", "also" are left out for that reason), nor the English that other
# languages' posts borrow ("amazing", "best", "love"...). A text with at least three of them making up a
# quarter of its words is English without asking lingua (about half of English posts). On 200,000 translated
# UI strings of 12 other Latin-script languages (this machine's message catalogues) it fired only where
# English words were quoted in them ("from" or "since", "left", "right").
_ENGLISH = frozenset("""
the and you your you're this that these those with what have has had just but are were they them their there
from would about been when which who how why because into than its it's i'm i've i'll don't can't didn't
isn't doesn't won't wasn't aren't not our she his him my it be if or up out get got very really some more
any one now here could should can people time day today tonight going gonna know think want need see make
better new first thanks thank please everyone we're they're that's there's what's let's still even only much
well back way look looks looking work works year years week morning night never ever always something
nothing everything anyone someone though too yes yeah come take say said tell feel right little big last
next every where while before since until again around does doing done being having getting makes made might
must many most other another such own same few both each down away through isnt dont cant didnt ive youre
thats wait waiting
""".split())
_WORDS = re.compile(r"[a-z]+(?:'[a-z]+)?")
ENGLISH_MIN_WORDS = 3
ENGLISH_MIN_SHARE = 0.25

# Hashtags, mentions and links say little about the language (#nordlys reads as Norwegian), so they go.
_NOISE = re.compile(r"https?://\S+|www\.\S+|[#@]\w+|\d+", re.UNICODE)

LATIN, CYRILLIC, GREEK, ARMENIAN, HEBREW, ARABIC, DEVANAGARI, BENGALI, GEORGIAN, THAI, HANGUL, KANA, HAN = (
    "latin", "cyrillic", "greek", "armenian", "hebrew", "arabic", "devanagari", "bengali", "georgian",
    "thai", "hangul", "kana", "han")
OTHER = "other"

# (first, last code point, script), in code point order; letters outside every range are OTHER.
_RANGES = (
    (0x0041, 0x024F, LATIN), (0x0370, 0x03FF, GREEK), (0x0400, 0x052F, CYRILLIC),
    (0x0531, 0x058F, ARMENIAN), (0x0590, 0x05FF, HEBREW), (0x0600, 0x06FF, ARABIC),
    (0x0750, 0x077F, ARABIC), (0x08A0, 0x08FF, ARABIC), (0x0900, 0x097F, DEVANAGARI),
    (0x0980, 0x09FF, BENGALI), (0x0E00, 0x0E7F, THAI), (0x10A0, 0x10FF, GEORGIAN),
    (0x1100, 0x11FF, HANGUL), (0x1E00, 0x1EFF, LATIN), (0x1F00, 0x1FFF, GREEK),
    (0x3040, 0x30FF, KANA), (0x3130, 0x318F, HANGUL), (0x31F0, 0x31FF, KANA), (0x3400, 0x4DBF, HAN),
    (0x4E00, 0x9FFF, HAN), (0xAC00, 0xD7AF, HANGUL), (0xF900, 0xFAFF, HAN), (0xFB1D, 0xFB4F, HEBREW),
    (0xFB50, 0xFDFF, ARABIC), (0xFE70, 0xFEFF, ARABIC), (0xFF21, 0xFF5A, LATIN), (0xFF66, 0xFF9F, KANA),
    (0x20000, 0x2FA1F, HAN),
)

# The scripts of the languages not written in Latin letters (lingua's other languages are Latin).
_SCRIPTS: dict[Language, frozenset[str]] = {
    Language.JAPANESE: frozenset({KANA, HAN}), Language.CHINESE: frozenset({HAN}),
    Language.KOREAN: frozenset({HANGUL, HAN}), Language.HEBREW: frozenset({HEBREW}),
    Language.GREEK: frozenset({GREEK}), Language.THAI: frozenset({THAI}),
    Language.ARMENIAN: frozenset({ARMENIAN}), Language.GEORGIAN: frozenset({GEORGIAN}),
    Language.BENGALI: frozenset({BENGALI}),
    **{lang: frozenset({ARABIC}) for lang in (Language.ARABIC, Language.PERSIAN, Language.URDU)},
    **{lang: frozenset({DEVANAGARI}) for lang in (Language.HINDI, Language.MARATHI)},
    **{lang: frozenset({CYRILLIC}) for lang in (
        Language.RUSSIAN, Language.UKRAINIAN, Language.BELARUSIAN, Language.BULGARIAN, Language.MACEDONIAN,
        Language.SERBIAN, Language.KAZAKH, Language.MONGOLIAN)},
}


# Scripts that many languages write, and the common ones a lone candidate is compared with (kana, Hangul,
# Hebrew, Greek, Thai... name their language alone).
_RIVALS: dict[str, tuple[Language, ...]] = {
    LATIN: (Language.ENGLISH, Language.SPANISH, Language.FRENCH, Language.GERMAN, Language.PORTUGUESE,
            Language.ITALIAN, Language.DUTCH),
    CYRILLIC: (Language.RUSSIAN, Language.UKRAINIAN, Language.BULGARIAN),
    ARABIC: (Language.ARABIC, Language.PERSIAN, Language.URDU),
    DEVANAGARI: (Language.HINDI, Language.MARATHI),
    HAN: (Language.CHINESE, Language.JAPANESE),
}


def scripts_of(language: Language) -> frozenset[str]:
    return _SCRIPTS.get(language, frozenset({LATIN}))


_STARTS = [first for first, _, _ in _RANGES]


def script_of(ch: str) -> str:
    cp = ord(ch)
    i = bisect.bisect_right(_STARTS, cp) - 1
    return _RANGES[i][2] if i >= 0 and cp <= _RANGES[i][1] else OTHER


_ASCII_LETTERS = string.ascii_letters.encode("ascii")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def letters_by_script(text: str) -> dict[str, int]:
    """How many letters of each script the text has."""
    ascii_part = text.encode("ascii", "ignore")
    counts = {LATIN: len(ascii_part) - len(ascii_part.translate(None, _ASCII_LETTERS))}
    if not text.isascii():
        for ch in _NON_ASCII.findall(text):
            if ch.isalpha():
                script = LATIN if ch < "\u0250" else script_of(ch)
                counts[script] = counts.get(script, 0) + 1
    return counts


def _script(counts: dict[str, int]) -> str:
    # Kana is what tells Japanese from Chinese: a text with any kana counts its kanji as Japanese too.
    if counts.get(KANA):
        counts = dict(counts)
        counts[KANA] += counts.pop(HAN, 0)
    return max(counts.items(), key=lambda kv: kv[1])[0]


def language_of(code: str) -> Language:
    """The lingua language of an ISO 639-1 code ("nb" or "no" is Norwegian Bokmål); ValueError if unknown."""
    code = {"no": "nb"}.get(code.lower(), code.lower())
    try:
        return Language.from_iso_code_639_1(IsoCode639_1.from_str(code))
    except ValueError:
        raise ValueError(f"unknown language {code!r}: use an ISO 639-1 code lingua knows") from None


def _code(language: Language) -> str:
    code: str = language.iso_code_639_1.name.lower()
    return "nb" if language is Language.BOKMAL else code


def _clear(values: list[float], lead: float = MIN_LEAD) -> bool:
    """Whether the first of these confidences (best first) clearly leads."""
    if not values or values[0] < MIN_CONFIDENCE:
        return False
    return len(values) == 1 or values[0] >= lead * values[1]


@functools.cache
def _fasttext() -> Any:
    """fastText's model, read once (under 1 MB, about 3 MB in memory); its predictions are thread-safe."""
    return fasttext.load_model(str(LANGID_MODEL))


def _label(language: Language) -> str:
    return FASTTEXT_LABELS.get(language, _code(language))


def _fasttext_knows(languages: Iterable[Language]) -> bool:
    # fasttext-predict has no list of labels: a prediction with every label (k=-1) is one.
    known = {label.removeprefix("__label__") for label in _fasttext().predict("a", k=-1, threshold=0.0)[0]}
    return all(_label(lang) in known for lang in languages)


def _english_words(text: str) -> tuple[int, int]:
    """How many of the text's words are on the English list, and how many words it has."""
    words = _WORDS.findall(text.lower().replace("\u2019", "'"))
    return sum(map(_ENGLISH.__contains__, words)), len(words)


def _plainly_english(text: str) -> bool:
    hits, words = _english_words(text)
    return hits >= ENGLISH_MIN_WORDS and hits >= ENGLISH_MIN_SHARE * words


class _Group:
    """The candidates written in one script: fastText when it knows them all, else lingua's detectors
    (built on first use)."""

    def __init__(self, languages: frozenset[Language], wanted: frozenset[Language]) -> None:
        self.languages = languages
        self.wanted = wanted  # the wall's own; rivals (see _RIVALS) only keep a lone candidate honest
        self.only = _code(next(iter(languages))) if len(languages) == 1 else None
        # fastText label -> code, when fastText knows every candidate (lingua is the fallback)
        self.labels = {f"__label__{_label(lang)}": _code(lang) for lang in languages} \
            if self.only is None and _fasttext_knows(languages) else None
        self._lock = threading.Lock()
        self._fast: LanguageDetector | None = None
        self._accurate: dict[frozenset[Language], LanguageDetector] = {}

    def warm(self) -> None:
        if self.only is None:
            self._detector(None)
            if self.labels is None:
                self._detector(self.languages)

    def _detector(self, accurate_among: frozenset[Language] | None) -> LanguageDetector:
        with self._lock:
            found = self._fast if accurate_among is None else self._accurate.get(accurate_among)
            if found is None:
                # Preloaded: a model loaded lazily the first time its language shows up stalls that
                # post (and every post behind it). Detectors share lingua's loaded models, so one for
                # a subset of the group costs no memory.
                languages = accurate_among or self.languages
                builder = LanguageDetectorBuilder.from_languages(*languages).with_preloaded_language_models()
                if accurate_among is None:
                    found = self._fast = builder.with_low_accuracy_mode().build()
                else:
                    found = self._accurate[accurate_among] = builder.build()
            return found

    def detect(self, text: str, letters: int) -> str | None:
        if self.only is not None:
            return self.only
        english = 0
        if Language.ENGLISH in self.wanted:
            english, words = _english_words(text)
            if english >= ENGLISH_MIN_WORDS and english >= ENGLISH_MIN_SHARE * words:
                return "en"
        if self.labels is not None:
            # fastText's word and character n-grams; on short texts lingua's trigrams are confidently
            # wrong, on longer ones fastText is as right in less than half the time, except between close
            # languages (Bokmål read as Danish): there, when its runner-up is near, lingua decides.
            labels, probabilities = _fasttext().predict(text, k=FASTTEXT_TOP)
            guesses = [(self.labels[label], float(p)) for label, p in zip(labels, probabilities, strict=True)
                       if label in self.labels]
            confidences = [p for _, p in guesses]
            if letters < SHORT_LETTERS or _clear(confidences, SURE_LEAD):
                return guesses[0][0] if _clear(confidences) else None
        if letters >= SHORT_LETTERS:
            # lingua's cost grows with the text; past a couple of sentences more text changes little.
            if len(text) > LONG_CHARS:
                cut = text.rfind(" ", 0, LONG_CHARS)  # at a word's end
                text = text[:cut if cut > 0 else LONG_CHARS]
            values = self._detector(None).compute_language_confidence_values(text)
        elif len(self.languages) <= RUNNERS_UP:
            values = self._detector(self.languages).compute_language_confidence_values(text)
        else:
            # The accurate mode costs about five times the fast one per language: the fast mode picks
            # the few that could be it, the accurate one decides among them.
            ranked = self._detector(None).compute_language_confidence_values(text)
            among = {v.language for v in ranked[:RUNNERS_UP]}
            if english:  # the fast mode can rank English out of a short English text; keep it in the race
                among.add(Language.ENGLISH)
            values = self._detector(frozenset(among)).compute_language_confidence_values(text)
        return _code(values[0].language) if _clear([v.value for v in values]) else None


class Names:
    """A wall's names (brand, competitors), left out of a text before its language is detected."""

    def __init__(self, names: Iterable[str]) -> None:
        names = sorted(set(names), key=len, reverse=True)
        alternatives = "|".join(re.escape(n) for n in names)
        self.pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
        # The regex costs a few µs a post; names in ASCII are looked for as substrings first (lower_as_re).
        self._ascii = tuple(n.lower() for n in names) if all(n.isascii() for n in names) else None

    def sub(self, repl: str, text: str) -> str:
        if self._ascii is not None:
            lowered = lower_as_re(text)
            if not any(name in lowered for name in self._ascii):
                return text
        return self.pattern.sub(repl, text)


class Detector:
    """Language detection among a set of candidate languages; thread-safe once warm."""

    def __init__(self, languages: Iterable[Language] = LANGUAGES) -> None:
        self.languages = frozenset(languages)
        groups: dict[str, set[Language]] = {}
        for lang in self.languages:
            for script in scripts_of(lang):
                groups.setdefault(script, set()).add(lang)
        self._groups = {}
        for script, langs in groups.items():
            wanted = frozenset(langs)
            if len(wanted) == 1 and script in _RIVALS:
                # Many languages write this script: alone, the one candidate would win every text. A
                # rival that clearly wins is named (a German post on an English wall is "de").
                langs |= set(_RIVALS[script])
            self._groups[script] = _Group(frozenset(langs), wanted)

    def warm(self) -> None:
        """Load the models now: lingua's trigram models (about 2 MB a language) and, where fastText lacks a
        candidate, its accurate ones (a few seconds, about 30 MB a language that shares its script)."""
        accurate = [g.languages for g in self._groups.values() if g.only is None and g.labels is None]
        shared = set().union(*accurate)
        if shared:
            # One build loads every model at once, as lingua does best (in parallel, the GIL released);
            # the groups' own detectors then find them loaded.
            LanguageDetectorBuilder.from_languages(*shared).with_preloaded_language_models().build()
        for group in self._groups.values():
            group.warm()

    def detect(self, text: str, names: Names | re.Pattern[str] | None = None) -> str | None:
        """ISO 639-1 code of the text's language, or None when it is too short, unclear or in a script
        no candidate writes. `names` matches words to leave out too (a wall's brand names)."""
        text = _NOISE.sub(" ", text[:MAX_CHARS])
        if names is not None:
            text = names.sub(" ", text)
        text = " ".join(text.split())
        counts = letters_by_script(text)
        letters = sum(counts.values())
        if letters < MIN_LETTERS:
            return None
        group = self._groups.get(_script(counts))
        if group is None:
            return None
        return group.detect(text, letters)


_lock = threading.Lock()
_detectors: dict[frozenset[Language], Detector] = {}


def detector(codes: Iterable[str] | None = None) -> Detector:
    """The shared detector for these candidate languages (ISO 639-1 codes; None: LANGUAGES)."""
    languages = frozenset(LANGUAGES if codes is None else (language_of(c) for c in codes))
    with _lock:
        found = _detectors.get(languages)
        if found is None:
            found = _detectors[languages] = Detector(languages)
        return found


def detect(text: str, names: Names | re.Pattern[str] | None = None) -> str | None:
    """detect() among the default candidates (LANGUAGES)."""
    return detector().detect(text, names)


def direction(lang: str | None) -> str:
    """Writing direction of a language: "rtl" for Arabic, Hebrew, Persian and Urdu, else "ltr"."""
    return "rtl" if lang in RTL else "ltr"


def warm() -> None:
    """Load the models of every detector made so far (the default one when there is none), so no post
    waits for a model to load."""
    with _lock:
        found = list(_detectors.values())
    for d in found or [detector()]:
        d.warm()
