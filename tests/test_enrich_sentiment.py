"""Sentiment on social-style posts: VADER's strengths kept, its gaps filled, odd input survived."""

import io
import math
import pickle
import zlib
from collections import Counter
from pathlib import Path

import msgspec
import numpy as np
import pytest

from ingest.enrich import model, sentiment
from ingest.enrich.model import save_if_better
from wall.models import Sentiment

TRAIN = model.DEFAULT.with_name("sentiment_train.jsonl")


def score(text: str, terms: dict[str, float] | None = None) -> Sentiment:
    return model.score([text], model.default(), terms=terms)[0]


def label(text: str, terms: dict[str, float] | None = None) -> str:
    return score(text, terms).label


def test_plain_posts_get_the_label_a_reader_would_give() -> None:
    assert label("The new camera is amazing, best phone I've had") == "positive"
    assert label("Worst support ever, still no refund after two weeks") == "negative"
    assert label("The launch event starts at 10:00 in hall 3") == "neutral"


def test_negation_flips_the_feeling() -> None:
    assert label("The battery is good") == "positive"
    assert label("The battery is not good") == "negative"


def test_hashtags_carry_sentiment_even_glued_together() -> None:
    assert sentiment.split_hashtag("EpicFail", sentiment.analyzer().lexicon) == ["epic", "fail"]
    assert sentiment.split_hashtag("epicfail", sentiment.analyzer().lexicon) == ["epic", "fail"]
    assert label("Delivery day #epicfail") == "negative"
    assert label("New phone day #love") == "positive"


def test_emoji_that_vader_misreads_get_their_social_meaning() -> None:
    assert score("New phone 🔥🔥").score > 0  # VADER alone reads fire as danger
    assert score("The update 😡").score < 0  # and rage as nothing
    assert label("😍😍😍") == "positive"


def test_sarcasm_markers_do_not_turn_a_complaint_positive() -> None:
    assert label("Oh great, the app crashed again. Thanks for nothing 🙄") == "negative"


def test_brand_terms_from_config_join_the_lexicon_for_that_wall_only() -> None:
    neutral = score("My Kestrel arrived today")
    branded = score("My Kestrel arrived today", terms={"kestrel": -2.5})
    assert neutral.label == "neutral"
    assert branded.label == "negative"
    assert sentiment.analyzer({"kestrel": -2.5}) is not sentiment.analyzer()
    assert "kestrel" not in sentiment.analyzer().lexicon


@pytest.mark.parametrize("text", ["", "   ", "😀", "🙂🙃🫠", "a" * 100_000, "good \ud800 day", "\ud800",
                                  "go\u200bod\u200d \u202eday\u202c \u2066fine\u2069", "\ufeff\u200f"])
def test_odd_input_is_scored_never_raises(text: str) -> None:
    result = score(text)
    assert -1.0 <= result.score <= 1.0
    assert result.label in sentiment.LABELS


def test_zero_width_characters_do_not_hide_a_word() -> None:
    assert label("g\u200bo\u200bo\u200bd job, really great") == "positive"


def test_fit_saves_a_better_model_and_refuses_a_worse_one(tmp_path: Path) -> None:
    lines = TRAIN.read_text("utf-8").splitlines()
    path = tmp_path / "sentiment_model.npz"
    # A model that calls everything neutral is easy to beat.
    neutral = model.Model(np.zeros((3, model.DIMS)), np.array([0.0, 5.0, 0.0]), model.Facts())
    path.write_bytes(neutral.dumps())
    better = save_if_better(lines, path, folds=3)
    assert better.saved, better.message
    assert better.comparison.new > 0.75 > better.comparison.current
    fitted = path.read_bytes()
    assert model.load(path).facts.labels == len(lines)
    # Labels shuffled against the texts: whatever is fitted on them does worse than what is saved.
    texts = [msgspec.json.decode(line)["text"] for line in lines]
    labels = [msgspec.json.decode(line)["label"] for line in lines]
    noise = [msgspec.json.encode({"text": t, "label": labels[(i * 7 + 3) % len(labels)]}).decode()
             for i, t in enumerate(texts)]
    worse = save_if_better(noise, path, folds=3)
    assert not worse.saved
    assert "not better" in worse.message
    assert path.read_bytes() == fitted


