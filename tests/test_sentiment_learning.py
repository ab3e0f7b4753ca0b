"""A wall's sentiment model learns German from its curators' corrections, keeps only refits that do better,
survives a writer takeover, and an admin rolls it back: real Redis, real SQLite store, real nodes."""

from __future__ import annotations

import itertools
import logging
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ingest.enrich import config_from, language
from tests.console_helpers import Browser, opened_store
from tests.helpers import WAIT, Screen, eventually, make_config, post, running_node
from tests.test_moderation import console, queued, sqlite_url

POSITIVE = ["wunderbar", "toll", "großartig", "super", "fantastisch"]
NEGATIVE = ["schrecklich", "furchtbar", "kaputt", "enttäuschend", "mies"]
NEUTRAL = ["heute angekommen", "im Laden", "um zehn Uhr da", "in Blau erhältlich", "neu im Katalog"]
THINGS = ["Die Kamera", "Der Akku", "Das Display", "Der Lautsprecher", "Das Gehäuse", "Die Software"]
numbers = itertools.count()


@pytest.fixture(scope="module", autouse=True)
def models_loaded() -> None:
    language.warm()


def german(n: int) -> tuple[str, str]:
    """The n-th generated German post and the label a curator gives it."""
    thing = THINGS[n % len(THINGS)]
    kind = n % 3
    if kind == 0:
        return f"{thing} ist wirklich {POSITIVE[n // 3 % len(POSITIVE)]}, ich bin begeistert", "positive"
    if kind == 1:
        return f"{thing} ist leider {NEGATIVE[n // 3 % len(NEGATIVE)]}, total verärgert", "negative"
    return f"{thing} ist {NEUTRAL[n // 3 % len(NEUTRAL)]}", "neutral"


async def arrive(s: aiohttp.ClientSession, base: str, actions: Any, text: str) -> dict[str, Any]:
    """A post reaches the wall; its queue item once the writer has annotated it."""
    source_id = f"p{next(numbers)}"
    status, _ = await post(s, base, {"id": source_id, "text": text})
    assert status == 202
    return await queued(actions, source_id)


async def correct(s: aiohttp.ClientSession, base: str, actions: Any, posts: range) -> None:
    for n in posts:
        text, label = german(n)
        item = await arrive(s, base, actions, text)
        await actions.correct_sentiment("lobby", item["post"]["id"], "ana", label)


