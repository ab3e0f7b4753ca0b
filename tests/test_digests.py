"""Digests by e-mail (docs/digests.md): IT points the wall at the company's relay, comms gets each wall's
figures of the day (or week) with the PDF report, once per period, whatever the nodes and restarts, and
an admin sees on the console what went and what failed, and why. Every mail goes to a real SMTP server
(aiosmtpd) over STARTTLS or TLS, with a login."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
import time
from datetime import date, datetime
from datetime import time as clocktime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser as ChromiumBrowser

from tests.console_helpers import PASSWORDS, Browser, console_app, opened_store
from tests.helpers import ARTIFACTS, HEALTH_AUTH, eventually, make_config, serving, temp_store_url
from tests.smtp_server import PASSWORD, USER, smtp_server
from wall.app import parse_config
from wall.bus.memory import MemoryEngine
from wall.config import Config, ConfigError
from wall.digests.compose import compose
from wall.digests.job import DigestJobs
from wall.digests.schedule import due, named, next_due
from wall.digests.settings import Digest, SmtpConfig
from wall.store import connect

ROOT = Path(__file__).resolve().parent.parent


def a_zone_near_noon() -> str:
    """A time zone where it is mid-day now, so a story's daily period cannot turn over while it runs."""
    now = time.time()
    return min((f"Etc/GMT{sign}{n}" for n in range(0, 13) for sign in "+-"),
               key=lambda z: abs(datetime.fromtimestamp(now, ZoneInfo(z)).hour - 12))


def smtp_for(port: int, ca: Path, **changes: Any) -> SmtpConfig:
    settings: dict[str, Any] = {"security": "starttls", "username": USER, "password": PASSWORD,
                                "sender": "Wall digests <wall@nordlys.example>", "timeout": 10.0,
                                "attempts": 4, "retry_after": 0.05, **changes}
    return SmtpConfig(host="127.0.0.1", port=port, ca_file=str(ca), **settings)


def with_digest(cfg: Config, smtp: SmtpConfig, tz: str, to: tuple[str, ...] = ("comms@nordlys.example",)
                ) -> Config:
    lobby = dataclasses.replace(cfg.walls["lobby"], title="Lobby of Nordlys",
                                digest=Digest(to=to, at=clocktime(0, 0), tz=tz))
    return dataclasses.replace(cfg, smtp=smtp, walls={"lobby": lobby})


def attachment(message: EmailMessage) -> tuple[str | None, bytes]:
    part = next(iter(message.iter_attachments()))
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return part.get_filename(), payload


# --- config: checked at load, each problem with its key and the fix -------------------------------------


def config(smtp: dict[str, Any] | None, digest: dict[str, Any] | None, env: dict[str, str] | None = None
           ) -> Config:
    data: dict[str, Any] = {"store": {"url": temp_store_url()},
                            "walls": {"lobby": {**({"digest": digest} if digest is not None else {})}}}
    if smtp is not None:
        data["smtp"] = smtp
    return parse_config(data, env=env or {})


