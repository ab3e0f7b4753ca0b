"""The wall page in a real headless Chromium (Debian's, driven by Playwright): posts appear live, internet
text stays text, the DOM stays bounded, and a page that lost its server resumes without losing a post."""

from __future__ import annotations

import aiohttp
from playwright.async_api import Browser, ConsoleMessage, Page

from tests.helpers import ARTIFACTS, TOKEN, make_config, post, running_node
from tests.media_origin import origin_server
from tests.redis_server import free_port
from wall.app import parse_config

XSS = """<img src=x onerror="document.title='PWNED'">"""



async def open_wall(browser: Browser, url: str) -> tuple[Page, list[str]]:
    """Open a wall full-screen at 1080p; collect console errors and CSP violations."""
    page = await browser.new_page(viewport={"width": 1920, "height": 1080})
    problems: list[str] = []

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            problems.append(msg.text)

    page.on("console", on_console)
    page.on("pageerror", lambda e: problems.append(str(e)))
    await page.goto(url)
    await page.wait_for_selector("body[data-state=live]", timeout=15_000)
    return page, problems


async def image_failed(page: Page) -> None:
    """A planted `<img src=x onerror=...>` had its chance to run: an image made after it, fetched from the
    same server and just as broken (the page itself is no image), has failed to load too."""
    await page.evaluate("() => new Promise(done => { const i = new Image(); i.onerror = done; "
                        "i.src = location.href })")


def card(page: Page, source_id_text: str):  # type: ignore[no-untyped-def]
    return page.locator(".card-text", has_text=source_id_text)


async def test_a_posted_post_appears_and_markup_in_it_stays_text(browser):
    async with running_node(make_config(max_body_bytes=100_000)) as base, aiohttp.ClientSession() as s:
        page, problems = await open_wall(browser, f"{base}/w/lobby")
        title = await page.title()
        await post(s, base, {"id": "hello", "text": "Launch day at the office ☕ #nordlys @aino https://nordlys.example/x3",
                             "author": {"name": "Aino Virtanen", "handle": "aino"}, "lang": "en"})
        await card(page, "Launch day at the office").wait_for(timeout=10_000)
        assert await page.locator(".card-text .hashtag").first.text_content() == "#nordlys"
        assert await page.locator(".card-text .mention").first.text_content() == "@aino"
        # the network's name as the server's connectors give it (data-networks), not a list of the page's
        shown_by = page.locator(".card", has_text="Launch day at the office").locator(".card-source").first
        assert await shown_by.text_content() == "Web"

        await post(s, base, {"id": "xss", "text": XSS, "author": {"name": "<b>Mallory</b>", "handle": "m"}})
        shown = card(page, "onerror")
        await shown.wait_for(timeout=10_000)
        assert await shown.text_content() == XSS  # the markup is shown, letter for letter
        await image_failed(page)
        assert await page.title() == title != "PWNED"
        assert await page.locator(".scenes img[src='x'], .scenes b").count() == 0
        assert await page.locator(".author-name", has_text="<b>Mallory</b>").count() == 1

        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=ARTIFACTS / "wall-1920x1080.png")
        assert problems == []


async def test_the_page_keeps_a_bounded_number_of_cards(browser):
    cfg = make_config()
    async with running_node(cfg) as base, aiohttp.ClientSession() as s:
        page, problems = await open_wall(browser, f"{base}/w/lobby")
        cards = await page.locator(".card").count()  # every slot's card exists from the start
        max_cards = cfg.walls["lobby"].max_cards
        posts = [{"id": f"n{i}", "text": f"Post number {i} #nordlys"} for i in range(max_cards + 30)]
        await post(s, base, {"posts": posts[:50]})
        await post(s, base, {"posts": posts[50:]})
        # A burst is paced: the newest come out of the queue one by one, the rest are summed up.
        await card(page, f"Post number {max_cards + 29}").wait_for(timeout=30_000)
        assert await page.locator(".summary").text_content() in ("", None) or \
            "more about #nordlys" in (await page.locator(".summary").text_content() or "")
        assert await page.locator(".card").count() == cards
        assert await page.locator("[data-post-id]").count() <= cards
        assert problems == []


async def test_a_page_that_lost_its_server_resumes_and_shows_what_it_missed_once(browser, redis_url):
    cfg = make_config("redis", redis_url)
    port = free_port()
    async with aiohttp.ClientSession() as s, running_node(cfg) as other:
        async with running_node(cfg, port=port) as base:
            page, _ = await open_wall(browser, f"{base}/w/lobby")
            await post(s, base, {"id": "before", "text": "Seen before the outage"})
            await card(page, "Seen before the outage").wait_for(timeout=10_000)
        # The page's node is gone; its last content stays; another node takes a post meanwhile.
        await page.wait_for_selector("body[data-state=reconnecting]", timeout=10_000)
        await post(s, other, {"id": "missed", "text": "Posted while the screen was cut off"})
        async with running_node(cfg, port=port):
            await card(page, "Posted while the screen was cut off").wait_for(timeout=40_000)
            await page.wait_for_selector("body[data-state=live]")
            assert await card(page, "Seen before the outage").count() == 1
            assert await card(page, "Posted while the screen was cut off").count() == 1


async def test_post_images_load_from_the_wall_itself_and_nothing_from_elsewhere(browser, tmp_path):
    async with origin_server() as origin:
        cfg = parse_config({
            "media": {"cache_dir": str(tmp_path / "media"), "allow_hosts": [f"localhost:{origin.port}"]},
            "store": {"url": f"sqlite+aiosqlite:///{tmp_path}/wall.db"},
            "walls": {"lobby": {"title": "Lobby", "token_env": "T", "sources": [{"type": "webhook"}]}},
        }, env={"T": TOKEN})
        async with running_node(cfg) as base, aiohttp.ClientSession() as s:
            page, problems = await open_wall(browser, f"{base}/w/lobby")
            requested: list[str] = []
            page.on("request", lambda r: requested.append(r.url))
            picture = origin.url("/gps.jpg")
            await post(s, base, {"id": "pic", "text": "Our stand at the fair #nordlys",
                                 "media": [{"url": picture, "alt": "A stand with phones"}],
                                 "author": {"name": "Aino", "handle": "aino", "avatar_url": picture}})
            img = page.locator(".card-img:visible").first
            await img.wait_for(state="visible", timeout=15_000)
            loaded = "() => [...document.querySelectorAll('.card-img')].some(i => i.naturalWidth > 0)"
            await page.wait_for_function(loaded, timeout=15_000)
            assert await img.get_attribute("alt") == "A stand with phones"
            images = [u for u in requested if "/media/" in u]
            assert images and all(u.startswith(base + "/media/") for u in images)
            assert all(u.startswith(base) or u.startswith("data:") for u in requested), requested
            assert origin.hits["/gps.jpg"] == 1  # fetched once by the node, never by the screen
            assert problems == []
