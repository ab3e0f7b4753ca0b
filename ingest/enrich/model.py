"""The sentiment model: hashed word and character n-grams plus VADER's features, a linear classifier.

The n-grams need no lexicon, so the model learns words in any language from labelled posts; VADER's
features (the lexicon's reading, see sentiment.py) join only where the language has that lexicon (English,
and texts too short to tell). scikit-learn fits it (multinomial logistic regression); scoring is one
sparse product, with no scikit-learn object kept. A model is saved as an .npz of plain arrays
(coefficients, intercepts, its facts as JSON bytes) and loaded with allow_pickle=False: a model file or a
stored version is never code.

The acceptance rule (`compare`), the same for `wall sentiment fit` and the per-wall learner: a candidate is
fitted k times on k-1 folds of the labels and scored on the remaining fold, and the current model is scored
on the same held-out rows; the candidate is taken only when it is right strictly more often. Rows the
current model was fitted on are not held out (`held`), so it is never judged on what it learned.
"""

from __future__ import annotations

import functools
import io
import itertools
import random
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import msgspec
import numpy as np
import scipy.sparse as sp

from wall.models import Sentiment  # one type: the annotation is what the post carries

from . import sentiment

LABELS = sentiment.LABELS
DEFAULT = Path(__file__).with_name("data") / "sentiment_model.npz"
LEXICON_LANGUAGES = frozenset({"en"})  # VADER's lexicon is English
N_FEATURES = 2**16  # per n-gram kind: few enough to keep a model small, collisions cost little
C = 0.3  # inverse regularization of the logistic regression (the best of 0.05-3 on held-out tweets)
_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"@\w+")
# Words, and each other non-space character alone (emoji, "!", "?"): they carry sentiment too.
_TOKENS = re.compile(r"\w+|[^\w\s]")
DIMS = 2 * N_FEATURES + 8  # word n-grams, char n-grams, VADER's eight features


class Example(msgspec.Struct, frozen=True):
    """A labelled text; weight below 1 for a weak signal (an approval or a rejection)."""

    text: str
    label: str
    lang: str | None = None
    weight: float = 1.0


class Facts(msgspec.Struct, frozen=True):
    """What a model is, for people: stored inside the model and beside a stored version."""

    labels: int = 0  # labelled examples it was fitted on
    languages: list[str] = []  # the languages it scores: the lexicon's and those it has labels for
    accuracy: float | None = None  # on held-out labels, when it was accepted


