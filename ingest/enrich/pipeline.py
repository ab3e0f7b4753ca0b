"""The enrichment of a batch of posts: language, sentiment, terms, safety flags.

`Enricher.enrich_batch` is CPU work with no I/O, meant to run in an executor one batch at a time. It keeps
the safety state (repeats, bursts, near-duplicates), so give each wall its own Enricher and never run two
batches of one Enricher at once.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, Annotated, Any

import msgspec

from wall.models import Sentiment

from . import language, model, safety, sentiment
from .terms import TermMatcher, TermsConfig, fold

log = logging.getLogger(__name__)

BATCH = 256


class LearningConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """How the wall's sentiment model learns from its curators (`[walls.W.enrich.learning]`)."""

    # Refit in the background from curators' sentiment corrections (needs the SQL store: the curate role).
    enabled: bool = True
    # Also learn from approvals (the label a post had, left as it was) and rejections (a weak negative).
    weak_labels: bool = False
    weak_weight: Annotated[float, msgspec.Meta(gt=0, le=1)] = 0.25
    # A refit is tried when this many labels arrived since the last try, judged on the new corrections.
    refit_after: Annotated[int, msgspec.Meta(ge=5, le=100_000)] = 50
    # How often the store is looked at for new labels and for another node's new or rolled-back version.
    poll_seconds: Annotated[float, msgspec.Meta(ge=0.1, le=3600)] = 10.0


class EnrichConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A wall's enrichment settings (the `enrich` table of its config)."""

    terms: TermsConfig = TermsConfig()
    # The languages the wall expects (ISO 639-1): detection compares only these, faster and smaller.
    # A post in another language comes out as the closest of these or, mostly, as unknown.
    languages: list[str] | None = None
    # Brand-specific words and their valence (-4..4), added to the sentiment lexicon of this wall.
    sentiment_terms: dict[str, float] = {}
    # A model file from `wall sentiment fit` (default: the shipped model); a learned version, once the
    # wall has one, takes its place.
    sentiment_model: str | None = None
    learning: LearningConfig = LearningConfig()
    max_hashtags: int = 8
    burst_posts: int = 5
    burst_window: float = 60.0
    duplicate_window: float = 3600.0
    # Seconds within which a post repeating a card from another network folds into it ("also on ..."),
    # read by the curation writer (docs/folding.md); 0: off, every copy is a card.
    fold_window: Annotated[float, msgspec.Meta(ge=0, le=86_400)] = 1800.0  # seconds; 0: off
    # Spike alerts on the wall's screens too (curators always get them): off, a presenter decides.
    spikes_on_screen: bool = False


class Item(msgspec.Struct, frozen=True):
    """What enrichment needs of a post."""

    text: str
    author: str | None = None
    ts: float | None = None
    lang: str | None = None


class Annotations(msgspec.Struct, frozen=True):
    sentiment: Sentiment | None
    lang: str | None
    direction: str
    topics: list[str]
    competitors: list[str]
    brand_mentioned: bool
    terms: list[str]
    flags: list[str]
    unscored: str | None = None  # why sentiment is None: "language" (the model has nothing for it) or "empty"
    profanity: list[str] = []  # the shipped list entries behind the "profanity" flag


def config_from(raw: object) -> EnrichConfig:
    """An EnrichConfig from decoded TOML/JSON; an unknown key is a ValueError naming it."""
    _check_groups(raw)
    try:
        config = msgspec.convert(raw, EnrichConfig)
    except msgspec.ValidationError as exc:
        raise ValueError(f"enrich config: {exc}") from None
    if config.sentiment_model and not Path(config.sentiment_model).is_file():
        raise ValueError(f"enrich config: no file {config.sentiment_model!r} - at `$.sentiment_model` "
                         "(make one with `wall sentiment fit`, or leave the key out for the shipped model)")
    for code in config.languages or ():
        try:
            language.language_of(code)
        except ValueError as exc:
            raise ValueError(f"enrich config: {exc} - at `$.languages`") from None
    return config


def _check_groups(raw: object) -> None:
    # msgspec says `$.terms.competitors[...]` for a bad entry of a table; name the competitor or topic.
    terms = raw.get("terms") if isinstance(raw, dict) else None
    for group in ("competitors", "topics"):
        table = terms.get(group) if isinstance(terms, dict) else None
        for name, words in table.items() if isinstance(table, dict) else ():
            if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
                raise ValueError(f"enrich config: terms.{group}.{name} must be a list of strings "
                                 f"(e.g. {name} = [\"{name}\"])")


