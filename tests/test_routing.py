"""A shared source feeds several walls: each wall gets the posts that mention its terms."""

from __future__ import annotations

from datetime import UTC, datetime

from ingest.routing import Router, Terms
from wall.models import Post
from wall.text import find_entities


def post(text: str) -> Post:
    return Post("i", "mastodon", "1", text, datetime.now(UTC), entities=find_entities(text))


def test_a_word_matches_on_word_boundaries_whatever_the_case_and_accents():
    terms = Terms(["nordlys", "Kestrel Mobile"])
    assert terms.match(post("Loving my NORDLYS X3"))
    assert terms.match(post("Nordlýs is great"))
    assert terms.match(post("switching from kestrel mobile"))
    assert not terms.match(post("unordlyst is not a brand"))
    assert terms.match(post("launch day #Nordlys"))  # the hashtag of the same letters
    assert terms.match(post("#kestrelmobile fans"))


def test_tags_and_mentions_match_only_as_such():
    terms = Terms(["#x3", "@nordlysphones"])
    assert terms.match(post("got the #X3 today"))
    assert terms.match(post("hey @NordlysPhones my order?"))
    assert not terms.match(post("x3 in plain text"))


def test_a_wall_without_terms_takes_everything_and_the_router_picks_among_fed_walls():
    router = Router({"lobby": ["nordlys"], "stage": ["#launch"], "all": []})
    assert router.walls_for(post("nordlys #launch"), ["lobby", "stage", "all"]) == ["lobby", "stage", "all"]
    assert router.walls_for(post("just #launch"), ["lobby", "stage"]) == ["stage"]
    assert router.walls_for(post("nothing here"), ["lobby", "all"]) == ["all"]