class Model:
    def __init__(self, coef: np.ndarray, intercept: np.ndarray, facts: Facts) -> None:
        self.coef = np.ascontiguousarray(coef, dtype=np.float32)
        self.intercept = np.asarray(intercept, dtype=np.float32)
        self.facts = facts
        self.languages = frozenset(facts.languages)
        self._coef_t = sp.csr_matrix(self.coef.T)  # most weights are zero: hashed n-grams never seen

    def scores(self, lang: str | None) -> bool:
        """Whether the model has anything to go on for a post in this language (None: too short to tell)."""
        return lang is None or lang in self.languages or lang in LEXICON_LANGUAGES

    def predict(self, rows: sp.csr_matrix) -> list[str]:
        return [LABELS[i] for i in self._logits(rows).argmax(axis=1)]

    def sentiments(self, rows: sp.csr_matrix) -> list[Sentiment]:
        """Label and score of each row; the score is P(positive) - P(negative), in [-1, 1]."""
        logits = self._logits(rows)
        odds = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs = odds / odds.sum(axis=1, keepdims=True)
        score = probs[:, LABELS.index("positive")] - probs[:, LABELS.index("negative")]
        return [Sentiment(score=round(float(v), 4), label=LABELS[k])
                for v, k in zip(score, logits.argmax(axis=1), strict=True)]

    def _logits(self, rows: sp.csr_matrix) -> np.ndarray:
        return np.asarray((rows @ self._coef_t).toarray() + self.intercept)

    def right(self, rows: sp.csr_matrix, examples: Sequence[Example]) -> int:
        """How many examples it labels right; one in a language it does not score counts as wrong."""
        return sum(e.label == p and self.scores(e.lang)
                   for e, p in zip(examples, self.predict(rows), strict=True))

    def dumps(self) -> bytes:
        out = io.BytesIO()
        np.savez_compressed(out, coef=self.coef, intercept=self.intercept,
                            facts=np.frombuffer(msgspec.json.encode(self.facts), dtype=np.uint8))
        return out.getvalue()

    @classmethod
    def loads(cls, data: bytes) -> Model:
        """A model from dumps(); anything else is a ValueError (never unpickled)."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                coef, intercept, facts = npz["coef"], npz["intercept"], npz["facts"].tobytes()
            model = cls(coef, intercept, msgspec.json.decode(facts, type=Facts))
        except (OSError, KeyError, ValueError, msgspec.DecodeError) as exc:
            raise ValueError(f"not a sentiment model: {exc}") from None
        if model.coef.shape != (len(LABELS), DIMS) or model.intercept.shape != (len(LABELS),):
            raise ValueError(f"not a sentiment model of this version: weights {model.coef.shape}")
        return model


def _ngram_text(text: str) -> str:
    return _MENTION.sub(" @user ", _URL.sub(" http ", text)).lower()


def _words(text: str) -> tuple[list[bytes], bytes]:
    """Word 1-2-grams, and the text's words joined by one space and padded with spaces (UTF-8: any
    script), whose byte 2-4-grams `_char_hashes` takes."""
    # Encoded at once: no token holds a space, so the joined bytes split back into the tokens.
    words = _TOKENS.findall(text)
    grams = " ".join(words).encode("utf-8", "surrogatepass").split(b" ") if words else []
    grams += [a + b" " + b for a, b in itertools.pairwise(grams)]
    return grams, b" " + b" ".join(text.encode("utf-8", "surrogatepass").split()) + b" "


def _crc_tables(n: int) -> tuple[int, np.ndarray]:
    """CRC-32 is affine over GF(2): the CRC of n bytes is that of n zero bytes XOR, for each position, a
    table entry of the byte there. Returns the zeros' CRC and the (n, 256) table."""
    zeros = zlib.crc32(bytes(n))
    table = [[zlib.crc32(bytes(j) + bytes([v]) + bytes(n - j - 1)) ^ zeros for v in range(256)]
             for j in range(n)]
    return zeros, np.array(table, dtype=np.uint32)


_CRC = {n: _crc_tables(n) for n in (2, 3, 4)}


def _char_hashes(padded: bytes, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows and CRC-32s of the byte 2-4-grams of each word padded with spaces, for texts given as
    `_words` pads them and joined (`rows`: the row of each byte), all at once in numpy: the same numbers
    as zlib.crc32 on each gram. The joined texts' 2-grams are the padded words' plus one of two spaces
    where two texts meet; their 3- and 4-grams are the words' plus those with a space inside: left out."""
    buf = np.frombuffer(padded, dtype=np.uint8)
    space = buf == 32
    out_rows = [np.empty(0, dtype=np.int64)]  # no texts, no grams
    out_hashes = [np.empty(0, dtype=np.uint32)]
    for n, (zeros, table) in _CRC.items():
        count = len(buf) - n + 1
        if count <= 0:
            continue
        keep = ~(space[:count] & space[1:count + 1]) if n == 2 else ~space[1:count + 1]
        if n == 4:
            keep &= ~space[2:count + 2]
        starts = np.flatnonzero(keep)
        hashes = np.full(len(starts), zeros, dtype=np.uint32)
        for j in range(n):
            hashes ^= table[j][buf[starts + j]]
        out_rows.append(rows[starts])
        out_hashes.append(hashes)
    return np.concatenate(out_rows), np.concatenate(out_hashes)


def _unit_rows(rows: np.ndarray, columns: np.ndarray, count: int, lexical: np.ndarray) -> sp.csr_matrix:
    """The grams counted per row and column, each block (words, characters) scaled to unit length on
    each row, then the lexical features: one CSR matrix built from sorted keys, no scipy arithmetic."""
    keys, counts = np.unique(rows * DIMS + columns, return_counts=True)
    rows, columns = np.divmod(keys, DIMS)
    block = rows * 2 + (columns >= N_FEATURES)
    norms = np.sqrt(np.bincount(block, weights=counts.astype(np.float64) ** 2, minlength=2 * count))
    norms[norms == 0] = 1.0
    data = counts * (1 / norms)[block]
    lex_rows, lex_columns = np.nonzero(lexical)
    rows = np.concatenate([rows, lex_rows])
    order = np.argsort(rows, kind="stable")  # grams' columns come before the lexical ones on each row
    indptr = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=count), out=indptr[1:])
    indices = np.concatenate([columns, lex_columns + 2 * N_FEATURES])[order]
    values = np.concatenate([data, lexical[lex_rows, lex_columns]])[order]
    return sp.csr_matrix((values, indices, indptr), shape=(count, DIMS))


