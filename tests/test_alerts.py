"""Alerts where the team is (docs/alerts.md): a real node finds what is wrong with a wall and delivers it to
local servers standing in for Slack, Teams and a webhook receiver, over real HTTP; the outbox in a real
store dedupes, rate-limits and keeps each delivery's state, which admins read on the console's page."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from playwright.async_api import Browser as PlaywrightBrowser

from tests.console_helpers import Browser, opened_store
from tests.fakes.server import start
from tests.helpers import ARTIFACTS, HMAC_SECRET, TOKEN, eventually, post, serving, temp_store_url
from tests.postgres_server import PostgresServer
from tests.test_store_contract import postgres  # noqa: F401  (the session's PostgreSQL fixture)
from wall.alerts.detect import Alert
from wall.alerts.job import AlertJob
from wall.app import ALL, SERVE, create_app, parse_config
from wall.bus.base import Commit, release, writer_lease
from wall.bus.memory import MemoryEngine
from wall.config import Config, ConfigError
from wall.curate.stats import counts_for
from wall.health import SourceHealth
from wall.models import Author, Post, encode
from wall.store import connect
from wall.web.keys import HEALTH, STORE

SLACK_URL_ENV, TEAMS_URL_ENV, HOOK_URL_ENV, HOOK_KEY_ENV = "SLACK_URL", "TEAMS_URL", "HOOK_URL", "HOOK_KEY"
HOOK_KEY = "alert-key-9f3c1e7a5b2d4068c1e9a7f35b2d8e04"


# --- local servers standing in for Slack, Teams and a webhook receiver ----------------------------------

@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receivers:
    """One server; /slack/<token>, /teams/<token>, /hook/<token> each record what came. `answers[path]`:
    the statuses it answers first (503 says "busy, try later", others "no_service"), then it accepts."""

    base: str = ""
    got: list[Received] = field(default_factory=list)
    answers: dict[str, list[int]] = field(default_factory=dict)

    def at(self, kind: str) -> list[Received]:
        return [r for r in self.got if r.path.startswith(f"/{kind}/")]

    async def handle(self, request: web.Request) -> web.Response:
        self.got.append(Received(request.path, dict(request.headers), await request.read()))
        if self.answers.get(request.path):
            status = self.answers[request.path].pop(0)
            if status == 429:  # Slack's rate limit says when to come back
                return web.Response(status=429, text="rate_limited", headers={"Retry-After": "30"})
            return web.Response(status=status, text="busy, try later" if status == 503 else "no_service")
        return web.Response(status=202 if request.path.startswith("/teams/") else 200, text="ok")


@asynccontextmanager
async def receivers() -> AsyncIterator[Receivers]:
    found = Receivers()
    app = web.Application()
    app.router.add_post("/{kind}/{token}", found.handle)
    running = await start(app)
    found.base = running.http
    try:
        yield found
    finally:
        await running.stop()


def config(rx: Receivers, engine: str = "memory", **alerts: Any) -> Config:
    """A wall "lobby" that takes webhooks and sends its alerts to Slack, Teams and a signed webhook; the
    URLs carry tokens, so they come from the environment."""
    targets = alerts.pop("targets", {
        "team-slack": {"type": "slack", "url_env": SLACK_URL_ENV},
        "team-teams": {"type": "teams", "url_env": TEAMS_URL_ENV},
        "ops-hook": {"type": "webhook", "url_env": HOOK_URL_ENV, "secret_env": HOOK_KEY_ENV},
    })
    data = {
        "bus": {"engine": engine}, "store": {"url": temp_store_url()}, "web": {"secure_cookies": False},
        "stats_interval": 0.5,
        "walls": {"lobby": {"title": "Lobby", "token_env": "T", "hmac_secret_env": "H",
                            "sources": [{"type": "webhook"}], "alerts": {"targets": targets, **alerts}}},
    }
    return parse_config(data, env={
        "T": TOKEN, "H": HMAC_SECRET, SLACK_URL_ENV: f"{rx.base}/slack/T000-B000-XXXX",
        TEAMS_URL_ENV: f"{rx.base}/teams/workflow-sig-1234", HOOK_URL_ENV: f"{rx.base}/hook/ops",
        HOOK_KEY_ENV: HOOK_KEY})


def job_of(app: web.Application) -> AlertJob:
    return next(p for p in app[HEALTH] if isinstance(p, AlertJob))


def verify(secret: str, received: Received, tolerance: float = 300) -> bool:
    """What a receiver does (docs/alerts.md): HMAC-SHA256 of "<timestamp>.<raw body>", compared in
    constant time, and a timestamp within five minutes (no replays)."""
    stamp = received.headers["X-Wall-Timestamp"]
    expected = hmac.new(secret.encode(), stamp.encode() + b"." + received.body, hashlib.sha256).hexdigest()
    given = received.headers["X-Wall-Signature"].removeprefix("sha256=")
    return hmac.compare_digest(expected, given) and abs(time.time() - int(stamp)) < tolerance


# --- spikes, only with history ----------------------------------------------------------------------------

def history_post(i: int) -> Post:
    return Post(id=f"h{i}", source="webhook", source_id=f"h{i}", text="earlier",
                created_at=datetime.now(UTC), author=Author(handle=f"u{i}"))


async def steady_history(engine: MemoryEngine, minutes: int, per_minute: int = 4) -> None:
    """What an earlier writer committed: `per_minute` posts in each of the last `minutes` minutes."""
    token = await engine.lease(writer_lease("lobby"), "earlier-writer", ttl=30)
    assert token
    entry = await engine.enqueue("lobby", b"{}")
    now_minute = int(time.time() // 60)
    for i in range(minutes * per_minute):
        p = history_post(i)
        minute = now_minute - minutes + i // per_minute
        await engine.commit("lobby", "earlier-writer", token,
                            Commit(entry, shown=(p.id,), counts=((p.id, counts_for(p)),), minute=minute))
    await release(engine, writer_lease("lobby"), "earlier-writer")


async def burst(base: str, n: int = 30) -> None:
    async with aiohttp.ClientSession() as http:
        for i in range(n):
            status, _ = await post(http, base, {"id": f"b{i}", "text": f"hello from the hall, number {i}",
                                                "author": {"handle": f"guest{i}"}})
            assert status in (200, 202)


async def burst_counted(engine: MemoryEngine, n: int) -> float:
    """Wait until the wall's announced figures count the burst in the last minute; when that was."""
    async def seen() -> bool:
        raw = await engine.announced("lobby")
        stats = json.loads(raw) if raw else {}
        return sum(stats.get("volume", [])[-2:]) >= n
    await eventually(seen, timeout=60)
    return time.time()