async def test_the_wall_learns_german_from_corrections_and_keeps_it_across_a_takeover(
        redis_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="ingest.enrich.learning")
    cfg = make_config("redis", redis_url, store_url=sqlite_url(tmp_path),
                      enrich={"learning": {"refit_after": 9, "poll_seconds": 0.2}})
    async with opened_store(cfg.store.url) as store, console(cfg) as actions, aiohttp.ClientSession() as s:
        async with running_node(cfg, store=store) as base:
            # No labels and no lexicon for German yet: marked unscored, never guessed; figures count it.
            screen = await Screen(s, base).connect()
            first = await arrive(s, base, actions, "Die Kamera ist wirklich wunderbar, ich bin begeistert")
            assert first["post"].get("sentiment") is None and first["post"]["lang"] == "de"
            stats = await screen.wait_for(lambda f: f["type"] == "stats" and f["total"] == 1)
            assert stats[-1]["sentiment"]["unscored"] == 1
            await screen.close()
            assert (await actions.sentiment_model("lobby"))["version"] is None

            # Curators correct 9 posts: the refit learns German and beats the shipped model on them.
            await correct(s, base, actions, range(9))
            model = await eventually(lambda: _version(actions, 1), timeout=WAIT * 4)
            assert model["summary"].startswith("v1, 9 labels, ")
            assert model["summary"].endswith("English and German")
            learned = await arrive(s, base, actions, "Das Display ist wirklich toll, ich bin begeistert")
            assert learned["post"]["sentiment"]["label"] == "positive"
            angry = await arrive(s, base, actions, "Der Akku ist leider mies, total verärgert")
            assert angry["post"]["sentiment"]["label"] == "negative"

            # 9 more corrections v1 already gets right: a refit can do no better, so it is refused.
            await correct(s, base, actions, range(9, 18))
            await eventually(lambda: any("refused" in r.getMessage() for r in caplog.records),
                             timeout=WAIT * 4)
            assert (await actions.sentiment_model("lobby"))["version"] == 1

        # The writer moves to another node: it scores with v1 from its first post.
        async with running_node(cfg, store=store) as base, Browser(base) as root, Browser(base) as ana:
            again = await arrive(s, base, actions, "Das Gehäuse ist wirklich super, ich bin begeistert")
            assert again["post"]["sentiment"]["label"] == "positive"

            # The console shows the version; only an admin may roll it back.
            await root.login("root")
            await ana.login("ana")
            page = await (await root.get("/console/w/lobby/rules", html=True)).text()
            assert "v1, 9 labels, " in page and "Roll back v1" in page
            assert "Roll back" not in await (await ana.get("/console/w/lobby/rules", html=True)).text()
            assert (await ana.post("/console/api/w/lobby/sentiment/rollback", form={})).status == 403
            r = await root.post("/console/api/w/lobby/sentiment/rollback", form={})
            assert r.status == 303 and r.headers["Location"] == "/console/w/lobby/rules"
            page = await (await root.get("/console/w/lobby/rules", html=True)).text()
            assert "the shipped model" in page and "Roll back" not in page

            # The shipped model scores again: German is unscored again.
            await eventually(lambda: any("(the configured one) in use" in r.getMessage()
                                         for r in caplog.records))
            after = await arrive(s, base, actions, "Die Software ist wirklich toll, ich bin begeistert")
            assert after["post"].get("sentiment") is None
            with pytest.raises(ValueError, match="nothing to roll back"):
                await actions.roll_back_model("lobby", "root")
            assert not [r for r in caplog.records if r.levelno >= logging.WARNING
                        and r.name == "ingest.enrich.learning"]


async def _version(actions: Any, version: int) -> dict[str, Any] | None:
    model: dict[str, Any] = await actions.sentiment_model("lobby")
    return model if model["version"] == version else None



async def test_approvals_and_rejections_are_weak_labels_that_never_undo_a_correction(tmp_path: Path) -> None:
    async with opened_store(sqlite_url(tmp_path), users=False) as store:
        labels = store.labels
        await labels.put("lobby", "a", "Great phone", "positive", "ana", now=1, kind="approval", lang="en")
        await labels.put("lobby", "b", "Meh", "negative", "ana", now=2, kind="correction", lang="en")
        await labels.put("lobby", "b", "Meh", "positive", "ben", now=3, kind="approval", lang="en")
        await labels.put("lobby", "c", "Buy followers", "negative", "ana", now=4, kind="rejection")
        assert [(x.post_id, x.label, x.kind) for x in await labels.list("lobby")] == [
            ("a", "positive", "approval"), ("b", "negative", "correction"), ("c", "negative", "rejection")]
        assert await labels.count("lobby", ("correction",)) == 1
        with pytest.raises(ValueError, match="kind 'like' is not one of"):
            await labels.put("lobby", "d", "x", "positive", "ana", kind="like")


def test_learning_settings_are_typed_and_a_wrong_one_is_named() -> None:
    assert config_from({"learning": {"weak_labels": True}}).learning.weak_labels is True
    with pytest.raises(ValueError, match=r"learning\.refit_after"):
        config_from({"learning": {"refit_after": 2}})
    with pytest.raises(ValueError, match=r"unknown field `refit_every` - at `\$\.learning`"):
        config_from({"learning": {"refit_every": 50}})
    with pytest.raises(ValueError, match=r"sentiment_model.*wall sentiment fit"):
        config_from({"sentiment_model": "/nonexistent/model.npz"})
