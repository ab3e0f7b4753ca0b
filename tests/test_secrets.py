"""Nothing secret on public endpoints or in logs (issue 17, points 5 and 6): /healthz says counts to anyone
and the full report to a monitor with the health token or an admin; /metrics hides private walls' names;
a URL is shown by its host alone; no value from outside can start a log line of its own."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

import aiohttp
import pytest

from ingest.sanitize import web_url
from tests.console_helpers import opened_store
from tests.helpers import HEALTH_AUTH, HEALTH_TOKEN_ENV, make_config, post, running_node
from tests.redis_server import free_port
from tests.test_processes import ENV, logged
from wall.redact import SafeFormatter, escape, redact_url, redact_urls

LOBBY_AUTH = {"Authorization": f"Bearer {ENV['LOBBY_TOKEN']}"}
SECRET = "s3cr3t-0123456789"  # in every hostile URL below: it must never come back out
# What an attacker would like the log to say on a line of its own.
FORGED = "2026-01-01 00:00:00,000 INFO wall.web.auth: login: root (admin) from 10.0.0.1"
HOSTILE = f"kiosk\n{FORGED}\r\x1b[2J\x1b[31m\u2028{FORGED}"


# --- the one redaction function, and the characters rule -------------------------------------------------

def test_a_url_is_shown_by_its_scheme_and_host_alone() -> None:
    assert redact_url(f"https://feeds.example.com/news.rss?access_token={SECRET}") == "https://feeds.example.com/…"
    assert redact_url(f"https://bob:{SECRET}@feeds.example.com:8443/rss") == "https://feeds.example.com:8443/…"
    assert redact_url(f"https://hooks.example.com/services/T0/B0/{SECRET}") == "https://hooks.example.com/…"
    assert redact_url("http://[::1]:8080/x#frag") == "http://[::1]:8080/…"
    assert redact_url("https://example.com") == "https://example.com"
    assert redact_url("http://[::1") == redact_url("no scheme at all") == "(an unreadable URL)"


def test_a_kiosk_keeps_its_wall_path_and_masks_every_query_value() -> None:
    shown = redact_url(f"http://wall:{SECRET}@server:8080/w/lobby?screen=1&key={SECRET}#x", keep_path=True)
    assert shown == "http://server:8080/w/lobby?screen=…&key=…"


def test_urls_inside_a_message_are_redacted_and_the_rest_is_kept() -> None:
    said = f"Cannot fetch url='https://api.example.com/v1/feed?token={SECRET}' (redis://:{SECRET}@db:6379/0)"
    assert redact_urls(said) == "Cannot fetch url='https://api.example.com/…' (redis://db:6379/…)"


@pytest.mark.parametrize("url", ["https://example.com/a\nb", "https://example.com/a\rb",
                                 "https://example.com/a b", "https://example.com/\x1b[2J", "https://example.com/a\tb",
                                 "https://example.com/a\u2028b", "javascript:alert(1)",
                                 "ftp://example.com/x", "https:///nohost", "http://example.com:port/", ""])
def test_urls_with_whitespace_control_characters_or_no_web_host_are_not_clean(url: str) -> None:
    assert web_url(url) is None


def test_an_ordinary_web_url_is_clean() -> None:
    for url in ("https://cdn.example.com/media/a%20b.jpg?w=600&h=400", "http://127.0.0.1:8080/demo/media/coffee.svg"):
        assert web_url(url) == url


def test_the_log_formatter_keeps_every_message_on_its_line() -> None:
    record = logging.LogRecord("wall.web.fleet", logging.INFO, __file__, 1, "kiosk %s at %s asks to pair",
                               (HOSTILE, f"https://x.example/?key={SECRET}"), None)
    line = SafeFormatter().format(record)
    assert "\n" not in line and "\r" not in line and "\x1b" not in line and "\u2028" not in line
    assert SECRET not in line and "https://x.example/…" in line
    assert escape("a\nb\x1b[0m") == "a\\nb\\x1b[0m"


# --- /healthz and /metrics: public counts, private detail ------------------------------------------------

async def healthz(s: aiohttp.ClientSession, base: str, **kw: object) -> dict:  # type: ignore[type-arg]
    async with s.get(f"{base}/healthz", **kw) as r:  # type: ignore[arg-type]
        assert r.status == 200
        return await r.json()  # type: ignore[no-any-return]


async def metrics(s: aiohttp.ClientSession, base: str, **kw: object) -> str:
    async with s.get(f"{base}/metrics", **kw) as r:  # type: ignore[arg-type]
        assert r.status == 200
        return await r.text()


async def test_healthz_tells_strangers_counts_and_a_monitor_or_an_admin_the_detail() -> None:
    cfg = make_config(walls=("lobby", "boardroom"), private=("boardroom",))
    async with opened_store(cfg.store.url) as store:
        root = next(u for u in await store.users.list() if u.username == "root")
        ana = next(u for u in await store.users.list() if u.username == "ana")
        admin_cookie, _ = await store.sessions.create(root.id)
        curator_cookie, _ = await store.sessions.create(ana.id)
    async with running_node(cfg) as base, aiohttp.ClientSession() as s:
        assert (await post(s, base, {"id": "m1", "text": "hello"}, wall="boardroom"))[0] == 202
        public = await healthz(s, base)
        assert public["status"] in ("ok", "degraded") and public["bus"] == {"connected": True}
        assert public["counts"]["walls"] == 2 and isinstance(public["counts"]["problems"], int)
        assert "boardroom" not in str(public) and "lobby" not in str(public) and "problems" not in public

        for who in ({"headers": HEALTH_AUTH}, {"cookies": {"wall_session": admin_cookie}}):
            detail = await healthz(s, base, **who)
            assert set(detail["walls"]) == {"lobby", "boardroom"} and isinstance(detail["problems"], list)
        # Neither a wrong token nor a curator's session is enough.
        for who in ({"headers": {"Authorization": "Bearer wrong"}},
                    {"cookies": {"wall_session": curator_cookie}}):
            assert "boardroom" not in str(await healthz(s, base, **who))

        shown = await metrics(s, base)
        assert 'wall="lobby"' in shown and "boardroom" not in shown
        assert 'wall_webhook_posts_total{outcome="new",wall="(private)"} 1.0' in shown
        trusted = await metrics(s, base, headers=HEALTH_AUTH)
        assert 'wall_webhook_posts_total{outcome="new",wall="boardroom"} 1.0' in trusted


async def test_several_private_walls_add_up_under_one_label() -> None:
    cfg = make_config(walls=("lobby", "board", "finance"), private=("board", "finance"))
    async with running_node(cfg) as base, aiohttp.ClientSession() as s:
        for wall in ("board", "finance", "finance"):
            assert (await post(s, base, {"id": f"p-{wall}-{free_port()}", "text": "hi"}, wall=wall))[0] == 202
        shown = await metrics(s, base)
        assert 'wall_webhook_posts_total{outcome="new",wall="(private)"} 3.0' in shown
        assert "board" not in shown and "finance" not in shown


# --- hostile values through each path, read from the log ------------------------------------------------

async def test_webhook_urls_with_line_breaks_or_escapes_are_refused_naming_the_field() -> None:
    async with running_node(make_config()) as base, aiohttp.ClientSession() as s:
        for body, field in (
            ({"id": "1", "text": "hi", "media": [{"url": f"https://cdn.example.com/a.jpg\n{FORGED}"}]},
             "$.media[0].url"),
            ({"id": "2", "text": "hi", "url": "https://example.com/\r\nSet-Cookie: x=1"}, "$.url"),
            ({"id": "3", "text": "hi", "author": {"avatar_url": "https://example.com/\x1b[2Ja.png"}},
             "$.author.avatar_url"),
            ({"id": "4", "text": "hi", "media": [{"url": "/demo/media/a b.svg"}]}, "$.media[0].url"),
        ):
            status, reply = await post(s, base, body)
            assert status == 422 and reply["error"].startswith(f"{field}: only http(s) URLs"), reply
        assert (await post(s, base, {"id": "5", "text": "line one\nline two",
                                     "media": [{"url": "https://cdn.example.com/ok.jpg"}]}))[0] == 202


CONFIG = """
[web]
secure_cookies = false
health_token_env = "{health_env}"
[store]
url = "sqlite+aiosqlite:///{tmp}/wall.db"
[walls.lobby]
title = "Lobby"
token_env = "LOBBY_TOKEN"
[[walls.lobby.sources]]
type = "webhook"
[walls.boardroom]
title = "Board room"
private = true
[sources.news]
type = "rss"
walls = ["boardroom"]
feeds = ["{feed}"]
"""


@pytest.mark.timeout(60)
async def test_a_real_server_logs_hostile_values_on_their_own_line_and_no_secret(tmp_path: Path) -> None:
    # A feed behind a dead port, its URL carrying a token, a password and a secret path.
    feed = f"http://reader:{SECRET}@127.0.0.1:{free_port()}/feeds/{SECRET}/rss?access_token={SECRET}"
    config = tmp_path / "wall.toml"
    config.write_text(CONFIG.format(tmp=tmp_path, feed=feed, health_env=HEALTH_TOKEN_ENV))
    port = free_port()
    log_path = tmp_path / "serve.log"
    proc = logged(log_path, "serve", "--config", str(config), "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as s:
            async with asyncio.timeout(30):
                while True:
                    try:
                        if (await healthz(s, base))["bus"]["connected"]:
                            break
                    except aiohttp.ClientConnectionError:
                        assert proc.poll() is None, log_path.read_text()
                        await asyncio.sleep(0.1)
            # No login needed: a kiosk asks to pair with a hostname that tries to forge a line.
            async with s.post(f"{base}/api/v1/kiosks/enroll", json={"hostname": HOSTILE}) as r:
                assert r.status == 201, await r.text()
            hostile = {"id": "x", "text": "hi", "media": [{"url": f"https://a.example/\n{FORGED}"}]}
            assert (await post(s, base, hostile, headers=LOBBY_AUTH))[0] == 422

            async with asyncio.timeout(30):  # the feed fails at once; its health record follows
                while True:
                    detail = await healthz(s, base, headers=HEALTH_AUTH)
                    sources = detail["walls"]["boardroom"]["sources"]
                    said = log_path.read_text()
                    if sources and sources[0]["state"] == "failing" and "asks to pair" in said \
                            and "source news failed" in said:
                        break
                    await asyncio.sleep(0.1)
            assert "127.0.0.1" in sources[0]["error"] and SECRET not in str(detail)
            public = await healthz(s, base)
            assert public["status"] == "degraded" and public["counts"]["sources"] == {"failing": 1}
            assert not any(word in str(public) for word in ("boardroom", "news", "127.0.0.1", "kiosk"))
            shown = await metrics(s, base)
            assert "boardroom" not in shown and SECRET not in shown
    finally:
        proc.send_signal(signal.SIGINT)  # at once: a SIGTERM'd node drains 5 s first
        proc.wait(30)
    said = log_path.read_text()
    assert SECRET not in said
    assert "\x1b" not in said and "\r" not in said and "\u2028" not in said
    lines = said.splitlines()
    pairing = [line for line in lines if "asks to pair" in line]
    assert len(pairing) == 1 and pairing[0].count("login: root") == 2  # both copies stayed inside it
    assert not any(line.startswith(FORGED) for line in lines)
    assert any("source news failed" in line and "http://127.0.0.1:" in line for line in lines)
