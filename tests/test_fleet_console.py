"""An admin at the console's fleet page in a real Chromium: pairs a kiosk by typing its code, sees it come
online, sends it a command, and sees the alert when it goes silent. Text the kiosk sent stays text."""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp
import pytest
from argon2 import PasswordHasher
from playwright.async_api import Browser, ConsoleMessage

from tests.helpers import make_config, running_node, temp_store_url
from wall.store import connect

FAST = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
XSS = """<img src=x onerror="document.title='PWNED'">"""


async def admin_session(store_url: str) -> str:
    """An admin, ada, logged in: her session cookie."""
    async with connect(store_url, hasher=FAST) as store:
        admin = await store.users.add("ada", "a long admin password", "admin")
        cookie, _ = await store.sessions.create(admin.id)
    return cookie



@pytest.mark.timeout(300)
async def test_an_admin_pairs_a_kiosk_on_the_fleet_page_and_sees_it_go_offline(
        browser: Browser, redis_url: str) -> None:
    store_url = temp_store_url()
    cookie = await admin_session(store_url)
    cfg = make_config("redis", redis_url, walls=("lobby", "board"), store_url=store_url,
                      kiosks={"offline_after": 2.0, "report_interval": 0.5})
    async with running_node(cfg) as base, aiohttp.ClientSession() as kiosk:
        context = await browser.new_context(viewport={"width": 1400, "height": 900})
        await context.add_cookies([{"name": "wall_session", "value": cookie, "url": base}])
        page = await context.new_page()
        problems: list[str] = []

        def on_console(msg: ConsoleMessage) -> None:
            if msg.type == "error":
                problems.append(msg.text)

        page.on("console", on_console)
        page.on("pageerror", lambda e: problems.append(str(e)))
        await page.goto(f"{base}/console/fleet")
        await page.wait_for_selector("body[data-loaded=true]")
        title = await page.title()

        async with kiosk.post(f"{base}/api/v1/kiosks/enroll", json={"hostname": XSS}) as r:
            enrolled = await r.json()
        pending = page.locator("#fleet-pending li", has_text=enrolled["code"])
        await pending.wait_for(timeout=10_000)
        assert XSS in (await pending.text_content() or "")

        await page.fill("input[name=code]", enrolled["code"].lower())
        await page.select_option("#approve-form select[name=wall]", "board")
        await page.fill("#approve-form input[name=screen]", "2")
        await page.fill("#approve-form input[name=of]", "3")
        await page.fill("#approve-form input[name=name]", "board middle")
        await page.click("#approve-form button[type=submit]")
        row = page.locator("tr.kiosk", has_text="board middle")
        await row.wait_for(timeout=10_000)
        assert "board 2 of 3" in (await row.text_content() or "")

        headers = {"Authorization": f"Bearer {enrolled['poll_token']}"}
        async with kiosk.post(f"{base}/api/v1/kiosks/claim", json={}, headers=headers) as r:
            token = (await r.json())["token"]
        headers = {"Authorization": f"Bearer {token}"}
        commands: list[str] = []

        async def keep_reporting() -> None:  # as the agent does, until the test unplugs it
            while True:
                async with kiosk.post(f"{base}/api/v1/kiosks/report", headers=headers, json={
                        "version": "1.2.3", "uptime": 7200, "state": XSS, "memory": {"heap_mb": 41},
                        "url": f"{base}/w/board?screen=2&of=3"}) as r:
                    assert r.status == 200
                    commands.extend(c["op"] for c in (await r.json())["commands"])
                await asyncio.sleep(0.3)

        reporter = asyncio.create_task(keep_reporting())
        await page.locator("tr.kiosk-online", has_text="board middle").wait_for(timeout=10_000)
        text = await row.text_content() or ""
        assert "1.2.3" in text and "2 h" in text and "heap 41 MB" in text and XSS in text

        await row.get_by_role("button", name="Identify").click()
        async with asyncio.timeout(30):
            while "identify" not in commands:
                await asyncio.sleep(0.1)
        reporter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reporter

        alert = page.locator("#fleet-alerts p", has_text="board middle")  # the kiosk is silent now
        await alert.wait_for(timeout=15_000)
        assert "offline" in (await alert.text_content() or "")
        await page.locator("tr.kiosk-offline", has_text="board middle").wait_for(timeout=30_000)

        await row.get_by_role("button", name="Re-assign").click()  # the kiosk moves to the lobby
        await page.select_option("#assign-form select[name=wall]", "lobby")
        await page.fill("#assign-form input[name=screen]", "1")
        await page.fill("#assign-form input[name=of]", "1")
        await page.click("#assign-form button[value=ok]")
        await page.locator("tr.kiosk", has_text="lobby 1 of 1").wait_for(timeout=10_000)
        async with kiosk.post(f"{base}/api/v1/kiosks/report", headers=headers, json={}) as r:
            assert (await r.json())["commands"][0]["url"] == "/w/lobby"

        page.once("dialog", lambda d: asyncio.ensure_future(d.accept()))  # "Revoke board middle?"
        await row.get_by_role("button", name="Revoke").click()
        await page.locator("tr.kiosk-revoked", has_text="board middle").wait_for(timeout=10_000)
        async with kiosk.post(f"{base}/api/v1/kiosks/report", headers=headers, json={}) as r:
            assert r.status == 401 and "revoked" in (await r.json())["error"]
        assert await page.locator("#fleet-alerts").is_hidden()  # a revoked kiosk raises no alert

        assert await page.title() == title != "PWNED"
        assert await page.locator("img[src='x']").count() == 0
        assert problems == []
        await context.close()


@pytest.mark.timeout(90)
async def test_an_admin_clears_a_flood_of_pairing_codes_with_one_button(
        browser: Browser, redis_url: str) -> None:
    store_url = temp_store_url()
    cookie = await admin_session(store_url)
    cfg = make_config("redis", redis_url, store_url=store_url)
    async with running_node(cfg) as base, aiohttp.ClientSession() as flood:
        context = await browser.new_context(viewport={"width": 1400, "height": 900})
        await context.add_cookies([{"name": "wall_session", "value": cookie, "url": base}])
        page = await context.new_page()
        await page.goto(f"{base}/console/fleet")
        await page.wait_for_selector("body[data-loaded=true]")
        assert not await page.locator("#clear-pending").is_visible()  # nothing waits: no button
        for i in range(3):
            async with flood.post(f"{base}/api/v1/kiosks/enroll", json={"hostname": f"flood-{i}"}) as r:
                assert r.status == 201
        await page.locator("#fleet-pending li").nth(2).wait_for(timeout=10_000)

        await page.click("#clear-pending")
        await page.locator("#fleet-pending li").first.wait_for(state="detached", timeout=10_000)
        assert not await page.locator("#clear-pending").is_visible()
        async with connect(store_url) as store:
            assert await store.kiosks.pending() == []
        await context.close()
