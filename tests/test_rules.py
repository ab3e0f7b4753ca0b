"""The moderation rules are pure: a post, what the writer knows of it and the policy in, a verdict out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.helpers import make_config
from wall.config import ConfigError
from wall.curate.rules import Policy, Seen, Stored, decide, effective, policy_from
from wall.models import Author, Entity, Media, Post, Sentiment

NEW = Seen(known_author=False)
KNOWN = Seen(known_author=True)


def a_post(text: str = "Lovely day at the office", **fields: object) -> Post:
    base: dict[str, object] = {"id": "p1", "source": "mastodon", "source_id": "1", "text": text,
                               "created_at": datetime(2026, 12, 2, tzinfo=UTC),
                               "author": Author("Aino", "aino@social.example")}
    return Post(**{**base, **fields})  # type: ignore[arg-type]


def test_post_moderation_shows_a_plain_post():
    assert decide(a_post(), NEW, Policy()).status == "approved"


def test_pre_moderation_holds_everything_until_approved():
    assert decide(a_post(), KNOWN, Policy(mode="pre")).reason == "pre-moderation"


def test_profanity_is_held_by_default_and_spam_when_the_wall_asks():
    assert decide(a_post(flags=("profanity",)), NEW, Policy()).reason == "flagged: profanity"
    assert decide(a_post(flags=("link_only",)), NEW, Policy()).status == "approved"
    spam = Policy(hold_flags=("profanity", "spam"))
    assert decide(a_post(flags=("link_only", "burst")), NEW, spam).reason == "flagged: link_only, burst"


def test_a_wall_allows_entries_of_the_shipped_profanity_lists():
    rude = a_post("perkele ja vittu", flags=("profanity",), profanity=("perkele", "vittu"))
    assert decide(rude, NEW, Policy()).reason == "flagged: profanity (perkele, vittu)"
    some = policy_from("post", {"allowed_words": ["Perkele"]})
    assert decide(rude, NEW, some).reason == "flagged: profanity (vittu)"
    both = policy_from("post", {"allowed_words": ["perkele", " VITTU "]})
    assert decide(rude, NEW, both).status == "approved"
    assert both.settings()["allowed_words"] == ["perkele", "vittu"]
    with pytest.raises(ValueError, match=r"moderation\.allowed_words: expected at most 500 words"):
        policy_from("post", {"allowed_words": [""]})


def test_negative_sentiment_below_the_threshold_is_held():
    policy = Policy(min_sentiment=-0.5)
    assert decide(a_post(sentiment=Sentiment(-0.8, "negative")), NEW, policy).status == "pending"
    assert decide(a_post(sentiment=Sentiment(-0.2, "negative")), NEW, policy).status == "approved"
    assert decide(a_post(sentiment=None), NEW, policy).status == "approved"  # unscored: nothing to hold


def test_links_and_media_are_held_when_the_wall_holds_them():
    linked = a_post("see https://x.example", entities=(Entity("link", 4, 21, "https://x.example"),))
    pictured = a_post(media=(Media("https://x.example/a.jpg"),))
    assert decide(linked, NEW, Policy()).status == "approved"
    assert decide(linked, NEW, Policy(hold_links=True)).reason == "links"
    assert decide(pictured, NEW, Policy(hold_media=True)).reason == "media"


def test_content_warnings_are_always_held():
    assert decide(a_post(held="content warning: spoilers"), KNOWN, Policy()).reason == \
        "content warning: spoilers"


def test_unknown_authors_are_held_until_one_of_their_posts_was_approved():
    policy = Policy(hold_unknown_authors=True)
    assert decide(a_post(), NEW, policy).reason == "unknown author"
    assert decide(a_post(), KNOWN, policy).status == "approved"


def test_trusted_authors_skip_pre_moderation_but_not_bans_or_blocked_words():
    trusted = frozenset({"mastodon:aino@social.example"})
    assert decide(a_post(), NEW, Policy(mode="pre", trusted=trusted)).status == "approved"
    assert decide(a_post(), NEW, Policy(trusted=trusted, banned=trusted)).reason == "banned author"
    blocked = Policy(trusted=trusted, blocked_words=("office",))
    assert decide(a_post(), NEW, blocked).reason == "blocked word: office"


def test_blocked_words_match_whole_words_in_any_case():
    policy = Policy(blocked_words=("scam", "competitor x"))
    assert decide(a_post("What a SCAM!"), NEW, policy).reason == "blocked word: scam"
    assert decide(a_post("Try Competitor-X today"), NEW, policy).reason == "blocked word: competitor x"
    assert decide(a_post("scampi for lunch"), NEW, policy).status == "approved"


def test_a_curators_decision_wins_over_the_rules():
    held = decide(a_post(flags=("profanity",)), NEW, Policy())
    shown = effective(a_post(flags=("profanity",)), held, Stored("approved", pinned=True, version=2))
    assert (shown.status, shown.pinned) == ("approved", True)
    hidden = effective(a_post(), decide(a_post(), NEW, Policy()), Stored("hidden", pinned=True))
    assert (hidden.status, hidden.pinned) == ("hidden", False)  # a hidden post is not pinned on screen


def test_a_ban_wins_even_over_posts_a_curator_approved_before_it():
    banned = Policy(banned=frozenset({"mastodon:aino@social.example"}))
    shown = effective(a_post(), decide(a_post(), NEW, banned), Stored("approved", pinned=True, version=3))
    assert (shown.status, shown.pinned) == ("pending", False)


def test_a_corrected_label_replaces_the_models_and_keeps_its_score():
    post = a_post(sentiment=Sentiment(0.4, "positive"))
    shown = effective(post, decide(post, NEW, Policy()), Stored("approved", label="negative"))
    assert shown.sentiment == Sentiment(0.4, "negative")


def test_policy_settings_are_checked_and_name_the_bad_key():
    assert policy_from("pre", {"hold_links": True, "min_sentiment": -0.5}).min_sentiment == -0.5
    with pytest.raises(ValueError, match=r"^moderation\.hold_linkz: unknown key"):
        policy_from("post", {"hold_linkz": True})
    with pytest.raises(ValueError, match=r"moderation\.mode: 'auto' is not one of pre, post"):
        policy_from("auto", {})
    with pytest.raises(ValueError, match=r"min_sentiment: expected a number from -1 to 1"):
        policy_from("post", {"min_sentiment": 3})
    with pytest.raises(ValueError, match=r"trusted_authors: expected a list"):
        policy_from("post", {"trusted_authors": ["aino"]})


def test_a_config_with_an_unknown_moderation_key_is_refused_at_load():
    with pytest.raises(ConfigError, match=r"walls\.lobby\.moderation\.hold_lnks: unknown key"):
        make_config(moderation={"mode": "pre", "hold_lnks": True})
    assert make_config(moderation={"mode": "pre", "hold_links": True}).walls["lobby"].moderation == \
        {"mode": "pre", "hold_links": True}
