"""A signage player reads the wall as a feed: JSON Feed 1.1 and RSS 2.0 of its approved posts."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import feedparser
import jsonschema_rs

from tests.console_helpers import opened_store
from tests.helpers import make_config, post, running_node, shown_posts

SCHEMA = json.loads((Path(__file__).parent / "fixtures" / "jsonfeed" / "schema-1.1.json").read_text())
VALIDATOR = jsonschema_rs.Draft202012Validator(SCHEMA, validate_formats=True)
PHOTO = {"id": "photo", "text": "Aurora over the harbour tonight #nordlys",
         "author": {"name": "Aino Virtanen", "handle": "aino@toot.example.fi",
                    "avatar_url": "https://cdn.example/avatars/aino.png"},
         "url": "https://toot.example.fi/@aino/1", "created_at": "2026-03-12T08:01:00Z",
         "media": [{"url": "https://cdn.example/media/aurora.jpg", "alt": "green sky"}]}
HELD = {"id": "held", "text": "Cheap phones at https://spam.example/now", "author": {"name": "Spammer"},
        "created_at": "2026-03-12T08:02:00Z"}
PLAIN = {"id": "plain", "text": "Why the <blink> tag & the X3 belong together\nA second line",
         "author": {"name": "Pekka"}, "created_at": "2026-03-12T10:03:00+02:00"}


async def read(session: aiohttp.ClientSession, url: str) -> tuple[int, str, str]:
    async with session.get(url) as r:
        return r.status, r.headers.get("Content-Type", ""), await r.text()


def valid_json_feed(body: str) -> dict[str, Any]:
    feed: dict[str, Any] = json.loads(body)
    errors = [f"{e.instance_path}: {e.message}" for e in VALIDATOR.iter_errors(feed)]
    assert not errors, errors
    return feed


async def test_a_player_reads_the_approved_posts_newest_first_with_images_through_the_proxy(
        tmp_path: Path) -> None:
    cfg = make_config(store_url=f"sqlite+aiosqlite:///{tmp_path}/wall.db",
                      moderation={"mode": "post", "hold_links": True})
    async with running_node(cfg) as base, aiohttp.ClientSession() as s:
        for body in (PHOTO, HELD, PLAIN):  # the link holds the second for a curator
            assert (await post(s, base, body))[0] == 202
        await shown_posts(s, base, 2)  # in order: the held one was decided before the last one showed

        status, kind, body = await read(s, f"{base}/w/lobby/feed.json")
        assert status == 200 and kind == "application/feed+json; charset=utf-8"
        feed = valid_json_feed(body)
        assert feed["feed_url"] == f"{base}/w/lobby/feed.json" and feed["title"] == "Lobby"
        plain, photo = feed["items"]
        assert plain["content_text"] == PLAIN["text"] and "url" not in plain
        assert photo["url"] == PHOTO["url"] and photo["tags"] == ["nordlys"]
        assert photo["date_published"] == "2026-03-12T08:01:00+00:00"
        assert photo["image"].startswith(f"{base}/media/") and photo["image"].endswith("?w=960")
        assert photo["attachments"] == [{"url": photo["image"], "mime_type": "image/webp"}]
        assert photo["authors"][0]["avatar"].startswith(f"{base}/media/")
        assert "cdn.example" not in body, "images only through the wall's own proxy"
        async with s.get(photo["image"].replace("/media/", "/media/x", 1)) as r:
            assert r.status == 403  # the proxy URLs are signed

        status, kind, body = await read(s, f"{base}/w/lobby/feed.xml")
        assert status == 200 and kind == "application/rss+xml; charset=utf-8"
        rss = feedparser.parse(body.encode())
        assert not rss.bozo, rss.get("bozo_exception")
        assert rss.version == "rss20" and rss.feed.title == "Lobby"
        assert [e.title for e in rss.entries] == ["Why the <blink> tag & the X3 belong together",
                                                  "Aurora over the harbour tonight #nordlys"]
        assert rss.entries[0].title_detail.type == "text/plain"
        assert rss.entries[0].description.startswith("Why the &lt;blink&gt; tag &amp; the X3")  # not markup
        photo_entry = rss.entries[1]
        assert photo_entry.link == PHOTO["url"] and photo_entry.author == "Aino Virtanen"
        assert photo_entry.published_parsed[:5] == (2026, 3, 12, 8, 1)
        assert photo_entry.enclosures[0].href == photo["image"]
        assert photo_entry.media_content[0]["url"] == photo["image"]
        assert "spam.example" not in body

        async with s.get(f"{base}/w/lobby/feed.json?limit=0") as r:
            assert r.status == 400
        async with s.get(f"{base}/w/nowhere/feed.xml") as r:
            assert r.status == 404


async def test_a_private_walls_feeds_need_a_display_key_and_never_show_it(tmp_path: Path) -> None:
    store_url = f"sqlite+aiosqlite:///{tmp_path}/wall.db"
    cfg = make_config(store_url=store_url, walls=("lobby", "vault"), private=("vault",))
    async with running_node(cfg) as base, aiohttp.ClientSession() as s:
        async with opened_store(store_url) as store:
            key, _ = await store.display_keys.issue("vault", "Xibo player, floor 2")
        assert (await post(s, base, PLAIN, wall="vault"))[0] == 202
        for path in ("feed.json", "feed.xml"):
            status, _, body = await read(s, f"{base}/w/vault/{path}")
            assert status == 403 and "Why the" not in body
            status, _, body = await read(s, f"{base}/w/vault/{path}?key=guessed")
            assert status == 403
        async with asyncio.timeout(10):  # the writer shows the post a moment after the webhook took it
            while not (feed := valid_json_feed((await read(s, f"{base}/w/vault/feed.json?key={key}"))[2]))[
                    "items"]:
                await asyncio.sleep(0.02)
        assert feed["items"][0]["content_text"] == PLAIN["text"]
        for path in ("feed.json", "feed.xml"):
            async with s.get(f"{base}/w/vault/{path}?key={key}") as r:
                body = await r.text()
                assert r.status == 200 and r.headers["Cache-Control"] == "private, no-store"
            assert key not in body, "the key is never written into the feed"
