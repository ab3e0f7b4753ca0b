"""The presenter's page as a stage tool, in a real headless Chromium on a phone (390x844, touch): one big
button per scene the wall has, the current one marked; the presenter taps a scene and the wall page in
another tab switches to it; stage hardware switches it through the control API and the phone's button
follows, live; "Run of show" hands the wall back to its own order. Every control is a touch target a
thumb can hit, and nothing overflows the phone's width."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from playwright.async_api import Browser, Page

from tests.console_helpers import console_app, opened_store
from tests.helpers import ARTIFACTS, WAIT, make_config, post, serving
from tests.test_console_browser import LIVE, PHONE, log_in, open_wall
from wall.screen import SCENES

TOUCH = 48  # CSS px: the smallest comfortable touch target (WCAG 2.5.5 asks 44)


async def current(page: Page) -> list[str]:
    """The scene buttons the page marks as on screen ("" is the run of show)."""
    return await page.eval_on_selector_all("button.scene-button[aria-pressed=true]",
                                           "bs => bs.map(b => b.dataset.scene)")


async def test_a_presenter_on_a_phone_switches_scenes_and_follows_the_stage_hardware(
        browser: Browser, tmp_path: Path) -> None:
    store_url = f"sqlite+aiosqlite:///{tmp_path}/wall.db"
    cfg = make_config(store_url=store_url)  # the run of show: agora alone (the default)
    problems: list[str] = []
    phone = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    async with opened_store(store_url) as store, serving(console_app(cfg, store)) as base, \
            aiohttp.ClientSession() as http:
        token, _ = await store.control_tokens.issue("lobby", "stage deck", "presenter", "root", None)
        await post(http, base, {"id": "p1", "text": "Doors open at nine", "author": {"handle": "aino"}})
        wall = await open_wall(browser, f"{base}/w/lobby", problems)
        await wall.wait_for_selector("body[data-scene=agora]")

        presenter = await log_in(phone, base, "pia", problems, next_="/console/w/lobby/present")
        await presenter.locator(".live-state[data-state=live]").wait_for()
        scenes = await presenter.eval_on_selector_all("button.scene-button",
                                                      "bs => bs.map(b => b.dataset.scene)")
        # The run of show, then one button per scene the page has (the leaderboard is opt-in: not here).
        assert scenes == ["", *(s for s in SCENES if s != "leaders")]
        assert await presenter.locator("button.scene-button[data-scene=agora] span").text_content() == \
            "in the run of show"
        assert await current(presenter) == [""]  # nobody chose a scene yet: the wall's own order

        await presenter.tap("button.scene-button[data-scene=stats]")
        await wall.wait_for_selector("body[data-scene=stats]", timeout=LIVE * 1000)
        await presenter.wait_for_function("() => document.querySelector('button.scene-button.current')"
                                          "?.dataset.scene === 'stats'", timeout=WAIT * 1000)
        assert await current(presenter) == ["stats"]

        # The stage manager's deck switches it: the phone shows what the wall shows, without a reload.
        async with http.post(f"{base}/api/v1/control/lobby/scene/mosaic",
                             headers={"Authorization": f"Bearer {token}"}) as r:
            assert r.status == 200
        await wall.wait_for_selector("body[data-scene=mosaic]", timeout=LIVE * 1000)
        await presenter.wait_for_function("() => document.querySelector('button.scene-button.current')"
                                          "?.dataset.scene === 'mosaic'", timeout=LIVE * 1000)
        assert await current(presenter) == ["mosaic"]
        assert "scene: mosaic" in (await presenter.locator(".control-state").text_content() or "")

        await presenter.tap("button.pause")
        await presenter.locator("button.pause[aria-pressed=true]").wait_for()
        await wall.wait_for_function("() => window.__wall.pacer.paused", timeout=LIVE * 1000)

        # Every control a thumb can hit; nothing wider than the phone.
        small = await presenter.eval_on_selector_all(
            "main button", f"bs => bs.filter(b => b.getBoundingClientRect().height < {TOUCH})"
                           ".map(b => b.textContent.trim())")
        assert small == [], small
        assert await presenter.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        ARTIFACTS.mkdir(exist_ok=True)
        await presenter.screenshot(path=ARTIFACTS / "console-present-390x844.png", full_page=True)

        await presenter.tap("button.scene-button[data-scene='']")  # back to the run of show
        await wall.wait_for_selector("body[data-scene=agora]", timeout=LIVE * 1000)
        await presenter.wait_for_function("() => document.querySelector('button.scene-button.current')"
                                          "?.dataset.scene === ''", timeout=WAIT * 1000)
        await phone.close()
        await wall.context.close()  # before the server stops: a page that lost it would log its retries
    assert problems == []
