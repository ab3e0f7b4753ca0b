"""A console user's side, for the tests: a browser-like HTTP client that logs in and keeps its CSRF token."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from aiohttp import web
from argon2 import PasswordHasher

from wall.app import ALL, Role, create_app
from wall.config import Config
from wall.store import Store, connect

# Cheap argon2 parameters keep the suite fast; production uses argon2-cffi's defaults.
FAST = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
PASSWORDS = {"root": "root password 0001", "ana": "curator password 1", "pia": "presenter password 1"}
ROLES = {"root": "admin", "ana": "curator", "pia": "presenter"}
CSRF_META = re.compile(r'<meta name="csrf-token" content="([0-9a-f]+)">')


@asynccontextmanager
async def opened_store(url: str, users: bool = True) -> AsyncIterator[Store]:
    """The test's store, with one account per role unless told otherwise."""
    async with connect(url, hasher=FAST) as store:
        if users and not await store.users.list():
            for name, role in ROLES.items():
                await store.users.add(name, PASSWORDS[name], role)  # type: ignore[arg-type]
        yield store


def console_app(cfg: Config, store: Store, roles: frozenset[Role] = ALL, **kwargs: Any) -> web.Application:
    return create_app(cfg, roles, store=store, **kwargs)


class Browser:
    """One person's browser: a cookie jar (IP hosts allowed), same-origin headers, the page's CSRF token."""

    def __init__(self, base: str, address: str | None = None) -> None:
        """`address`: the local address to connect from (127.0.0.2 is another machine to the server)."""
        self.base = base
        connector = aiohttp.TCPConnector(local_addr=(address, 0)) if address else None
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), connector=connector)
        self.csrf = ""

    async def __aenter__(self) -> Browser:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.close()

    @property
    def session_cookie(self) -> str | None:
        found = [c for c in self.http.cookie_jar if c.key == "wall_session"]
        found.sort(key=lambda c: c["path"] != "/console")  # the server's own first
        return found[0].value if found else None

    async def login(self, username: str, password: str | None = None,
                    next_: str = "/console") -> aiohttp.ClientResponse:
        """POST the login form as the login page does; on success, load a page to learn the CSRF token."""
        r = await self.http.post(f"{self.base}/console/login", allow_redirects=False,
                                 data={"username": username, "password": password or PASSWORDS[username],
                                       "next": next_},
                                 headers={"Origin": self.base, "Sec-Fetch-Site": "same-origin"})
        await r.read()
        if r.status == 303:
            await self.refresh_csrf()
        return r

    async def refresh_csrf(self) -> None:
        async with self.http.get(f"{self.base}/console", headers={"Accept": "text/html"}) as page:
            found = CSRF_META.search(await page.text())
            self.csrf = found.group(1) if found else ""

    async def post(self, path: str, json: Any = None, form: dict[str, str] | None = None,
                   csrf: str | None = None, origin: str | None = None) -> aiohttp.ClientResponse:
        """A state-changing request as the console's scripts (JSON) or forms send it."""
        headers = {"Origin": origin or self.base, "Sec-Fetch-Site": "same-origin" if origin is None
                   else "cross-site"}
        token = self.csrf if csrf is None else csrf
        if form is not None:
            data: Any = {**form, **({"csrf": token} if token else {})}
            r = await self.http.post(f"{self.base}{path}", data=data, headers=headers, allow_redirects=False)
        else:
            if token:
                headers["X-CSRF-Token"] = token
            r = await self.http.post(f"{self.base}{path}", json=json if json is not None else {},
                                     headers=headers, allow_redirects=False)
        await r.read()
        return r

    async def get(self, path: str, html: bool = False) -> aiohttp.ClientResponse:
        headers = {"Accept": "text/html"} if html else {"Accept": "application/json"}
        r = await self.http.get(f"{self.base}{path}", headers=headers, allow_redirects=False)
        await r.read()
        return r
