"""A wall fed by a real source protocol: Mastodon's streaming API (a local instance) to the screens."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from tests.fakes.mastodon import Instance
from tests.helpers import HEALTH_AUTH, HEALTH_TOKEN, HEALTH_TOKEN_ENV, Screen, running_node, temp_store_url
from wall.app import parse_config


def config(instance: str) -> dict[str, Any]:
    return {
        "stats_interval": 0.5,
        "web": {"health_token_env": HEALTH_TOKEN_ENV},
        "store": {"url": temp_store_url()},
        "walls": {"lobby": {"title": "Lobby", "terms": ["nordlys"]}},
        "sources": {"fedi": {"type": "mastodon", "walls": ["lobby"], "instance": instance,
                             "hashtags": ["nordlys"], "token_env": "WALL_MASTODON_TOKEN",
                             "backfill_limit": 0}},
    }


async def test_mastodon_posts_edits_and_deletes_reach_the_screen_and_held_posts_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WALL_MASTODON_TOKEN", "good-token")
    monkeypatch.setenv(HEALTH_TOKEN_ENV, HEALTH_TOKEN)
    fake = await Instance().run()
    try:
        async with running_node(parse_config(config(fake.http))) as base, aiohttp.ClientSession() as s:
            screen = await Screen(s, base).connect()
            await screen.wait_for(lambda f: f["type"] == "retract", timeout=20)
            await asyncio.sleep(1.0)  # the stream ends and is read again: nothing may show twice
            shown = [f["post"] for f in screen.frames if f["type"] == "post"]
            ids = [p["id"] for p in shown]
            assert len(ids) == len(set(ids)) >= 8
            assert all("<" not in p["text"] for p in shown)  # HTML became text
            assert not any("teardown" in p["text"] for p in shown)  # behind a content warning: held
            updates = [f["post"] for f in screen.frames if f["type"] == "update"]
            assert updates and all(u["id"] in ids for u in updates)  # the edit replaced a shown post
            (retract,) = [f for f in screen.frames if f["type"] == "retract"]
            assert retract["post_id"] in ids
            async with asyncio.timeout(10):  # the health record is refreshed every 2 s
                while True:
                    async with s.get(f"{base}/healthz", headers=HEALTH_AUTH) as r:
                        (source,) = (await r.json())["walls"]["lobby"]["sources"]
                    if source["posts"] >= len(ids):
                        break
                    await asyncio.sleep(0.2)
            assert source["name"] == "fedi"
    finally:
        await fake.stop()


async def test_a_refused_token_is_named_in_healthz_and_the_wall_keeps_serving(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WALL_MASTODON_TOKEN", "wrong")
    monkeypatch.setenv(HEALTH_TOKEN_ENV, HEALTH_TOKEN)
    fake = await Instance().run()
    try:
        async with running_node(parse_config(config(fake.http))) as base, aiohttp.ClientSession() as s:
            async with asyncio.timeout(15):
                while True:
                    async with s.get(f"{base}/healthz", headers=HEALTH_AUTH) as r:
                        health = await r.json()
                    sources = health["walls"]["lobby"]["sources"]
                    if sources and sources[0]["state"] == "failing":
                        break
                    await asyncio.sleep(0.1)
            assert health["status"] == "degraded"
            assert "the token in WALL_MASTODON_TOKEN was refused" in sources[0]["error"]
            assert any("WALL_MASTODON_TOKEN" in p for p in health["problems"])
            async with s.get(f"{base}/w/lobby") as r:
                assert r.status == 200
    finally:
        await fake.stop()
