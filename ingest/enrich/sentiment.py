"""Sentiment: VADER's lexicon scorer, made better where it is weak on social posts.

VADER gives the score (its compound, in [-1, 1]). Before scoring, hashtags are split into words
(#EpicFail, #epicfail -> "epic fail"), a few emoji VADER reads wrongly get a valence of their own, and a
wall's brand terms join the lexicon. The label comes from a small 3-class softmax head over VADER's
features (the calibration), because one fixed neutral band suits no stream in particular.
"""

from __future__ import annotations

import copy
import functools
import math
import random
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import msgspec
from vaderSentiment.vaderSentiment import NEGATE, SentimentIntensityAnalyzer

from wall.models import Sentiment  # one type: the annotation is what the post carries

LABELS = ("negative", "neutral", "positive")
MAX_CHARS = 2_000
DEFAULT_CALIBRATION = Path(__file__).with_name("data") / "calibration.json"

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
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ufe0f\ufe0e]")
_SURROGATES = re.compile("[\ud800-\udfff]")
_HASHTAG = re.compile(r"#(\w+)", re.UNICODE)
_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
# A negation word as a whole whitespace-separated token, give or take surrounding .,!? (VADER's NEGATE).
_NEGATIONS = "|".join(re.escape(w) for w in sorted(NEGATE, key=len, reverse=True))
_NEGATED = re.compile(r"(?<!\S)[.,!?]*(?:" + _NEGATIONS + r")[.,!?]*(?!\S)")
_EMOJI_TOKEN = {emoji: f" emjval{i} " for i, emoji in enumerate(EMOJI_VALENCE)}
_EMOJI_RE = re.compile("|".join(re.escape(e) for e in sorted(EMOJI_VALENCE, key=len, reverse=True)))


class Calibration(msgspec.Struct, frozen=True):
    """Softmax weights: one row per label in LABELS, one column per feature (last is the bias)."""

    weights: list[list[float]]


def clean(text: str) -> str:
    """Text safe to score: bounded, no lone surrogates, no zero-width or bidi controls."""
    if text.isascii():  # neither surrogates nor controls are ASCII
        return text[:MAX_CHARS]
    text = _SURROGATES.sub("", text[:MAX_CHARS])
    return _INVISIBLE.sub("", text)


@functools.cache
def _base() -> SentimentIntensityAnalyzer:
    analyzer = SentimentIntensityAnalyzer()
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
    text = _SARCASM_RE.sub(lambda m: _SARCASM_TOKEN[m.group(0).lower()], text)
    if not text.isascii():  # every emoji of EMOJI_VALENCE is outside ASCII
        text = _EMOJI_RE.sub(lambda m: _EMOJI_TOKEN[m.group(0)], text)
    return text, tag_valence


def features(text: str, terms: Mapping[str, float] | None = None) -> list[float]:
    """The calibration head's inputs for one text (cleaned already), ending with the bias 1.0."""
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
        1.0,
    ]


def _softmax(row: Sequence[float]) -> list[float]:
    top = max(row)
    exps = [math.exp(v - top) for v in row]
    total = sum(exps)
    return [e / total for e in exps]


def _probabilities(calibration: Calibration, x: Sequence[float]) -> list[float]:
    return _softmax([sum(w * v for w, v in zip(ws, x, strict=True)) for ws in calibration.weights])


def predict(calibration: Calibration, x: Sequence[float]) -> str:
    """The most likely label for one feature vector."""
    probs = _probabilities(calibration, x)
    return LABELS[probs.index(max(probs))]


def score(text: str, calibration: Calibration, terms: Mapping[str, float] | None = None) -> Sentiment:
    """Score and label of an English text (any string: never raises on odd input)."""
    x = features(clean(text), terms)
    return Sentiment(score=round(x[0], 4), label=predict(calibration, x))


def vader_label(compound: float, band: float = 0.05) -> str:
    """VADER's own rule: positive above +band, negative below -band, else neutral."""
    return "positive" if compound >= band else "negative" if compound <= -band else "neutral"


# --- calibration: fit, evaluate, save -------------------------------------------------------------


class Example(msgspec.Struct, frozen=True):
    text: str
    label: str


class FitResult(msgspec.Struct, frozen=True):
    saved: bool
    new_accuracy: float
    current_accuracy: float
    examples: int
    message: str


