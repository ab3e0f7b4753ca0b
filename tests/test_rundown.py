"""The rundown and the stage widgets, on real parts: a curator writes the run of show of an event on a
phone (390x844, real headless Chromium), the presenter steps through it on another phone with the item on
screen marked and its speaker notes in view, the wall page follows scene by scene, and the notes never
reach a screen's socket. The countdown scene counts on the server's clock at 1080p and 4K, on a page
whose own clock is an hour off. Stage hardware steps the rundown through the control API, audited with the
token's name. The pure parts (countdown, widgets, an item's fields, a step) with plain asserts."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Browser, Page

from tests.console_helpers import Browser as Session
from tests.console_helpers import console_app, opened_store
from tests.helpers import ARTIFACTS, WAIT, Screen, make_config, post, serving
from tests.test_console_browser import LIVE, PHONE, log_in, open_wall
from tests.test_control_api import deck
from tests.test_presenter_stage import TOUCH
from tests.test_wall_screen import FACTS, SIZES, settle
from tests.wall_stream import control, posts, screen_config, wall_node
from wall.curate.stage import rundown_check, stage_change
from wall.store.audit import AuditFilter
from wall.store.controls import ControlState
from wall.store.rundown import RundownItem

NOTES = ("Thank the sponsors, then ask who came by train",
         "Ten minutes: ask the room to post with #nordlys",
         "Read two posts aloud; end at 10:30 sharp")
ITEMS = (("Welcome", "stats", "2"), ("Coffee break", "countdown", "10"), ("Your posts", "mosaic", "5"))
SKEW_MS = 3_600_000  # the kiosk's own clock an hour ahead: the countdown must not follow it


async def add_item(page: Page, title: str, scene: str, minutes: str, notes: str) -> None:
    count = await page.locator(".rundown-list .rundown-item").count()
    await page.fill("form.rundown-form input[name=title]", title)
    await page.select_option("form.rundown-form select[name=scene]", scene)
    await page.fill("form.rundown-form input[name=minutes]", minutes)
    await page.fill("form.rundown-form textarea[name=notes]", notes)
    await page.tap("button.rundown-save")
    await page.locator(".rundown-list .rundown-item").nth(count).wait_for()


async def on_screen(presenter: Page, title: str) -> None:
    """Until the presenter's page marks the item `title` as on screen (and only that one)."""
    await presenter.wait_for_function(
        "t => [...document.querySelectorAll('.rundown-go.current .rundown-go-title')]"
        ".map(e => e.textContent).join('|') === t", arg=title, timeout=LIVE * 1000)