def problems_of(smtp: dict[str, Any] | None, digest: dict[str, Any] | None,
                env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as e:
        config(smtp, digest, env)
    return "\n".join(e.value.problems)


def test_the_smtp_section_and_a_walls_digest_table_load_typed(tmp_path: Path) -> None:
    secret = tmp_path / "smtp-password"
    secret.write_text("from a file 1234\n")
    cfg = config({"host": "smtp.nordlys.example", "username": "wall", "password_env": "SMTP_PASSWORD",
                  "from": "Wall <wall@nordlys.example>"},
                 {"to": ["comms@nordlys.example", "Aino <aino@nordlys.example>"], "every": "weekly",
                  "at": "07:30", "tz": "Europe/Helsinki", "day": "friday"},
                 env={"SMTP_PASSWORD": "s3cret pass"})
    assert cfg.smtp is not None and cfg.smtp.password == "s3cret pass" and cfg.smtp.port_or_default == 587
    assert cfg.smtp.sender == "Wall <wall@nordlys.example>" and cfg.smtp.security == "starttls"
    assert cfg.walls["lobby"].digest == Digest(to=("comms@nordlys.example", "Aino <aino@nordlys.example>"),
                                               every="weekly", at=clocktime(7, 30), tz="Europe/Helsinki",
                                               weekday=4)
    from_file = config({"host": "localhost", "security": "tls", "username": "wall",
                        "password_file": str(secret), "from": "wall@nordlys.example"}, None)
    assert from_file.smtp is not None and from_file.smtp.password == "from a file 1234"
    assert from_file.smtp.port_or_default == 465 and from_file.walls["lobby"].digest is None


def test_a_config_mistake_is_refused_at_load_naming_the_key_and_the_fix(tmp_path: Path) -> None:
    said = problems_of({"host": "smtp.nordlys.example", "security": "none", "from": "wall@nordlys.example"},
                       {"to": ["comms@nordlys.example"]})
    assert 'smtp.security: "none" sends the password and the digests in clear text' in said
    said = problems_of({"host": "smtp.nordlys.example", "username": "wall", "password": "in the file",
                        "password_env": "NOT_SET", "from": "nobody"},
                       {"to": ["not an address", "x@y.z\nBcc: spy@evil.example"], "at": "8am",
                        "tz": "Mars/Olympus", "every": "hourly", "day": "caturday"})
    assert "smtp.password: a secret is never written in the file" in said
    assert "smtp.password_env: environment variable NOT_SET is not set" in said
    assert 'smtp.from: name the sender, e.g. from = "Wall digests <wall@example.com>"' in said
    assert "walls.lobby.digest.every: 'hourly' is not allowed; use one of daily, weekly" in said
    said = problems_of(None, {"to": ["not an address", "x@y.z\nBcc: spy@evil.example"], "at": "8am",
                              "tz": "Mars/Olympus", "day": "caturday"})
    for line in ("walls.lobby.digest.to[0]: 'not an address' is not an e-mail address",
                 "walls.lobby.digest.to[1]:",
                 'walls.lobby.digest.at: \'8am\' is not a time of day; write "HH:MM"',
                 "walls.lobby.digest.tz: 'Mars/Olympus' is not a time zone",
                 "walls.lobby.digest.day: 'caturday' is not a day"):
        assert line in said, line
    said = problems_of(None, {"to": ["comms@nordlys.example"]})
    assert "walls.lobby.digest: digests need an [smtp] section" in said
    said = problems_of({"host": "localhost", "fron": "wall@nordlys.example"}, None)
    assert "smtp.fron: unknown key; did you mean 'from'?" in said
    said = problems_of({"host": "smtp.nordlys.example", "from": "wall@nordlys.example",
                        "password_file": str(tmp_path / "missing"), "ca_file": str(tmp_path / "no-ca.pem")},
                       None)
    assert "smtp.password_file: cannot read" in said
    assert "smtp.username: a password is set but no username" in said
    assert "smtp.ca_file: no file" in said


# --- schedule: a local day (or week), leaving the next morning ------------------------------------------


def local(tz: str, *args: int) -> float:
    return datetime(*args, tzinfo=ZoneInfo(tz)).timestamp()  # type: ignore[misc]


def test_a_daily_digest_covers_the_local_day_before_and_leaves_at_its_time() -> None:
    hki = "Europe/Helsinki"
    daily = Digest(to=("comms@nordlys.example",), at=clocktime(8, 0), tz=hki)
    period, at = due(daily, local(hki, 2026, 12, 7, 7, 59))  # Monday, before 08:00: Saturday's digest
    assert (period.key, period.first) == ("daily:2026-12-05", date(2026, 12, 5))
    assert at == local(hki, 2026, 12, 6, 8)
    period, at = due(daily, local(hki, 2026, 12, 7, 8, 0))
    assert period.key == "daily:2026-12-06" and at == local(hki, 2026, 12, 7, 8)
    assert (period.start, period.end) == (local(hki, 2026, 12, 6), local(hki, 2026, 12, 7))
    assert next_due(daily, local(hki, 2026, 12, 7, 9)) == local(hki, 2026, 12, 8, 8)
    autumn, _ = due(daily, local(hki, 2026, 10, 26, 9))  # clocks went back on the 25th: a 25-hour day
    assert autumn.key == "daily:2026-10-25" and autumn.end - autumn.start == 25 * 3600


def test_a_weekly_digest_covers_the_seven_days_before_its_day() -> None:
    hki = "Europe/Helsinki"
    weekly = Digest(to=("comms@nordlys.example",), every="weekly", at=clocktime(8, 0), tz=hki, weekday=0)
    for now in (local(hki, 2026, 12, 6, 12), local(hki, 2026, 12, 7, 7, 59)):  # Sunday; Monday, before 08:00
        period, at = due(weekly, now)
        assert (period.key, period.first, period.last) == ("weekly:2026-11-23", date(2026, 11, 23),
                                                          date(2026, 11, 29))
        assert at == local(hki, 2026, 11, 30, 8)
    period, _ = due(weekly, local(hki, 2026, 12, 7, 8))
    assert (period.first, period.last) == (date(2026, 11, 30), date(2026, 12, 6))
    assert period.end - period.start == 7 * 86400
    assert next_due(weekly, local(hki, 2026, 12, 7, 8)) == local(hki, 2026, 12, 14, 8)


def test_a_person_names_a_period_on_the_command_line() -> None:
    now = local("UTC", 2026, 12, 7, 10)
    assert named("yesterday", "UTC", now).first == date(2026, 12, 6)
    assert named("today", "UTC", now).label == "2026-12-07"
    week = named("last-week", "UTC", now)
    assert (week.first, week.last) == (date(2026, 11, 30), date(2026, 12, 6))
    event = named("2026-12-01..2026-12-03", "Europe/Helsinki", now)
    assert event.label == "2026-12-01 to 2026-12-03" and event.end - event.start == 3 * 86400
    for bad in ("tomorrow", "2026-12-03..2026-12-01", "2026-02-30", ""):
        with pytest.raises(ValueError, match="is not a period; use yesterday"):
            named(bad, "UTC", now)


# --- delivery -------------------------------------------------------------------------------------------


async def test_wall_digest_send_mails_the_figures_and_the_pdf_over_starttls_with_a_password_from_the_env(
    tmp_path: Path,
) -> None:
    async with smtp_server(tmp_path / "tls") as (port, box, ca):
        store_url = temp_store_url()
        path = tmp_path / "wall.toml"
        path.write_text(f"""
[store]
url = "{store_url}"

[smtp]
host = "127.0.0.1"
port = {port}
security = "starttls"
username = "{USER}"
password_env = "WALL_SMTP_PASSWORD"
from = "Wall digests <wall@nordlys.example>"
ca_file = "{ca}"
retry_after = 0.1

[walls.lobby]
title = "Lobby of Nordlys"

[walls.lobby.digest]
to = ["comms@nordlys.example", "Aino <aino@nordlys.example>"]
tz = "Europe/Helsinki"
""")
        env = {**os.environ, "WALL_SMTP_PASSWORD": PASSWORD}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "wall", "digest", "send", "--config", str(path), "--wall", "lobby",
            "--period", "yesterday", env=env, cwd=ROOT, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
        assert "sent to comms@nordlys.example, Aino <aino@nordlys.example>" in out.decode()
        assert PASSWORD not in out.decode() + err.decode()

        # A period it cannot read is bad input: exit 2, the forms it takes, nothing sent.
        wrong = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "wall", "digest", "send", "--config", str(path), "--wall", "lobby",
            "--period", "next-tuesday", env=env, cwd=ROOT, stderr=asyncio.subprocess.PIPE)
        _, err = await wrong.communicate()
        assert wrong.returncode == 2
        assert "--period: 'next-tuesday' is not a period; use yesterday, today, last-week" in err.decode()

    assert box.logins == [USER] and box.tls_sessions == 1  # logged in, over TLS
    assert box.envelopes == [("wall@nordlys.example", ["comms@nordlys.example", "aino@nordlys.example"])]
    [mail] = box.messages
    yesterday = named("yesterday", "Europe/Helsinki", time.time())
    assert mail["Subject"] == f"Digest: Lobby of Nordlys, {yesterday.label}"
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text is not None and html is not None
    assert "Posts: 0" in text.get_content() and "<th scope=\"row\"" in html.get_content()
    name, pdf = attachment(mail)
    assert name == f"lobby-{yesterday.first}.pdf" and pdf.startswith(b"%PDF")
    (tmp_path / "digest.pdf").write_bytes(pdf)
    read = await asyncio.create_subprocess_exec("pdftotext", str(tmp_path / "digest.pdf"), "-",
                                                stdout=asyncio.subprocess.PIPE)
    assert "Lobby of Nordlys" in (await read.communicate())[0].decode()

    async with connect(store_url) as store:
        [sent] = await store.digests.recent()
    assert (sent.state, sent.attempts, sent.recipients, sent.by) == ("sent", 1, 2, "cli:send")
    assert sent.period.startswith(f"range:{yesterday.first}..{yesterday.last}@")


