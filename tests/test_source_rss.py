"""An RSS/Atom source polls real feeds over HTTP: clean text, 304s, no duplicates, edits, broken feeds."""

from __future__ import annotations

import re
import socket

import aiohttp
import pytest

from ingest.connector import Checkpoint, Item, SourceContext, SourceError, Upsert
from ingest.sources import rss
from ingest.sources.http import parse_retry_after
from ingest.sources.plaintext import html_to_text
from tests.fakes.rss import FIXTURES, feed_server
from tests.fakes.state import Memory
from wall.redact import redact_url


async def one_round(source: rss.RssSource) -> list[Item]:
    """Everything the source yields until each feed has checkpointed once (or the round fails)."""
    items: list[Item] = []
    checkpoints = 0
    async for item in source.stream(None):
        items.append(item)
        checkpoints += isinstance(item, Checkpoint)
        if checkpoints == len(source.options.feeds):
            break
    return items


def upserts(items: list[Item]) -> list[Upsert]:
    return [i for i in items if isinstance(i, Upsert)]


async def test_feeds_arrive_as_clean_posts_then_304_and_a_restart_repeats_nothing():
    state = Memory()
    async with feed_server() as server, aiohttp.ClientSession() as http:
        ctx = SourceContext(http=http, state=state, env={})
        options = rss.Options(feeds=[f"{server.url}/feed.rss", f"{server.url}/feed.atom"])
        posts = [u.post for u in upserts(await one_round(rss.build("news", options, ctx)))]
        assert len(posts) == 14
        assert all(p.source == "rss" for p in posts)
        review = next(p for p in posts if p.source_id == "https://gadgetnorth.example/reviews/nordlys-x3-review/")
        assert review.text.startswith("Nordlys X3 review: the winter phone\nVerdict: the Nordlys X3")
        assert review.author.name == "Ingrid Solberg"
        assert review.url == "https://gadgetnorth.example/reviews/nordlys-x3-review/"
        assert all("alert(" not in p.text and "<" not in p.text for p in posts)
        assert "Nordlys & the" in " ".join(p.text for p in posts)  # Atom title type="html" unescaped
        assert len({p.id for p in posts}) == 14

        assert upserts(await one_round(rss.build("news", options, ctx))) == []
        assert server.requests[-2:] == [("feed.rss", 304), ("feed.atom", 304)]

        state.data = {k: v for k, v in state.data.items() if not k.startswith("etag:")
                      and not k.startswith("modified:")}  # validators lost, seen ids kept
        assert upserts(await one_round(rss.build("news", options, ctx))) == []
        assert server.requests[-2:] == [("feed.rss", 200), ("feed.atom", 200)]


async def test_an_edited_item_comes_again_with_the_same_id():
    async with feed_server() as server, aiohttp.ClientSession() as http:
        ctx = SourceContext(http=http, state=Memory(), env={})
        source = rss.build("news", rss.Options(feeds=[f"{server.url}/feed.rss"]), ctx)
        before = {u.post.source_id: u.post for u in upserts(await one_round(source))}
        title = "Nordlys X3 review: the winter phone"
        server.edit("feed.rss", title, title.replace("review:", "review (updated):"))
        again = upserts(await one_round(source))
        assert [u.post.source_id for u in again] == ["https://gadgetnorth.example/reviews/nordlys-x3-review/"]
        assert again[0].post.id == before[again[0].post.source_id].id
        assert again[0].post.text.startswith("Nordlys X3 review (updated)")


async def test_the_first_run_takes_only_the_newest_items():
    async with feed_server() as server, aiohttp.ClientSession() as http:
        ctx = SourceContext(http=http, state=Memory(), env={})
        options = rss.Options(feeds=[f"{server.url}/feed.rss"], max_items_per_poll=3)
        posts = [u.post for u in upserts(await one_round(rss.build("news", options, ctx)))]
        assert len(posts) == 3
        assert [p.created_at for p in posts] == sorted(p.created_at for p in posts)


async def test_a_broken_feed_is_reported_by_url_while_the_others_go_on(caplog):
    async with feed_server() as server, aiohttp.ClientSession() as http:
        ctx = SourceContext(http=http, state=Memory(), env={})
        broken = f"{server.url}/broken.xml"
        source = rss.build("news", rss.Options(feeds=[broken, f"{server.url}/feed.atom"]), ctx)
        items: list[Item] = []
        with pytest.raises(SourceError, match=f"feed {re.escape(redact_url(broken))} is not valid RSS/Atom"):
            async for item in source.stream(None):
                items.append(item)
        assert len(upserts(items)) == 6 and isinstance(items[-1], Checkpoint)
        assert redact_url(broken) in caplog.text and "/broken.xml" not in caplog.text  # the host, not the URL