async def test_a_curator_writes_a_rundown_the_presenter_steps_through_it_and_the_notes_stay_off_screens(
        browser: Browser, tmp_path: Path) -> None:
    store_url = f"sqlite+aiosqlite:///{tmp_path}/wall.db"
    cfg = make_config(store_url=store_url)
    problems: list[str] = []
    phones = [await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True) for _ in range(2)]
    async with opened_store(store_url) as store, serving(console_app(cfg, store)) as base, \
            aiohttp.ClientSession() as http:
        await post(http, base, {"id": "p1", "text": "Doors open at nine", "author": {"handle": "aino"}})
        screen = await Screen(http, base).connect()  # a kiosk's socket: every frame it gets is kept
        wall = await open_wall(browser, f"{base}/w/lobby", problems)

        curator = await log_in(phones[0], base, "ana", problems, next_="/console/w/lobby/rundown")
        await curator.wait_for_selector("body[data-loaded=true]")
        for (title, scene, minutes), notes in zip(ITEMS, NOTES, strict=True):
            await add_item(curator, title, scene, minutes, notes)
        titles = await curator.locator(".rundown-item .rundown-title").all_text_contents()
        assert titles == [t for t, _, _ in ITEMS]
        await curator.locator(".rundown-item").nth(2).locator("button.rundown-up").tap()  # a change of plan
        await curator.wait_for_function("() => document.querySelectorAll('.rundown-title')[1]"
                                        "?.textContent === 'Your posts'")
        await curator.locator(".rundown-item").nth(1).locator("button.rundown-down").tap()  # and back
        await curator.wait_for_function("() => document.querySelectorAll('.rundown-title')[1]"
                                        "?.textContent === 'Coffee break'")
        assert await curator.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        ARTIFACTS.mkdir(exist_ok=True)
        await curator.screenshot(path=ARTIFACTS / "console-rundown-390x844.png", full_page=True)

        presenter = await log_in(phones[1], base, "pia", problems, next_="/console/w/lobby/present")
        await presenter.locator(".live-state[data-state=live]").wait_for()
        await presenter.locator(".rundown-go").nth(2).wait_for()
        assert await presenter.locator(".rundown-go.current").count() == 0  # not started yet
        assert await presenter.locator(".rundown-now").is_hidden()
        assert await presenter.locator("button.rundown-prev").is_disabled()

        await presenter.tap("button.rundown-next")
        await on_screen(presenter, "Welcome")
        await wall.wait_for_selector("body[data-scene=stats]", timeout=LIVE * 1000)
        assert await presenter.locator(".rundown-now-notes").text_content() == NOTES[0]

        await presenter.tap("button.rundown-next")
        await on_screen(presenter, "Coffee break")
        await wall.wait_for_selector("body[data-scene=countdown]", timeout=LIVE * 1000)
        assert await wall.locator(".countdown-title").text_content() == "Coffee break"
        assert re.fullmatch(r"(10:00|9:[0-5]\d)", await wall.locator(".countdown-time").text_content() or "")
        assert await presenter.locator(".rundown-now-notes").text_content() == NOTES[1]

        await presenter.locator(".rundown-go").nth(2).tap()  # straight to an item
        await on_screen(presenter, "Your posts")
        await wall.wait_for_selector("body[data-scene=mosaic]", timeout=LIVE * 1000)
        assert await presenter.locator("button.rundown-next").is_disabled()  # the last item: no "next"
        await presenter.tap("button.rundown-prev")
        await on_screen(presenter, "Coffee break")
        await wall.wait_for_selector("body[data-scene=countdown]", timeout=LIVE * 1000)

        small = await presenter.eval_on_selector_all(
            "main button", f"bs => bs.filter(b => b.getBoundingClientRect().height < {TOUCH})"
                           ".map(b => b.textContent.trim())")
        assert small == [], small
        assert await presenter.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        await presenter.screenshot(path=ARTIFACTS / "console-present-rundown-390x844.png", full_page=True)

        # The last thing said to the screens: once the socket has it, everything before it came too.
        await presenter.fill("form.control-form input[name=value]", "sentinel: the end of the story")
        await presenter.tap("form.control-form button[type=submit]")
        await screen.wait_for(lambda f: f["type"] == "control"
                              and f.get("announcement") == "sentinel: the end of the story", timeout=LIVE)
        steps = [f["scene"] for f in screen.frames if f["type"] == "control"]
        assert [s for k, s in enumerate(steps) if k == 0 or s != steps[k - 1]][-4:] == \
            ["stats", "countdown", "mosaic", "countdown"]
        said = repr(screen.frames)
        assert not any(n in said for n in NOTES), "speaker notes reached a screen"
        page_html = await wall.content()
        assert not any(n in page_html for n in NOTES)

        def done_by(actor: str, records: list[Any]) -> list[str]:
            return [r.action for r in records if r.action != "login"][::-1]
        assert done_by("pia", await store.audit.browse(AuditFilter(actor="pia")))[:4] == \
            ["control.rundown_next", "control.rundown_next", "control.rundown_go", "control.rundown_prev"]
        assert done_by("ana", await store.audit.browse(AuditFilter(actor="ana"))) == \
            ["rundown.add"] * 3 + ["rundown.move"] * 2
        await screen.close()
        for phone in phones:
            await phone.close()
        await wall.context.close()  # before the server stops
    assert problems == []


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_countdown_scene_counts_on_the_servers_clock_and_is_legible(browser: Browser, size) -> None:
    async with wall_node(screen_config()) as (base, bus):
        await bus.posts(posts(4))
        ctx = await browser.new_context(viewport={"width": size[0], "height": size[1]})
        # The kiosk's clock is an hour fast (a Pi with no real-time clock): Date and the monotonic origin.
        await ctx.add_init_script(f"""(() => {{
            const skew = {SKEW_MS}, origin = performance.timeOrigin, now = Date.now;
            Object.defineProperty(performance, "timeOrigin", {{ get: () => origin + skew }});
            Date.now = () => now() + skew;
        }})()""")
        page = await ctx.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        await page.goto(f"{base}/w/lobby")
        await page.wait_for_selector("body[data-state=live]", timeout=15_000)
        await page.wait_for_function("() => window.__wall.clock.samples.length > 0")
        offset = await page.evaluate("() => window.__wall.clock.offset")
        assert abs(offset + SKEW_MS) < 5_000  # the page measured its clock against the server's

        await bus.publish(control(scene="countdown", countdown_to=time.time() + 600,
                                  countdown_title="Keynote starts", widgets=["clock", "qr"]))
        await page.wait_for_selector("body[data-scene=countdown][data-countdown=running]",
                                     timeout=WAIT * 1000)
        assert await page.locator(".countdown-title").text_content() == "Keynote starts"
        shown = await page.locator(".countdown-time").text_content() or ""
        assert re.fullmatch(r"(10:00|9:[0-5]\d)", shown), shown  # by the page's own clock: 0:00
        await page.locator(".widget-qr").wait_for(state="visible")
        await page.wait_for_function("() => document.querySelector('.widget-qr').naturalWidth > 0")
        assert await page.locator(".widget-clock").is_visible()
        assert await page.locator(".widget-countdown").is_hidden()  # not asked for
        await settle(page)
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=ARTIFACTS / f"scene-countdown-{size[0]}x{size[1]}.png")
        assert await page.evaluate(FACTS, ".scene-countdown") == []
        assert await page.evaluate(FACTS, ".stage-widgets") == []
        assert await page.evaluate(FACTS, ".band") == []

        # The countdown as a widget over another scene; its end shows 0:00.
        await bus.publish(control(scene="mosaic", countdown_to=time.time() + 1.5, countdown_title="Doors",
                                  widgets=["countdown"]))
        await page.wait_for_selector("body[data-scene=mosaic] .widget-countdown:not([hidden])",
                                     timeout=WAIT * 1000)
        await page.wait_for_selector("body[data-countdown=done]", timeout=WAIT * 1000)
        assert await page.locator(".widget-countdown-time").text_content() == "0:00"
        assert await page.evaluate(FACTS, ".stage-widgets") == []
        await ctx.close()
        assert problems == []


