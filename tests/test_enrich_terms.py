"""A wall's brand, competitors and topics found in posts in every script the demo uses."""

import pytest

from ingest.enrich.terms import TermMatcher, parse_config

MATCHER = TermMatcher(parse_config({
    "brand": ["Nordlys", "Nordlys X3", "nordlis", "ノルドリス", "نوردليس"],
    "competitors": {"Kestrel": ["Kestrel", "K9"], "Orca": ["Orca Mobile"]},
    "topics": {"camera": ["camera", "cámara", "caméra", "Kamera", "カメラ", "الكاميرا"],
               "battery": ["battery", "akku"]},
}))


@pytest.mark.parametrize("text", ["Nordlys rocks", "#nordlys", "NORDLYS!!", "loving my nordlis (sp?)",
                                  "Nórdlys day", "#NordlysX3 is here", "@team Nordlys X3, finally"])
def test_brand_in_any_case_accent_or_hashtag_form(text: str) -> None:
    assert MATCHER.match(text).brand_mentioned


@pytest.mark.parametrize("text", ["unordlys", "nordlysphones are not us", "xnordlys", "nordlys_fan"])
def test_brand_inside_another_word_does_not_match(text: str) -> None:
    assert not MATCHER.match(text).brand_mentioned


def test_competitors_and_topics_in_one_pass() -> None:
    found = MATCHER.match("Kestrel K9 vs Orca mobile: whose CAMERA wins? #battery")
    assert found.competitors == ["Kestrel", "Orca"]
    assert found.topics == ["battery", "camera"]
    assert not found.brand_mentioned
    assert "K9" in found.terms


def test_accents_fold_both_ways() -> None:
    assert MATCHER.match("La camara del teléfono").topics == ["camera"]
    assert MATCHER.match("Une CAMÉRA incroyable").topics == ["camera"]
    assert MATCHER.match("Die Kamera ist super").topics == ["camera"]


def test_japanese_matches_inside_a_sentence_without_spaces() -> None:
    found = MATCHER.match("ノルドリスのカメラが最高です")
    assert found.brand_mentioned
    assert found.topics == ["camera"]


def test_arabic_matches_on_word_boundaries() -> None:
    found = MATCHER.match("كاميرا نوردليس رائعة و الكاميرا ممتازة")
    assert found.brand_mentioned
    assert found.topics == ["camera"]
    assert not MATCHER.match("مانوردليسي").brand_mentioned


def test_an_empty_config_matches_nothing() -> None:
    assert not TermMatcher(parse_config({})).match("Nordlys").brand_mentioned


def test_unknown_key_is_an_error_naming_it() -> None:
    with pytest.raises(ValueError, match="competitor"):
        parse_config({"brand": ["Nordlys"], "competitor": {"Kestrel": ["Kestrel"]}})
    with pytest.raises(ValueError, match="topics"):
        parse_config({"topics": ["camera"]})
