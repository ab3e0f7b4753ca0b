"""Safety flags a curator sees: profanity, spam signals, cross-posted duplicates."""

import random

import pytest

from ingest.enrich.safety import (
    SafetyState,
    is_hashtag_stuffed,
    is_link_only,
    profane_words,
    simhash,
    simhashes,
    text_flags,
)


@pytest.mark.parametrize(("text", "lang"), [
    ("what the fuck is this update", "en"), ("this is sh1t", "en"), ("total sh!t", "en"), ("f*ck this", "en"),
    ("So ein Scheiß!", "de"), ("¡Qué mierda de servicio!", "es"), ("Vittu mikä päivä", "fi"),
    ("Putain, encore en panne", "fr"), ("FUCKING brilliant", None),
    # LDNOOBW's lists, in the post's own language: phrases, other scripts, scripts without spaces.
    ("Che cazzo succede", "it"), ("Wat een kut dag", "nl"), ("Хуй знает", "ru"), ("Sen bir orospu", "tr"),
    ("これは変態だ", "ja"), ("你他妈的在干什么", "zh"), ("Testa di cazzo!", "it"), ("Quel con", "fr"),
])
def test_profanity_in_each_language_and_leetspeak(text: str, lang: str | None) -> None:
    assert profane_words(text, lang)


@pytest.mark.parametrize(("text", "lang"), [
    ("Shitake mushrooms for lunch", "en"), ("Scunthorpe United won", "en"), ("Café con leche", "es"),
    ("Hello @shit_happens_bot", "en"), ("Classic assessment", "en"), ("Great launch!", "en"),
    # Words of one language's list that are harmless in another (French "con", Dutch "kut"/"gat"), and
    # LDNOOBW entries the project excludes as everyday words of their own language (zh 性 in 性能).
    ("Café con leche", "es"), ("Un caffè con gli amici", "it"), ("Kut ve kurtuluş", "tr"),
    ("Het gat in de markt", "nl"), ("Muna ja pekoni", "fi"), ("性能很好", "zh"), ("xx Anna", "en"),
    # ...and English entries that are words of another language (Swedish "slut", end; "prick", dot).
    ("Slutsatsen är klar, pricken över i", "sv"), ("Det er slutt", "nb"),
])
def test_clean_words_that_contain_or_resemble_swear_words_pass(text: str, lang: str) -> None:
    assert not profane_words(text, lang)


def test_a_hit_is_named_by_its_entry_as_the_list_writes_it() -> None:
    assert profane_words("What the fucking hell, sh1t", "en") == ["fuck", "fucking", "shit"]
    assert profane_words("Kusipää!", "fi") == ["kusipää"]
    assert profane_words("Che cazzo", "it") == ["cazzo"] and profane_words("Che cazzo", "es") == []
    # A language with no list of its own (any hint a source sends) gets the English list alone.
    assert profane_words("shit, perkele", "../fi") == ["shit"]


def test_link_only_and_hashtag_stuffing() -> None:
    assert is_link_only("https://spam.example/win #free @you")
    assert not is_link_only("Look at this https://nordlys.example/x3")
    assert is_hashtag_stuffed("#win #free #phone #nordlys giveaway")
    assert is_hashtag_stuffed("Great " + " ".join(f"#tag{i}" for i in range(9)) + " " + "word " * 20)
    assert not is_hashtag_stuffed("Loving the #nordlys X3 camera at the #launch tonight")
    assert text_flags("https://x.example", []) == ["link_only"]


def test_the_same_text_from_the_same_author_is_repeated() -> None:
    state = SafetyState()
    assert state.check("Win a free phone, click my profile", "spammer", 0) == []
    assert "repeated_text" in state.check("Win a FREE phone, click my profile!", "spammer", 30)
    assert "repeated_text" not in state.check("Win a free phone, click my profile", "someone", 40)
    assert "repeated_text" not in state.check("Win a free phone, click my profile", "spammer", 30 + 3601)


def test_an_author_posting_in_a_burst() -> None:
    state = SafetyState(burst_posts=5, burst_window=60)
    flags = [state.check(f"post number {i} about things", "fast", i * 5.0) for i in range(7)]
    assert ["burst" in f for f in flags] == [False] * 5 + [True] * 2
    slow = [state.check(f"post {i} about other things", "slow", i * 30.0) for i in range(8)]
    assert not any("burst" in f for f in slow)


def test_a_cross_post_to_another_network_is_a_near_duplicate() -> None:
    state = SafetyState()
    text = "Just shot the northern lights handheld with the new Nordlys X3, no tripod needed #nordlys"
    assert state.check(text, "maya@mastodon.social", 100) == []
    bluesky = "Just shot the northern lights handheld with the new Nordlys X3, no tripod needed! #nordlys " \
              "https://bsky.app/x"
    assert state.check(bluesky, "maya.bsky.social", 160) == ["near_duplicate"]
    other = "The queue at the store this morning was long but the staff handed out coffee to everyone"
    assert state.check(other, "tom", 170) == []


def test_state_stays_bounded() -> None:
    state = SafetyState(max_posts=100, max_authors=50)
    for i in range(2_000):
        state.check(f"message {i} with enough words to be fingerprinted here", f"user{i}", float(i))
    assert len(state._prints) <= 100
    assert len(state._recent_text) <= 100
    assert len(state._author_times) <= 50
    assert len(state._bands) <= 4 * 100


def _simhash_by_definition(words: list[str]) -> int:
    """Bit i set when more than half of the word 3-shingles' hashes have bit i set (the text itself when
    it has fewer than three words)."""
    shingles = [" ".join(words[i:i + 3]) for i in range(len(words) - 2)] or [" ".join(words)]
    hashes = [hash(s) & (2**64 - 1) for s in shingles]
    return sum(1 << bit for bit in range(64) if sum(h >> bit & 1 for h in hashes) > len(hashes) // 2)


def test_a_batch_of_fingerprints_is_each_texts_simhash() -> None:
    rng = random.Random(7)
    vocabulary = [f"w{i}" for i in range(40)] + ["päivä", "日本", "😀"]
    # From no words to several hundred (a long post), so that a bit's count passes 255.
    texts = [[rng.choice(vocabulary) for _ in range(n)] for n in (0, 1, 2, 3, 4, 5, 9, 30, 300, 700) * 5]
    assert simhashes(texts) == [_simhash_by_definition(words) for words in texts]
    assert simhash(texts[7]) == _simhash_by_definition(texts[7]) and simhashes([]) == []


def test_a_batch_is_flagged_as_the_same_posts_one_by_one() -> None:
    posts = [(f"Win a free phone, click my profile {i % 3} now", f"user{i % 4}", i * 2.0) for i in range(40)]
    posts += [("https://spam.example/x @you", "bot", 300.0), ("ok", None, 301.0)]
    one_by_one = SafetyState(burst_posts=3)
    batched = SafetyState(burst_posts=3)
    expected = [one_by_one.check(*post) for post in posts]
    assert batched.check_batch(posts) == expected
    assert any("near_duplicate" in f for f in expected) and any("burst" in f for f in expected)
