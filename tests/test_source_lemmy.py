"""Lemmy: posts and comments of a community found by search, their markdown shown as plain text."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from ingest.connector import Delete, SourceContext, SourceError
from ingest.sources import lemmy
from ingest.sources.lemmy import markdown_to_text
from tests.fakes.lemmy import LemmyInstance
from tests.fakes.state import Memory
from tests.test_connector_contract import checkpointed, drive
from wall.models import Media, post_id

POST, COMMENT = "https://lemmy.example/post/1201", "https://lemmy.example/comment/5502"


@pytest.fixture
async def instance() -> AsyncIterator[tuple[LemmyInstance, str]]:
    fake = LemmyInstance()
    running = await fake.run()
    try:
        yield fake, running.http
    finally:
        await running.stop()


def source(url: str, http: aiohttp.ClientSession, state: Memory, **options: object) -> lemmy.Lemmy:
    chosen = {"query": "nordlys", "communities": ("nordlys",), **options}
    return lemmy.build("lemmy", lemmy.Options(instance=url, **chosen),  # type: ignore[arg-type]
                       SourceContext(http, state, {}))


def test_markdown_becomes_plain_text_and_its_images_media():
    text, media = markdown_to_text(
        "**Short version:** the *aurora mode* is real.\n\n## Battery\n\n> two days, honestly\n\n"
        "```\ncode fence\n```\nFull review on [my blog](https://aino.example/x3), ~~not~~ `inline`, "
        "![the fjord shot](https://lemmy.example/pictrs/image/fjord.jpg) and #nordlys\n\n---\n")
    assert text == ("Short version: the aurora mode is real.\n\nBattery\n\ntwo days, honestly\n\n"
                    "code fence\nFull review on my blog https://aino.example/x3, not inline, "
                    "the fjord shot and #nordlys")
    assert media == [Media("https://lemmy.example/pictrs/image/fjord.jpg", "the fjord shot")]


async def test_posts_and_comments_of_the_community_arrive_oldest_first(instance: tuple[LemmyInstance, str]):
    fake, url = instance
    async with aiohttp.ClientSession() as http:
        run = await drive(source(url, http, Memory()), None, checkpointed)
    assert [p.source_id for p in run.posts] == [
        "https://lemmy.example/post/1199", "https://lemmy.example/comment/5501",
        "https://lemmy.example/comment/5502", POST]
    review = run.posts[-1]
    assert review.text.startswith("Nordlys X3 first impressions\nhttps://aino.example/x3\nShort version:")
    assert "*" not in review.text and "#" not in review.text and "](" not in review.text
    assert review.media[0].url == "https://lemmy.example/pictrs/image/thumb_x3.jpg"
    assert review.author.name == "Aino Virtanen" and review.author.handle == "@aino@lemmy.example"
    remote = next(p for p in run.posts if p.source_id == "https://lemmy.example/post/1199")
    assert remote.author.handle == "@mattik@feddit.example"
    assert fake.requests[0] == {"q": "nordlys", "type_": "All", "sort": "New", "limit": "25",
                                "community_name": "nordlys"}


async def test_a_removed_comment_is_retracted_once_and_an_edit_comes_again(
        instance: tuple[LemmyInstance, str]):
    fake, url = instance
    state = Memory()
    async with aiohttp.ClientSession() as http:
        await drive(source(url, http, state), None, checkpointed)
        fake.view(COMMENT)["removed"] = True
        fake.view(POST)["body"] = "Edit: the battery lasts a day and a half."
        second = await drive(source(url, http, state), None, checkpointed)
        third = await drive(source(url, http, state), None, checkpointed)
    assert [(d.post_id, d.reason) for d in second.items if isinstance(d, Delete)] == [
        (post_id("lemmy", COMMENT), "removed")]
    assert [p.id for p in second.posts] == [post_id("lemmy", POST)]
    assert "a day and a half" in second.posts[0].text
    assert third.posts == [] and third.deletes == []  # nothing twice


async def test_an_unknown_community_is_named(instance: tuple[LemmyInstance, str]):
    _, url = instance
    async with aiohttp.ClientSession() as http:
        with pytest.raises(SourceError, match="no community 'kestrel' there"):
            await drive(source(url, http, Memory(), communities=("kestrel",)), None, lambda r: False)
