"""Login that protects its owner, over real sockets against a real SQLite store: parallel guesses are
counted before argon2 runs, so only the free ones are verified; a stranger on another address never slows
the admin at their desk, and a browser that logged in before passes the account's ceiling; `wall user
unlock` and the Users page clear the delays, the audit log and the admins' notice say what happened; a
user changes their own password, which ends their other sessions."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.console_helpers import PASSWORDS, Browser, console_app, opened_store
from tests.helpers import make_config, serving
from tests.test_store_cli import wall_user
from wall.store import Store
from wall.store.audit import AuditFilter
from wall.store.logins import LoginPolicy, Throttle

# Delays no busy machine outlasts between two requests, so "refused" never depends on the test's speed.
SLOW = LoginPolicy(pair=Throttle(free=5, first=600.0), account=Throttle(free=8, first=600.0))
STRANGER = "127.0.0.2"  # loopback, but another client address to the server


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/wall.db"


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    async with opened_store(store_url) as s:
        s.logins.policy = SLOW
        yield s


@pytest.fixture
async def base(store: Store, store_url: str) -> AsyncIterator[str]:
    async with serving(console_app(make_config(store_url=store_url), store)) as url:
        yield url


async def test_25_parallel_wrong_passwords_get_five_answers_and_twenty_429s(base: str) -> None:
    async with aiohttp.ClientSession() as s:
        async def guess(i: int) -> tuple[int, str | None]:
            async with s.post(f"{base}/console/login", data={"username": "root", "password": f"guess {i}"},
                              headers={"Sec-Fetch-Site": "same-origin"}, allow_redirects=False) as r:
                await r.read()
                return r.status, r.headers.get("Retry-After")

        answers = await asyncio.gather(*(guess(i) for i in range(25)))
    assert sorted(status for status, _ in answers) == [401] * 5 + [429] * 20
    assert all(int(wait) > 0 for status, wait in answers if status == 429 and wait is not None)
    assert all(wait is not None for status, wait in answers if status == 429)


async def test_a_strangers_failures_elsewhere_never_keep_the_admin_out_of_their_desk(base: str) -> None:
    async with Browser(base, STRANGER) as mallory:
        statuses = [(await mallory.login("root", f"guess {i}")).status for i in range(7)]
    assert statuses == [401] * 5 + [429] * 2
    async with Browser(base) as root:  # the admin's desk: another address, the right password
        assert (await root.login("root")).status == 303


async def test_a_browser_that_logged_in_before_passes_the_accounts_ceiling(base: str, store: Store) -> None:
    async with Browser(base) as desk:
        r = await desk.login("root")
        assert r.status == 303
        cookie = r.cookies["wall_device"]
        assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/console/login"
        assert int(cookie["max-age"]) >= 90 * 86400
        await desk.post("/console/logout", form={})
        assert desk.session_cookie is None or (await desk.get("/console")).status == 401

        for n in range(8):  # eight addresses, each far from its own limit: the account's ceiling is hit
            async with Browser(base, f"127.0.1.{n + 1}") as stranger:
                assert (await stranger.login("root", f"guess {n}")).status == 401
        async with Browser(base) as new_browser:  # the right password, but nothing known about it
            r = await new_browser.login("root")
            assert r.status == 429 and int(r.headers["Retry-After"]) > 0
        assert (await desk.login("root")).status == 303  # the known device passes

        audit = await store.audit.browse(AuditFilter(action="login.throttled"))
        assert [(a.actor, a.target, a.after["scopes"]) for a in audit] == [("system", "root", ["account"])]
        home = await (await desk.get("/console", html=True)).text()
        assert "Repeated failed logins for root" in home and 'href="/console/users"' in home
        users = await desk.get("/console/users", html=True)
        assert users.status == 200
        page = await users.text()
        assert "Repeated failed logins" in page and 'data-username="root"' in page
        assert "8 failures from 8 address(es) or device(s)" in page

        assert (await desk.post("/console/users/root", form={"op": "unlock"})).status == 303
        async with Browser(base) as new_browser:
            assert (await new_browser.login("root")).status == 303
        assert "Repeated failed logins" not in await (await desk.get("/console/users", html=True)).text()
        [unlocked] = await store.audit.browse(AuditFilter(action="user.unlock"))
        assert (unlocked.actor, unlocked.target) == ("root", "root")


async def test_wall_user_unlock_lets_the_owner_in_again(base: str, store: Store, store_url: str) -> None:
    async with Browser(base) as root:
        for i in range(5):
            assert (await root.login("root", f"typo {i}")).status == 401
        assert (await root.login("root")).status == 429
        done = await asyncio.to_thread(wall_user, store_url, "unlock", "ROOT")
        assert done.returncode == 0, done.stderr
        cleared = "unlocked root: 2 failed-login counter(s) cleared"  # (account, address) and account
        assert done.stdout.strip() == cleared
        assert (await root.login("root")).status == 303
    [entry] = await store.audit.browse(AuditFilter(action="user.unlock"))
    assert (entry.actor, entry.target) == ("cli", "root")
    missing = await asyncio.to_thread(wall_user, store_url, "unlock", "nobody")
    assert missing.returncode == 1 and "no user 'nobody'" in missing.stderr


async def test_changing_ones_password_ends_the_other_sessions_and_keeps_this_browser(
        base: str, store: Store) -> None:
    async with Browser(base) as laptop, Browser(base) as phone:
        await laptop.login("ana")
        await phone.login("ana")
        new = "a brand new curator password"
        r = await laptop.post("/console/api/password", {"current": PASSWORDS["ana"], "new": new})
        assert r.status == 200
        result = (await r.json())["result"]
        assert result["other_sessions_ended"] == 1
        laptop.csrf = result["csrf"]  # the new session's token
        assert (await laptop.get("/console/api/w/lobby/queue?limit=1")).status == 200
        assert (await laptop.post("/console/api/w/lobby/control", {"op": "next"})).status == 200
        assert (await phone.get("/console/api/w/lobby/queue?limit=1")).status == 401
        assert (await phone.login("ana")).status == 401  # the old password is gone
        assert (await phone.login("ana", new)).status == 303
    [entry] = await store.audit.browse(AuditFilter(action="user.password"))
    assert (entry.actor, entry.target, entry.after) == ("ana", "ana", {"other_sessions_ended": 1})


async def test_a_wrong_current_password_changes_nothing(base: str, store: Store) -> None:
    async with Browser(base) as ana:
        await ana.login("ana")
        form = await (await ana.get("/console/password", html=True)).text()
        fields = re.findall(r'<input[^>]* name="(\w+)"', form.split('action="/console/password"')[1])
        assert fields == ["csrf", "current", "new", "again"]  # what the form route below is sent
        r = await ana.post("/console/api/password", {"current": "not my password", "new": "whatever new one"})
        assert r.status == 403 and "current" in (await r.json())["error"]
        r = await ana.post("/console/password", form={"current": PASSWORDS["ana"], "new": "short",
                                                      "again": "short"})
        assert r.status == 400 and "12" in await r.text()
        r = await ana.post("/console/password", form={
            "current": PASSWORDS["ana"], "new": "long enough pass 1", "again": "long enough pass 2"})
        assert r.status == 400 and "differ" in await r.text()
        assert (await ana.get("/console/api/w/lobby/queue?limit=1")).status == 200  # still logged in
        r = await ana.post("/console/password", form={
            "current": PASSWORDS["ana"], "new": "long enough pass 1", "again": "long enough pass 1"})
        assert r.status == 303 and r.headers["Location"] == "/console/password?changed=0"
        await ana.refresh_csrf()
        page = await ana.get("/console/password?changed=0", html=True)
        assert "Password changed; 0 other session(s) ended." in await page.text()
    assert await store.users.verify("ana", PASSWORDS["ana"]) is None
    assert await store.users.verify("ana", "long enough pass 1") is not None


async def test_a_borrowed_session_cannot_guess_the_current_password(base: str, store: Store) -> None:
    async with Browser(base) as thief:
        await thief.login("ana")
        for i in range(5):
            r = await thief.post("/console/api/password", {"current": f"guess {i}", "new": "thief password"})
            assert r.status == 403
        r = await thief.post("/console/api/password", {"current": PASSWORDS["ana"], "new": "thief password"})
        assert r.status == 429 and int(r.headers["Retry-After"]) > 0
    assert await store.users.verify("ana", PASSWORDS["ana"]) is not None
