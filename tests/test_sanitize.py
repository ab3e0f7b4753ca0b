"""Every post from every source is cleaned the same way before it reaches a wall (ingest/sanitize.py)."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from ingest.sanitize import EARLIEST, Refused, clamp_date, sanitize, web_url
from wall.models import Author, Entity, Media, Post
from wall.text import find_entities

NOW = datetime(2026, 3, 12, 8, 0, tzinfo=UTC)


def post(text: str, entities: tuple[Entity, ...] | None = None, **fields: object) -> Post:
    base: dict[str, object] = dict(id="p1", source="bluesky", source_id="at://x", text=text,
                                   created_at=NOW - timedelta(minutes=1))
    return Post(**{**base, "entities": find_entities(text) if entities is None else entities, **fields})


def spans(p: Post) -> list[tuple[str, str, str]]:
    return [(e.kind, p.text[e.start:e.end], e.value) for e in p.entities]


def test_a_clean_post_passes_unchanged():
    p = post("Launch day for #Nordlys https://nordlys.example/x3 with @ingrid 🚀")
    assert sanitize(p, NOW) is p


def test_controls_bidi_overrides_and_zero_width_characters_go_and_newlines_stay():
    p = sanitize(post("  hi\u202e there\x00\u0085\u200b\u2066\nnext line\ufeff  "), NOW)
    assert p.text == "hi there\nnext line"
    assert sanitize(post("e\u0301")).text == "\u00e9"  # NFC
    assert sanitize(post("family 👨\u200d👩\u200d👧")).text == "family 👨\u200d👩\u200d👧"  # joiners stay


def test_links_mentions_and_tags_survive_cleaning_that_moves_the_text():
    # A Bluesky post with a trailing newline and a zero-width space inside: facets index the raw text.
    raw = "\u200bTry #Nordlys\u202e at https://nordlys.example/x3 cc @ingrid\n"
    p = sanitize(post(raw), NOW)
    assert p.text == "Try #Nordlys at https://nordlys.example/x3 cc @ingrid"
    assert spans(p) == [("hashtag", "#Nordlys", "Nordlys"),
                        ("link", "https://nordlys.example/x3", "https://nordlys.example/x3"),
                        ("mention", "@ingrid", "ingrid")]


def test_entities_move_with_nfc_and_a_span_that_vanished_is_dropped():
    raw = "Cafe\u0301 #ok \u200b\u200b end"
    entities = (Entity("hashtag", 6, 9, "ok"), Entity("mention", 10, 12, "gone"))
    p = sanitize(post(raw, entities), NOW)
    assert p.text == "Café #ok  end"
    assert spans(p) == [("hashtag", "#ok", "ok")]


def test_only_web_links_and_media_pass():
    entities = (Entity("link", 0, 4, "javascript:alert(1)"), Entity("link", 5, 9, "https://a.example/\u202ex"))
    p = sanitize(post("evil link", entities, media=(
        Media("data:image/png;base64,AAA"), Media("https://cdn.example/a b.jpg"),
        Media("https://cdn.example/ok.jpg", alt="a\x07lt"), Media("/static/demo/1.jpg")),
        url="javascript:alert(1)", author=Author("A", "a", "ftp://x.example/a.png")), NOW)
    assert p.entities == ()
    assert p.media == (Media("https://cdn.example/ok.jpg", alt="alt"), Media("/static/demo/1.jpg"))
    assert p.url is None and p.author.avatar_url is None
    assert web_url(" https://a.example/x?a=1&b=2\n") == "https://a.example/x?a=1&b=2"
    assert web_url("//host/x", local=True) is None and web_url("https://") is None
    assert web_url("/static/x.jpg") is None  # a path is only for media, avatars and the post's own URL


def test_author_names_and_handles_are_cleaned_like_text():
    p = sanitize(post("hello", author=Author("\u202eevil\u202c Name\x1b[31m\n", "ha\u200bndle\x85")), NOW)
    assert p.author == Author("evil Name[31m", "handle")


@pytest.mark.parametrize("text", ["", "   ", "\u200b\u200b", "\x00\x01\u202e", "\u2800\u3164 \u200d"])
def test_a_post_with_nothing_visible_is_refused_without_quoting_it(text: str):
    with pytest.raises(Refused) as e:
        sanitize(post(text), NOW)
    assert text.strip() == "" or text not in str(e.value)
    with_media = sanitize(post(text, media=(Media("https://cdn.example/a.jpg"),)), NOW)
    assert with_media.media and not with_media.text.strip(" \u200d\u2800\u3164")  # media alone is a post


def test_dates_are_clamped_into_a_sane_range_even_beyond_what_python_can_convert():
    plus = timezone(timedelta(hours=5))
    assert clamp_date(datetime(1, 1, 1, tzinfo=plus), NOW) == EARLIEST  # would overflow in astimezone
    assert clamp_date(datetime(9999, 12, 31, 23, tzinfo=timezone(-timedelta(hours=5))), NOW) == NOW
    assert clamp_date(datetime(1999, 1, 1, tzinfo=UTC), NOW) == EARLIEST
    assert clamp_date(NOW + timedelta(days=1), NOW) == NOW
    assert clamp_date(datetime(2026, 3, 12, 9, 0), NOW) == NOW  # naive is UTC, an hour ahead: now
    assert clamp_date(datetime(2026, 3, 12, 9, 0, tzinfo=plus), NOW) == datetime(2026, 3, 12, 4, tzinfo=UTC)


def test_a_bad_language_tag_and_a_dirty_hold_reason_are_fixed():
    p = sanitize(post("hi", lang="en\n<script>", held="content warning: \u202espoiler"), NOW)
    assert p.lang is None and p.held == "content warning: spoiler"