def test_a_model_file_is_plain_arrays_and_anything_else_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.npz"
    path.write_bytes(pickle.dumps({"coef": [1, 2, 3]}))
    with pytest.raises(ValueError, match=r"evil\.npz: not a sentiment model"):
        model.load(path)
    out = io.BytesIO()
    np.savez(out, coef=np.array([{"a": 1}], dtype=object), intercept=np.zeros(3), facts=np.zeros(1))
    path.write_bytes(out.getvalue())
    with pytest.raises(ValueError, match="not a sentiment model"):  # object arrays would need pickle
        model.load(path)


def test_fit_names_a_bad_line() -> None:
    with pytest.raises(ValueError, match="line 2"):
        model.parse_examples(['{"text": "ok", "label": "positive"}', '{"text": "ok", "label": "meh"}'])


def test_byte_grams_are_hashed_as_zlib_crc32_hashes_each_padded_word() -> None:
    # The n-grams are hashed in numpy for a whole batch; a model fitted before must read the same columns.
    texts = ["", "a", "Good day 😀 at the café!", "tab\tand\nnewline  spaces", "北京 is nice", "x y z"]
    rows = model.vectors(texts, ["fi"] * len(texts))  # no lexicon: the n-grams alone
    n = model.N_FEATURES
    for i, text in enumerate(texts):
        counts: Counter[int] = Counter()
        for word in model._ngram_text(text).encode().split():
            padded = b" " + word + b" "
            counts.update(zlib.crc32(padded[k:k + size]) % n + n
                          for size in (2, 3, 4) for k in range(len(padded) - size + 1))
        norm = math.sqrt(sum(c * c for c in counts.values()))
        row = rows.getrow(i)
        got = {int(c): float(v) for c, v in zip(row.indices, row.data, strict=True) if n <= c < 2 * n}
        assert got == pytest.approx({c: k / norm for c, k in counts.items()})
    assert model.vectors([], []).shape == (0, model.DIMS)


@pytest.mark.parametrize("text", ["Than\u212as for nothing", "THANKS FOR NOTHING", "thanks for nothing",
                                  "Oh great, again /\u017f", "Well done GEN\u0130US", "well done gen\u0131us",
                                  "Yeah right"])
def test_a_sarcasm_marker_in_any_case_is_read_as_sarcasm_never_a_crash(text: str) -> None:
    # Letters that case-insensitive matching equates with ASCII ones (Kelvin sign, long s, dotted and dotless
    # i) used to raise KeyError here; the cheap test before the regex must find them too.
    prepared, _ = sentiment._prepare(text, sentiment.analyzer().lexicon)
    assert "sarcval" in prepared
    assert label(text) in sentiment.LABELS


def test_no_sarcasm_marker_leaves_the_text_as_it_was() -> None:
    for text in ("Great phone, thanks!", "Oh, greatness awaits", "Just greater", "News/sport"):
        assert sentiment._prepare(text, sentiment.analyzer().lexicon)[0] == text


def test_the_faster_reading_gives_vaders_own_numbers() -> None:
    # The negation and idiom checks get a few words and a remembered negated(); the numbers stay VADER's.
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    plain = SentimentIntensityAnalyzer()
    texts = ["The battery is not good", "It isn't bad at all", "never so happy", "Without doubt the best",
             "I don't think this is not great", "not bad, but not good either", "It's kind of cool",
             "Nope, no good, nothing works", "This is the bomb, yeah right", "He wasn't very helpful",
             "Rarely have I seen such a lovely day", "despite the rain it was a great show",
             "Not the worst. Not the best. Never again? Uh-uh."] * 2
    ours = sentiment.analyzer()
    assert [ours.polarity_scores(t) for t in texts] == [plain.polarity_scores(t) for t in texts]
