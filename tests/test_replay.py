"""The replay source plays a dataset at its pace, loops, resumes from its cursor, and skips broken posts."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import aiohttp
import pytest

from ingest.connector import Checkpoint, Upsert
from ingest.sources.replay import BUILTIN, ReplayConnector, load_dataset
from tests.helpers import HEALTH_AUTH, HEALTH_TOKEN, HEALTH_TOKEN_ENV, running_node
from wall.app import parse_config


def dataset(tmp_path: Path, entries: list[object]) -> Path:
    path = tmp_path / "posts.json"
    path.write_text(json.dumps(entries))
    return path


async def take(source: ReplayConnector, n: int, cursor: str | None = None) -> list[tuple[str, str]]:
    """(source id, checkpoint after it) of the first n posts."""
    out: list[tuple[str, str]] = []
    pending = ""
    async for item in source.stream(cursor):
        if isinstance(item, Upsert):
            pending = item.post.source_id
        elif isinstance(item, Checkpoint):
            out.append((pending, item.cursor))
            if len(out) == n:
                break
    return out


async def test_it_loops_with_new_ids_each_round_and_resumes_from_a_cursor(tmp_path):
    path = dataset(tmp_path, [{"id": "a", "text": "one"}, {"id": "b", "text": "two"}])
    source = ReplayConnector("demo", path, interval=0.001)
    assert await take(source, 5) == [("a~0", "0:1"), ("b~0", "0:2"), ("a~1", "1:1"), ("b~1", "1:2"),
                                     ("a~2", "2:1")]
    assert [sid for sid, _ in await take(source, 2, cursor="1:1")] == ["b~1", "a~2"]


async def test_a_dataset_without_loop_ends(tmp_path):
    source = ReplayConnector("demo", dataset(tmp_path, [{"id": "a", "text": "one"}]), 0.001, loop=False)
    items = [item async for item in source.stream(None)]
    assert [i.post.source_id for i in items if isinstance(i, Upsert)] == ["a~0"]


def test_broken_posts_are_skipped_with_a_warning_and_the_rest_kept(tmp_path, caplog):
    path = dataset(tmp_path, [
        {"id": "a", "text": "fine"}, {"id": 3, "text": "bad id"}, {"text": "no id"},
        {"id": "b", "text": "fine too", "url": "javascript:x"}, {"id": "c", "text": "ok"},
    ])
    with caplog.at_level(logging.WARNING, logger="wall.ingest"):
        assert [p.id for p in load_dataset(path)] == ["a", "c"]
    assert "entry 1 skipped: Expected `str`, got `int` - at `$.id`" in caplog.text
    assert "entry 3 skipped: $[3].url: only http(s) URLs are accepted" in caplog.text


@pytest.mark.parametrize(("content", "says"), [("not json", "malformed"), ("{}", "Expected `array`"),
                                               ("[]", "no valid post")])
def test_an_unusable_dataset_says_why(tmp_path, content, says):
    path = tmp_path / "posts.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=says):
        load_dataset(path)


def test_the_bundled_demo_dataset_is_all_valid_and_multilingual():
    posts = load_dataset(BUILTIN)
    assert len(posts) >= 200
    assert len({p.id for p in posts}) == len(posts)
    assert {"en", "fi", "de", "ja", "ar"} <= {p.lang for p in posts}
    media = [m for p in posts for m in p.media]
    assert media and all(m.alt for m in media)
    assert all((BUILTIN.parent / "media" / Path(m.url).name).is_file() for m in media)


async def test_a_node_with_a_broken_source_keeps_serving_and_says_what_is_wrong(tmp_path):
    path = dataset(tmp_path, [{"id": 1}])
    cfg = parse_config({"store": {"url": f"sqlite+aiosqlite:///{tmp_path}/wall.db"},
                        "web": {"health_token_env": HEALTH_TOKEN_ENV},
                        "walls": {"lobby": {"title": "Lobby", "sources": [
                            {"type": "replay", "name": "bad", "dataset": str(path)}]}}},
                       env={HEALTH_TOKEN_ENV: HEALTH_TOKEN})
    async with running_node(cfg) as base, aiohttp.ClientSession() as s:
        async with s.get(f"{base}/healthz", headers=HEALTH_AUTH) as r:
            health = await r.json()
        assert health["status"] == "degraded"
        (source,) = health["walls"]["lobby"]["sources"]
        assert source["state"] == "failing" and "no valid post" in source["error"]
        async with s.get(f"{base}/w/lobby") as r:
            assert r.status == 200