def vectors(texts: Sequence[str], langs: Sequence[str | None],
            terms: Mapping[str, float] | None = None) -> sp.csr_matrix:
    """The feature rows of cleaned texts: n-grams always, VADER's features where its lexicon applies.

    Our own feature hashing (CRC-32), not scikit-learn's HashingVectorizer: importing that costs every
    scoring process 73 MB."""
    word_rows: list[int] = []
    word_hashes: list[int] = []
    padded: list[bytes] = []
    lexical = np.zeros((len(texts), 8), dtype=np.float64)
    for i, (text, lang) in enumerate(zip(texts, langs, strict=True)):
        grams, joined = _words(_ngram_text(text))
        word_rows += [i] * len(grams)
        word_hashes += map(zlib.crc32, grams)
        padded.append(joined)
        if lang is None or lang in LEXICON_LANGUAGES:
            lexical[i] = sentiment.features(text, terms)
    byte_rows = np.repeat(np.arange(len(texts)), [len(p) for p in padded])
    char_rows, char_hashes = _char_hashes(b"".join(padded), byte_rows)
    rows = np.concatenate([np.asarray(word_rows, dtype=np.int64), char_rows])
    columns = np.concatenate([np.asarray(word_hashes, dtype=np.int64) % N_FEATURES,
                              char_hashes.astype(np.int64) % N_FEATURES + N_FEATURES])
    return _unit_rows(rows, columns, len(texts), lexical)


def _fit_rows(rows: sp.csr_matrix, examples: Sequence[Example]) -> tuple[np.ndarray, np.ndarray]:
    ys = np.array([LABELS.index(e.label) for e in examples])
    weights = np.array([e.weight for e in examples])
    if len(set(ys.tolist())) < 2:  # one class alone: a constant model (the classifier needs two)
        intercept = np.full(len(LABELS), -1.0)
        intercept[ys[0]] = 1.0
        return np.zeros((len(LABELS), rows.shape[1])), intercept
    # Fitted on the columns the rows use (a few thousand of the hashed space): the rest would get zero
    # weights anyway, and the solver is many times faster without them.
    from sklearn.linear_model import LogisticRegression  # only where a model is fitted: 80 MB less elsewhere

    used = np.unique(rows.indices)
    classifier = LogisticRegression(C=C, solver="sag", max_iter=1000, random_state=0)
    classifier.fit(rows[:, used], ys, sample_weight=weights)
    coef = np.zeros((len(LABELS), rows.shape[1]))
    intercept = np.full(len(LABELS), -1e3)  # a class never seen is never predicted
    if len(classifier.classes_) == 2:  # binary: one row of weights, the second class against the first
        first, second = classifier.classes_
        intercept[first] = 0.0
        coef[second, used], intercept[second] = classifier.coef_[0], classifier.intercept_[0]
    else:
        coef[:, used], intercept[:] = classifier.coef_, classifier.intercept_
    return coef, intercept


def languages_of(examples: Iterable[Example]) -> list[str]:
    """The languages it has a correction in (a weak label is not enough), plus the lexicon's. One is
    enough to try: the acceptance rule decides whether the model is any good at them."""
    return sorted(LEXICON_LANGUAGES | {e.lang for e in examples if e.lang and e.weight >= 1.0})


