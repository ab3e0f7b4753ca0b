"""The whole enrichment of posts, and `wall enrich`'s JSON lines in and out."""

import io

import msgspec
import pytest

from ingest.enrich import Enricher, Item, config_from, enrich_lines
from wall.app import parse_config
from wall.config import ConfigError

CONFIG = {
    "terms": {"brand": ["Nordlys", "Nordlys X3"], "competitors": {"Kestrel": ["Kestrel", "K9"]},
              "topics": {"camera": ["camera", "Kamera", "カメラ"]}},
    "sentiment_terms": {"kestrel": 0.0},
}


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return Enricher(config_from(CONFIG))


def test_an_english_post_gets_every_annotation(enricher: Enricher) -> None:
    text = "The Nordlys X3 camera beats my old Kestrel K9 easily, love it! 😍"
    ann = enricher.enrich(Item(text, "maya", 0))
    assert ann.sentiment is not None and ann.sentiment.label == "positive"
    assert ann.lang == "en" and ann.direction == "ltr"
    assert ann.brand_mentioned and ann.competitors == ["Kestrel"] and ann.topics == ["camera"]
    assert ann.flags == []


def test_other_languages_are_marked_not_scored(enricher: Enricher) -> None:
    german = enricher.enrich(Item("Die Kamera vom Nordlys X3 ist wirklich großartig", "jonas", 1))
    assert german.sentiment is None and german.unscored == "language"
    assert german.lang == "de" and german.topics == ["camera"] and german.brand_mentioned
    arabic = enricher.enrich("هاتف رائع جدا والبطارية ممتازة")
    assert arabic.sentiment is None and arabic.direction == "rtl"


@pytest.mark.parametrize("text", ["", "😀🔥", "x" * 100_000, "bad \ud800 surrogate", "\u200b\u200f\u202e",
                                  "mixed English と日本語 و عربي"])
def test_bad_input_never_crashes(enricher: Enricher, text: str) -> None:
    ann = enricher.enrich(text)
    # Scored, or marked with the reason it is not.
    scored = ann.sentiment is not None and -1 <= ann.sentiment.score <= 1
    assert scored or ann.unscored in ("empty", "language")
    assert isinstance(ann.flags, list)


def test_flags_come_through(enricher: Enricher) -> None:
    enricher.enrich(Item("Shot the aurora handheld with the new phone tonight, no tripod at all", "a", 10))
    again = enricher.enrich(Item("Shot the aurora handheld with the new phone tonight, no tripod at all!",
                                 "a.bsky", 20))
    assert "near_duplicate" in again.flags
    assert "profanity" in enricher.enrich(Item("this update is shit", "b", 30)).flags


def test_enrich_lines_writes_each_post_back_and_reports_broken_lines() -> None:
    stdin = io.BytesIO(
        b'{"id": "1", "text": "I love my Nordlys, the camera is great", "author": {"handle": "maya"}}\n'
        b"this is not json\n"
        b'{"id": "2", "text": "Kestrel K9 kamera on aivan surkea", "created_at": "2026-03-12T07:00:50Z"}\n'
        b"\n"
        b'{"id": "3", "text": 42}\n'
        b'["not", "an", "object"]\n'
        b'{"id": "4", "text": ""}\n')
    stdout, stderr = io.BytesIO(), io.BytesIO()
    written, errors = enrich_lines(stdin, stdout, stderr, Enricher(config_from(CONFIG)), batch=2)
    assert (written, errors) == (3, 3)
    out = [msgspec.json.decode(line) for line in stdout.getvalue().splitlines()]
    assert [o["id"] for o in out] == ["1", "2", "4"]
    assert out[0]["sentiment"]["label"] == "positive" and out[0]["lang"] == "en"
    assert out[0]["author"] == {"handle": "maya"} and out[0]["flags"] == []
    assert out[1]["sentiment"] is None and out[1]["lang"] == "fi" and out[1]["competitors"] == ["Kestrel"]
    assert out[1]["topics"] == ["camera"]
    assert out[2]["sentiment"] is None and out[2]["unscored"] == "empty"
    errs = [msgspec.json.decode(line) for line in stderr.getvalue().splitlines()]
    assert [e["line"] for e in errs] == [2, 5, 6]
    assert "text" in errs[1]["error"]


@pytest.mark.parametrize(("enrich", "named"), [
    ({"terms": {"brand": ["Nordlys"], "competitor": {"Kestrel": ["Kestrel"]}}}, "competitor"),
    ({"terms": {"topic": {"camera": ["camera"]}}}, "topic"),
    ({"terms": {"competitors": {"Kestrel": "Kestrel"}}}, "competitors.Kestrel"),
    ({"terms": {"topics": ["camera"]}}, "topics"),
    ({"languages": ["en", "klingon"]}, "klingon"),
    ({"spikes_on_screen": "yes"}, "spikes_on_screen"),
])
def test_a_bad_competitor_topic_or_language_setting_is_a_config_error_naming_it(enrich: dict[str, object],
                                                                               named: str) -> None:
    data = {"walls": {"lobby": {"title": "Lobby", "token_env": "T", "sources": [{"type": "webhook"}],
                              "enrich": enrich}}}
    with pytest.raises(ConfigError) as found:
        parse_config(data, env={"T": "a-token-long-enough-0123"})
    assert "walls.lobby.enrich" in str(found.value) and named in str(found.value)


def test_unknown_enrich_key_is_an_error_naming_it() -> None:
    with pytest.raises(ValueError, match="sentiment_term"):
        config_from({"sentiment_term": {}})


def test_a_wall_of_english_posts_names_a_german_one_and_does_not_score_it() -> None:
    wall = Enricher(config_from({**CONFIG, "languages": ["en"]}))
    german = wall.enrich(Item("Der Akku vom Nordlys hält den ganzen Tag, ich bin begeistert", "jonas", 1))
    assert german.lang == "de" and german.sentiment is None and german.unscored == "language"
    english = wall.enrich(Item("The Nordlys battery lasts all day, I am impressed", "maya", 2))
    assert english.lang == "en" and english.sentiment is not None