async def test_over_tls_from_the_first_byte_too(tmp_path: Path) -> None:
    async with smtp_server(tmp_path, implicit_tls=True) as (port, box, ca), \
            connect(temp_store_url()) as store:
        cfg = with_digest(make_config(), smtp_for(port, ca, security="tls"), a_zone_near_noon())
        assert cfg.smtp is not None
        async with DigestJobs(cfg.walls.values(), cfg.smtp, MemoryEngine(), store, "node-a", compose):
            await eventually(lambda: box.messages)
    assert box.logins == [USER] and box.tls_sessions == 1
    assert attachment(box.messages[0])[1].startswith(b"%PDF")


async def test_a_relay_that_refuses_twice_then_accepts_gets_the_digest_once(tmp_path: Path) -> None:
    async with smtp_server(tmp_path) as (port, box, ca), connect(temp_store_url()) as store:
        box.refuse = 2  # 451: try again later
        cfg = with_digest(make_config(), smtp_for(port, ca), a_zone_near_noon())
        assert cfg.smtp is not None
        async with DigestJobs(cfg.walls.values(), cfg.smtp, MemoryEngine(), store, "node-a",
                              compose) as jobs:
            job = jobs.jobs[0]
            await eventually(lambda: job.status.state == "sent")
            [delivery] = await store.digests.recent()
            assert (delivery.state, delivery.attempts, delivery.error) == ("sent", 3, None)
            assert box.refused == 2 and len(box.messages) == 1
            await job.run_once()  # the job looks again: the store says it went
            assert len(box.messages) == 1 and job.status.state == "sent"