class Enricher:
    def __init__(self, config: EnrichConfig | None = None) -> None:
        self.config = config or EnrichConfig()
        path = self.config.sentiment_model
        self.model = model.load(Path(path)) if path else model.default()
        self.matcher = TermMatcher(self.config.terms)
        self.languages = language.detector(self.config.languages)
        self.state = safety.SafetyState(window=self.config.duplicate_window,
                                        burst_posts=self.config.burst_posts,
                                        burst_window=self.config.burst_window)
        self._terms = self.config.sentiment_terms or None
        # Brand names are often words of some language ("nordlys" is Norwegian for aurora): they are
        # taken out before detecting the language of the rest.
        terms = self.config.terms
        names = list(terms.brand) + [t for group in terms.competitors.values() for t in group]
        stripped = {n.lstrip("#") for n in names if n.strip("# ")}
        self._names = language.Names(stripped) if stripped else None
        sentiment.analyzer(self._terms)  # build the lexicon now, not on the first post

    def use(self, learned: model.Model | None) -> None:
        """Score with a learned model from now on (None: the configured one again). One reference swapped,
        so a batch running on another thread finishes with the model it started with."""
        path = self.config.sentiment_model
        self.model = learned or (model.load(Path(path)) if path else model.default())

    def enrich(self, item: Item | str) -> Annotations:
        """The annotations of one post (records it in the safety state)."""
        return self.enrich_batch([item])[0]

    def enrich_batch(self, items: Sequence[Item | str]) -> list[Annotations]:
        """The annotations of each post, in order; sentiment and fingerprints taken for the batch at once."""
        scorer = self.model
        posts = [Item(item) if isinstance(item, str) else item for item in items]
        texts = [sentiment.clean(item.text) for item in posts]
        langs = [self.languages.detect(text, self._names) or item.lang
                 for item, text in zip(posts, texts, strict=True)]
        # Folded once for the terms and, for a text with no link or mention, the safety checks.
        folded = [fold(text) for text in texts]
        readings = [safety.read(text, f) for text, f in zip(texts, folded, strict=True)]
        stateful = self.state.check_batch([(reading, item.author, time.time() if item.ts is None else item.ts)
                                           for reading, item in zip(readings, posts, strict=True)])
        unscored = [_unscored(text, lang, scorer) for text, lang in zip(texts, langs, strict=True)]
        results: list[Sentiment | None] = [None] * len(posts)
        scored = [i for i, reason in enumerate(unscored) if reason is None]
        if scored:
            rows = model.vectors([texts[i] for i in scored], [langs[i] for i in scored], self._terms)
            for i, result in zip(scored, scorer.sentiments(rows), strict=True):
                results[i] = result
        out: list[Annotations] = []
        for i, (text, lang, reading) in enumerate(zip(texts, langs, readings, strict=True)):
            matches = self.matcher.match(text, folded[i])
            profane = safety.profane_words(reading, lang)
            flags = safety.text_flags(reading, profane, self.config.max_hashtags) + stateful[i]
            out.append(Annotations(results[i], lang, language.direction(lang), matches.topics,
                                   matches.competitors, matches.brand_mentioned, matches.terms, flags,
                                   unscored[i], profane))
        return out


def _unscored(text: str, lang: str | None, scorer: model.Model) -> str | None:
    """Why a post gets no sentiment, or None when it is scored."""
    if not sentiment.is_scorable(text):
        return "empty"
    # No labels and no lexicon for the language: marked, never guessed. Texts too short to tell (emoji,
    # "wow!") are scored, since emoji and interjections carry across languages.
    return None if scorer.scores(lang) else "language"


def _author(raw: object) -> str | None:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, dict):
        for key in ("handle", "name", "id"):
            if isinstance(raw.get(key), str):
                return str(raw[key])
    return None


def _timestamp(raw: object) -> float | None:
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return float(raw)
    if isinstance(raw, str):
        try:
            return datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


def item_of(obj: dict[str, Any]) -> Item:
    """An Item from a decoded JSON line; "text" must be a string."""
    text = obj.get("text")
    if not isinstance(text, str):
        raise ValueError('"text" must be a string')
    hint = obj.get("lang")
    return Item(text, _author(obj.get("author")), _timestamp(obj.get("created_at", obj.get("ts"))),
                hint if isinstance(hint, str) else None)


def _annotate(obj: dict[str, Any], ann: Annotations) -> dict[str, Any]:
    s = ann.sentiment
    obj["sentiment"] = None if s is None else {"score": s.score, "label": s.label}
    obj["lang"] = ann.lang
    obj["topics"] = ann.topics
    obj["competitors"] = ann.competitors
    obj["brand_mentioned"] = ann.brand_mentioned
    obj["flags"] = ann.flags
    if ann.unscored:
        obj["unscored"] = ann.unscored
    if ann.profanity:
        obj["profanity"] = ann.profanity
    return obj


def enrich_lines(stdin: IO[bytes], stdout: IO[bytes], stderr: IO[bytes] | None = None,
                 enricher: Enricher | None = None, batch: int = BATCH) -> tuple[int, int]:
    """Read JSON lines with "text", write each back with its annotations; returns (written, errors)."""
    enricher = enricher or Enricher()
    err = stderr or sys.stderr.buffer
    written = errors = 0
    pending: list[tuple[dict[str, Any], Item]] = []

    def flush() -> None:
        nonlocal written
        for (obj, _), ann in zip(pending, enricher.enrich_batch([i for _, i in pending]), strict=True):
            stdout.write(msgspec.json.encode(_annotate(obj, ann)) + b"\n")
            written += 1
        stdout.flush()
        pending.clear()

    for number, line in enumerate(_lines(stdin), 1):
        if not line.strip():
            continue
        try:
            obj = msgspec.json.decode(line)
            if not isinstance(obj, dict):
                raise ValueError("a line must be a JSON object")
            pending.append((obj, item_of(obj)))
        except (msgspec.DecodeError, ValueError) as exc:
            errors += 1
            err.write(msgspec.json.encode({"line": number, "error": str(exc)}) + b"\n")
            continue
        if len(pending) >= batch:
            flush()
    if pending:
        flush()
    return written, errors


def _lines(stream: IO[bytes]) -> Iterable[bytes]:
    yield from stream
