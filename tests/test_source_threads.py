"""Threads keyword search: recent public posts about the brand on a wall, the token kept out of sight."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest

from ingest.connector import SourceContext, SourceError
from ingest.sources import threads
from tests.fakes.state import Memory
from tests.fakes.threads import TOKEN, ThreadsApi
from tests.test_connector_contract import checkpointed, drive
from wall.models import post_id

SECRET = "EAAG-secret-threads-token"


@pytest.fixture
async def api() -> AsyncIterator[tuple[ThreadsApi, str]]:
    fake = ThreadsApi()
    running = await fake.run()
    try:
        yield fake, f"{running.http}/v1.0"
    finally:
        await running.stop()


def source(url: str, http: aiohttp.ClientSession, state: Memory, token: str = TOKEN) -> threads.Threads:
    options = threads.Options(query="nordlys", token_env="WALL_THREADS_TOKEN", api_url=url)
    return threads.build("threads", options, SourceContext(http, state, {"WALL_THREADS_TOKEN": token}))


async def test_posts_come_oldest_first_with_their_pictures_and_alt_text(api: tuple[ThreadsApi, str]):
    fake, url = api
    async with aiohttp.ClientSession() as http:
        run = await drive(source(url, http, Memory()), None, checkpointed)
    assert run.ids() == [post_id("threads", p["id"]) for p in reversed(fake.posts)]
    aurora = next(p for p in run.posts if p.source_id == "18052391720112002")
    assert [(m.url, m.alt) for m in aurora.media] == [
        ("https://scontent.cdninstagram.example/v/t51/nordlys_aurora.jpg", "Green aurora over a snowy fjord")]
    assert aurora.author.handle == "@sara.lindqvist"
    assert aurora.url == "https://www.threads.net/@sara.lindqvist/post/DHn0rdLys02"
    album = next(p for p in run.posts if len(p.media) > 1)
    assert [m.kind for m in album.media] == ["image", "video"]  # a carousel's children
    request = fake.requests[0]
    assert (request["q"], request["search_type"]) == ("nordlys", "RECENT") and "since" not in request


async def test_the_next_round_asks_since_the_newest_post_and_repeats_nothing(api: tuple[ThreadsApi, str]):
    fake, url = api
    state = Memory()
    async with aiohttp.ClientSession() as http:
        first = await drive(source(url, http, state), None, checkpointed)
        newest = max(int(p.created_at.timestamp()) for p in first.posts)
        assert first.checkpoints == [str(newest)]
        again = await drive(source(url, http, state), first.checkpoints[-1], checkpointed)
    assert int(fake.requests[-1]["since"]) == newest - threads.OVERLAP
    assert again.posts == []


async def test_an_expired_token_is_named_by_its_variable_and_never_shown(api: tuple[ThreadsApi, str],
                                                                         caplog: pytest.LogCaptureFixture):
    _, url = api
    caplog.set_level(logging.DEBUG)
    async with aiohttp.ClientSession() as http:
        with pytest.raises(SourceError) as e:
            await drive(source(url, http, Memory(), token=SECRET), None, lambda r: False)
    said = str(e.value)
    assert said.startswith("400 from 127.0.0.1: the token in WALL_THREADS_TOKEN was refused (code 190)")
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("ingest")]  # not the fake server's
    assert SECRET not in said and not any(SECRET in line for line in ours)


async def test_an_unreachable_api_names_the_host_not_the_url_with_the_token():
    async with aiohttp.ClientSession() as http:
        with pytest.raises(SourceError) as e:
            await drive(source("http://127.0.0.1:9/v1.0", http, Memory(), token=SECRET), None,
                        lambda r: False)
    assert "127.0.0.1 is unreachable" in str(e.value) and SECRET not in str(e.value)


async def test_a_field_of_the_wrong_type_skips_that_post_or_drops_that_link(api: tuple[ThreadsApi, str]):
    fake, url = api
    fake.posts[0]["text"] = {"a": "dict where the text goes"}  # skipped, never shown as a repr
    fake.posts[1]["permalink"] = 12345  # dropped: the post shows without its link
    async with aiohttp.ClientSession() as http:
        run = await drive(source(url, http, Memory()), None, checkpointed)
    assert run.skipped == ["TypeError: a dict where text goes"]
    assert post_id("threads", fake.posts[0]["id"]) not in run.ids()
    (linkless,) = [p for p in run.posts if p.source_id == fake.posts[1]["id"]]
    assert linkless.url is None