async def test_stage_hardware_steps_the_rundown_and_the_audit_names_the_token(tmp_path: Path) -> None:
    store_url = f"sqlite+aiosqlite:///{tmp_path}/wall.db"
    cfg = make_config(store_url=store_url)
    async with opened_store(store_url) as store, serving(console_app(cfg, store)) as base, \
            aiohttp.ClientSession() as http:
        token, _ = await store.control_tokens.issue("lobby", "stage deck", "presenter", "root", None)
        panic_only, _ = await store.control_tokens.issue("lobby", "red button", "panic-only", "root", None)
        screen = await Screen(http, base).connect()
        status, reply = await deck(http, base, token, "rundown-next")
        assert status == 400 and "the rundown is empty" in reply["error"]
        first = await store.rundown.add("lobby", "stats", 60, "Welcome", "say hello", "ana")
        second = await store.rundown.add("lobby", "countdown", 300, "Break", "remind the raffle", "ana")

        status, reply = await deck(http, base, token, "rundown-next")
        assert status == 200
        assert (reply["state"]["rundown_item"], reply["state"]["scene"]) == (first.id, "stats")
        await screen.wait_for(lambda f: f["type"] == "control" and f["scene"] == "stats")
        status, reply = await deck(http, base, token, "rundown-next")
        assert status == 200 and reply["state"]["countdown_title"] == "Break"
        found = await screen.wait_for(lambda f: f["type"] == "control" and f["scene"] == "countdown")
        assert found[-1]["rundown_item"] == second.id and found[-1]["countdown_title"] == "Break"
        assert 290 < found[-1]["countdown_to"] - time.time() <= 300
        status, reply = await deck(http, base, token, "rundown-next")
        assert status == 400 and "last item" in reply["error"]
        assert (await deck(http, base, token, "rundown-prev"))[0] == 200
        await screen.wait_for(lambda f: f["type"] == "control" and f["scene"] == "stats", count=2)
        status, reply = await deck(http, base, panic_only, "rundown-next")
        assert status == 403 and "panic-only" in reply["error"]
        assert "say hello" not in repr(screen.frames) and "remind the raffle" not in repr(screen.frames)

        records = await store.audit.browse(AuditFilter(actor="token:stage deck"))
        assert [r.action for r in records][::-1] == ["control.rundown_next"] * 2 + ["control.rundown_prev"]
        await screen.close()


