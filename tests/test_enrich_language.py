"""Language detection on short multilingual posts, and writing direction."""

import pytest

from ingest.enrich.language import Names, detect, detector, direction


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


@pytest.mark.parametrize(("text", "lang"), [
    ("הסוללה מחזיקה יום שלם", "he"),
    ("Η μπαταρία κρατάει όλη μέρα", "el"),  # noqa: RUF001
    ("배터리가 하루 종일 가요", "ko"),
    ("แบตเตอรี่อยู่ได้ทั้งวัน", None),  # Thai is not a default candidate: unknown, never guessed
])
def test_a_script_that_one_candidate_writes_decides_alone(text: str, lang: str | None) -> None:
    assert detector(["en", "he", "el", "ko", "ja"]).detect(text) == lang


def test_a_wall_that_names_its_languages_compares_only_those_and_is_not_fooled_by_others() -> None:
    demo = detector(["en", "fi", "de", "es", "fr", "ja", "ar", "nb"])
    assert demo.detect("Die Kamera ist wirklich großartig, ich bin begeistert") == "de"
    assert demo.detect("バッテリーが一日中持ちます") == "ja"
    # English alone on a wall: the common languages of its script still compete, so German stays German.
    english = detector(["en"])
    assert english.detect("The battery lasted all day, really impressed") == "en"
    assert english.detect("Der Akku hält den ganzen Tag, ich bin begeistert") == "de"
    assert detector(["ar"]).detect("این گوشی عالی است و باتری خوبی دارد") == "fa"


def test_plain_english_and_a_short_english_post_are_english() -> None:
    assert detect("I love this phone, best camera ever!") == "en"
    assert detect("Just got my new phone and it is really fast") == "en"


def test_an_unknown_language_code_is_refused() -> None:
    with pytest.raises(ValueError, match="klingon"):
        detector(["en", "klingon"])


@pytest.mark.parametrize(("text", "lang"), [
    ("C'est parti !", "fr"), ("¡Ya lo tengo!", "es"), ("Got mine.", "en"), ("Wie geil ist das denn", "de"),
    ("Ihan paras puhelin", "fi"),
])
def test_short_posts_among_the_default_candidates(text: str, lang: str) -> None:
    # Under 50 letters: fastText's model decides, where lingua's trigrams alone are confidently wrong.
    assert detect(text) == lang


def test_a_language_fasttext_lacks_keeps_linguas_accurate_mode() -> None:
    zulu = detector(["en", "zu"])
    assert zulu.detect("Ngiyabonga kakhulu mngane") == "zu"
    assert zulu.detect("Thanks a lot my friend") == "en"


@pytest.mark.parametrize("text", ["Nordlys X3 review", "NORDLYS!", "#nordlys tonight", "nordly\u017f rocks",
                                  "unordlys and nordlysphones", "Aurora tonight", "NORDLY\u017f and Ski",
                                  "Sk\u0130 trip with Nordlys"])
def test_a_walls_names_are_taken_out_as_the_case_insensitive_regex_does(text: str) -> None:
    names = Names(["Nordlys", "Nordlys X3", "ski"])
    assert names.sub(" ", text) == names.pattern.sub(" ", text)