async def test_a_wall_with_a_steady_history_and_a_burst_sends_one_spike_to_slack_teams_and_the_webhook():
    async with receivers() as rx:
        engine = MemoryEngine()
        await steady_history(engine, minutes=40)
        app = create_app(config(rx), ALL, engine=engine)
        async with serving(app) as base:
            await burst(base)
            await eventually(lambda: len(rx.got) >= 3, timeout=60)
            await burst_counted(engine, 30)
            job = job_of(app)
            looked = job.status.last_look_at or 0.0
            await eventually(lambda: (job.status.last_look_at or 0.0) > looked + 1, timeout=30)
        await engine.close()
    assert len(rx.got) == 3  # one each: later looks find the same spike, deduplicated

    slack = rx.at("slack")[0].json()
    assert set(slack) == {"text", "blocks"} and slack["text"].startswith("Spike on Lobby: ")
    assert [b["type"] for b in slack["blocks"]] == ["header", "section", "section", "context"]
    assert slack["blocks"][0]["text"] == {"type": "plain_text", "text": "Spike on Lobby", "emoji": False}
    assert "posts this minute (usually 4)" in slack["blocks"][1]["text"]["text"]
    assert all(f["type"] == "plain_text" for f in slack["blocks"][2]["fields"])  # nothing can @channel

    teams = rx.at("teams")[0].json()
    assert teams["type"] == "message" and len(teams["attachments"]) == 1
    attachment = teams["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert [b["type"] for b in card["body"]] == ["TextBlock", "TextBlock", "FactSet", "TextBlock"]
    assert card["body"][0]["text"] == "Spike on Lobby"
    assert {f["title"] for f in card["body"][2]["facts"]} >= {"Posts this minute", "Usually"}

    hook = rx.at("hook")[0]
    assert verify(HOOK_KEY, hook)
    assert not verify("some-other-key-0000000000000000000000", hook)
    sent = hook.json()
    assert (sent["type"], sent["kind"], sent["key"], sent["wall"]) == ("wall.alert", "spike", "spike:volume",
                                                                      "lobby")
    assert hook.headers["X-Wall-Delivery"] == str(sent["delivery"])


async def test_a_new_wall_with_a_burst_in_its_first_minute_sends_nothing():
    """The issue's "Spike: 22 posts this minute (usually 0)": no history, no spike, no alert."""
    async with receivers() as rx:
        engine = MemoryEngine()
        app = create_app(config(rx), ALL, engine=engine)
        async with serving(app) as base:
            await burst(base)
            counted = await burst_counted(engine, 30)
            job = job_of(app)
            await eventually(lambda: (job.status.last_look_at or 0.0) > counted, timeout=30)  # it looked
            stats = json.loads(await engine.announced("lobby") or b"{}")
            assert stats["alerts"] == []
            assert await app[STORE].alerts.recent() == []
        await engine.close()
    assert rx.got == []


async def test_after_a_restart_the_roll_ups_are_the_history_a_spike_needs():
    """The bus forgot (a new memory engine, a flushed Redis); the roll-ups in the store remember the wall
    from yesterday: the writer reads where they start, so a burst is a spike again."""
    async with receivers() as rx:
        cfg = config(rx, targets={"team-slack": {"type": "slack", "url_env": SLACK_URL_ENV}})
        engine = MemoryEngine()
        async with opened_store(cfg.store.url) as store:
            yesterday = int(time.time() // 60) - 24 * 60
            await store.rollups.replace("lobby", 1, {yesterday + i: {"posts": 4} for i in range(60)})
            app = create_app(cfg, ALL, engine=engine, store=store)
            async with serving(app) as base:
                await burst(base)
                try:
                    [slack] = await eventually(lambda: rx.at("slack"), timeout=60)
                except TimeoutError:  # say what the wall's figures and the job were at
                    pytest.fail(f"no spike sent: figures {await engine.announced('lobby')!r}, job "
                                f"{job_of(app).status}, at {time.time()}")
        await engine.close()
    assert slack.json()["blocks"][0]["text"]["text"] == "Spike on Lobby"


# --- a source down, no writer, a kiosk offline: each once --------------------------------------------------

async def test_a_failing_source_a_wall_without_writer_and_a_silent_kiosk_are_each_sent_once_by_one_node():
    async with receivers() as rx:
        cfg = config(rx, writer_down_after=1, source_down_after=1, targets={
            "ops-hook": {"type": "webhook", "url_env": HOOK_URL_ENV, "secret_env": HOOK_KEY_ENV}})
        engine = MemoryEngine()
        async with opened_store(cfg.store.url) as store:
            _, enrollment = await store.kiosks.enroll("pi-lobby", "10.0.0.7", ttl=900)
            kiosk = await store.kiosks.approve(enrollment.code, "lobby", 1, 2, "root", name="Lobby left")
            await store.kiosks.report(kiosk.id, {}, now=time.time() - 600)  # silent for ten minutes
            now = time.time()
            await engine.put_health("rss-news", encode(SourceHealth(
                "rss-news", ("lobby",), "failing", "HTTP 500 from https://news.example/…", 0, 0, None, None,
                now + 30, "node-x", now)))
            # Two web nodes, and nobody curates: one of them (the alerts lease) sends.
            apps = [create_app(cfg, SERVE, engine=engine, store=store) for _ in range(2)]
            async with serving(apps[0]), serving(apps[1]):
                await eventually(lambda: len(rx.got) >= 3, timeout=60)
                [job] = [j for j in map(job_of, apps) if j.status.leading]
                looked = job.status.last_look_at or 0.0
                await eventually(lambda: (job.status.last_look_at or 0.0) > looked + 1, timeout=30)
                deliveries = await store.alerts.recent()
        await engine.close()
    keys = sorted(r.json()["key"] for r in rx.got)
    assert keys == sorted(["writer_down", "source_down:rss-news", f"kiosk_offline:{kiosk.id}"])
    assert all(verify(HOOK_KEY, r) for r in rx.got)
    assert sorted((d.key, d.state, d.attempts) for d in deliveries) == sorted(
        (k, "sent", 1) for k in keys)
    texts = {r.json()["key"]: r.json()["text"] for r in rx.got}
    assert "Lobby left" in texts[f"kiosk_offline:{kiosk.id}"]
    assert "news.example/…" in texts["source_down:rss-news"]  # the source's error, its URL redacted


# --- retries, dedupe, rate limit, the console -------------------------------------------------------------

async def test_a_receiver_that_fails_twice_then_accepts_gets_one_delivery_and_the_console_shows_it():
    async with receivers() as rx:
        rx.answers["/hook/ops"] = [503, 503]
        cfg = config(rx)
        async with opened_store(cfg.store.url) as store:
            app = create_app(cfg, ALL, store=store)
            async with serving(app) as base, Browser(base) as admin:
                await admin.login("root")
                page = await (await admin.http.get(f"{base}/console/alerts")).text()
                # Targets by name, type and host: the URL's token is never on the page.
                assert "ops-hook" in page and "team-slack" in page and "T000-B000-XXXX" not in page
                assert "workflow-sig-1234" not in page and "/hook/ops" not in page
                r = await admin.post("/console/alerts/test", form={"wall": "lobby", "target": "ops-hook"})
                assert r.status == 303
                assert r.headers["Location"] == "/console/alerts?wall=lobby&queued=ops-hook"
                shown = await (await admin.http.get(f"{base}{r.headers['Location']}")).text()
                assert "A test alert is queued for ops-hook" in shown

                async def settled() -> list[Any]:
                    found = await store.alerts.recent(["lobby"])
                    return [d for d in found if d.state != "pending"]
                [delivery] = await eventually(settled, timeout=60)
                page = await (await admin.http.get(f"{base}/console/alerts?wall=lobby")).text()
                curator = Browser(base)
                async with curator:
                    await curator.login("ana")
                    refused = await curator.http.get(f"{base}/console/alerts", allow_redirects=False)
                    assert refused.status in (403, 303)
    assert (delivery.state, delivery.attempts, delivery.error) == ("sent", 3, None)
    hooks = rx.at("hook")
    assert len(hooks) == 3 and [r.headers["X-Wall-Delivery"] for r in hooks] == [str(delivery.id)] * 3
    assert all(verify(HOOK_KEY, r) for r in hooks)
    assert f'data-id="{delivery.id}" data-state="sent"' in page
    assert "Test alert for Lobby" in page


async def test_a_target_that_refuses_fails_at_once_with_why_and_a_busy_one_is_tried_again_later():
    """404: gone for good; 503: again after the backoff; 429 with Retry-After: again when it says."""
    async with receivers() as rx:
        cfg = config(rx)
        engine = MemoryEngine()
        async with opened_store(cfg.store.url) as store:
            job = AlertJob(cfg, engine, store, "node-a")
            alert = Alert("test", "test:1", "lobby", "Lobby", "Test", "a test", time.time())
            queued = await job.queue(cfg.walls["lobby"], alert)
            assert sorted(d.target for d in queued) == ["ops-hook", "team-slack", "team-teams"]
            rx.answers["/slack/T000-B000-XXXX"] = [404]  # a Slack app removed: it will not come back
            rx.answers["/teams/workflow-sig-1234"] = [503]
            rx.answers["/hook/ops"] = [429]
            async with aiohttp.ClientSession() as session:
                before = time.time()
                assert await job.send_due(session) == 3
                after = time.time()
            found = {d.target: d for d in await store.alerts.recent()}
        await engine.close()
    slack, teams, hook = found["team-slack"], found["team-teams"], found["ops-hook"]
    assert (slack.state, slack.attempts) == ("failed", 1)
    assert slack.error == f"{rx.base}/… answered HTTP 404: no_service"  # by its host: the URL is a secret
    assert (teams.state, teams.attempts, teams.error) == ("pending", 1,
                                                          f"{rx.base}/… answered HTTP 503: busy, try later")
    assert before + 1 <= teams.next_at <= after + 2  # 2 s after the attempt, less its jitter
    assert (hook.state, hook.attempts) == ("pending", 1) and "HTTP 429: rate_limited" in str(hook.error)
    assert before + 30 <= hook.next_at <= after + 30  # when it asked, not the backoff's 2 s


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/wall.db"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database(f"wall_alerts_{next(databases)}")


databases = itertools.count()


async def test_the_outbox_sends_the_same_alert_once_per_window_and_holds_back_past_the_rate(store_url: str):
    async with connect(store_url) as store:
        outbox = store.alerts
        body = {"title": "Spike on Lobby"}

        async def queue(key: str, at: float, target: str = "slack") -> Any:
            return await outbox.queue("lobby", target, key, "spike", body, dedupe=1800, per_hour=3, now=at)

        first = await queue("spike:volume", 1000.0)
        assert first is not None and first.state == "pending"
        assert await queue("spike:volume", 1000.0 + 1799) is None  # the same spike, within 30 minutes
        assert await queue("spike:volume", 1000.0, target="teams") is not None  # another target: its own
        assert (await queue("spike:volume", 1000.0 + 1801)).state == "pending"  # a reminder, later
        assert (await queue("spike:negative", 2900.0)).state == "pending"  # the third this hour
        held = await queue("writer_down", 2950.0)
        assert held.state == "failed" and held.attempts == 0
        assert held.error == "rate limit: 3 deliveries an hour to this target; not sent"
        assert await queue("writer_down", 2960.0) is None  # held back once, not again each look
        assert (await queue("source_down:rss", 1000.0 + 3600 + 1801)).state == "pending"  # the hour moved on

        due = await outbox.due(now=3000.0)
        assert [d.key for d in due] == ["spike:volume", "spike:volume", "spike:volume", "spike:negative"]
        await outbox.retry(due[0].id, "HTTP 503", at=3100.0, now=3000.0)
        await outbox.sent(due[1].id, now=3000.0)
        await outbox.failed(due[2].id, "HTTP 404: no_service", now=3000.0)
        assert [d.id for d in await outbox.due(now=3050.0)] == [due[3].id]
        assert due[0].id in [d.id for d in await outbox.due(now=3100.0)]
        states = {d.id: (d.state, d.attempts, d.error) for d in await outbox.recent(["lobby"])}
        assert states[due[0].id] == ("pending", 1, "HTTP 503")
        assert states[due[1].id] == ("sent", 1, None)
        assert states[due[2].id] == ("failed", 1, "HTTP 404: no_service")
        assert await outbox.forget_before(10_000.0) == 3  # settled ones go by age; pending ones stay
        assert {d.state for d in await outbox.recent()} == {"pending"}


# --- config ----------------------------------------------------------------------------------------------

def alerts_table(targets: dict[str, Any], env: dict[str, str] | None = None, **more: Any) -> Config:
    return parse_config({"store": {"url": temp_store_url()}, "walls": {"lobby": {"alerts": {
        "targets": targets, **more}}}}, env=env or {})


def test_target_urls_come_from_the_environment_or_a_file_and_never_show(tmp_path: Path) -> None:
    secret_file = tmp_path / "teams-url"
    secret_file.write_text("https://prod-00.westeurope.logic.azure.com/workflows/abc/triggers?sig=s3cr3t\n")
    cfg = alerts_table({"slack": {"type": "slack", "url_env": "S", "kinds": ["spike"], "per_hour": 5},
                        "teams": {"type": "teams", "url_file": str(secret_file)}},
                       env={"S": "https://hooks.slack.com/services/T0/B0/tok3n"})
    slack, teams = cfg.walls["lobby"].alerts.targets
    assert (slack.url, slack.kinds, slack.per_hour) == ("https://hooks.slack.com/services/T0/B0/tok3n",
                                                        frozenset({"spike"}), 5)
    assert teams.url.endswith("sig=s3cr3t") and teams.kinds == frozenset(
        {"spike", "source_down", "writer_down", "kiosk_offline"})
    assert "tok3n" not in repr(slack) and "s3cr3t" not in repr(cfg)


def test_alert_config_mistakes_are_refused_with_the_key_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        alerts_table({
            "inline": {"type": "slack", "url": "https://hooks.slack.com/services/T0/B0/x"},
            "unset": {"type": "slack", "url_env": "NOT_SET"},
            "clear": {"type": "teams", "url_env": "PLAIN"},
            "unsigned": {"type": "webhook", "url_env": "OK"},
            "weak": {"type": "webhook", "url_env": "OK", "secret_env": "WEAK"},
            "nofile": {"type": "slack", "url_file": str(tmp_path / "missing")},
            "Bad Name": {"type": "slack", "url_env": "OK"},
            "chat": {"type": "discord", "url_env": "OK", "colour": "red"},
        }, env={"PLAIN": "http://teams.example/hook", "OK": "https://example.org/hook", "WEAK": "secret"},
            dedupe_minutes=0)
    problems = "\n".join(e.value.problems)
    t = "walls.lobby.alerts.targets"
    assert f"{t}.inline.url: a url here is a secret and is never written in the file" in problems
    assert f"{t}.unset.url_env: environment variable NOT_SET is not set" in problems
    assert f"{t}.clear.url: plain http would send its token in clear; use the https:// address" in problems
    assert f'{t}.unsigned.secret_env: missing; name the environment variable that holds it' in problems
    assert f"{t}.weak.secret: the key is too easy to guess" in problems
    assert f"{t}.nofile.url_file: cannot read {tmp_path / 'missing'}" in problems
    assert f"{t}.Bad Name: target names are lowercase letters" in problems
    assert f"{t}.chat.type: 'discord' is not allowed; use one of slack, teams, webhook" in problems
    assert f"{t}.chat.colour: unknown key" in problems
    assert "walls.lobby.alerts.dedupe_minutes: 0 is out of range" in problems
    assert "example.org/hook" not in problems and "http://teams.example" not in problems




@pytest.mark.timeout(300)
async def test_an_admin_sends_a_test_alert_from_the_alerts_page_in_chromium_and_sees_it_sent(
        browser: PlaywrightBrowser) -> None:
    async with receivers() as rx:
        rx.answers["/slack/T000-B000-XXXX"] = [503]
        cfg = config(rx)
        async with opened_store(cfg.store.url) as store:
            user = await store.users.get("root")
            assert user is not None
            cookie, _ = await store.sessions.create(user.id)
            async with serving(create_app(cfg, ALL, store=store)) as base:
                context = await browser.new_context(viewport={"width": 1280, "height": 800})
                await context.add_cookies([{"name": "wall_session", "value": cookie, "url": base}])
                page = await context.new_page()
                problems: list[str] = []
                page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e: problems.append(str(e)))
                await page.goto(f"{base}/console")
                await page.click("nav.bar-nav a[href='/console/alerts']")
                await page.locator("tr.alert-target[data-target=team-slack] button").click()
                await page.locator(".alerts-queued").wait_for()

                async def sent() -> bool:
                    await page.click("a.button:has-text('Refresh')")
                    row = page.locator("tr.alert-delivery").first
                    return await row.get_attribute("data-state") == "sent"
                await eventually(sent, timeout=60, every=0.5)
                row = page.locator("tr.alert-delivery").first
                assert (await row.locator(".attempts").text_content() or "").strip() == "2"
                assert "Test alert for Lobby" in (await row.text_content() or "")
                ARTIFACTS.mkdir(exist_ok=True)
                await page.screenshot(path=str(ARTIFACTS / "console-alerts.png"), full_page=True)
                await context.close()
    assert problems == []
    assert [r.path for r in rx.got] == ["/slack/T000-B000-XXXX"] * 2
