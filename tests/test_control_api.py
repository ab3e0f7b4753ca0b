"""Stage hardware steers a wall over HTTP, on a real node and a real SQLite store: an admin makes a control
token on the console (shown once, with what to type into Bitfocus Companion), a deck's requests switch the
scene, pause and spotlight the next post on a real screen socket, the audit log names the token, and once
the admin revokes it the same request is refused with a message that says so. The per-token and
per-network limits are token buckets, checked on their own with a clock the test holds."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import aiohttp

from tests.console_helpers import Browser, console_app, opened_store
from tests.helpers import Screen, make_config, post, serving
from wall.store.audit import AuditFilter
from wall.web.control_api import Bucket

RAW = re.compile(r'<code class="token-raw key-url">(wallctl_[A-Za-z0-9_-]+)</code>')


async def deck(http: aiohttp.ClientSession, base: str, token: str, action: str,
               method: str = "POST") -> tuple[int, dict[str, Any]]:
    """One button press, as Companion's generic HTTP module sends it (a JSON body of {} by default)."""
    url = f"{base}/api/v1/control/lobby{'' if action == '' else '/' + action}"
    async with http.request(method, url, json={} if method == "POST" else None,
                            headers={"Authorization": f"Bearer {token}"}) as r:
        return r.status, await r.json()


async def test_an_admin_makes_a_token_a_deck_steers_the_wall_the_audit_names_it_and_revoking_ends_it(
        tmp_path: Path) -> None:
    store_url = f"sqlite+aiosqlite:///{tmp_path}/wall.db"
    cfg = make_config(store_url=store_url)
    async with opened_store(store_url) as store, serving(console_app(cfg, store)) as base, \
            Browser(base) as admin, aiohttp.ClientSession() as http:
        assert (await admin.login("root")).status == 303
        page = await admin.get("/console/w/lobby/tokens", html=True)
        assert "No control tokens yet" in await page.text()

        made = await admin.post("/console/w/lobby/tokens",
                                form={"name": "stage left deck", "scope": "presenter", "lifetime": "1d"})
        html = await made.text()
        assert made.status == 200, html
        found = RAW.search(html)
        assert found, "the new token is shown once"
        token = found.group(1)
        # What to type into Companion: the base URL, the header, a URL per button.
        assert f"{base}/api/v1/control/lobby" in html
        assert f"{{&#34;Authorization&#34;: &#34;Bearer {token}&#34;}}" in html
        assert f"{base}/api/v1/control/lobby/spotlight-next" in html
        again = await admin.get("/console/w/lobby/tokens", html=True)
        assert token not in await again.text()  # never shown again
        twin = await admin.post("/console/w/lobby/tokens", form={"name": "stage left deck",
                                                                 "scope": "panic-only"})
        assert twin.status == 400 and "already has a live token named" in await twin.text()

        screen = await Screen(http, base).connect()
        for pid, text in (("p1", "Doors open at nine"), ("p2", "The keynote demo worked")):
            await post(http, base, {"id": pid, "text": text, "author": {"handle": "aino"}})
        await screen.wait_posts(2)

        status, reply = await deck(http, base, token, "scene/stats")
        assert status == 200 and reply["state"]["scene"] == "stats" and reply["by"] == "token:stage left deck"
        await screen.wait_for(lambda f: f["type"] == "control" and f["scene"] == "stats")
        assert (await deck(http, base, token, "pause"))[0] == 200
        await screen.wait_for(lambda f: f["type"] == "control" and f["paused"] is True)
        assert (await deck(http, base, token, "spotlight-next"))[0] == 200  # the newest post on screen
        spot = await screen.wait_for(lambda f: f["type"] == "control" and f["spotlight"] is not None)
        assert spot[-1]["spotlight"]["source_id"] == "p2"
        assert (await deck(http, base, token, "spotlight-next"))[0] == 200  # then the one before
        await screen.wait_for(lambda f: f["type"] == "control"
                              and (f["spotlight"] or {}).get("source_id") == "p1")
        status, reply = await deck(http, base, token, "spotlight-next")
        assert status == 404 and "no post on screen that was not spotlit yet" in reply["error"]
        status, reply = await deck(http, base, token, "scene/posts")
        assert status == 400 and "'posts' is not a scene; use one of agora" in reply["error"]
        assert (await deck(http, base, token, "run-of-show"))[0] == 200
        await screen.wait_for(lambda f: f["type"] == "control" and f["scene"] is None)
        status, reply = await deck(http, base, token, "", method="GET")
        assert status == 200 and (reply["token"], reply["scope"], reply["state"]["paused"]) == \
            ("stage left deck", "presenter", True)

        records = await store.audit.browse(AuditFilter(actor="token:stage left deck"))
        assert [r.action for r in records][::-1] == ["control.scene", "control.pause", "decide", "decide",
                                                     "control.clear_scene"]
        issued = await store.audit.browse(AuditFilter(action="control_token.issue"))
        assert [(r.actor, r.after["name"]) for r in issued] == [("root", "stage left deck")]
        listed = await (await admin.get("/console/w/lobby/tokens", html=True)).text()
        row = re.search(r'<tr class="token-row" data-token-id="\d+" data-state="live">(.*?)</tr>', listed,
                        re.S)
        assert row and "stage left deck" in row.group(1) and "never" not in row.group(1)  # used, expires

        token_id = (await store.control_tokens.list("lobby"))[0].id
        revoked = await admin.post(f"/console/tokens/{token_id}/revoke", form={})
        assert revoked.status == 303
        status, reply = await deck(http, base, token, "next")
        assert status == 401 and "(stage left deck) was revoked by root" in reply["error"]
        assert "revoked by root" in await (await admin.get("/console/w/lobby/tokens", html=True)).text()
        assert [r.action for r in await store.audit.browse(AuditFilter(action="control_token.revoke"))] == \
            ["control_token.revoke"]
        await screen.close()


