"""Language detection on short multilingual posts, and writing direction."""

import pytest

from ingest.enrich.language import detect, direction


@pytest.mark.parametrize(("text", "lang"), [
    ("The battery lasted all day, really impressed with it", "en"),
    ("Der Akku hält den ganzen Tag, ich bin begeistert", "de"),
    ("La batería dura todo el día, estoy encantada", "es"),
    ("La batterie tient toute la journée, je suis ravie", "fr"),
    ("Akku kestää koko päivän, olen tosi tyytyväinen", "fi"),
    ("バッテリーが一日中持ちます。とても満足しています", "ja"),
    ("البطارية تدوم طوال اليوم، أنا سعيد جدا", "ar"),
    ("Batteriet varer hele dagen, jeg er veldig fornøyd med telefonen", "nb"),
])
def test_the_demo_languages(text: str, lang: str) -> None:
    assert detect(text) == lang


def test_hashtags_and_links_do_not_decide_the_language() -> None:
    assert detect("Stream starts soon, see you there #nordlys https://nordlys.example/live") == "en"


@pytest.mark.parametrize("text", ["", "🔥🔥", "ok", "12345", "https://x.example/a", "#nordlys"])
def test_too_short_or_no_letters_is_unknown(text: str) -> None:
    assert detect(text) is None


def test_direction() -> None:
    assert [direction(x) for x in ("ar", "he", "fa", "ur", "en", "ja", None)] == ["rtl"] * 4 + ["ltr"] * 3
