"""An admin pairs new kiosks and watches the fleet: the real app on a real socket, real Redis and a real
SQLite store. Kiosks talk to it as the agent does, with their own tokens."""

from __future__ import annotations

import asyncio
import base64
import io
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from argon2 import PasswordHasher
from PIL import Image

from tests.helpers import HEALTH_AUTH, eventually, make_config, running_node, temp_store_url
from wall.addresses import network
from wall.store import connect
from wall.store.audit import AuditFilter
from wall.store.kiosks import MAX_PENDING
from wall.web.auth import csrf_for

FAST = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
KIOSKS = {"offline_after": 2.0, "report_interval": 0.5, "pairing_ttl": 900.0, "screenshot_interval": 1.0}


@dataclass
class Fleet:
    base: str
    http: aiohttp.ClientSession
    admin: dict[str, str]  # the admin's cookie
    curator: dict[str, str]
    store_url: str = ""

    async def kiosk(self, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.http.post(f"{self.base}{path}", json=body or {}, headers=headers) as r:
            return r.status, await r.json()

    async def admin_post(self, path: str, body: Any = None, cookies: dict[str, str] | None = None,
                         origin: str | None = "self", csrf: bool = True) -> tuple[int, Any]:
        """POST as the console's page does: the session cookie, its CSRF token, this site's Origin."""
        cookies = self.admin if cookies is None else cookies
        headers = {"Origin": self.base} if origin == "self" else {"Origin": origin} if origin else {}
        if csrf and cookies:
            headers["X-CSRF-Token"] = csrf_for(cookies["wall_session"])
        async with aiohttp.ClientSession(cookies=cookies) as s, \
                s.post(f"{self.base}{path}", json=body or {}, headers=headers) as r:
            return r.status, await r.json()

    async def admin_get(self, path: str, cookies: dict[str, str] | None = None) -> tuple[int, Any]:
        async with aiohttp.ClientSession(cookies=self.admin if cookies is None else cookies) as s, \
                s.get(f"{self.base}{path}") as r:
            return r.status, await r.json() if r.content_type == "application/json" else await r.read()

    async def listing(self) -> dict[str, Any]:
        status, data = await self.admin_get("/console/api/fleet")
        assert status == 200, data
        return dict(data)

    async def paired(self, wall: str = "lobby", screen: int = 1, of: int = 1, name: str = "lobby left"
                     ) -> tuple[str, dict[str, Any]]:
        """A kiosk enrolled, approved by the admin, and holding its token: (token, claim reply)."""
        _, enrolled = await self.kiosk("/api/v1/kiosks/enroll", {"hostname": "kiosk-lobby-1"})
        status, _ = await self.admin_post("/console/api/fleet/approve", {
            "code": enrolled["code"], "wall": wall, "screen": screen, "of": of, "name": name})
        assert status == 201
        status, claimed = await self.kiosk("/api/v1/kiosks/claim", token=enrolled["poll_token"])
        assert status == 200 and claimed["state"] == "approved", claimed
        return claimed["token"], claimed


@pytest.fixture
async def fleet(redis_url: str) -> AsyncIterator[Fleet]:
    url = temp_store_url()
    async with connect(url, hasher=FAST) as store:
        admin = await store.users.add("ada", "a long admin password", "admin")
        curator = await store.users.add("cy", "a long curator password", "curator")
        admin_token, _ = await store.sessions.create(admin.id)
        curator_token, _ = await store.sessions.create(curator.id)
    cfg = make_config("redis", redis_url, walls=("lobby", "board"), store_url=url, kiosks=KIOSKS)
    async with running_node(cfg) as base, aiohttp.ClientSession() as http:
        yield Fleet(base, http, {"wall_session": admin_token}, {"wall_session": curator_token}, url)


def jpeg() -> str:
    out = io.BytesIO()
    Image.new("RGB", (48, 27), (20, 120, 200)).save(out, "JPEG", quality=50)
    return base64.b64encode(out.getvalue()).decode()


async def test_a_new_kiosk_shows_a_code_an_admin_approves_it_and_it_gets_its_token_and_wall(
        fleet: Fleet) -> None:
    status, enrolled = await fleet.kiosk("/api/v1/kiosks/enroll", {"hostname": "kiosk-lobby-2"})
    assert status == 201
    code = enrolled["code"]
    assert len(code) == 6 and code[2] == "-" and enrolled["expires_in"] == 900
    async with fleet.http.get(f"{fleet.base}{enrolled['pair_url']}") as r:
        page = await r.text()
    assert r.status == 200 and code in page and "/console/fleet" in page

    status, polled = await fleet.kiosk("/api/v1/kiosks/claim", token=enrolled["poll_token"])
    assert (status, polled) == (200, {"state": "waiting"})
    pending = (await fleet.listing())["pending"]
    assert [(p["code"], p["hostname"]) for p in pending] == [(code, "kiosk-lobby-2")]

    typed = code.lower().replace("-", " ")  # as a person types it on a phone
    status, approved = await fleet.admin_post("/console/api/fleet/approve", {"code": typed, "wall": "lobby",
                                                                        "screen": 2, "of": 3})
    assert status == 201 and approved["name"] == "kiosk-lobby-2", approved
    status, claimed = await fleet.kiosk("/api/v1/kiosks/claim", token=enrolled["poll_token"])
    assert status == 200 and claimed["state"] == "approved"
    assert claimed["url"] == "/w/lobby?screen=2&of=3"
    assert claimed["kiosk"] == {"id": approved["id"], "name": "kiosk-lobby-2", "wall": "lobby", "screen": 2,
                                "of": 3}
    assert len(claimed["token"]) >= 40

    listing = await fleet.listing()
    assert listing["pending"] == []
    assert [k["state"] for k in listing["kiosks"]] == ["pairing"]  # approved, not reported yet

    status, reply = await fleet.kiosk("/api/v1/kiosks/report", {
        "version": "0.9.1", "uptime": 3600, "heartbeat_age": 0.4, "memory": {"heap_mb": 38.5},
        "url": "http://wall:8080/w/lobby?screen=2&of=3", "state": "healthy"}, token=claimed["token"])
    assert status == 200 and reply["commands"] == [] and reply["report_interval"] == 0.5
    kiosk = (await fleet.listing())["kiosks"][0]
    assert kiosk["state"] == "online" and kiosk["last_seen_age"] < 2
    assert kiosk["status"]["version"] == "0.9.1" and kiosk["status"]["uptime"] == 3600
    assert kiosk["status"]["memory"] == {"heap_mb": 38.5} and kiosk["status"]["state"] == "healthy"


async def test_an_expired_code_is_refused_to_the_admin_and_to_the_kiosk(redis_url: str) -> None:
    url = temp_store_url()
    async with connect(url, hasher=FAST) as store:
        admin = await store.users.add("ada", "a long admin password", "admin")
        token, _ = await store.sessions.create(admin.id)
    cfg = make_config("redis", redis_url, store_url=url, kiosks={**KIOSKS, "pairing_ttl": 1.0})
    async with running_node(cfg) as base, aiohttp.ClientSession() as http:
        fleet = Fleet(base, http, {"wall_session": token}, {})
        _, enrolled = await fleet.kiosk("/api/v1/kiosks/enroll", {"hostname": "slow"})

        async def expired() -> dict[str, Any] | None:  # the kiosk asks, as it does all the time
            status, polled = await fleet.kiosk("/api/v1/kiosks/claim", token=enrolled["poll_token"])
            return polled if status == 410 else None

        polled = await eventually(expired)  # the code's second went by
        assert polled["state"] == "expired" and "ask for a new code" in polled["error"]
        status, refused = await fleet.admin_post("/console/api/fleet/approve", {"code": enrolled["code"],
                                                                           "wall": "lobby"})
        assert status == 410 and "expired" in refused["error"] and "new code" in refused["error"]
        assert (await fleet.listing())["pending"] == []

        status, unknown = await fleet.admin_post("/console/api/fleet/approve",
                                                 {"code": "XX-XXX", "wall": "lobby"})
        assert status == 404 and "check the code" in unknown["error"]


async def test_a_revoked_kiosk_is_refused_with_a_message_it_can_show(fleet: Fleet) -> None:
    token, claimed = await fleet.paired()
    kiosk_id = claimed["kiosk"]["id"]
    assert (await fleet.kiosk("/api/v1/kiosks/report", {"state": "healthy"}, token=token))[0] == 200
    status, _ = await fleet.admin_post(f"/console/api/fleet/kiosks/{kiosk_id}/revoke")
    assert status == 200
    status, refused = await fleet.kiosk("/api/v1/kiosks/report", {"state": "healthy"}, token=token)
    assert status == 401 and "revoked" in refused["error"] and "lobby left" in refused["error"]
    status, refused = await fleet.kiosk("/api/v1/kiosks/report", {}, token="not-a-token-anyone-issued")
    assert status == 401 and "does not know this kiosk's token" in refused["error"]
    kiosk = (await fleet.listing())["kiosks"][0]
    assert kiosk["state"] == "revoked" and kiosk["alert"] is None
    status, refused = await fleet.admin_post(f"/console/api/fleet/kiosks/{kiosk_id}/reload")
    assert status == 409


async def test_reload_identify_and_reassign_reach_the_kiosk_in_its_next_report_once(fleet: Fleet) -> None:
    token, claimed = await fleet.paired()
    kiosk_id = claimed["kiosk"]["id"]
    for op in ("reload", "identify", "reload"):
        status, _ = await fleet.admin_post(f"/console/api/fleet/kiosks/{kiosk_id}/{op}")
        assert status == 200
    status, moved = await fleet.admin_post(f"/console/api/fleet/kiosks/{kiosk_id}/assign",
                                           {"wall": "board", "screen": 1, "of": 2})
    assert status == 200 and moved["wall"] == "board"

    _, reply = await fleet.kiosk("/api/v1/kiosks/report", {"state": "healthy"}, token=token)
    ops = [c["op"] for c in reply["commands"]]
    assert ops == ["reload", "identify", "assign"]  # the second reload adds nothing
    identify = reply["commands"][1]
    assert identify["kiosk"]["screen"] == 1 and identify["kiosk"]["of"] == 2
    assert reply["commands"][2]["url"] == "/w/board?screen=1&of=2"
    _, again = await fleet.kiosk("/api/v1/kiosks/report", {"state": "healthy"}, token=token)
    assert again["commands"] == []

    status, wrong = await fleet.admin_post(f"/console/api/fleet/kiosks/{kiosk_id}/assign",
                                           {"wall": "board", "screen": 3, "of": 2})
    assert status == 422 and "between 1 and 2" in wrong["error"]
    status, wrong = await fleet.admin_post(f"/console/api/fleet/kiosks/{kiosk_id}/assign",
                                           {"wall": "nowhere"})
    assert status == 422 and "no wall named 'nowhere'" in wrong["error"]


async def test_a_kiosk_that_stops_reporting_shows_offline_and_raises_the_alert(fleet: Fleet) -> None:
    token, _ = await fleet.paired(name="stage right")
    assert (await fleet.kiosk("/api/v1/kiosks/report", {"state": "healthy"}, token=token))[0] == 200
    async with fleet.http.get(f"{fleet.base}/healthz", headers=HEALTH_AUTH) as r:
        assert not any("stage right" in p for p in (await r.json())["problems"])

    started = time.monotonic()
    while True:  # the kiosk is silent now: the node's watch notices on its own, nobody asks the list
        async with fleet.http.get(f"{fleet.base}/healthz", headers=HEALTH_AUTH) as r:
            health = await r.json()
        if any("stage right" in p for p in health["problems"]):
            break
        assert time.monotonic() - started < 30, "no alert within 30 s of a 2 s offline threshold"
        await asyncio.sleep(0.2)
    assert health["status"] == "degraded"
    alert = next(p for p in health["problems"] if "stage right" in p)
    assert "offline" in alert and "screen 1 of 1 of lobby" in alert
    async with fleet.http.get(f"{fleet.base}/healthz") as r:  # a stranger learns that, not which or where
        public = await r.json()
    assert public["status"] == "degraded" and public["counts"]["problems"] >= 1
    assert "stage right" not in str(public) and "lobby" not in str(public)
    listing = await fleet.listing()
    assert listing["kiosks"][0]["state"] == "offline"
    assert len(listing["alerts"]) == 1 and "stage right" in listing["alerts"][0]  # the console's banner
    assert listing["kiosks"][0]["alert"] == listing["alerts"][0]

    assert (await fleet.kiosk("/api/v1/kiosks/report", {"state": "healthy"}, token=token))[0] == 200
    listing = await fleet.listing()
    assert listing["kiosks"][0]["state"] == "online" and listing["alerts"] == []


async def test_screenshots_are_kept_small_and_rate_limited(fleet: Fleet) -> None:
    token, claimed = await fleet.paired()
    kiosk_id = claimed["kiosk"]["id"]
    status, _ = await fleet.admin_get(f"/console/api/fleet/kiosks/{kiosk_id}/screenshot")
    assert status == 404
    first = jpeg()
    assert (await fleet.kiosk("/api/v1/kiosks/report", {"screenshot": first}, token=token))[0] == 200
    status, shot = await fleet.admin_get(f"/console/api/fleet/kiosks/{kiosk_id}/screenshot")
    assert status == 200 and shot == base64.b64decode(first)
    assert (await fleet.listing())["kiosks"][0]["screenshot_age"] is not None

    other = base64.b64encode(base64.b64decode(first)[:-2] + b"\xff\xd9").decode()
    assert (await fleet.kiosk("/api/v1/kiosks/report", {"screenshot": other}, token=token))[0] == 200
    _, kept = await fleet.admin_get(f"/console/api/fleet/kiosks/{kiosk_id}/screenshot")
    assert kept == base64.b64decode(first)  # within half the interval: the new one is dropped

    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 100).decode()
    status, refused = await fleet.kiosk("/api/v1/kiosks/report", {"screenshot": png}, token=token)
    assert status == 422 and "JPEG" in refused["error"]
    status, refused = await fleet.kiosk("/api/v1/kiosks/report", {"uptime": "long"}, token=token)
    assert status == 422 and "uptime" in refused["error"]