def test_a_countdown_widgets_and_rundown_items_are_checked_with_the_fix() -> None:
    now = 1_000_000.0
    state = stage_change("countdown", "5 Keynote  starts", [], now)(ControlState("lobby"))
    assert (state.countdown_to, state.countdown_title) == (now + 300, "Keynote starts")
    for bad in ("", "soon", "0", "-3 x", "2000"):
        with pytest.raises(ValueError, match="MINUTES"):
            stage_change("countdown", bad, [], now)
    assert stage_change("widgets", "QR, clock", [], now)(state).widgets == ("clock", "qr")
    assert stage_change("widgets", "none", [], now)(state).widgets == ()
    with pytest.raises(ValueError, match="clock, countdown, qr"):
        stage_change("widgets", "weather", [], now)
    with pytest.raises(ValueError, match="scene: one of"):
        rundown_check({"scene": "posts", "seconds": 60, "title": "x"})
    with pytest.raises(ValueError, match="seconds: 5 to 86400"):
        rundown_check({"scene": "agora", "seconds": 1, "title": "x"})
    with pytest.raises(ValueError, match="title: 1 to 120"):
        rundown_check({"scene": "agora", "seconds": 60, "title": "  "})
    assert rundown_check({"scene": "agora", "seconds": "90", "title": " Q  and A ", "notes": "n"}) == \
        ("agora", 90.0, "Q and A", "n")
    items = [RundownItem(7, "lobby", 0, "stats", 60, "A", "", "ana", now),
             RundownItem(9, "lobby", 1, "countdown", 120, "B", "", "ana", now)]
    on_b = stage_change("rundown_go", "9", items, now)(ControlState("lobby"))
    assert (on_b.scene, on_b.rundown_item, on_b.countdown_to, on_b.rundown_since) == \
        ("countdown", 9, now + 120, now)
    assert stage_change("rundown_prev", None, items, now)(on_b).rundown_item == 7
    with pytest.raises(ValueError, match="first item"):
        stage_change("rundown_prev", None, items, now)(ControlState("lobby"))


async def test_with_auto_advance_on_the_server_steps_when_an_items_time_is_up_and_stops_at_the_last(
        tmp_path: Path) -> None:
    store_url = f"sqlite+aiosqlite:///{tmp_path}/wall.db"
    cfg = make_config(store_url=store_url)
    async with opened_store(store_url) as store, serving(console_app(cfg, store)) as base, \
            aiohttp.ClientSession() as http:
        token, _ = await store.control_tokens.issue("lobby", "stage deck", "presenter", "root", None)
        screen = await Screen(http, base).connect()
        short = await store.rundown.add("lobby", "stats", 5, "Intro", "", "ana")  # 5 s: the shortest
        last = await store.rundown.add("lobby", "mosaic", 600, "Talk", "", "ana")
        assert (await deck(http, base, token, "rundown-next"))[0] == 200
        started = time.time()
        async with Session(base) as pia:  # the presenter turns auto-advance on from the console
            assert (await pia.login("pia")).status == 303
            on = await pia.post("/console/api/w/lobby/control", json={"op": "rundown_auto", "value": "on"})
            assert on.status == 200 and (await on.json())["result"]["rundown_auto"] is True
        await screen.wait_for(lambda f: f["type"] == "control" and f["rundown_item"] == short.id
                              and f["rundown_auto"] is True)
        # The server moves on by itself once Intro's 5 s are up (counted from when auto-advance came on).
        moved = await screen.wait_for(lambda f: f["type"] == "control" and f["rundown_item"] == last.id,
                                      timeout=WAIT)
        assert moved[0]["scene"] == "mosaic" and time.time() - started >= 5
        records = await store.audit.browse(AuditFilter(actor="rundown:auto"))
        assert [(r.action, r.after["rundown_item"]) for r in records] == [("control.rundown_go", last.id)]
        await screen.close()
