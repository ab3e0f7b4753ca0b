"""Cross-network folding: the same announcement from Mastodon, Bluesky and X is one card on the wall that
says "also on ...", counted once in the figures; a curator unfolds a copy in the console; a writer that
takes the wall over folds as its predecessor did. Pure matching first, then the story through the real app,
a real screen and Chromium."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp
import pytest
from playwright.async_api import Browser as Chromium

from ingest.enrich.pipeline import config_from
from ingest.pipeline import Pipeline, PostIn, normalize
from tests.console_helpers import Browser, console_app, opened_store
from tests.helpers import Screen, eventually, make_config, serving, settled
from tests.test_console import queue_item
from wall.bus.memory import MemoryEngine
from wall.bus.redis import RedisEngine
from wall.curate.folding import Folds, fold_key
from wall.curate.writer import Writers
from wall.models import Post, RecentPost, decode_recent

NOW = datetime(2026, 12, 6, tzinfo=UTC)
ANNOUNCEMENT = "Doors open at 9, keynote at 10: see you in hall B! #nordlys"


def mk(pid: str, source: str, text: str) -> Post:
    return Post(pid, source, pid, text, NOW)


def test_the_same_words_are_one_post_whatever_the_links_mentions_and_case():
    one = fold_key(mk("a", "mastodon", "Doors open at 9, keynote at 10! https://nordlys.example/a @team"))
    assert one is not None
    same = "doors open at 9 - KEYNOTE at 10 @team.bsky.social https://bsky.app/x"
    assert fold_key(mk("b", "bluesky", same)) == one
    assert fold_key(mk("c", "x", "Doors open at 9, keynote at 11!")) != one
    assert fold_key(mk("d", "x", "Great talk!")) is None  # too little to call two posts one
    # a repost of a link is the same link, whatever the little said around it
    assert fold_key(mk("e", "x", "Look: https://www.nordlys.example/post/1.")) == \
        fold_key(mk("f", "bluesky", "https://nordlys.example/post/1/"))


def test_a_copy_folds_only_from_another_network_and_within_the_window():
    folds = Folds(window=60.0)
    folds.add(mk("m1", "mastodon", ANNOUNCEMENT), arrived=1000.0)
    assert folds.original(mk("b1", "bluesky", ANNOUNCEMENT), arrived=1030.0) == "m1"
    assert folds.original(mk("m2", "mastodon", ANNOUNCEMENT), arrived=1030.0) is None  # same network
    assert folds.original(mk("x1", "x", ANNOUNCEMENT), arrived=1061.0) is None  # the window has passed
    folds.add(mk("x1", "x", ANNOUNCEMENT), arrived=1061.0)  # so the late one starts a card of its own
    assert folds.original(mk("b2", "bluesky", ANNOUNCEMENT), arrived=1062.0) == "x1"
    folds.drop("x1")
    assert folds.original(mk("b2", "bluesky", ANNOUNCEMENT), arrived=1062.0) is None
    assert Folds(window=0).original(mk("b1", "bluesky", ANNOUNCEMENT), 0.0) is None  # off


def test_the_window_is_checked_with_its_key():
    assert config_from({"fold_window": 1800}).fold_window == 1800
    with pytest.raises(ValueError, match=r"fold_window"):
        config_from({"fold_window": -1})


async def test_three_networks_make_one_card_that_a_curator_can_unfold(browser: Chromium) -> None:
    cfg = make_config(enrich={"fold_window": 1800})
    engine = MemoryEngine()
    pipeline = Pipeline(engine)
    async with opened_store(cfg.store.url) as store, \
            serving(console_app(cfg, store, engine=engine)) as base, \
            aiohttp.ClientSession() as s, Browser(base) as ana:
        screen = await Screen(s, base).connect()
        page = await browser.new_page(viewport={"width": 1920, "height": 1080})
        await page.goto(f"{base}/w/lobby")
        await page.wait_for_selector("body[data-state=live]", timeout=15_000)

        cross_post = f"{ANNOUNCEMENT} https://bsky.app/profile/nordlys @nordlys.bsky.social"
        for network, text in [("mastodon", ANNOUNCEMENT), ("bluesky", cross_post),
                              ("x", ANNOUNCEMENT.upper())]:
            await pipeline.submit("lobby", normalize(network, PostIn(id=f"{network}-1", text=text)))
        await pipeline.submit("lobby", normalize("x", PostIn(id="other", text="Coffee is in the lobby")))
        await settled(engine, screen)
        assert screen.posts() == ["mastodon-1", "other"]  # the copies are no cards
        card = [f for f in screen.frames if f["type"] in ("post", "update")
                and f["post"]["source_id"] == "mastodon-1"][-1]["post"]
        assert card["copies"] == ["bluesky", "x"]
        # counted once: two cards in every figure, the copies apart
        stats = await screen.wait_for(lambda f: f["type"] == "stats" and f["copies"] == 2)
        assert stats[-1]["total"] == stats[-1]["hour_total"] == 2
        assert stats[-1]["top_sources"] == [["mastodon", 1], ["x", 1]]

        # On the screen, as text under the post, as legible as the card's network name
        also = page.locator(".card", has_text="Doors open at 9").locator(".card-also")
        await also.wait_for(timeout=10_000)
        assert await also.text_content() == "also on Bluesky, X"  # as the connectors name them
        fits = await also.evaluate("""e => { const c = e.closest('.card').getBoundingClientRect();
            const r = e.getBoundingClientRect(); const src = e.closest('.card').querySelector('.card-source');
            return r.width > 0 && r.left >= c.left && r.right <= c.right && r.bottom <= c.bottom
                && getComputedStyle(e).fontSize === getComputedStyle(src).fontSize; }""")
        assert fits
        await page.close()

        # A curator unfolds the X copy: it becomes a card of its own, and the card no longer names X
        await ana.login("ana")
        copy = await queue_item(ana, "x-1")
        assert copy["folded_into"] == card["id"] and copy["status"] == "approved"
        r = await ana.post("/console/api/w/lobby/decide", {"post_id": copy["post"]["id"], "action": "approve",
                                                           "expected_version": 0})
        assert r.status == 200, await r.text()
        assert await screen.wait_posts(3) == ["mastodon-1", "other", "x-1"]
        await screen.wait_for(lambda f: f["type"] == "update" and f["post"]["source_id"] == "mastodon-1"
                              and f["post"].get("copies") == ["bluesky"])
        await screen.wait_for(lambda f: f["type"] == "stats" and f["total"] == 3 and f["copies"] == 1)
        assert (await queue_item(ana, "x-1"))["decided_by"] == "ana"

        # The card is deleted at its source: the Bluesky copy it held takes its place
        await pipeline.retract("lobby", card["id"])
        assert await screen.wait_posts(4) == ["mastodon-1", "other", "x-1", "bluesky-1"]
        await screen.wait_for(lambda f: f["type"] == "stats" and f["total"] == 3 and f["copies"] == 0)


async def folded(engine: RedisEngine, post_id: str, text: str = ANNOUNCEMENT) -> RecentPost:
    """The wall's record of a post once the writer has committed it (with `text`)."""
    async def committed() -> RecentPost | None:
        found = await engine.recent_of("lobby", [post_id])
        record = decode_recent(found[post_id]) if post_id in found else None
        return record if record is not None and record.post.text == text else None

    found: RecentPost = await eventually(committed)
    return found


