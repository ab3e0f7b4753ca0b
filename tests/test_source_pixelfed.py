"""Pixelfed: the photos of a hashtag on a wall, read through the Mastodon-compatible API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from ingest.connector import SourceContext
from ingest.sources import pixelfed
from tests.fakes.pixelfed import PixelfedInstance
from tests.fakes.state import Memory
from tests.test_connector_contract import checkpointed, drive
from wall.models import post_id


@pytest.fixture
async def instance() -> AsyncIterator[tuple[PixelfedInstance, str]]:
    fake = PixelfedInstance()
    running = await fake.run()
    try:
        yield fake, running.http
    finally:
        await running.stop()


def source(url: str, http: aiohttp.ClientSession, state: Memory, backfill: int = 20) -> pixelfed.Pixelfed:
    options = pixelfed.Options(instance=url, hashtags=("#nordlys",), interval=0, backfill_limit=backfill)
    return pixelfed.build("pix", options, SourceContext(http, state, {}))


def status(fake: PixelfedInstance, n: int) -> dict[str, Any]:
    return dict(fake.statuses[0], id=str(742001553020000000 + n), uri=f"https://pixelfed.example/p/sara/{n}")


async def test_photos_arrive_oldest_first_with_their_alt_text(instance: tuple[PixelfedInstance, str]):
    fake, url = instance
    async with aiohttp.ClientSession() as http:
        run = await drive(source(url, http, Memory()), None, checkpointed)
    assert [p.source_id for p in run.posts] == [s["uri"] for s in reversed(fake.statuses)]
    assert all(p.source == "pixelfed" and p.id == post_id("pixelfed", p.source_id) for p in run.posts)
    aurora = run.posts[-1]
    assert aurora.text == "Aurora over Tromsø, shot on the #nordlys X3, no tripod"  # HTML became text
    assert [e.value for e in aurora.entities if e.kind == "hashtag"] == ["nordlys"]
    assert [(m.url, m.alt) for m in aurora.media] == [
        ("https://pixelfed.example/storage/m/_v2/nordlys/9004.jpg",
         "Green aurora over the harbour in Tromsø")]
    album = next(p for p in run.posts if len(p.media) > 1)
    assert [m.alt for m in album.media] == ["The box, closed", "The phone on its box", "Charger and cable"]
    video = next(p for p in run.posts if p.media and p.media[0].kind == "video")
    assert video.author.name == "Aino Virtanen" and video.author.handle == "aino"
    assert run.checkpoints == [max(s["id"] for s in fake.statuses)]


async def test_a_first_run_takes_the_newest_and_the_next_rounds_follow_min_id_page_by_page(
        instance: tuple[PixelfedInstance, str]):
    fake, url = instance
    state = Memory()
    async with aiohttp.ClientSession() as http:
        first = await drive(source(url, http, state, backfill=2), None, checkpointed)
        assert [p.source_id for p in first.posts] == [s["uri"] for s in fake.statuses[1::-1]]
        fake.statuses += [status(fake, n) for n in range(1, 46)]  # more than one page of 40
        later = await drive(source(url, http, state), first.checkpoints[-1],
                            lambda r: len(r.posts) == 45 and checkpointed(r))
    assert [p.source_id for p in later.posts] == [
        f"https://pixelfed.example/p/sara/{n}" for n in range(1, 46)]  # oldest first, each once
    pages = [r for r in fake.requests if "status" not in r]  # not the re-reads of recent statuses
    assert pages[1]["min_id"] == first.checkpoints[-1]
    assert pages[2]["min_id"] == str(742001553020000040)  # the next page after the first 40
    assert later.checkpoints[-1] == str(742001553020000045)


async def test_recent_posts_are_read_again_an_edit_updates_and_a_deleted_one_is_retracted(
        instance: tuple[PixelfedInstance, str]):
    fake, url = instance
    state = Memory()
    async with aiohttp.ClientSession() as http:
        first = await drive(source(url, http, state), None, checkpointed)
        fake.edit("742001553010000004", "<p>Aurora over Tromsø, edited: handheld after all</p>")
        fake.delete("742001553010000002")
        later = await drive(source(url, http, state), first.checkpoints[-1], checkpointed)
    uris = {s["id"]: s["uri"] for s in json_statuses()}
    assert later.deletes == [post_id("pixelfed", uris["742001553010000002"])]
    assert [p.text for p in later.posts] == ["Aurora over Tromsø, edited: handheld after all"]
    assert {r["status"] for r in fake.requests if "status" in r} == set(uris)  # each recent one once


def json_statuses() -> list[dict[str, Any]]:
    return PixelfedInstance().statuses
