"""Who may do what on a web node, tried over real sockets against a real SQLite store: every route that
changes state (found by enumerating the app's routes, so a route added later without a guard fails here)
refuses anonymous, wrong-role, cross-site and CSRF-less requests; sessions end for good at logout; a login
never promotes a planted session; `next=` never leaves the site; brute force is slowed; a private wall
needs a live display key on its page, socket and API."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp import web

from tests.console_helpers import PASSWORDS, Browser, console_app, opened_store
from tests.helpers import TOKEN, make_config, post, serving
from wall.store import Store
from wall.store.logins import LoginPolicy, Throttle
from wall.web.accesslog import AccessLogger
from wall.web.auth import RANK, ROLE_ATTR
from wall.web.control_api import SCOPE_ATTR, SCOPES

# State-changing routes that are not behind a console session, each with the reason and its own check.
ALLOW = {
    ("POST", "/console/login"): "anonymous by nature: same-site Origin check and the login throttle",
    ("POST", "/api/v1/walls/{wall}/posts"): "the webhook: its own Bearer token or HMAC signature",
    ("POST", "/api/v1/kiosks/enroll"): "a new kiosk asks for a pairing code: rate-limited, grants nothing",
    ("POST", "/api/v1/kiosks/claim"): "a pairing kiosk: its secret poll token",
    ("POST", "/api/v1/kiosks/report"): "a paired kiosk: its own revocable token",
}
SLOW = LoginPolicy(pair=Throttle(free=5, first=60.0))
FILL = {"wall": "lobby", "key_id": "1", "token_id": "1", "username": "nobody", "scene": "stats", "poll": "1"}


def state_changing(app: web.Application) -> list[tuple[str, str, Any]]:
    """(method, path, handler) of every route that changes state: any non-GET route, and the console's
    WebSockets (a socket is a standing permission to watch or act)."""
    found = []
    for route in app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if route.method == "HEAD" or (route.method == "GET" and not (
                path.startswith("/console") and path.endswith("/ws"))):
            continue
        found.append((route.method, path, route.handler))
    return found


def console_pages(app: web.Application) -> list[tuple[str, Any]]:
    """Every GET route under /console but the login page: none shows anything to anonymous visitors."""
    return [(r.resource.canonical, r.handler) for r in app.router.routes()
            if r.method == "GET" and r.resource and r.resource.canonical.startswith("/console")
            and r.resource.canonical != "/console/login"]


def token_scoped(app: web.Application) -> list[tuple[str, str, str]]:
    """(method, path, action) of every control API route: guarded by a control token, not a session."""
    return [(r.method, r.resource.canonical, getattr(r.handler, SCOPE_ATTR)) for r in app.router.routes()
            if r.resource is not None and r.method != "HEAD" and hasattr(r.handler, SCOPE_ATTR)]


def unguarded(app: web.Application) -> list[str]:
    routes = [(m, p, h) for m, p, h in state_changing(app)
              if (m, p) not in ALLOW and not hasattr(h, SCOPE_ATTR)]
    routes += [("GET", p, h) for p, h in console_pages(app)]
    return [f"{m} {p}" for m, p, h in routes if getattr(h, ROLE_ATTR, None) not in RANK]


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)(:[^}]*)?\}", lambda m: FILL.get(m.group(1), "x"), path)


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/wall.db"


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    async with opened_store(store_url) as s:
        yield s


@pytest.fixture
async def node(store: Store, store_url: str) -> AsyncIterator[tuple[web.Application, str]]:
    app = console_app(make_config(store_url=store_url, walls=("lobby", "vault"), private=("vault",)), store)
    async with serving(app) as base:
        yield app, base


async def test_every_state_changing_route_refuses_anonymous_wrong_role_cross_site_and_csrf_less_requests(
        node: tuple[web.Application, str]) -> None:
    app, base = node
    assert unguarded(app) == [], "a route changes state without require(role); guard it or allow-list it"
    # Insights name private walls and people: its page and downloads are among the pages checked below.
    assert {"/console/insights", "/console/insights/csv/{table}", "/console/insights/report.pdf",
            "/console/w/{wall}/qa", "/console/api/w/{wall}/qa"} <= {p for p, _ in console_pages(app)}
    assert ("POST", "/console/api/w/{wall}/qa") in {(m, p) for m, p, _ in state_changing(app)}
    routes = [(m, p, getattr(h, ROLE_ATTR)) for m, p, h in state_changing(app)
              if (m, p) not in ALLOW and not hasattr(h, SCOPE_ATTR)]
    assert len(routes) >= 14  # decide, bulk, ban, words, policy, sentiment, control, keys, users, logout…

    async with Browser(base) as anon, Browser(base) as pia, Browser(base) as ana, Browser(base) as root:
        for b, name in ((pia, "pia"), (ana, "ana"), (root, "root")):
            assert (await b.login(name)).status == 303
        by_rank = {1: pia, 2: ana, 3: root}
        for method, path, role in routes:
            url = concrete(path)
            if method == "GET":  # a console WebSocket
                for who, want in ((anon, 401), *((by_rank[r], 403) for r in range(1, RANK[role]))):
                    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                        await who.http.ws_connect(f"{base}{url}", headers={"Origin": base})
                    assert refused.value.status == want, f"{path} as {who.session_cookie and 'user'}"
                with pytest.raises(aiohttp.WSServerHandshakeError) as cross:
                    await by_rank[RANK[role]].http.ws_connect(f"{base}{url}",
                                                              headers={"Origin": "https://evil.example"})
                assert cross.value.status == 403, f"{path}: a cross-site page opened a console socket"
                continue
            r = await anon.post(url, json={})
            assert r.status == 401, f"{method} {path} anonymous: {r.status}"
            for rank in range(1, RANK[role]):
                r = await by_rank[rank].post(url, json={})
                assert r.status == 403, f"{method} {path} needs {role}, rank {rank} got {r.status}"
            allowed = by_rank[RANK[role]]
            r = await allowed.post(url, json={}, csrf="")
            assert r.status == 403, f"{method} {path} without a CSRF token: {r.status}"
            r = await allowed.post(url, json={}, csrf="0" * 64)
            assert r.status == 403, f"{method} {path} with a forged CSRF token: {r.status}"
            r = await allowed.post(url, json={}, csrf=root.csrf if allowed is not root else pia.csrf)
            assert r.status == 403, f"{method} {path} with another session's CSRF token: {r.status}"
            r = await allowed.post(url, json={}, origin="https://evil.example")
            assert r.status == 403, f"{method} {path} from another site: {r.status}"

        for path, _ in console_pages(app):
            r = await anon.get(concrete(path), html=True)
            assert r.status in (303, 401), f"GET {path} shows something to anonymous visitors"
            if r.status == 303:
                assert r.headers["Location"].startswith("/console/login?next=")


async def test_every_control_route_refuses_missing_unknown_revoked_expired_wrong_wall_and_wrong_scope_tokens(
        node: tuple[web.Application, str], store: Store) -> None:
    app, base = node
    routes = token_scoped(app)
    assert {action for _, _, action in routes} == {"read", *SCOPES["presenter"]}  # found, every action
    assert "qa-next" in SCOPES["presenter"]
    tokens = store.control_tokens
    red_button, _ = await tokens.issue("lobby", "red button", "panic-only", "root", None)
    vault, _ = await tokens.issue("vault", "vault deck", "presenter", "root", None)
    lost, record = await tokens.issue("lobby", "lost deck", "presenter", "root", None)
    await tokens.revoke(record.id, "root")
    old, _ = await tokens.issue("lobby", "last year's deck", "presenter", "root", time.time() - 60)
    refusals = ((None, 401, "Authorization: Bearer <token>"),
                ("wallctl_guessed", 401, "no such control token"),
                (lost, 401, "(lost deck) was revoked by root"), (old, 401, "(last year's deck) expired on"),
                (vault, 403, "is for wall 'vault', not 'lobby'"))

    async def call(http: aiohttp.ClientSession, method: str, path: str,
                   token: str | None) -> tuple[int, dict[str, Any]]:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        async with http.request(method, base + concrete(path), headers=headers) as r:
            return r.status, await r.json()

    for n, (method, path, action) in enumerate(routes):
        # A live deck of its own per route: there are more routes than one token's burst of actions.
        deck, _ = await tokens.issue("lobby", f"deck {n}", "presenter", "root", None)
        # Each route from a network of its own: these refusals would use up one network's allowance.
        local = aiohttp.TCPConnector(local_addr=(f"127.0.{n + 1}.1", 0))
        if n:  # the panic-only token's burst too: a fresh one per route, as a deck per button would
            red_button, _ = await tokens.issue("lobby", f"red button {n}", "panic-only", "root", None)
        async with aiohttp.ClientSession(connector=local) as http:
            for token, status, words in refusals:
                got, body = await call(http, method, path, token)
                assert got == status and words in body["error"], f"{method} {path}: {got} {body}"
            got, body = await call(http, method, path, red_button)
            if action in ("read", *SCOPES["panic-only"]):
                assert got == 200, f"{method} {path} with a panic-only token: {got} {body}"
            else:
                assert got == 403 and "'panic-only', which allows panic, release" in body["error"], body
            got, body = await call(http, method, path, deck)
            # spotlight-next, qa-next: nothing is on screen yet to spotlight, no question approved yet;
            # the poll actions: no poll made yet; and the rundown has no items to step to
            nothing = ("spotlight-next", "qa-next", "poll-open", "poll-close", "poll-hide")
            wanted = 404 if action in nothing else 400 if action.startswith("rundown-") else 200
            assert got == wanted, f"{method} {path}: {got} {body}"


async def test_the_route_check_catches_a_console_route_added_without_a_guard(store: Store,
                                                                              store_url: str) -> None:
    app = console_app(make_config(store_url=store_url), store)

    async def careless(request: web.Request) -> web.Response:
        return web.Response(text="done")

    app.router.add_post("/console/api/w/{wall}/oops", careless)
    app.router.add_get("/console/secrets", careless)
    assert unguarded(app) == ["POST /console/api/w/{wall}/oops", "GET /console/secrets"]


async def test_a_session_is_refused_after_logout_and_after_log_out_everywhere(
        node: tuple[web.Application, str]) -> None:
    _, base = node
    async with Browser(base) as laptop, Browser(base) as phone, Browser(base) as replay:
        await laptop.login("ana")
        await phone.login("ana")
        stolen = laptop.session_cookie
        assert stolen and (await laptop.get("/console/api/w/lobby/queue")).status == 200

        r = await laptop.post("/console/logout", form={})
        assert r.status == 303 and r.headers["Location"] == "/console/login"
        assert laptop.session_cookie in (None, "")  # the browser forgot it
        replay.http.cookie_jar.update_cookies({"wall_session": stolen})
        assert (await replay.get("/console/api/w/lobby/queue")).status == 401  # the server forgot it too
        assert (await phone.get("/console/api/w/lobby/queue")).status == 200  # other sessions live on

        await laptop.login("ana")
        again = laptop.session_cookie
        assert (await phone.post("/console/logout-everywhere", form={})).status == 303
        for token in (again, stolen):
            replay.http.cookie_jar.update_cookies({"wall_session": token})
            assert (await replay.get("/console/api/w/lobby/queue")).status == 401
        assert (await laptop.get("/console/api/w/lobby/queue")).status == 401


async def test_a_forged_csrf_token_changes_nothing(node: tuple[web.Application, str]) -> None:
    _, base = node
    async with Browser(base) as ana:
        await ana.login("ana")
        assert (await ana.post("/console/logout", form={}, csrf="f" * 64)).status == 403
        assert (await ana.get("/console/api/w/lobby/queue")).status == 200  # still logged in


async def test_a_login_never_promotes_a_planted_session(node: tuple[web.Application, str]) -> None:
    _, base = node
    async with Browser(base) as attacker, Browser(base) as victim:
        await attacker.login("pia")
        planted = attacker.session_cookie
        assert planted
        victim.http.cookie_jar.update_cookies({"wall_session": planted})  # e.g. through a shared kiosk
        r = await victim.login("root")
        assert r.status == 303
        assert victim.session_cookie not in (None, planted)
        assert (await victim.get("/console/users", html=True)).status == 200  # root's own session
        assert (await attacker.get("/console", html=True)).status == 303  # the planted one is over


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example",
                                    "/\t/evil.example", "javascript:alert(1)", "http:evil.example",
                                    "evil.example", "/%0a/evil.example"])
async def test_after_login_next_never_leaves_the_site(node: tuple[web.Application, str], target: str) -> None:
    _, base = node
    async with Browser(base) as ana:
        r = await ana.login("ana", next_=target)
        assert r.status == 303
        location = r.headers["Location"]
        assert location.lower() in ("/console", target.lower()) and location.startswith("/")
        assert not location.startswith("//")
        assert "\\" not in location and "\t" not in location


async def test_after_login_next_goes_back_to_the_page_asked_for(node: tuple[web.Application, str]) -> None:
    _, base = node
    async with Browser(base) as ana:
        r = await ana.get("/console/w/lobby?x=1", html=True)
        assert r.status == 303
        login = urlsplit(r.headers["Location"])
        assert login.path == "/console/login" and parse_qs(login.query)["next"] == ["/console/w/lobby?x=1"]
        r = await ana.login("ana", next_="/console/w/lobby?x=1")
        assert r.headers["Location"] == "/console/w/lobby?x=1"


async def test_brute_force_is_slowed_down_even_for_the_right_password(
        store: Store, store_url: str, caplog: pytest.LogCaptureFixture) -> None:
    store.logins.policy = SLOW  # a first delay no busy machine outlasts between two requests
    app = console_app(make_config(store_url=store_url), store)
    caplog.set_level(logging.INFO)
    async with serving(app) as base, Browser(base) as mallory:
        for i in range(5):
            r = await mallory.login("root", f"guess number {i}")
            assert r.status == 401 and "wrong username or password" in await r.text()
        r = await mallory.login("root")
        assert r.status == 429
        assert "too many failed attempts" in await r.text()
        assert 0 < int(r.headers["Retry-After"]) <= 60
        assert mallory.session_cookie is None
        async with Browser(base) as unknown:
            r = await unknown.login("nobody", "whatever password")
            assert r.status == 401 and "wrong username or password" in await r.text()  # same words: no oracle
            await unknown.login("my secret passphrase", "typed in the wrong field")
    assert PASSWORDS["root"] not in caplog.text and "guess number" not in caplog.text
    assert "my secret passphrase" not in caplog.text and "an unknown username" in caplog.text


async def test_a_cross_site_login_form_is_refused(node: tuple[web.Application, str]) -> None:
    _, base = node
    async with aiohttp.ClientSession() as s:
        r = await s.post(f"{base}/console/login", data={"username": "ana", "password": PASSWORDS["ana"]},
                         headers={"Origin": "https://evil.example"}, allow_redirects=False)
        assert r.status == 403 and "wall_session" not in r.cookies


async def test_the_session_cookie_is_httponly_samesite_strict_and_secure_by_default(store: Store,
                                                                                    store_url: str) -> None:
    cfg = make_config(store_url=store_url, secure_cookies=True)
    async with serving(console_app(cfg, store)) as base, aiohttp.ClientSession() as s:
        r = await s.post(f"{base}/console/login", data={"username": "ana", "password": PASSWORDS["ana"]},
                         headers={"Origin": base}, allow_redirects=False)
        assert r.status == 303
        cookie = r.headers["Set-Cookie"]
        assert cookie.startswith("wall_session=")
        for attribute in ("HttpOnly", "SameSite=Strict", "Secure", "Path=/console"):
            assert attribute in cookie


async def issue_key(root: Browser, wall: str, label: str) -> tuple[str, int]:
    r = await root.post(f"/console/w/{wall}/keys", form={"label": label})
    assert r.status == 200
    page = await r.text()
    url = re.search(r'<code class="key-url">([^<]+)</code>', page)
    assert url, "the new key is shown once on the page"
    key = url.group(1).split("?key=")[1]
    key_id = int(re.findall(r'data-key-id="(\d+)"', page)[-1])
    return key, key_id


async def test_a_private_wall_needs_a_live_display_key_on_its_page_socket_and_api(
        store: Store, store_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    cfg = make_config(store_url=store_url, walls=("lobby", "vault"), private=("vault",))
    access = logging.getLogger("aiohttp.access")
    async with serving(console_app(cfg, store), access_log_class=AccessLogger, access_log=access) as a, \
            serving(console_app(cfg, store), access_log_class=AccessLogger, access_log=access) as b, \
            Browser(a) as root:
        async with aiohttp.ClientSession() as s:
            assert "vault" not in await (await s.get(f"{a}/")).text()  # not even listed
            for url in (f"{a}/w/vault", f"{a}/api/v1/walls/vault/posts", f"{a}/w/vault?key=guessed"):
                assert (await s.get(url)).status == 403, url
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await s.ws_connect(f"{a}/w/vault/ws")
            assert refused.value.status == 403
            assert (await s.get(f"{a}/w/lobby")).status == 200  # public walls stay public
            status, _ = await post(s, a, {"id": "in", "text": "webhook keeps its token",
                                          "author": {"name": "A"}}, wall="vault")
            assert status == 202

        await root.login("root")
        key, key_id = await issue_key(root, "vault", "lobby screen 2")
        other_key, _ = await issue_key(root, "lobby", "not for the vault")
        screens = []
        for base in (a, b):
            screen = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
            screens.append(screen)
            r = await screen.get(f"{base}/w/vault?key={key}", allow_redirects=False)
            assert r.status == 303 and r.headers["Location"] == "/w/vault"  # the key leaves the address bar
            assert (await screen.get(f"{base}/w/vault")).status == 200  # from the cookie now
            assert (await screen.get(f"{base}/api/v1/walls/vault/posts")).status == 200
        async with aiohttp.ClientSession() as s:
            assert (await s.get(f"{a}/w/vault?key={other_key}")).status == 403  # another wall's key
        sockets = []
        for screen, base in zip(screens, (a, b), strict=True):
            ws = await screen.ws_connect(f"{base}/w/vault/ws")
            await ws.send_json({"type": "hello"})
            assert (await ws.receive_json(timeout=30))["type"] == "welcome"
            sockets.append(ws)

        r = await root.post(f"/console/keys/{key_id}/revoke", form={})
        assert r.status == 303
        for ws, within in zip(sockets, (0.5, 2.5), strict=True):  # this node at once, the other by recheck
            async with asyncio.timeout(within):
                while (msg := await ws.receive()).type != aiohttp.WSMsgType.CLOSE:
                    pass
            assert (msg.data, msg.extra) == (1008, "display key revoked")
        for screen, base in zip(screens, (a, b), strict=True):
            assert (await screen.get(f"{base}/w/vault")).status == 403
            assert (await screen.get(f"{base}/api/v1/walls/vault/posts")).status == 403
            with pytest.raises(aiohttp.WSServerHandshakeError):
                await screen.ws_connect(f"{base}/w/vault/ws")
            await screen.close()
        audit = [r.action for r in await store.audit.browse()]
        assert "key.issue" in audit and "key.revoke" in audit
    assert key not in caplog.text and "/w/vault?key=REDACTED" in caplog.text
    assert PASSWORDS["root"] not in caplog.text


async def test_the_demo_wall_store_and_admin_work_with_no_setup(tmp_path: Path) -> None:
    from wall.cli import demo_admin, demo_config

    cfg = demo_config("127.0.0.1", 0, TOKEN, 60.0, store_url=f"sqlite+aiosqlite:///{tmp_path}/demo.db")
    assert cfg.web.secure_cookies is False  # plain HTTP on localhost
    password = await demo_admin(cfg.store.url)
    async with opened_store(cfg.store.url, users=False) as store, serving(console_app(cfg, store)) as base, \
            Browser(base) as admin:
        assert (await admin.login("admin", password)).status == 303
        assert (await admin.get("/console/users", html=True)).status == 200


async def test_an_admin_adds_a_user_who_logs_in_and_a_role_change_ends_their_sessions(
        node: tuple[web.Application, str], store: Store) -> None:
    _, base = node
    async with Browser(base) as root, Browser(base) as eva:
        await root.login("root")
        r = await root.post("/console/users", form={"username": "Eva", "role": "curator",
                                                    "password": "short"})
        assert r.status == 400 and "at least 12 characters" in await r.text()
        r = await root.post("/console/users", form={"username": "Eva", "role": "curator",
                                                    "password": "eva's long password"})
        assert r.status == 303
        assert (await eva.login("eva", "eva's long password")).status == 303
        assert (await eva.get("/console/w/lobby", html=True)).status == 200

        r = await root.post("/console/users/eva", form={"op": "role", "role": "presenter"})
        assert r.status == 303
        assert (await eva.get("/console/w/lobby", html=True)).status == 303  # logged out: log in again
        await eva.login("eva", "eva's long password")
        assert (await eva.get("/console/w/lobby", html=True)).status == 403  # a presenter now

        r = await root.post("/console/users/root", form={"op": "remove"})
        assert r.status == 400 and "not on your own account" in await r.text()
        assert (await root.post("/console/users/eva", form={"op": "remove"})).status == 303
        assert await store.users.get("eva") is None
        actions = [(r.action, r.target) for r in await store.audit.browse()]
        assert ("user.add", "eva") in actions and ("user.role", "eva") in actions and \
            ("user.remove", "eva") in actions