async def test_two_schedulers_send_each_digest_once_and_a_restart_sends_it_no_more(tmp_path: Path) -> None:
    async with smtp_server(tmp_path) as (port, box, ca), connect(temp_store_url()) as store:
        cfg = with_digest(make_config(), smtp_for(port, ca), a_zone_near_noon())
        assert cfg.smtp is not None
        # Each on a bus of its own, so both hold "the" lease: the claim in the store is what decides.
        a = DigestJobs(cfg.walls.values(), cfg.smtp, MemoryEngine(), store, "node-a", compose)
        b = DigestJobs(cfg.walls.values(), cfg.smtp, MemoryEngine(), store, "node-b", compose)
        async with a, b:
            states = lambda: {a.jobs[0].status.state, b.jobs[0].status.state}  # noqa: E731
            await eventually(lambda: states() in ({"sent"}, {"sent", "elsewhere"}))
        assert len(box.messages) == 1
        ids = [m["Message-ID"] for m in box.messages]
        async with DigestJobs(cfg.walls.values(), cfg.smtp, MemoryEngine(), store, "node-c", compose) as c:
            await eventually(lambda: c.jobs[0].status.state == "sent")  # it found the digest sent
        assert [m["Message-ID"] for m in box.messages] == ids


async def test_claims_go_to_one_sender_and_a_dead_senders_claim_is_taken_over(url: str) -> None:
    async with connect(url) as store:
        claims = await asyncio.gather(*(
            store.digests.claim("lobby", "daily:2026-12-06", 1, 2, 1, f"n{i}", 600, now=1000.0 + i)
            for i in range(8)))
        assert sorted(claims) == [False] * 7 + [True]
        winner = f"n{claims.index(True)}"
        assert not await store.digests.claim("lobby", "daily:2026-12-06", 1, 2, 1, "late", 600, now=1500.0)
        # Its sender died mid-send: the claim is stale after 600 s untouched, and another may take it.
        assert await store.digests.claim("lobby", "daily:2026-12-06", 1, 2, 1, "heir", 600, now=1700.0)
        await store.digests.finish("lobby", "daily:2026-12-06", winner, "sent", 1, now=1701.0)  # too late
        await store.digests.finish("lobby", "daily:2026-12-06", "heir", "sent", 2, now=1702.0)
        done = await store.digests.get("lobby", "daily:2026-12-06")
        assert done is not None
        assert (done.state, done.by, done.attempts, done.sent_at) == ("sent", "heir", 2, 1702.0)
        assert not await store.digests.claim("lobby", "daily:2026-12-06", 1, 2, 1, "later", 600, now=9999.0)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return temp_store_url()
    server = request.getfixturevalue("postgres")
    return str(server.create_database(f"digests_{os.getpid()}_{time.monotonic_ns()}"))


@pytest.fixture(scope="module")
def postgres() -> Any:
    from tests.postgres_server import MISSING, PostgresServer, binaries

    if binaries() is None:
        pytest.fail(MISSING, pytrace=False)
    server = PostgresServer()
    server.start()
    yield server
    server.stop()


