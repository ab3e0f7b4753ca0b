"""The wall on the screen, in a real headless Chromium: every scene legible at 1080p and 4K from a fixed
event stream, presenter controls, a two-screen wall switching together, hostile texts that stay text,
reduced motion, and the offline shell showing the last content with the server gone."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page

from tests.helpers import ARTIFACTS, eventually
from tests.redis_server import free_port
from tests.test_browser import image_failed
from tests.wall_stream import HOSTILE, control, make_post, posts, screen_config, stats, wall_node

FACTS = (Path(__file__).parent / "layout_facts.js").read_text()
SIZES = [(1920, 1080), (3840, 2160)]
SCENE_PANELS = {"agora": ["sentiment", "volume", "trending", "voice"],
                "stats": ["figures", "sentiment", "volume", "trending", "voice", "top"]}


async def open_page(chromium: Browser, url: str, size: tuple[int, int] = (1920, 1080),
                    **context: Any) -> tuple[Page, list[str]]:
    ctx = await chromium.new_context(viewport={"width": size[0], "height": size[1]}, **context)
    page = await ctx.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    await page.goto(url)
    await page.wait_for_selector("body[data-state=live]", timeout=15_000)
    return page, problems


async def fonts_of(page: Page, text: str) -> list[str]:
    """The installed fonts Chromium used to draw the card holding `text` (CDP CSS.getPlatformFontsForNode)."""
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("DOM.enable")
    await cdp.send("CSS.enable")
    doc = await cdp.send("DOM.getDocument", {"depth": 0})
    found = await cdp.send("DOM.querySelectorAll", {"nodeId": doc["root"]["nodeId"],
                                                    "selector": ".scene-mosaic .card-text"})
    for node in found["nodeIds"]:
        outer = await cdp.send("DOM.getOuterHTML", {"nodeId": node})
        if text in outer["outerHTML"]:
            used = await cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})
            return [f["familyName"] for f in used["fonts"]]
    return []


async def settle(page: Page) -> None:
    """Entry fades done, text fitted."""
    await page.wait_for_timeout(900)
    await page.evaluate("() => Promise.all(document.getAnimations().filter(a => a.effect?.getComputedTiming()"
                        ".iterations !== Infinity).map(a => a.finished.catch(() => {})))")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("scene", ["agora", "mosaic", "spotlight", "stats", "ticker"])
async def test_each_scene_is_legible_filled_and_inside_the_screen(browser, scene, size):
    async with wall_node(screen_config()) as (base, bus):
        await bus.posts(posts(16))
        await bus.stats()
        path = "/ticker" if scene == "ticker" else f"?scene={scene}"
        page, problems = await open_page(browser, f"{base}/w/lobby{path}", size)
        assert await page.get_attribute("body", "data-scene") == scene
        for kind in SCENE_PANELS.get(scene, []):
            panel = f".scene-{scene} [data-panel={kind}][data-filled=true]"
            await page.wait_for_selector(panel, timeout=5000)
        if scene != "stats":
            await page.wait_for_selector(f".scene-{scene} .card:not([hidden]) .card-text", timeout=5000)
        if scene in ("agora", "stats"):
            voice = page.locator(f".scene-{scene} .is-brand .bars-name")
            assert await voice.text_content() == "Nordlys"
        if scene == "spotlight":
            qr = page.locator(".cta-qr")
            await qr.wait_for(state="visible")
            await page.wait_for_function("() => document.querySelector('.cta-qr').naturalWidth > 0")
            assert await page.locator(".cta-text").text_content() == "Post with #nordlys"
        await settle(page)
        cards = f".scene-{scene} .card:not([hidden])"
        shown = await page.evaluate(
            f"() => [...document.querySelectorAll('{cards}')].map(c => c.dataset.postId)")
        assert len(shown) == len(set(shown)), shown  # no post twice on one screen
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=ARTIFACTS / f"scene-{scene}-{size[0]}x{size[1]}.png")
        assert await page.evaluate(FACTS, f".scene-{scene}") == []
        assert await page.evaluate(FACTS, ".band") == [] or scene == "ticker"
        assert problems == []


async def test_the_ticker_is_a_transparent_lower_third(browser):
    async with wall_node(screen_config()) as (base, bus):
        await bus.posts(posts(3))
        page, _ = await open_page(browser, f"{base}/w/lobby/ticker")
        await page.wait_for_selector(".scene-ticker .card:not([hidden])")
        bg = await page.evaluate("() => [getComputedStyle(document.documentElement).backgroundColor,"
                                 " getComputedStyle(document.body).backgroundColor]")
        assert bg == ["rgba(0, 0, 0, 0)", "rgba(0, 0, 0, 0)"]
        box = await page.locator(".ticker-bar").bounding_box()
        assert box and box["y"] > 1080 * 2 / 3 and box["y"] + box["height"] <= 1080


async def test_hostile_texts_show_as_text_and_run_nothing(browser):
    async with wall_node(screen_config(show={"playlist": [["mosaic", 300]], "queue": 100})) as (base, bus):
        page, problems = await open_page(browser, f"{base}/w/lobby")
        title = await page.title()
        hostile = [*HOSTILE, "word " * 20_000 + "end"]  # 100 KB
        await bus.posts([make_post(100 + i, text, lang="ar" if i == 4 else None)
                         for i, text in enumerate(hostile)])
        shown = []  # read as each comes on: the mosaic rotates them out again after their dwell
        for text in hostile[:6]:
            card = page.locator(".card-text", has_text=text[:12]).first
            await card.wait_for(timeout=15_000)
            shown.append(await card.text_content(timeout=2_000) or "")
        await image_failed(page)
        assert await page.title() == title != "PWNED"
        assert await page.locator(".scenes script, .scenes img[src=x], .scenes a").count() == 0
        assert any("<script>" in t for t in shown) and any("onerror=" in t for t in shown)
        arabic = page.locator(".scene-mosaic .card-text", has_text="مرحبا")
        assert await arabic.evaluate("e => getComputedStyle(e).direction") == "rtl"
        hebrew = page.locator(".scene-mosaic .card-text", has_text="שלום")
        assert await hebrew.evaluate("e => getComputedStyle(e).direction") == "rtl"
        # CJK and colour emoji are drawn with real fonts, not boxes (fonts-noto-cjk, fonts-noto-color-emoji).
        drawn: list[str] = []
        while not drawn:  # Japanese text and 📱✨, read while its card is on (cards come and go here)
            await page.locator(".scene-mosaic .card-text", has_text="今日のローンチ").wait_for(timeout=15_000)
            drawn = await fonts_of(page, "今日のローンチ")
        assert any("CJK" in f for f in drawn) and "Noto Color Emoji" in drawn, drawn
        # The 100 KB text arrives last; it is cut on a word, never overflows its card.
        big = page.locator(".scene-mosaic .card-text", has_text="word word")
        await big.wait_for(timeout=15_000)
        text = await big.text_content()
        assert text and len(text) < 600 and text.endswith("word…")
        await settle(page)
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=ARTIFACTS / "hostile-1920x1080.png")
        assert await page.evaluate(FACTS, ".scene-mosaic") == []
        assert problems == []


async def test_a_presenter_steers_the_wall(browser):
    async with wall_node(screen_config()) as (base, bus):
        await bus.posts(posts(6))
        page, _ = await open_page(browser, f"{base}/w/lobby")
        await page.wait_for_selector(".agora-feed .card:not([hidden])")
        await bus.publish(control(scene="stats"))
        await page.wait_for_selector("body[data-scene=stats]", timeout=5000)
        await bus.publish(control(scene="mosaic", announcement="<b>Keynote</b> starts at 10:00"))
        await page.wait_for_selector("body[data-scene=mosaic]", timeout=5000)
        assert await page.locator(".announcement-text").text_content() == "<b>Keynote</b> starts at 10:00"
        spot = make_post(500, "The one post everybody should see #nordlys")
        await bus.publish(control(scene="mosaic", spotlight=spot, spotlight_until=_now() + 2.0))
        await page.wait_for_selector(".spotlight-overlay:not([hidden])", timeout=5000)
        big = await page.locator(".spotlight-overlay .card-text").text_content()
        assert "everybody should see" in (big or "")
        await page.wait_for_selector(".spotlight-overlay", state="hidden", timeout=5000)  # its time is up

        await bus.publish(control(scene="mosaic", paused=True))
        await page.wait_for_function("() => window.__wall.pacer.paused")
        await bus.posts([make_post(600, "Held while paused")])
        await page.wait_for_timeout(2500)
        assert await page.locator(".card-text", has_text="Held while paused").count() == 0
        await bus.publish(control(scene="mosaic", paused=False))
        await page.locator(".card-text", has_text="Held while paused").wait_for(timeout=5000)

        await bus.publish(control(panic=True, panic_text="We will be right back"))
        await page.wait_for_selector(".panic-slide", state="visible", timeout=5000)
        assert await page.locator(".viewport").is_hidden()  # no post anywhere on screen
        assert await page.locator(".panic-text").text_content() == "We will be right back"
        await bus.publish(control(panic=False))
        await page.wait_for_selector(".viewport", state="visible", timeout=5000)
        # A screen that starts now gets the latest control in its snapshot.
        late, _ = await open_page(browser, f"{base}/w/lobby")
        await late.wait_for_selector("body[data-panic=false][data-scene=agora]")


async def test_two_screens_show_their_halves_and_switch_scenes_together(browser):
    cfg = screen_config(show={"playlist": [["agora", 5], ["mosaic", 5]]})
    async with wall_node(cfg) as (base, bus):
        await bus.posts(posts(20))
        left, _ = await open_page(browser, f"{base}/w/lobby?screen=1&of=2&bezel=20")
        right, _ = await open_page(browser, f"{base}/w/lobby?screen=2&of=2&bezel=20")
        for page in (left, right):
            await page.wait_for_function("() => window.__wall.clock.samples.length >= 5")
        x = [await p.locator(".stage").evaluate("e => e.getBoundingClientRect().x") for p in (left, right)]
        assert x[0] == 0 and x[1] == -(1920 + 20)  # one stage, two screens wide, each shows its half
        # Scenes follow the run of show on the server's clock: watch two switches.
        await left.wait_for_function("() => window.__wall.director.log.length >= 3", timeout=15_000)
        await right.wait_for_function("() => window.__wall.director.log.length >= 3", timeout=15_000)
        # ...and a presenter's switches.
        for scene in ("stats", "spotlight", "agora", "stats"):
            await bus.publish(control(scene=scene))
            for page in (left, right):
                await page.wait_for_selector(f"body[data-scene={scene}]", timeout=5000)
            await left.wait_for_timeout(700)
        logs = [await p.evaluate("() => window.__wall.director.log") for p in (left, right)]
        # Each switch after both pages were up, paired with the other screen's switch to the same scene.
        start = max(logs[0][0]["at"], logs[1][0]["at"]) + 100
        skews = [min(abs(a["at"] - b["at"]) for b in logs[1] if b["scene"] == a["scene"])
                 for a in logs[0] if a["at"] > start]
        assert len(skews) >= 6
        print("scene switch skew ms:", [round(s, 1) for s in skews])
        # Together: within 100 ms here, and one switch may miss when the OS does not run a page's process in
        # time (two cores shared by the whole suite). How close (p99 well under 50 ms) is a figure that
        # bench/soak.py measures on a quieter machine, not a timed test.
        assert sorted(skews)[-2] < 100
        # Both screens let the same posts out of their queues into the same slots: one wall.
        await bus.publish(control(scene="mosaic"))
        await bus.posts([make_post(700 + i, f"Fresh post {i} #launch") for i in range(6)])
        slots = "() => [...document.querySelectorAll('.mosaic-grid .card')].map(c => c.dataset.postId || '')"
        for page in (left, right):
            await page.locator(".card-text", has_text="Fresh post 5").wait_for(timeout=10_000)

        async def same_slots() -> bool:  # both paced by the server's clock: equal once both caught up
            return bool(await left.evaluate(slots) == await right.evaluate(slots))
        await eventually(same_slots, timeout=10)


async def test_reduced_motion_means_nothing_moves(browser):
    async with wall_node(screen_config(show={"playlist": [["mosaic", 300]]})) as (base, bus):
        page, _ = await open_page(browser, f"{base}/w/lobby", reduced_motion="reduce")
        await bus.posts(posts(8))
        await page.locator(".card-text", has_text="Anyone else").wait_for(timeout=10_000)
        running = await page.evaluate("() => document.getAnimations().length")
        assert running == 0
        assert await page.locator(".viewport").evaluate("e => getComputedStyle(e).animationName") == "none"


async def test_a_spike_alert_shows_only_where_the_walls_config_allows(browser):
    async with wall_node(screen_config(show={"playlist": [["stats", 300]]})) as (base, bus):
        page, _ = await open_page(browser, f"{base}/w/lobby")
        alert = page.locator(".stats-alerts .alert")
        await bus.stats()
        await alert.filter(has_text="Spike: 42 posts this minute").wait_for(timeout=5_000)
        await bus.stats({**stats(), "alerts_on_screen": False})  # curators see it; this screen must not
        await alert.wait_for(state="hidden", timeout=5_000)


async def test_the_theme_comes_from_the_config(browser):
    logo = "/demo/media/avatar-nordlysphones.svg"
    cfg = screen_config(theme={"mode": "light", "accent": "#7a1f5c", "logo": logo})
    async with wall_node(cfg) as (base, bus):
        await bus.posts(posts(4))
        page, _ = await open_page(browser, f"{base}/w/lobby?scene=mosaic")
        assert await page.get_attribute("html", "data-theme") == "light"
        accent = await page.evaluate(
            "() => getComputedStyle(document.documentElement).getPropertyValue('--accent')")
        assert accent.strip() == "#7a1f5c"
        await page.wait_for_function("() => document.querySelector('.band-logo').naturalWidth > 0")
        await page.wait_for_selector(".scene-mosaic .card:not([hidden])")
        await settle(page)
        await page.screenshot(path=ARTIFACTS / "theme-light-1920x1080.png")
        assert await page.evaluate(FACTS, ".scene-mosaic") == []


async def test_a_kiosk_rebooting_while_the_server_is_down_shows_the_last_content(browser):
    port = free_port()
    ctx = await browser.new_context(viewport={"width": 1920, "height": 1080})
    async with wall_node(screen_config(), port=port) as (base, bus):
        await bus.posts([make_post(1, "Last words before the outage #nordlys")])
        await bus.stats()
        page = await ctx.new_page()
        await page.goto(f"{base}/w/lobby")
        await page.wait_for_selector("body[data-state=live][data-shell=ready]", timeout=15_000)
        await page.locator(".card-text", has_text="Last words").first.wait_for()
        await page.wait_for_function("() => navigator.serviceWorker.controller !== null || true")
        await page.wait_for_timeout(1000)  # the worker caches the files the page loaded
        await page.evaluate("() => window.__wall.persist.flush()")
        await page.close()
    # The server is gone; the kiosk reboots (a new page in the same profile).
    page = await ctx.new_page()
    await page.goto(f"{base}/w/lobby")
    await page.locator(".card-text", has_text="Last words").first.wait_for(timeout=10_000)
    # named as the connectors name the network, not by the raw source id
    assert await page.locator(".card", has_text="Last words").first.locator(".card-source").text_content() \
        == "Mastodon"
    await page.wait_for_selector("[data-panel=sentiment][data-filled=true]")
    await page.wait_for_selector("body[data-state=reconnecting]", timeout=10_000)
    await page.screenshot(path=ARTIFACTS / "offline-shell-1920x1080.png")
    await ctx.close()


def _now() -> float:
    import time

    return time.time()


_ = (asyncio, stats)


async def test_outside_office_hours_the_wall_shows_its_night_slide(browser):
    import time

    now = time.gmtime()
    start = f"{now.tm_hour:02d}:{max(0, now.tm_min - 1):02d}"
    end = f"{(now.tm_hour + 2) % 24:02d}:00"
    night = {"start": start, "end": end, "timezone": "UTC", "mode": "slide", "text": "Back at 7"}
    async with wall_node(screen_config(night=night)) as (base, bus):
        await bus.posts(posts(3))
        page, _ = await open_page(browser, f"{base}/w/lobby")
        await page.wait_for_selector(".night-slide", state="visible", timeout=5000)
        assert await page.locator(".night-text").text_content() == "Back at 7"
        assert await page.locator(".viewport").is_hidden()


async def test_a_reloaded_config_rebrands_the_screens_live(browser):
    import dataclasses

    from aiohttp import web

    from wall.app import create_app
    from wall.bus import open_engine
    from wall.web.keys import HUBS

    cfg = screen_config()
    engine = open_engine(cfg.bus)
    app = create_app(cfg, frozenset({"web"}), engine=engine)
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    try:
        page, problems = await open_page(browser, f"{base}/w/lobby")
        assert await page.get_attribute("html", "data-theme") == "dark"
        light = screen_config(theme={"mode": "light", "accent": "#7a1f5c"},
                              show={"playlist": [["stats", 60]]}).walls["lobby"]
        hub = app[HUBS]["lobby"]
        hub.set_config(dataclasses.replace(hub.wall, screen=light.screen))
        await page.wait_for_selector("html[data-theme=light]", timeout=5000)
        await page.wait_for_selector("body[data-scene=stats]", timeout=5000)
        accent = await page.evaluate("() => document.documentElement.style.getPropertyValue('--accent')")
        assert accent == "#7a1f5c"
        assert problems == []
    finally:
        await runner.cleanup()
        await engine.close()


async def test_a_burst_is_summed_up_and_moves_no_card(browser):
    cfg = screen_config(show={"playlist": [["mosaic", 300]], "min_dwell": 30, "max_dwell": 60, "queue": 3})
    async with wall_node(cfg) as (base, bus):
        await bus.posts(posts(6))
        page, _ = await open_page(browser, f"{base}/w/lobby")
        await page.wait_for_function(
            "() => document.querySelectorAll('.mosaic-grid [data-post-id]').length == 6")
        where = "() => [...document.querySelectorAll('.mosaic-grid .card')].map(c => [c.dataset.postId, " \
                "c.getBoundingClientRect().x, c.getBoundingClientRect().y])"
        before = await page.evaluate(where)
        await bus.posts([make_post(800 + i, f"Burst {i} #launch") for i in range(40)])
        summary = page.locator(".summary")
        await summary.wait_for(state="visible", timeout=5000)
        await page.wait_for_function("() => /^\\+37 more about #launch$/.test("
                                     "document.querySelector('.summary').textContent)", timeout=5000)
        assert await page.evaluate(where) == before  # nobody's card moved, none was replaced yet