def test_a_mashed_button_is_held_back_once_its_burst_is_spent_and_lets_go_as_it_refills() -> None:
    bucket = Bucket(rate=2.0, burst=10)
    assert [bucket.take("deck", 100.0) for _ in range(10)] == [0.0] * 10
    assert bucket.take("deck", 100.0) == 0.5  # the eleventh at once waits half a second
    assert bucket.take("other deck", 100.0) == 0.0  # each key has its own
    assert bucket.take("deck", 100.25) == 0.25 and bucket.take("deck", 100.5) == 0.0
    assert bucket.level("deck", 105.5) == 10 and bucket.level("deck", 200.0) == 10  # full, no more


async def test_a_device_with_a_revoked_token_is_told_to_wait_while_a_live_deck_beside_it_still_acts(
        tmp_path: Path) -> None:
    store_url = f"sqlite+aiosqlite:///{tmp_path}/wall.db"
    async with opened_store(store_url) as store, serving(console_app(make_config(store_url=store_url),
                                                                     store)) as base, \
            aiohttp.ClientSession() as http:
        live, _ = await store.control_tokens.issue("lobby", "stage deck", "presenter", "root", None)
        lost, old = await store.control_tokens.issue("lobby", "old deck", "presenter", "root", None)
        await store.control_tokens.revoke(old.id, "root")
        statuses = []
        for _ in range(40):  # 20 refusals at once, then one every 3 s: the 429 comes at the 21st or so
            status, reply = await deck(http, base, lost, "next")
            statuses.append(status)
            if status == 429:
                break
        assert set(statuses[:-1]) == {401} and statuses[-1] == 429, statuses
        assert "too many refused control requests from 127.0.0.0/24" in reply["error"]
        async with http.post(f"{base}/api/v1/control/lobby/next",
                             headers={"Authorization": f"Bearer {lost}"}) as r:
            assert r.status == 429 and 1 <= int(r.headers["Retry-After"]) <= 4
        assert (await deck(http, base, live, "next"))[0] == 200  # the same network, a live token
