"""A wall fed by a real source protocol: Mastodon's streaming API (a local instance) to the screens."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from tests.fakes.mastodon import FIXTURES, Instance
from tests.helpers import WAIT, Screen, running_node, temp_store_url
from wall.app import parse_config


def config(instance: str) -> dict[str, Any]:
    return {
        "stats_interval": 0.5,
        "store": {"url": temp_store_url()},
        "walls": {"lobby": {"title": "Lobby", "terms": ["nordlys"]}},
        "sources": {"fedi": {"type": "mastodon", "walls": ["lobby"], "instance": instance,
                             "hashtags": ["nordlys"], "token_env": "WALL_MASTODON_TOKEN",
                             "backfill_limit": 0}},
    }


def last_toot() -> bytes:
    """One more update event, made from the recording's last one."""
    events = (FIXTURES / "streaming.sse").read_text().split("\n\n")
    updates = [e for e in events if e.startswith("event: update")]
    status = json.loads(updates[-1].split("data: ", 1)[1])
    status |= {"id": "116215281562999999", "uri": "https://toot.example.fi/users/aino_virtanen/statuses/1",
               "url": "https://toot.example.fi/@aino_virtanen/1", "edited_at": None,
               "content": "<p>The last toot #nordlys</p>"}
    return f"event: update\ndata: {json.dumps(status)}\n\n".encode()


async def test_mastodon_posts_edits_and_deletes_reach_the_screen_and_held_posts_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WALL_MASTODON_TOKEN", "good-token")
    fake = await Instance(sse=(FIXTURES / "streaming.sse").read_bytes() + last_toot()).run()
    try:
        async with running_node(parse_config(config(fake.http))) as base, aiohttp.ClientSession() as s:
            screen = await Screen(s, base).connect()
            await screen.wait_for(lambda f: f["type"] == "retract", timeout=60)
            # A toot after the recorded stream: once it shows, the rest of the stream was read and nothing
            # of it can still show twice.
            await screen.wait_for(lambda f: f["type"] == "post" and "The last toot" in f["post"]["text"])
            shown = [f["post"] for f in screen.frames if f["type"] == "post"]
            ids = [p["id"] for p in shown]
            assert len(ids) == len(set(ids)) >= 8
            assert all("<" not in p["text"] for p in shown)  # HTML became text
            assert not any("teardown" in p["text"] for p in shown)  # behind a content warning: held
            updates = [f["post"] for f in screen.frames if f["type"] == "update"]
            assert updates and all(u["id"] in ids for u in updates)  # the edit replaced a shown post
            (retract,) = [f for f in screen.frames if f["type"] == "retract"]
            assert retract["post_id"] in ids
            async with asyncio.timeout(WAIT):  # the health record is refreshed every 2 s
                while True:
                    async with s.get(f"{base}/healthz") as r:
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
    fake = await Instance().run()
    try:
        async with running_node(parse_config(config(fake.http))) as base, aiohttp.ClientSession() as s:
            async with asyncio.timeout(WAIT):
                while True:
                    async with s.get(f"{base}/healthz") as r:
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
