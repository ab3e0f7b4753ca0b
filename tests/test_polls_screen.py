"""A poll on the stage screen, in real Chromium at 1080p and 4K, on a real node and SQLite store: a
presenter prepares the poll on the console, a Stream Deck opens it through the control API, the audience
votes with posts, and the bars move on the wall page; the deck closes it (the result freezes: a late vote
changes nothing) and hides it (off the screen). The results come out of the console as CSV, and the audit
says who opened and closed it. Layout facts (no overflow, legible sizes, contrast) hold and screenshots are
kept in test-artifacts/."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.console_helpers import Browser, console_app, opened_store
from tests.helpers import ARTIFACTS, Screen, make_config, post, serving
from wall.store.audit import AuditFilter

FACTS = (Path(__file__).parent / "layout_facts.js").read_text()
OPTIONS = [{"label": "Rust in production", "words": ["rust", "🦀"]},
           {"label": "Postgres at scale", "words": ["postgres", "#pg", "🐘"]},
           {"label": "Accessible kiosks", "words": ["a11y", "kiosk"]},
           {"label": "None, coffee first", "words": ["coffee", "☕"]}]
VOTES = [("aino", "RUST!"), ("bo", "#pg all the way"), ("chen", "🦀🦀"), ("dara", "2"), ("eli", "postgres"),
         ("fay", "kiosk"), ("gus", "☕"), ("hana", "Rust"), ("ivo", "great talk"),
         ("aino", "🐘 changed my mind")]


async def deck(http: aiohttp.ClientSession, base: str, token: str, action: str) -> tuple[int, dict[str, Any]]:
    async with http.post(f"{base}/api/v1/control/lobby/{action}", json={},
                         headers={"Authorization": f"Bearer {token}"}) as r:
        return r.status, await r.json()


async def bars(page: Any) -> list[tuple[str, str]]:
    return [tuple(r) for r in await page.evaluate("""() => [...document.querySelectorAll('.poll-option')].map(
        (o) => [o.querySelector('.poll-label').textContent, o.querySelector('.poll-count').textContent])""")]


@pytest.mark.parametrize("size", [(1920, 1080), (3840, 2160)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_a_poll_opened_from_a_deck_fills_its_bars_freezes_when_closed_and_leaves_when_hidden(
        browser: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    store_url = f"sqlite+aiosqlite:///{tmp_path}/wall.db"
    cfg = make_config(store_url=store_url)
    tag = f"{size[0]}x{size[1]}"
    async with opened_store(store_url) as store, serving(console_app(cfg, store)) as base, \
            Browser(base) as root, aiohttp.ClientSession() as http:
        assert (await root.login("root")).status == 303
        bad = await root.post("/console/api/w/lobby/polls", json={"question": "One?", "options": OPTIONS[:1]})
        assert bad.status == 400 and "2 to 6 options" in await bad.text()
        question = "Which talk gets an encore this afternoon?"
        made = await root.post("/console/api/w/lobby/polls", json={"question": question, "options": OPTIONS})
        assert made.status == 200, await made.text()
        poll_id = (await made.json())["poll"]["id"]
        token, _ = await store.control_tokens.issue("lobby", "stage deck", "presenter", "root", None)

        ctx = await browser.new_context(viewport={"width": size[0], "height": size[1]})
        page = await ctx.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda e: problems.append(str(e)))
        await page.goto(f"{base}/w/lobby?scene=poll")
        await page.wait_for_selector("body[data-state=live]", timeout=15_000)
        assert await page.text_content(".poll-question") == "No poll right now"

        status, reply = await deck(http, base, token, f"poll/{poll_id}/open")
        assert status == 200 and reply["state"]["poll"]["state"] == "open", reply
        await page.wait_for_selector(".scene-poll[data-poll=open]", timeout=10_000)
        screen = await Screen(http, base).connect()
        for n, (handle, text) in enumerate(VOTES):
            status, _ = await post(http, base, {"id": f"v{n}", "text": text, "author": {"handle": handle}})
            assert status == 202
        # aino changed her mind (the latest counts); ivo named no option
        await page.wait_for_function("() => window.__wall.store.poll?.total === 8", timeout=15_000)
        assert await bars(page) == [("1. Rust in production", "2"), ("2. Postgres at scale", "4"),
                                    ("3. Accessible kiosks", "1"), ("4. None, coffee first", "1")]
        assert await page.text_content(".poll-question") == question
        await page.evaluate("() => Promise.all(document.getAnimations().map(a => a.finished.catch(() => 0)))")
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=ARTIFACTS / f"poll-open-{tag}.png")
        assert await page.evaluate(FACTS, ".scene-poll") == []

        assert (await deck(http, base, token, "poll-close"))[0] == 200
        await page.wait_for_selector(".scene-poll[data-poll=closed]", timeout=10_000)
        assert await page.text_content(".poll-state") == "Final result"
        await post(http, base, {"id": "late", "text": "coffee", "author": {"handle": "latecomer"}})
        await screen.wait_posts(9)  # the late post is on the wall: its writer has seen it
        assert await page.evaluate("() => window.__wall.store.poll.total") == 8
        await page.screenshot(path=ARTIFACTS / f"poll-closed-{tag}.png")
        assert await page.evaluate(FACTS, ".scene-poll") == []

        exported = await root.get("/console/w/lobby/polls.csv")
        assert exported.status == 200 and exported.content_type == "text/csv"
        rows = list(csv.DictReader(io.StringIO(await exported.text())))
        assert [(r["label"], r["votes"], r["state"]) for r in rows] == [
            ("Rust in production", "2", "closed"), ("Postgres at scale", "4", "closed"),
            ("Accessible kiosks", "1", "closed"), ("None, coffee first", "1", "closed")]
        assert "aino" not in await exported.text()

        assert (await deck(http, base, token, "poll-hide"))[0] == 200
        await page.wait_for_selector(".scene-poll[data-poll=none]", timeout=10_000)
        assert await page.text_content(".poll-question") == "No poll right now"
        trail = await store.audit.browse(AuditFilter(action="poll.open")) + \
            await store.audit.browse(AuditFilter(action="poll.close"))
        assert sorted((r.action, r.actor) for r in trail) == [("poll.close", "token:stage deck"),
                                                               ("poll.open", "token:stage deck")]
        assert problems == []
        await screen.close()
        await ctx.close()


async def test_a_presenter_on_a_phone_opens_a_poll_from_the_form_and_the_wall_shows_it(
        browser: Any, tmp_path: Path) -> None:
    from tests.test_console_browser import LIVE, PHONE, log_in, open_wall
    store_url = f"sqlite+aiosqlite:///{tmp_path}/wall.db"
    cfg = make_config(store_url=store_url)
    problems: list[str] = []
    phone = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    async with opened_store(store_url) as store, serving(console_app(cfg, store)) as base, \
            aiohttp.ClientSession() as http:
        wall = await open_wall(browser, f"{base}/w/lobby?scene=poll", problems)
        presenter = await log_in(phone, base, "pia", problems, next_="/console/w/lobby/present")
        await presenter.locator(".live-state[data-state=live]").wait_for()
        await presenter.fill("input[name=question]", "Coffee or tea?")
        await presenter.fill("input[name=label1]", "Coffee")
        await presenter.fill("input[name=words1]", "☕, kaffee, #coffee")
        await presenter.fill("input[name=label2]", "Tea")
        await presenter.fill("input[name=words2]", "🍵, tee")
        await presenter.tap("form.poll-form button[type=submit]")
        await wall.wait_for_selector(".scene-poll[data-poll=open]", timeout=LIVE * 1000)
        await presenter.locator(".poll-row[data-state=open]").wait_for()
        await post(http, base, {"id": "k1", "text": "Kaffee ☕", "author": {"handle": "aino"}})
        await wall.wait_for_function("() => window.__wall.store.poll?.counts?.[0] === 1", timeout=LIVE * 1000)
        small = await presenter.eval_on_selector_all(
            "main button", "bs => bs.filter(b => b.getBoundingClientRect().height < 48)"
                           ".map(b => b.textContent)")
        assert small == [], small
        assert await presenter.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        ARTIFACTS.mkdir(exist_ok=True)
        await presenter.screenshot(path=ARTIFACTS / "console-present-poll-390x844.png", full_page=True)
        await presenter.tap("button[data-op=poll_close]")
        await wall.wait_for_selector(".scene-poll[data-poll=closed]", timeout=LIVE * 1000)
        assert [p.state for p in await store.polls.of_wall("lobby")] == ["closed"]
        assert problems == []
    await phone.close()
