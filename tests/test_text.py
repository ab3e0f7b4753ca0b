"""Post text is cleaned and its links, hashtags and mentions are found as code-point spans."""

from wall.text import find_entities


def spans(text: str) -> list[tuple[str, str, str]]:
    return [(e.kind, text[e.start : e.end], e.value) for e in find_entities(text)]


def test_hashtags_mentions_and_links_are_found_in_order():
    text = "Day one with the #NordlysX3 📱 thanks @aino! Review: https://news.example/x3?a=1#top."
    assert spans(text) == [
        ("hashtag", "#NordlysX3", "NordlysX3"),
        ("mention", "@aino", "aino"),
        ("link", "https://news.example/x3?a=1#top", "https://news.example/x3?a=1#top"),
    ]


def test_offsets_count_code_points_so_emoji_and_flags_do_not_shift_them():
    text = "👩‍👩‍👧 🇫🇮 #nordlys"
    assert spans(text) == [("hashtag", "#nordlys", "nordlys")]
    assert find_entities(text)[0].start == len("👩‍👩‍👧 🇫🇮 ")


def test_non_latin_hashtags_and_fediverse_mentions():
    assert spans("新しい #ノルドリス と #nordlys") == [
        ("hashtag", "#ノルドリス", "ノルドリス"), ("hashtag", "#nordlys", "nordlys")]
    assert spans("cc @priya@mastodon.example.") == [
        ("mention", "@priya@mastodon.example", "priya@mastodon.example")]


def test_not_entities_emails_numbers_and_anchors_inside_links():
    assert spans("mail me: help@nordlys.example, issue #42, see https://x.example/#frag") == [
        ("link", "https://x.example/#frag", "https://x.example/#frag")]


def test_link_in_parentheses_keeps_its_own_closing_parenthesis_only():
    assert spans("(see https://wiki.example/Phone_(mobile))") == [
        ("link", "https://wiki.example/Phone_(mobile)", "https://wiki.example/Phone_(mobile)")]