def parse_examples(lines: Iterable[str | bytes]) -> list[Example]:
    """Labelled examples from JSON lines {"text", "label"}; a bad line is a ValueError naming it."""
    out: list[Example] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            example = msgspec.json.decode(line, type=Example)
        except msgspec.DecodeError as exc:
            raise ValueError(f"line {number}: {exc}") from None
        if example.label not in LABELS:
            raise ValueError(f"line {number}: label {example.label!r} is not one of {', '.join(LABELS)}")
        out.append(example)
    return out


def _train(xs: Sequence[Sequence[float]], ys: Sequence[int], epochs: int = 300, rate: float = 0.5,
           l2: float = 1e-3) -> Calibration:
    """Multinomial logistic regression by full-batch gradient descent (small data, pure Python)."""
    dims = len(xs[0])
    weights = [[0.0] * dims for _ in LABELS]
    # Class weights balance the labels, so a stream that is mostly neutral does not swamp the others.
    counts = [max(1, ys.count(k)) for k in range(len(LABELS))]
    balance = [len(ys) / (len(LABELS) * c) for c in counts]
    n = len(xs)
    for _ in range(epochs):
        grad = [[0.0] * dims for _ in LABELS]
        for x, y in zip(xs, ys, strict=True):
            probs = _probabilities(Calibration(weights), x)
            for k, p in enumerate(probs):
                err = (p - (1.0 if k == y else 0.0)) * balance[y]
                row = grad[k]
                for j, v in enumerate(x):
                    row[j] += err * v
        for k in range(len(LABELS)):
            for j in range(dims):
                weights[k][j] -= rate * (grad[k][j] / n + l2 * weights[k][j])
    return Calibration([[round(w, 6) for w in row] for row in weights])


def _vectors(examples: Sequence[Example],
             terms: Mapping[str, float] | None) -> tuple[list[list[float]], list[int]]:
    return [features(clean(e.text), terms) for e in examples], [LABELS.index(e.label) for e in examples]


def fit(lines: Iterable[str | bytes], terms: Mapping[str, float] | None = None) -> Calibration:
    """A calibration fitted on labelled JSON lines."""
    examples = parse_examples(lines)
    if not examples:
        raise ValueError("no labelled lines to fit on")
    return _train(*_vectors(examples, terms))


def cross_validated_accuracy(examples: Sequence[Example], current: Calibration | None = None, folds: int = 5,
                             terms: Mapping[str, float] | None = None, seed: int = 7) -> tuple[float, float]:
    """k-fold accuracy of a calibration fitted on the other folds, and of `current` on the same rows."""
    xs, ys = _vectors(examples, terms)
    order = list(range(len(xs)))
    random.Random(seed).shuffle(order)
    folds = max(2, min(folds, len(order)))
    right_new = right_current = 0
    for f in range(folds):
        test = order[f::folds]
        held = set(test)
        train = [i for i in order if i not in held]
        model = _train([xs[i] for i in train], [ys[i] for i in train])
        right_new += sum(predict(model, xs[i]) == LABELS[ys[i]] for i in test)
        if current is not None:
            right_current += sum(predict(current, xs[i]) == LABELS[ys[i]] for i in test)
    return right_new / len(xs), right_current / len(xs)


def load_calibration(path: Path = DEFAULT_CALIBRATION) -> Calibration:
    """A calibration saved as JSON."""
    return msgspec.json.decode(path.read_bytes(), type=Calibration)


def save_if_better(lines: Iterable[str | bytes], path: Path = DEFAULT_CALIBRATION, folds: int = 5,
                   terms: Mapping[str, float] | None = None, baseline: Path | None = None) -> FitResult:
    """Fit on the lines; save to `path` only when its cross-validated accuracy beats the current one's
    (the one at `path`, or `baseline` when there is none yet)."""
    examples = parse_examples(lines)
    if len(examples) < folds:
        raise ValueError(f"need at least {folds} labelled lines, got {len(examples)}")
    existing = path if path.exists() else baseline
    current = load_calibration(existing) if existing is not None and existing.exists() else None
    new_acc, cur_acc = cross_validated_accuracy(examples, current, folds, terms)
    if current is not None and new_acc <= cur_acc:
        return FitResult(False, new_acc, cur_acc, len(examples),
                         f"not saved: new calibration {new_acc:.3f} is not better than current {cur_acc:.3f}")
    model = _train(*_vectors(examples, terms))
    path.write_bytes(msgspec.json.encode(model))
    return FitResult(True, new_acc, cur_acc, len(examples),
                     f"saved {path}: new calibration {new_acc:.3f} vs current {cur_acc:.3f}")


def is_scorable(text: str) -> bool:
    """Whether there is anything to score (letters or emoji VADER knows)."""
    return any(unicodedata.category(ch)[0] in "LS" for ch in text)