def fit(examples: Sequence[Example], terms: Mapping[str, float] | None = None,
        accuracy: float | None = None) -> Model:
    """A model fitted on labelled examples (texts cleaned here)."""
    if not examples:
        raise ValueError("no labelled examples to fit on")
    rows = vectors([sentiment.clean(e.text) for e in examples], [e.lang for e in examples], terms)
    coef, intercept = _fit_rows(rows, examples)
    return Model(coef, intercept, Facts(len(examples), languages_of(examples), accuracy))


class Comparison(msgspec.Struct, frozen=True):
    new: float  # the candidate's accuracy on the held-out rows
    current: float  # the current model's on the same rows
    held: int  # how many rows were judged

    @property
    def better(self) -> bool:
        return self.new > self.current


def compare(examples: Sequence[Example], current: Model, held: Sequence[bool] | None = None, folds: int = 5,
            terms: Mapping[str, float] | None = None, seed: int = 7) -> Comparison:
    """Cross-validated accuracy of a candidate fitted on the examples against `current`, on the same folds.

    Only rows with `held` true (default all) and full weight are judged; every row is fitted on when it is
    not in the fold being judged."""
    if not examples:
        raise ValueError("no labelled examples to compare on")
    judged = [i for i, e in enumerate(examples) if e.weight >= 1.0 and (held is None or held[i])]
    if len(judged) < 2:
        raise ValueError(f"need at least 2 held-out labels to compare on, got {len(judged)}")
    rows = vectors([sentiment.clean(e.text) for e in examples], [e.lang for e in examples], terms)
    random.Random(seed).shuffle(judged)
    folds = max(2, min(folds, len(judged)))
    right_new = right_current = 0
    for f in range(folds):
        test = judged[f::folds]
        out = set(test)
        train = [i for i in range(len(examples)) if i not in out]
        coef, intercept = _fit_rows(rows[train], [examples[i] for i in train])
        candidate = Model(coef, intercept, Facts(languages=languages_of(examples[i] for i in train)))
        judge = [examples[i] for i in test]
        right_new += candidate.right(rows[test], judge)
        right_current += current.right(rows[test], judge)
    return Comparison(right_new / len(judged), right_current / len(judged), len(judged))


def score(texts: Sequence[str], model: Model, langs: Sequence[str | None] | None = None,
          terms: Mapping[str, float] | None = None) -> list[Sentiment]:
    """Label and score of each text (any string: never raises on odd input); langs default to unknown."""
    cleaned = [sentiment.clean(t) for t in texts]
    return model.sentiments(vectors(cleaned, langs or [None] * len(texts), terms))


def load(path: Path) -> Model:
    """A model file written by `save` (`wall sentiment fit`); a broken one is a ValueError naming it."""
    try:
        return Model.loads(path.read_bytes())
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


@functools.cache
def default() -> Model:
    """The shipped model (ingest/enrich/data/README.md says what it was fitted on)."""
    return load(DEFAULT)


# --- `wall sentiment fit`: labelled lines in, a model file out when it does better --------------------


class FitResult(msgspec.Struct, frozen=True):
    saved: bool
    comparison: Comparison
    examples: int
    message: str


def parse_examples(lines: Iterable[str | bytes]) -> list[Example]:
    """Labelled examples from JSON lines {"text", "label", "lang"?}; a bad line is a ValueError naming it."""
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
        out.append(msgspec.structs.replace(example, weight=1.0))
    return out


def save_if_better(lines: Iterable[str | bytes], path: Path, folds: int = 5,
                   terms: Mapping[str, float] | None = None) -> FitResult:
    """Fit on the lines; write `path` only when the fit beats the current model (the one at `path`, else
    the shipped default) by `compare`."""
    examples = parse_examples(lines)
    if len(examples) < folds:
        raise ValueError(f"need at least {folds} labelled lines, got {len(examples)}")
    current = load(path) if path.exists() else default()
    result = compare(examples, current, folds=folds, terms=terms)
    if not result.better:
        return FitResult(False, result, len(examples), f"not saved: new model {result.new:.3f} is not "
                         f"better than current {result.current:.3f}")
    path.write_bytes(fit(examples, terms, accuracy=result.new).dumps())
    return FitResult(True, result, len(examples),
                     f"saved {path}: new model {result.new:.3f} vs current {result.current:.3f}")
