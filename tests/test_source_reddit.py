"""A Reddit source searches over OAuth: posts, edits and removals, rate limits, token expiry, bad secrets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest

from ingest.connector import Checkpoint, Delete, Item, SourceContext, SourceError, Throttled, Upsert
from ingest.sources import reddit
from tests.fakes.reddit import RedditServer, reddit_server
from tests.fakes.state import Memory

ENV = {"REDDIT_ID": "app-id", "REDDIT_SECRET": "app-secret"}
FIRST = "t3_1jb7x2q"


@asynccontextmanager
async def setup(env: dict[str, str] = ENV) -> AsyncIterator[tuple[RedditServer, reddit.RedditSource]]:
    async with reddit_server() as server, aiohttp.ClientSession() as http:
        options = reddit.Options(client_id_env="REDDIT_ID", client_secret_env="REDDIT_SECRET",
                                 query="nordlys",
                                 auth_url=f"{server.url}/api/v1/access_token", api_url=server.url)
        yield server, reddit.build("reddit", options, SourceContext(http=http, state=Memory(), env=env))


async def one_round(source: reddit.RedditSource, cursor: str | None) -> tuple[list[Item], str]:
    items: list[Item] = []
    async for item in source.stream(cursor):
        if isinstance(item, Checkpoint):
            return items, item.cursor
        items.append(item)
    raise AssertionError("the stream ended without a checkpoint")


async def test_posts_arrive_then_an_edit_updates_and_a_removal_deletes_without_duplicates():
    async with setup() as (server, source):
        items, cursor = await one_round(source, None)
        posts = [i.post for i in items if isinstance(i, Upsert)]
        assert len(posts) == 8 and posts[-1].source_id == FIRST  # oldest first, newest last
        first = posts[-1]
        title = "X3 first impressions after 48h in Oulu (\u221228 °C) \u2013 battery & camera"
        assert first.text.startswith(title + "\n")
        assert "> Nordlys says" in first.text and "&gt;" not in first.text
        assert first.author.handle == "u/revontuli_rider"
        assert first.url == ("https://www.reddit.com/r/nordlys/comments/1jb7x2q/"
                             "x3_first_impressions_after_48h_in_oulu_28_c_batter/")
        media = [m.url for p in posts for m in p.media]
        assert media and all("&amp;" not in url and url.startswith("https://") for url in media)
        assert cursor.endswith(f":{FIRST}")

        server.edit(FIRST, "Update: battery is fine after the 1.0.3 patch.")
        server.remove("t3_1jb6s8w")
        items, _ = await one_round(source, cursor)
        assert sorted(type(i).__name__ for i in items) == ["Delete", "Upsert"]
        deleted = next(i for i in items if isinstance(i, Delete))
        edited = next(i for i in items if isinstance(i, Upsert))
        assert isinstance(deleted, Delete) and deleted.reason == "removed"
        assert isinstance(edited, Upsert) and edited.post.id == first.id
        assert edited.post.text.endswith("Update: battery is fine after the 1.0.3 patch.")

        items, _ = await one_round(source, cursor)
        assert items == []  # a restart from the same cursor and state repeats nothing


async def test_an_older_cursor_follows_the_after_pages():
    async with setup() as (server, source):
        items, _ = await one_round(source, "1773200000.0:t3_old")
        assert len(items) == 8
        assert any("after=t3_1jb5ynq" in r for r in server.requests)


async def test_a_429_yields_throttled_then_the_source_recovers():
    async with setup() as (server, source):
        server.rate_limit_next = 1
        items, _ = await one_round(source, None)
        assert isinstance(items[0], Throttled) and "rate limit" in items[0].reason
        assert sum(isinstance(i, Upsert) for i in items) == 8


async def test_an_exhausted_window_waits_for_its_reset_before_the_next_request():
    async with setup() as (server, source):
        server.exhaust_next = 1
        items, cursor = await one_round(source, None)
        assert sum(isinstance(i, Upsert) for i in items) == 8
        asked = len(server.requests)
        items, _ = await one_round(source, cursor)  # the recheck must wait for the reset first
        assert isinstance(items[0], Throttled) and items[0].until > 0
        assert len(server.requests) == asked + 2


async def test_a_5xx_is_an_error_naming_host_and_status_and_the_next_start_recovers():
    async with setup() as (server, source):
        server.fail_next = 1
        with pytest.raises(SourceError, match=r"503 from 127\.0\.0\.1: the server failed"):
            await one_round(source, None)
        items, _ = await one_round(source, None)
        assert sum(isinstance(i, Upsert) for i in items) == 8


async def test_an_expired_token_is_renewed_once():
    async with setup() as (server, source):
        _, cursor = await one_round(source, None)
        server.expire_tokens()
        await one_round(source, cursor)
        assert server.token_requests == 2


async def test_refused_credentials_name_the_variables():
    async with setup({"REDDIT_ID": "app-id", "REDDIT_SECRET": "wrong"}) as (_, source):
        with pytest.raises(SourceError, match=r"401 from 127\.0\.0\.1: the app credentials in "
                                              r"REDDIT_ID/REDDIT_SECRET were refused"):
            await one_round(source, None)


def test_removed_and_deleted_posts_are_told_apart():
    assert reddit.is_removed({"selftext": "[removed]"}) == "removed"
    assert reddit.is_removed({"removed_by_category": "deleted"}) == "deleted"
    assert reddit.is_removed({"author": "[deleted]", "selftext": "x"}) == "deleted"
    assert reddit.is_removed({"selftext": "fine", "removed_by_category": None}) is None
