"""Cross-network folding: the same announcement from Mastodon, Bluesky and X is one card on the wall that
says "also on ...", counted once in the figures; a curator unfolds a copy in the console; a writer that
takes the wall over folds as its predecessor did. Pure matching first, then the story through the real app,
a real screen and Chromium."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp
from playwright.async_api import Browser as Chromium

from ingest.pipeline import Pipeline, PostIn, normalize
from tests.console_helpers import Browser, console_app, opened_store
from tests.helpers import Screen, make_config, serving, settled
from tests.test_console import queue_item
from wall.bus.memory import MemoryEngine
from wall.curate.folding import Folds, also_on, fold_key
from wall.models import Post

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
    assert also_on(("bluesky", "x", "bluesky", "mastodon"), "mastodon") == ("bluesky", "x")


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
        stats = await screen.wait_for(lambda f: f["type"] == "stats" and f["total"] == 2)
        assert stats[-1]["hour_total"] == 2  # counted once: two cards, whatever the copies

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
        await screen.wait_for(lambda f: f["type"] == "stats" and f["total"] == 3)
        assert (await queue_item(ana, "x-1"))["decided_by"] == "ana"

        # The card is deleted at its source: the Bluesky copy it held takes its place
        await pipeline.retract("lobby", card["id"])
        assert await screen.wait_posts(4) == ["mastodon-1", "other", "x-1", "bluesky-1"]