async def test_a_writer_that_takes_the_wall_over_folds_into_the_same_card(redis_url: str) -> None:
    engine = RedisEngine(redis_url)
    pipeline = Pipeline(engine)
    posts = {n: normalize(n, PostIn(id=f"{n}-1", text=ANNOUNCEMENT)) for n in ("mastodon", "bluesky", "x")}
    card = posts["mastodon"].id
    try:
        for n in ("mastodon", "bluesky"):
            await pipeline.submit("lobby", posts[n])
        async with Writers(["lobby"], engine, "curate-1", 0.5, fold_windows={"lobby": 1800}):
            assert (await folded(engine, posts["bluesky"].id)).folded_into == card
        # curate-1 handed the lease over; curate-2 (a fresh writer) knows the card from the bus alone
        async with Writers(["lobby"], engine, "curate-2", 0.5, fold_windows={"lobby": 1800}):
            await pipeline.submit("lobby", posts["x"])
            assert (await folded(engine, posts["x"].id)).folded_into == card
            # Bluesky's copy is edited at its source (a link added): still the same post, still folded
            edited = f"{ANNOUNCEMENT} https://bsky.app/profile/nordlys"
            await pipeline.submit("lobby", normalize("bluesky", PostIn(id="bluesky-1", text=edited)))
            assert (await folded(engine, posts["bluesky"].id, edited)).folded_into == card
        assert (await folded(engine, card)).post.copies == ("bluesky", "x")
        assert await engine.shown("lobby", [p.id for p in posts.values()]) == {card}
    finally:
        await engine.close()