async def test_an_unreachable_feed_fails_the_round_after_the_others_were_read():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/feed.rss"
    async with feed_server() as server, aiohttp.ClientSession() as http:
        ctx = SourceContext(http=http, state=Memory(), env={})
        source = rss.build("news", rss.Options(feeds=[dead, f"{server.url}/feed.atom"]), ctx)
        items: list[Item] = []
        with pytest.raises(SourceError, match=f"feed {re.escape(redact_url(dead))} is unreachable"):
            async for item in source.stream(None):
                items.append(item)
        assert len(upserts(items)) == 6


async def test_a_missing_feed_names_host_and_status():
    async with feed_server() as server, aiohttp.ClientSession() as http:
        ctx = SourceContext(http=http, state=Memory(), env={})
        source = rss.build("news", rss.Options(feeds=[f"{server.url}/gone.xml"]), ctx)
        with pytest.raises(SourceError, match=r"404 from 127\.0\.0\.1: the address does not exist"):
            await one_round(source)


def test_html_becomes_plain_text_without_scripts_or_styles():
    html = '<p>Caf&eacute; &amp; <b>bar</b></p><script>alert("x")</script><style>p{}</style><p>&#8364;5</p>'
    assert html_to_text(html) == "Café & bar\n€5"
    assert html_to_text("&lt;p&gt;escaped&lt;/p&gt;") == "<p>escaped</p>"  # data, never parsed twice


def test_retry_after_in_seconds_or_as_a_date():
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Thu, 12 Mar 2026 08:01:00 GMT", now=1773302400.0) == 60.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None



async def test_the_http_charset_wins_and_a_feed_without_one_is_detected():
    async with feed_server() as server, aiohttp.ClientSession() as http:
        ctx = SourceContext(http=http, state=Memory(), env={})
        # served as windows-1251 while its XML declaration still says ISO-8859-1; the other declares nothing
        options = rss.Options(feeds=[f"{server.url}/feed_cp1251.rss", f"{server.url}/feed_undeclared.rss"])
        posts = [u.post for u in upserts(await one_round(rss.build("news", options, ctx)))]
        titles = [p.text.split("\n")[0] for p in posts]
        assert titles.count("Обзор Nordlys X3: зимний телефон") == 2, titles
        assert titles.count("Nordlys X3 против Kestrel K9: какой выбрать?") == 2, titles
    undeclared = (FIXTURES / "feed_undeclared.rss").read_bytes()
    # a server that sends no Content-Type at all: feedparser alone would read it as ISO-8859-1
    parsed = rss.parse(undeclared, {"Date": "Thu, 12 Mar 2026 08:12:00 GMT"})
    assert parsed.entries[0].title.startswith("Обзор")


async def test_atom_0_3_created_dates_plain_text_titles_and_items_without_id_or_link():
    async with feed_server() as server, aiohttp.ClientSession() as http:
        state = Memory()
        ctx = SourceContext(http=http, state=state, env={})
        options = rss.Options(feeds=[f"{server.url}/feed.atom03"])
        posts = [u.post for u in upserts(await one_round(rss.build("news", options, ctx)))]
        blink, anonymous = sorted(posts, key=lambda p: p.created_at, reverse=True)
        assert blink.text.startswith("Why the <blink> tag still matters to Nordlys\n")  # text, not markup
        assert blink.created_at.isoformat() == "2026-03-11T21:15:00+00:00"
        assert anonymous.created_at.isoformat() == "2026-03-10T18:00:00+00:00"
        assert anonymous.text.startswith("A post with neither id nor link") and anonymous.url is None
        # its id is stable: the next full fetch (validators lost) knows it already
        state.data = {k: v for k, v in state.data.items() if not k.startswith(("etag:", "modified:"))}
        assert upserts(await one_round(rss.build("news", options, ctx))) == []


def test_an_rss_title_with_an_escaped_tag_stays_text():
    feed = (b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title><item>'
            b"<title>the &lt;blink&gt; tag</title>"
            b"<description>&lt;p&gt;body &lt;b&gt;bold&lt;/b&gt;&lt;/p&gt;</description>"
            b"<guid>g1</guid></item></channel></rss>")
    parsed = rss.parse(feed, {"Content-Type": "application/rss+xml; charset=utf-8"})
    post = rss.to_post(parsed.entries[0], parsed.feed)
    assert post is not None and post.text == "the <blink> tag\nbody bold"