async def test_only_admins_on_the_console_page_manage_the_fleet(fleet: Fleet) -> None:
    _, enrolled = await fleet.kiosk("/api/v1/kiosks/enroll", {"hostname": "k"})
    approve = {"code": enrolled["code"], "wall": "lobby"}
    assert (await fleet.admin_post("/console/api/fleet/approve", approve, cookies={}))[0] == 401
    status, refused = await fleet.admin_post("/console/api/fleet/approve", approve, cookies=fleet.curator)
    assert status == 403 and "needs the admin role" in refused["error"]
    status, refused = await fleet.admin_post("/console/api/fleet/approve", approve, csrf=False)
    assert status == 403 and "CSRF" in refused["error"]
    status, _ = await fleet.admin_post("/console/api/fleet/approve", approve, origin="https://evil.example")
    assert status == 403
    assert (await fleet.admin_get("/console/api/fleet", cookies={}))[0] == 401

    token, _ = await fleet.paired()  # a kiosk's token opens no admin route
    bearer = {"Authorization": f"Bearer {token}"}
    async with fleet.http.get(f"{fleet.base}/console/api/fleet", headers=bearer) as r:
        assert r.status == 401
    async with aiohttp.ClientSession(cookies=fleet.admin) as s, s.get(f"{fleet.base}/console/fleet") as r:
        page = await r.text()
        assert r.status == 200 and "Pair a new kiosk" in page and "fleet.js" in page
        assert "script-src 'self'" in r.headers["Content-Security-Policy"]


