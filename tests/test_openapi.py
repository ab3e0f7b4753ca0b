"""The JSON API as a client sees it: an OpenAPI 3.1 description served by the node, the same routes as
docs/api.md, and schemathesis run over every route against a live node (real sockets, a real SQLite
store, an admin's session), finding no 5xx and no reply that breaks its own description."""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.console_helpers import Browser, console_app, opened_store
from tests.helpers import TOKEN, eventually, make_config, post, serving

ROOT = Path(__file__).resolve().parent.parent
# Examples per route and generation mode (valid and invalid input): about 900 requests, about 30 s
# on this two-core machine (minutes when it is busy); WALL_FUZZ_EXAMPLES=200 scripts/test ... hunts longer.
EXAMPLES = int(os.environ.get("WALL_FUZZ_EXAMPLES", "25"))
ROUTE = re.compile(r"`(GET|POST) (/(?:api|console/api|healthz)[^`\s?]*)")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def documented_routes() -> set[tuple[str, str]]:
    """Every `METHOD /path` of a JSON route written in docs/api.md (a|b alternatives spelled out)."""
    found = set()
    for method, path in ROUTE.findall((ROOT / "docs" / "api.md").read_text()):
        head, _, tail = path.rpartition("/")
        for last in tail.split("\\|"):
            found.add((method, f"{head}/{last}"))
    return found


async def described_routes(base: str) -> tuple[dict[str, Any], set[tuple[str, str]]]:
    async with aiohttp.ClientSession() as http, http.get(f"{base}/api/openapi.json") as r:
        assert r.status == 200 and r.content_type == "application/json"
        doc = await r.json()
    routes = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}
    return doc, routes


async def test_the_node_describes_every_json_route_that_docs_api_md_documents() -> None:
    cfg = make_config()
    async with opened_store(cfg.store.url) as store, serving(console_app(cfg, store)) as base:
        doc, described = await described_routes(base)
        assert doc["openapi"] == "3.1.0"
        app_routes = {(r.method, r.resource.canonical) for r in console_app(cfg, store).router.routes()
                                if r.resource is not None and r.method != "HEAD"
                      and r.resource.canonical.startswith(("/api/", "/console/api/"))}
    # the kiosk commands are one route with an {op} of four values; docs/api.md names each
    spelled = {(m, p.replace("{op}", op)) for m, p in described for op in ("reload", "identify", "assign",
                                                                             "revoke")}
    documented = documented_routes()
    assert documented - spelled == set(), "documented in docs/api.md but not in /api/openapi.json"
    assert {(m, p) for m, p in spelled if "{op}" not in p} - documented == set(), \
        "in /api/openapi.json but not documented in docs/api.md"
    assert app_routes - described == set(), "JSON routes of the app missing from the description"


@pytest.mark.timeout(600)  # a bounded run, but slow when other work keeps both cores busy
async def test_schemathesis_finds_no_server_error_and_no_reply_off_its_description() -> None:
    cfg = make_config(walls=("lobby", "board"))
    async with opened_store(cfg.store.url) as store, serving(console_app(cfg, store)) as base, \
            Browser(base) as admin, aiohttp.ClientSession() as http:
        assert (await admin.login("root")).status == 303
        kiosk_token = await paired_kiosk(admin, http, base)
        control_token, _ = await store.control_tokens.issue("lobby", "fuzz deck", "presenter", "root", None)
        doc, _ = await described_routes(base)
        credentials = {"session": admin.session_cookie, "csrf": admin.csrf, "kiosk": kiosk_token,
                       "control": control_token}
        started = time.monotonic()
        failures, ran = await asyncio.to_thread(fuzz, doc, base, credentials)
        took = time.monotonic() - started
        report = (f"schemathesis: {sum(ran.values())} requests over {len(ran)} routes "
                  f"({EXAMPLES} examples per route and mode, WALL_FUZZ_EXAMPLES) in {took:.1f} s")
        print(report)
        assert failures == [], report + "\n" + "\n\n".join(failures[:10])
        assert all(ran.values()), f"routes the fuzzer never called: {[r for r, n in ran.items() if not n]}"

        # the node is healthy afterwards, and a post still reaches the wall
        async with http.get(f"{base}/healthz") as r:
            assert r.status == 200 and (await r.json())["status"] == "ok"
        status, reply = await post(http, base, {"id": "after-the-fuzz", "text": "still here"}, wall="board")
        assert status == 202, reply

        async def queued() -> list[Any]:
            r = await admin.get("/console/api/w/board/queue?q=still+here")
            items: list[Any] = (await r.json())["items"]
            return items

        items = await eventually(queued)
        assert [i["post"]["source_id"] for i in items] == ["after-the-fuzz"]


async def paired_kiosk(admin: Browser, http: aiohttp.ClientSession, base: str) -> str:
    """A kiosk paired with the lobby, so the fuzzer's reports carry a real kiosk token."""
    async with http.post(f"{base}/api/v1/kiosks/enroll", json={"hostname": "fuzz"}) as r:
        enrolled = await r.json()
    assert (await admin.post("/console/api/fleet/approve", {"code": enrolled["code"],
                                                            "wall": "lobby"})).status == 201
    async with http.post(f"{base}/api/v1/kiosks/claim",
                         headers={"Authorization": f"Bearer {enrolled['poll_token']}"}) as r:
        token: str = (await r.json())["token"]
    return token


def fuzz(doc: dict[str, Any], base: str, credentials: dict[str, str]) -> tuple[list[str], dict[str, int]]:
    """Run schemathesis over every operation (valid and invalid input); the failures found, and how
    many requests each route got."""
    schema = schemathesis.openapi.from_dict(doc)
    failures: list[str] = []
    ran: dict[str, int] = {}
    http = requests.Session()  # one keep-alive connection for the whole run
    for result in schema.get_all_operations():
        op = result.ok()
        headers = {"Cookie": f"wall_session={credentials['session']}", "X-CSRF-Token": credentials["csrf"]}
        if op.path.startswith("/api/v1/kiosks/"):
            headers = {"Authorization": f"Bearer {credentials['kiosk']}"}
        elif op.path.startswith("/api/v1/control/"):
            headers = {"Authorization": f"Bearer {credentials['control']}"}
        elif op.path.startswith("/api/v1/walls/"):
            headers = {"Authorization": f"Bearer {TOKEN}"}
        label = f"{op.method.upper()} {op.path}"
        ran[label] = fuzz_operation(op, base, http, headers, failures.append)
    return failures, ran


def fuzz_operation(op: Any, base: str, http: requests.Session, headers: dict[str, str],
                   failed: Callable[[str], None]) -> int:
    """Valid and invalid input for one operation; returns how many requests were sent."""
    label = f"{op.method.upper()} {op.path}"
    strategies = [op.as_strategy(GenerationMode.POSITIVE)]
    if op.path_parameters or op.query or op.body:
        strategies.append(op.as_strategy(GenerationMode.NEGATIVE))
    sent = 0

    @hypothesis.settings(max_examples=EXAMPLES * len(strategies), deadline=None, database=None,
                         derandomize=True, suppress_health_check=list(hypothesis.HealthCheck),
                         phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate])
    @hypothesis.given(case=st.one_of(strategies))
    def call(case: Any) -> None:
        nonlocal sent
        sent += 1
        response = case.call(base_url=base, session=http, headers={**headers, **(case.headers or {})},
                             timeout=30)
        try:
            case.validate_response(response, checks=CHECKS)
        except (Failure, FailureGroup) as e:  # collected, not shrunk: the run stays bounded
            failed(f"{label}: {e}")

    call()
    return sent
