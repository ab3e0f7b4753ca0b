"""The room on the stage screen (issue 21, points 3, 4, 8): a reaction meter the presenter puts over any
scene, a word cloud of what the wall talks about that keeps its words in place, and a leaderboard of the
most active contributors that an organiser has to switch on and that never lists a banned or opted-out
author. Real nodes, real Redis and SQLite, the real page in headless Chromium at 1080p and 4K."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Page

from tests.console_helpers import console_app, opened_store
from tests.helpers import ARTIFACTS, Screen, make_config, post, running_node, serving
from tests.test_console_browser import LIVE, PHONE, log_in, open_wall
from tests.test_moderation import console, sqlite_url
from tests.test_trends import settled
from tests.test_wall_screen import open_page as open_at
from tests.wall_stream import WALL, control, make_post, posts, screen_config, stats, wall_node
from wall.config import ConfigError

FACTS = (Path(__file__).parent / "layout_facts.js").read_text()
SIZES = [(1920, 1080), (3840, 2160)]
STOP = ["the", "and", "with", "und", "der", "les", "que", "och", "että", "para"]


def now_post(i: int, text: str, **extra: Any) -> dict[str, Any]:
    """A post written just now (the cloud counts the last minutes)."""
    p = make_post(i, text, lang="en", **extra)
    p["created_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return p


# ---- reaction meter ----

@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_room_makes_noise_and_the_meter_scene_shows_it_legibly(browser, size):
    async with wall_node(screen_config(show={"meter_seconds": 10})) as (base, bus):
        page, problems = await open_at(browser, f"{base}/w/{WALL}?scene=meter", size)
        glad = {"score": 0.8, "label": "positive"}
        await bus.posts([now_post(100 + i, f"Make some noise 🎉🎉 #{i}", sentiment=glad) for i in range(12)])
        await page.wait_for_function("() => window.__wall.meter.arrivals.length === 12", timeout=10_000)
        # 12 posts and 24 emoji in a 10 s window: 1.2 posts a second, loudness (12 + 24 / 2) / 10; the
        # gauge is drawn every half second, all its figures at once.
        await page.wait_for_function(
            "() => document.querySelector('.meter-big').dataset.level === '2.40'", timeout=5000)
        assert await page.locator(".meter-big .meter-rate").text_content() == "1.2 posts/s"
        assert await page.locator(".meter-big .meter-emoji").text_content() == "24 emoji"
        assert await page.locator(".meter-big .meter-mood").text_content() == "😀 upbeat"
        assert (await page.locator(".meter-big .meter-peak-text").text_content() or "").startswith("peak 2.4")
        assert await page.locator(".meter-overlay").is_hidden()  # its own scene shows no overlay as well
        await settled(page)
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=ARTIFACTS / f"meter-{size[0]}x{size[1]}.png")
        assert await page.evaluate(FACTS, ".scene-meter") == []
        assert problems == []


async def test_the_presenter_puts_the_meter_over_the_scenes_and_takes_it_off(browser):
    async with wall_node(screen_config()) as (base, bus):
        await bus.posts(posts(6))
        page, problems = await open_at(browser, f"{base}/w/{WALL}", (1920, 1080))
        assert await page.locator(".meter-overlay").is_hidden()
        await bus.publish(control(meter=True))
        await page.wait_for_selector(".meter-overlay:not([hidden])", timeout=5000)
        await bus.posts([now_post(200 + i, "🔥🔥🔥 loud!") for i in range(5)])
        await page.wait_for_function(
            "() => Number(document.querySelector('.meter-small').dataset.level) > 0", timeout=5000)
        await settled(page)
        await page.screenshot(path=ARTIFACTS / "meter-overlay-1920x1080.png")
        assert await page.evaluate(FACTS, ".meter-overlay") == []
        await bus.publish(control(meter=False))
        await page.wait_for_selector(".meter-overlay[hidden]", state="attached", timeout=5000)
        assert problems == []


async def test_meter_on_and_off_are_presenter_controls_audited_and_sent_to_every_screen(redis_url, tmp_path):
    cfg = make_config("redis", redis_url, store_url=sqlite_url(tmp_path))
    async with running_node(cfg) as base, aiohttp.ClientSession() as s, console(cfg) as actions:
        screen = await Screen(s, base).connect()
        assert (await actions.control("lobby", "pia", "meter_on"))["meter"] is True
        await screen.wait_for(lambda f: f["type"] == "control" and f.get("meter") is True)
        assert (await actions.control("lobby", "pia", "meter_off"))["meter"] is False
        await screen.wait_for(lambda f: f["type"] == "control" and f.get("meter") is False)
        logged = [r.action for r in await actions.store.audit.browse()]
        assert logged[:2] == ["control.meter_off", "control.meter_on"]


async def test_a_presenter_on_a_phone_taps_meter_on_and_the_wall_shows_it(browser, tmp_path):
    store_url = f"sqlite+aiosqlite:///{tmp_path}/wall.db"
    cfg = make_config(store_url=store_url)
    problems: list[str] = []
    phone = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    async with opened_store(store_url) as store, serving(console_app(cfg, store)) as base, \
            aiohttp.ClientSession() as http:
        await post(http, base, {"id": "p1", "text": "Doors open at nine 🎉", "author": {"handle": "aino"}})
        wall = await open_wall(browser, f"{base}/w/lobby", problems)
        presenter = await log_in(phone, base, "pia", problems, next_="/console/w/lobby/present")
        await presenter.locator(".live-state[data-state=live]").wait_for()
        await presenter.tap("button.meter-on")
        await presenter.locator("button.meter-on[aria-pressed=true]").wait_for()
        await wall.wait_for_selector(".meter-overlay:not([hidden])", timeout=LIVE * 1000)
        await presenter.tap("button.meter-off")
        await presenter.locator("button.meter-off[aria-pressed=true]").wait_for()
        await wall.wait_for_selector(".meter-overlay[hidden]", state="attached", timeout=LIVE * 1000)
        await phone.close()
        await wall.context.close()
    assert problems == []


# ---- word cloud ----

CLOUD_TEXTS = [
    "The keynote and the demo were amazing with the new camera #nordlys",
    "Der Akku und die Kamera sind super, und der Preis auch #launch",
    "Les photos que la caméra fait sont belles #nordlys",
    "Para mí la batería es que lo mejor #launch",
    "Kamera och batteri är bra och snabb",
    "Että kamera on hyvä ja akku kestää #nordlys",
]


async def cloud_words(page: Page) -> dict[str, dict[str, float]]:
    """Each shown word's centre and box, in CSS px."""
    return await page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('.cloud-word')]
        .filter(n => !n.hidden).map(n => { const r = n.getBoundingClientRect();
          return [n.dataset.word, {x: r.x + r.width / 2, y: r.y + r.height / 2, l: r.left, t: r.top,
                                   r: r.right, b: r.bottom, brand: n.classList.contains('is-brand')}]; }))""")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_word_cloud_is_legible_leaves_out_stop_words_and_keeps_words_in_place(browser, size):
    async with wall_node(screen_config()) as (base, bus):
        await bus.posts([now_post(i, CLOUD_TEXTS[i % len(CLOUD_TEXTS)]) for i in range(18)])
        await bus.stats()
        page, problems = await open_at(browser, f"{base}/w/{WALL}?scene=cloud", size)
        await page.wait_for_function("() => window.__wall.store.stats !== null", timeout=10_000)
        await page.evaluate("() => window.__wall.updateCloud()")
        await page.wait_for_selector(".cloud-word.is-on", timeout=5000)
        await settled(page)
        first = await cloud_words(page)
        # The stats frame's trending terms and the posts' own words are in; function words of six
        # languages are not, whatever language the post says it is in.
        for word in ("nordlys", "launch", "battery", "camera", "keynote", "kamera", "akku"):
            assert word in first, word
        for word in STOP:
            assert word not in first, word
        assert first["nordlys"]["brand"] and not first["camera"]["brand"]  # the brand in its colour
        assert len(first) <= 60
        # Inside the stage and none over another.
        stage = await page.locator(".cloud-stage").bounding_box()
        assert stage
        boxes = list(first.items())
        for word, b in boxes:
            assert b["l"] >= stage["x"] - 1 and b["r"] <= stage["x"] + stage["width"] + 1, word
            assert b["t"] >= stage["y"] - 1 and b["b"] <= stage["y"] + stage["height"] + 1, word
        for i, (w1, a) in enumerate(boxes):
            for w2, b in boxes[i + 1:]:
                assert a["r"] <= b["l"] or b["r"] <= a["l"] or a["b"] <= b["t"] or b["b"] <= a["t"], (w1, w2)
        await page.screenshot(path=ARTIFACTS / f"cloud-{size[0]}x{size[1]}.png")
        assert await page.evaluate(FACTS, ".scene-cloud") == []

        # A minute later: new words come up and the counts change; the words that stay do not move.
        await bus.posts([now_post(50 + i, f"Wireless charging pad and repairability story {i % 3}")
                         for i in range(9)])
        later = stats()
        later["trending_terms"] = [{"key": "battery", "recent": 40, "hour": 90, "score": 3.0},
                                   {"key": "repairability", "recent": 12, "hour": 12, "score": 2.2}]
        await bus.stats(later)
        await page.wait_for_function("() => window.__wall.store.stats.trending_terms[0].hour === 90",
                                     timeout=10_000)
        await page.wait_for_function("() => window.__wall.store.posts.has('p58')", timeout=10_000)
        await page.evaluate("() => window.__wall.updateCloud()")
        await page.wait_for_selector(".cloud-word.is-on[data-word=repairability]", timeout=5000)
        await settled(page)
        second = await cloud_words(page)
        scale = size[0] / 1920
        kept = [w for w in first if w in second]
        assert len(kept) >= 10
        for word in kept:
            moved = abs(second[word]["x"] - first[word]["x"]) + abs(second[word]["y"] - first[word]["y"])
            assert moved < 3 * scale, (word, moved)
        assert await page.evaluate("() => document.querySelectorAll('.cloud-word').length") == 60
        assert problems == []


# ---- leaderboard ----

@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_leaderboard_shows_handles_only_where_the_organiser_switched_it_on(browser, size):
    async with wall_node(screen_config(show={"leaderboard": True})) as (base, bus):
        await bus.stats()
        page, problems = await open_at(browser, f"{base}/w/{WALL}?scene=leaders", size)
        await page.wait_for_selector(".leaders:not([hidden]) .leaders-row:not([hidden])", timeout=10_000)
        rows = await page.locator(".leaders-row:not([hidden]) .leaders-handle").all_text_contents()
        assert rows == ["@aino", "@kestrelfan", "@mika"]
        counts = page.locator(".leaders-row:not([hidden]) .leaders-count")
        assert await counts.first.text_content() == "12 posts"
        await settled(page)
        await page.screenshot(path=ARTIFACTS / f"leaders-{size[0]}x{size[1]}.png")
        assert await page.evaluate(FACTS, ".scene-leaders") == []
        assert problems == []

    async with wall_node(screen_config()) as (base, bus):
        await bus.stats()
        page, _ = await open_at(browser, f"{base}/w/{WALL}?scene=leaders", size)
        await page.wait_for_function("() => window.__wall.store.stats !== null", timeout=10_000)
        assert await page.locator(".leaders").is_hidden()
        assert "@aino" not in (await page.locator(".scene-leaders").inner_text())


def test_the_leaders_scene_cannot_be_in_the_run_of_show_unless_switched_on():
    with pytest.raises(ConfigError, match=r"leaders scene needs walls\.lobby\.show\.leaderboard = true"):
        screen_config(show={"playlist": [["leaders", 30]]})
    assert screen_config(show={"playlist": [["leaders", 30]], "leaderboard": True})


async def test_a_banned_or_opted_out_author_is_never_on_the_leaderboard(redis_url, tmp_path):
    cfg = make_config("redis", redis_url, store_url=sqlite_url(tmp_path))
    async with running_node(cfg) as base, aiohttp.ClientSession() as s, console(cfg) as actions:
        screen = await Screen(s, base).connect()
        # Handles as the figures count them (bans and opt-outs name the author with its network).
        for i, who in enumerate(["troll", "troll", "troll", "mika", "mika", "aino"]):
            await post(s, base, {"id": f"x{i}", "text": f"post {i}", "author": {"handle": who}})

        def top(f: dict[str, Any]) -> list[str]:
            return [a[0] for a in f.get("top_authors", [])] if f["type"] == "stats" else []

        await screen.wait_for(lambda f: top(f) == ["troll", "mika", "aino"])
        with pytest.raises(ValueError, match="leaders scene is off"):
            await actions.control("lobby", "pia", "scene", "leaders")
        await actions.ban("lobby", "webhook:troll", "ana", reason="abuse")
        await screen.wait_for(lambda f: top(f) == ["mika", "aino"])
        await actions.opt_out("lobby", "webhook:mika", "ana")
        last = (await screen.wait_for(lambda f: top(f) == ["aino"]))[-1]
        assert json.dumps(last).count("troll") == 0