async def test_a_kiosk_of_a_private_wall_gets_a_display_key_of_its_own(redis_url: str) -> None:
    url = temp_store_url()
    async with connect(url, hasher=FAST) as store:
        admin = await store.users.add("ada", "a long admin password", "admin")
        cookie, _ = await store.sessions.create(admin.id)
    cfg = make_config("redis", redis_url, walls=("lobby", "board"), store_url=url, kiosks=KIOSKS,
                      private=("board",))
    async with running_node(cfg) as base, aiohttp.ClientSession() as http, connect(url) as store:
        fleet = Fleet(base, http, {"wall_session": cookie}, {})
        token, claimed = await fleet.paired(wall="board")
        path, _, query = claimed["url"].partition("?key=")
        assert path == "/w/board" and query
        assert await store.display_keys.check("board", query) is not None
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as screen, \
                screen.get(f"{base}{claimed['url']}") as r:
            assert r.status == 200  # the key opens the wall (and stays as the screen's cookie)

        kiosk_id = claimed["kiosk"]["id"]
        await fleet.admin_post(f"/console/api/fleet/kiosks/{kiosk_id}/assign", {"wall": "lobby"})
        _, reply = await fleet.kiosk("/api/v1/kiosks/report", {}, token=token)
        assert reply["commands"][0]["url"] == "/w/lobby"  # a public wall: no key, and the old one is dead
        assert await store.display_keys.check("board", query) is None
        shown = {"url": f"{base}/w/board?key={query}"}
        assert (await fleet.kiosk("/api/v1/kiosks/report", shown, token=token))[0] == 200
        assert query not in str((await fleet.listing())["kiosks"][0]["status"]["url"])  # never shown