async def test_a_refused_login_fails_at_once_and_admins_see_why_on_the_console_and_in_healthz(
    tmp_path: Path, browser: ChromiumBrowser,
) -> None:
    async with smtp_server(tmp_path) as (port, box, ca), opened_store(temp_store_url()) as store:
        cfg = with_digest(make_config(), smtp_for(port, ca, password="not the password"), a_zone_near_noon())
        app = console_app(cfg, store)
        async with serving(app) as base:
            async def failed() -> bool:
                found = await store.digests.recent()
                return bool(found) and found[0].state == "failed"

            await eventually(failed)
            [delivery] = await store.digests.recent()
            assert delivery.attempts == 1 and delivery.error is not None and delivery.error.startswith("535")
            async with Browser(base) as admin, Browser(base) as curator:
                await admin.login("root")
                page = await (await admin.get("/console/digests", html=True)).text()
                assert "Lobby of Nordlys" in page and "daily at 00:00" in page
                assert "failed" in page and "535" in page
                await curator.login("ana")
                assert (await curator.get("/console/digests", html=True)).status == 403
                health = await admin.http.get(f"{base}/healthz", headers=HEALTH_AUTH)
                report = await health.json()
                assert report["status"] == "degraded"
                assert any("lobby: digest daily:" in p and "was not sent: 535" in p
                           for p in report["problems"])
                assert report["walls"]["lobby"]["digest"]["state"] == "failed"

            # In a browser: the admin's bar links to the page, and the failed row says why.
            context = await browser.new_context(viewport={"width": 1280, "height": 800})
            page = await context.new_page()
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            await page.goto(f"{base}/console/login?next=/console")
            await page.fill("input[name=username]", "root")
            await page.fill("input[name=password]", PASSWORDS["root"])
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{base}/console")
            await page.click("a[href='/console/digests']")
            row = page.locator("tr.digest-row.state-failed")
            await row.wait_for()
            assert "535" in await row.locator(".why").inner_text()
            await page.screenshot(path=ARTIFACTS / "console-digests-1280x800.png", full_page=True)
            await context.close()
            assert problems == []
    assert box.messages == [] and box.logins == []


async def pdf_text(pdf: bytes, where: Path) -> str:
    await asyncio.to_thread(where.write_bytes, pdf)
    read = await asyncio.create_subprocess_exec("pdftotext", "-layout", str(where), "-",
                                                stdout=asyncio.subprocess.PIPE)
    return (await read.communicate())[0].decode()


async def test_the_digest_carries_the_days_figures_and_names_authors_only_where_the_wall_says_so(
    tmp_path: Path,
) -> None:
    tz = a_zone_near_noon()
    yesterday = named("yesterday", tz, time.time())
    busy = {"posts": 30, "sent:positive": 20, "sent:neutral": 6, "sent:negative": 4, "scored": 30,
            "sentsum": 9000, "tag:launch": 20, "tag:coffee": 3, "topic:battery": 7,
            "author:aino.virtanen": 12, "source:mastodon": 30, "status:approved": 30}
    async with smtp_server(tmp_path) as (port, box, ca), connect(temp_store_url()) as store:
        for wall in ("lobby", "stage"):  # the roll-ups as the curation writer leaves them, one busy minute
            await store.rollups.replace(wall, 1, {int(yesterday.start + 3600) // 60: busy})
            for grain, bucket in await store.rollups.marked(wall):
                await store.rollups.derive(wall, 1, grain, bucket)
        cfg = make_config(walls=("lobby", "stage"))
        counts_only = Digest(to=("comms@nordlys.example",), at=clocktime(0, 0), tz=tz)
        walls = {"lobby": dataclasses.replace(cfg.walls["lobby"], title="Lobby", digest=counts_only),
                 "stage": dataclasses.replace(cfg.walls["stage"], title="Stage",
                                              digest=dataclasses.replace(counts_only, people=True))}
        async with DigestJobs(walls.values(), smtp_for(port, ca), MemoryEngine(), store, "node-a", compose):
            await eventually(lambda: len(box.messages) == 2)
    mails = {str(m["Subject"]).split(": ")[1].split(",")[0]: m for m in box.messages}
    for title, mail in mails.items():
        body = mail.get_body(("plain",))
        assert body is not None
        text = body.get_content().replace("\r\n", "\n")
        assert "Posts: 30" in text and "Positive: 67 %" in text and "Negative: 13 %" in text
        assert "#launch (20)" in text and "#coffee (3)" in text and "battery (7)" in text
        pdf = await pdf_text(attachment(mail)[1], tmp_path / f"{title}.pdf")
        assert title in pdf and "launch" in pdf
        if title == "Lobby":  # counts only: no author, in the mail or the report
            assert "aino.virtanen" not in text and "aino.virtanen" not in pdf
        else:
            assert "Top authors:\n  aino.virtanen (12)" in text and "aino.virtanen" in pdf
