"""The Insights page in a real headless Chromium: a curator on a phone and on a laptop picks a wall and a
range, reads the charts and tables of roll-ups written before, sees the burst of posts the wall just took
as a spike with its posts (hostile text as text), downloads tables as CSV and the report as a PDF, which
reads back with pdftotext; a presenter is refused. Screenshots and the PDF's first page are kept."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from pathlib import Path

import aiohttp
from playwright.async_api import Browser, Page

from tests.console_helpers import console_app, opened_store
from tests.helpers import ARTIFACTS, eventually, make_config, post, serving
from tests.test_console_browser import PHONE, log_in
from tests.test_insights import quiet
from wall.bus.base import Engine
from wall.models import RecentPost, decode_recent
from wall.store import Store
from wall.store.rollups import Superseded
from wall.web.keys import ENGINE

FORMULA = '=HYPERLINK("http://evil.example","click") <img src=x onerror="document.title=1">'
BURST = [(f"launch-{k}", f"Launch day at Nordlys, part {k} #launch", "aino") for k in range(10)] + \
        [("formula", FORMULA, "mallory"), ("rival", "Rival's launch was better #launch", "mika")]


async def seed_history(store: Store, now: float) -> None:
    """Three quiet hours of roll-ups before now, as the curation writer leaves them."""
    first = int(now - now % 60 - 3 * 3600)
    minutes = {t // 60: quiet(t // 60) for t in range(first, int(now - now % 60 - 120), 60)}
    await store.rollups.replace("lobby", 1, minutes)
    await derive(store)


async def derive(store: Store) -> None:
    for grain, bucket in await store.rollups.marked("lobby"):
        await store.rollups.derive("lobby", 1, grain, bucket)


async def run(*command: str) -> str:
    """A poppler tool's output (it must succeed)."""
    proc = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    assert proc.returncode == 0, command
    return out.decode()


async def table_rows(page: Page, name: str) -> list[list[str]]:
    rows = page.locator(f"#t-{name} tbody tr")
    return [await r.locator("td").all_text_contents() for r in await rows.all()]


async def test_a_curator_reads_a_walls_insights_on_a_phone_and_a_laptop_and_downloads_csv_and_pdf(
        browser: Browser, tmp_path: Path) -> None:
    store_url = f"sqlite+aiosqlite:///{tmp_path}/wall.db"
    cfg = make_config(store_url=store_url, walls=("lobby", "vault"), private=("vault",))
    problems: list[str] = []
    phone = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, accept_downloads=True)
    desk = await browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    async with opened_store(store_url) as store:
        await seed_history(store, time.time())
        app = console_app(cfg, store)
        async with serving(app) as base, aiohttp.ClientSession() as s:
            for pid, text, author in BURST:
                status, _ = await post(s, base, {"id": pid, "text": text, "author": {"handle": author}})
                assert status == 202
            engine = app[ENGINE]
            kept = await eventually(lambda: _all_kept(engine))
            # The burst's minute as the writer counts it (unless the writer wrote its roll-ups already).
            by_minute: dict[int, int] = {}
            for p in kept:
                by_minute[int(p.arrived // 60)] = by_minute.get(int(p.arrived // 60), 0) + 1
            try:
                await store.rollups.replace("lobby", 1, {m: {"posts": n + 20, "tag:launch": n + 20,
                                                             "voice:Rival": 5, "sent:neutral": n + 20}
                                                         for m, n in by_minute.items()})
                await derive(store)
            except Superseded:
                pass  # the curation writer keeps the roll-ups itself: its minute holds the burst
            shown_id = next(p.post.id for p in kept if p.post.source_id == "formula")
            await store.display_log.add("lobby", [(shown_id, time.time(), 12.0, "screen-a"),
                                                  (shown_id, time.time(), 8.5, "screen-b")])

            curator = await log_in(phone, base, "ana", problems, next_="/console/insights")
            await curator.select_option("select[name=wall]", "lobby")
            await curator.select_option("select[name=range]", "today")
            await curator.click("form.insight-form button[type=submit]")
            await curator.locator(".insight-summary").wait_for()
            assert "wall=lobby" in curator.url
            assert await curator.locator("svg.chart").count() == 4  # volume, split, trend, share of voice
            assert ["#launch"] == [r[0] for r in await table_rows(curator, "hashtags") if r[0] == "#launch"]
            spikes = await table_rows(curator, "spikes")
            assert spikes and any(r[5] == FORMULA for r in spikes), spikes  # the posts that made it, as text
            shown = await table_rows(curator, "shown")
            assert shown[0][2:5] == ["20.5", "2", "webhook:mallory"] and shown[0][5] == FORMULA
            assert await curator.locator("main img, main script").count() == 0
            assert await curator.title() != "1"
            ARTIFACTS.mkdir(exist_ok=True)
            await curator.screenshot(path=ARTIFACTS / "console-insights-390x844.png", full_page=True)

            # Each table downloads as CSV; a formula in a post stays text in a spreadsheet.
            link = curator.locator("#t-spikes a.csv")
            async with curator.expect_download() as download:
                await link.click()
            saved = await (await download.value).path()
            rows = list(csv.reader(io.StringIO(await asyncio.to_thread(Path(saved).read_text))))
            assert rows[0] == ["time", "posts", "usually", "post id", "author", "text"]
            assert ["'" + FORMULA] == [r[5] for r in rows[1:] if FORMULA in r[5]]
            answer = await curator.request.get(base + await curator.locator("#t-hashtags a.csv")
                                               .get_attribute("href"))
            assert answer.headers["content-type"].startswith("text/csv")
            assert "#launch" in await answer.text()

            laptop = await log_in(desk, base, "root", problems,
                                  next_="/console/insights?wall=lobby&range=7d")
            await laptop.locator("#t-voice-chart svg.chart").wait_for()
            await laptop.screenshot(path=ARTIFACTS / "console-insights-1280x800.png", full_page=True)
            async with laptop.expect_download() as download:
                await laptop.locator("a", has_text="Download PDF").click()
            pdf = tmp_path / "report.pdf"
            await (await download.value).save_as(pdf)
            text = await run("pdftotext", "-layout", str(pdf), "-")
            for expected in ("Lobby: Last 7 days", "Share of voice", "#launch", "webhook:mallory",
                             "=HYPERLINK"):
                assert expected in text, expected
            await run("pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                      str(ARTIFACTS / "insights-report-7d"))

            # A presenter has no insights; a bad range is a clear 400, not an error page.
            stage = await browser.new_context(viewport={"width": 1280, "height": 800})
            presenter = await log_in(stage, base, "pia", problems, next_="/console")
            refused = await presenter.request.get(f"{base}/console/insights?wall=lobby")
            assert refused.status == 403
            bad = await laptop.request.get(f"{base}/console/insights?wall=lobby&range=custom&from=x&to=y")
            assert bad.status == 400 and "from: a date" in await bad.text()
            missing = await laptop.request.get(f"{base}/console/insights/csv/passwords?wall=lobby")
            assert missing.status == 404
    for context in (phone, desk, stage):
        await context.close()
    assert problems == []


async def _all_kept(engine: Engine) -> list[RecentPost] | None:
    """The burst's posts once the curation writer kept them all (it gives them their arrival time)."""
    records = [decode_recent(b) for b in await engine.recent("lobby", 50)]
    return records if len(records) >= len(BURST) else None