async def enroll_from(fleet: Fleet, address: str, hostname: str) -> tuple[int, Any]:
    """A pairing request sent from `address` (any 127.x.y.z is this machine's loopback)."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(address, 0))) as s, \
            s.post(f"{fleet.base}/api/v1/kiosks/enroll", json={"hostname": hostname}) as r:
        return r.status, await r.json()


def test_pairing_limits_count_per_ipv4_24_and_ipv6_64() -> None:
    assert network("203.0.113.77") == network("203.0.113.1") == "203.0.113.0/24"
    assert network("2001:db8:0:1:aaaa::1") == network("2001:db8:0:1::2") == "2001:db8:0:1::/64"
    assert network("2001:db8:0:2::1") != network("2001:db8:0:1::1")
    assert network("::ffff:203.0.113.5") == "203.0.113.0/24"


async def test_a_flood_of_pairing_requests_from_many_networks_does_not_lock_out_a_real_kiosk(
        fleet: Fleet) -> None:
    status, waiting = await enroll_from(fleet, "127.0.200.1", "lobby-tv")
    assert status == 201
    assert (await fleet.kiosk("/api/v1/kiosks/claim", token=waiting["poll_token"]))[1] == {"state": "waiting"}

    # 20 addresses from 20 networks fill every slot within a second
    floods = await asyncio.gather(*(enroll_from(fleet, f"127.0.{n}.1", f"flood-{n}-{i}")
                                    for n in range(1, 21) for i in range(MAX_PENDING // 20)))
    assert {status for status, _ in floods} == {201}

    status, newcomer = await enroll_from(fleet, "127.0.201.1", "board-tv")
    assert status == 201, newcomer  # not 429: the oldest request nobody polled made room
    codes = {p["code"] for p in (await fleet.listing())["pending"]}
    assert len(codes) == MAX_PENDING and {waiting["code"], newcomer["code"]} <= codes
    approve = {"code": waiting["code"], "wall": "lobby"}
    status, _ = await fleet.admin_post("/console/api/fleet/approve", approve)
    assert status == 201  # the kiosk that kept polling was never pushed out


async def test_one_network_is_slowed_down_without_touching_the_others(fleet: Fleet) -> None:
    replies = [await enroll_from(fleet, f"127.0.7.{n}", f"k{n}") for n in range(1, 22)]
    assert [status for status, _ in replies] == [201] * 20 + [429]
    assert "127.0.7.0/24" in replies[-1][1]["error"] and "wait a minute" in replies[-1][1]["error"]
    assert (await enroll_from(fleet, "127.0.8.1", "next door"))[0] == 201


async def test_an_admin_clears_the_waiting_codes_after_a_flood(fleet: Fleet) -> None:
    for n in range(3):
        await enroll_from(fleet, f"127.0.9.{n + 1}", f"flood-{n}")
    assert len((await fleet.listing())["pending"]) == 3
    clear = "/console/api/fleet/pending/clear"
    status, refused = await fleet.admin_post(clear, csrf=False)
    assert status == 403 and "CSRF" in refused["error"]
    assert (await fleet.admin_post(clear, cookies=fleet.curator))[0] == 403
    assert len((await fleet.listing())["pending"]) == 3

    assert await fleet.admin_post(clear) == (200, {"ok": True, "cleared": 3})
    assert (await fleet.listing())["pending"] == []
    async with connect(fleet.store_url) as store:
        [entry] = await store.audit.browse(AuditFilter(action="kiosk.clear_pending"))
    assert (entry.actor, entry.after) == ("ada", {"cleared": 3})
