"""The kiosk agent against a real headless Chromium showing a stand-in wall served on 127.0.0.1 (or the
real one, from a real node): the page hangs, the renderer crashes, the heartbeat stops, the tab is hidden
and paints nothing, and each time the agent brings the wall back; the TV goes off and comes back (a sysfs
tree of the kernel's DRM connectors), and the agent waits, then switches the output on."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import shutil
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from argon2 import PasswordHasher

from tests.chromium import Browser, free_port, kill, launched
from tests.helpers import make_config, running_node, temp_store_url
from wall.store import connect
from wall.web.auth import csrf_for
from wall_kiosk.agent import NEXT_FRAME, AgentSettings, build_parser, run_agent, settings_from_args
from wall_kiosk.cdp import Tab, targets
from wall_kiosk.display import Display, Power, connectors, power, x11_name
from wall_kiosk.policy import History, Limits, Policy, Step
from wall_kiosk.tv import TvSchedule, tv_should_be_on

WALL_PAGE = """<!doctype html><title>wall</title><body>wall
<script>
window.__wallHeartbeat = Date.now();
window.__beat = setInterval(() => { window.__wallHeartbeat = Date.now(); }, 200);
</script></body>"""


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    with launched(tmp_path) as b:
        yield b


@dataclass
class Wall:
    url: str
    loads: list[float]


@pytest.fixture
async def wall() -> AsyncIterator[Wall]:
    loads: list[float] = []

    async def page(request: web.Request) -> web.Response:
        loads.append(time.monotonic())
        return web.Response(text=WALL_PAGE, content_type="text/html")

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_get("/w/lobby", page)
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield Wall(f"http://127.0.0.1:{port}/w/lobby", loads)
    await runner.cleanup()


def settings(browser: Browser, wall: Wall, tmp_path: Path, **kw: Any) -> AgentSettings:
    given: dict[str, Any] = {
        "interval": 0.5, "hang_timeout": 2.0, "heartbeat_timeout": 2.0, "settle": 1.0, "restart_wait": 30.0,
        "frame_timeout": 3.0,  # a busy machine may delay a frame, never by seconds
        "restart_cmd": browser.restart_cmd, "reboot_cmd": [sys.executable, "-c", "print('reboot')"],
        "state_file": tmp_path / "state.json", "sysfs": tmp_path, **kw}  # no DRM there: the TV is not judged
    return AgentSettings(devtools=browser.devtools, wall_url=wall.url, **given)


async def until(what: str, check: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.25)
    raise AssertionError(f"within {timeout:g} s: {what}")


async def page_tab(session: aiohttp.ClientSession, devtools: str) -> Tab:
    """The test's own DevTools connection to the page, to break it."""
    pages = [t for t in await targets(session, devtools, 5) if t.get("type") == "page"]
    return await Tab.open(session, pages[0], 5)


async def wall_is_healthy(session: aiohttp.ClientSession, browser: Browser, wall: Wall) -> bool:
    """The page shows the wall and answers with a fresh heartbeat."""
    try:
        pages = [t for t in await targets(session, browser.devtools, 2) if t.get("type") == "page"]
        if not pages or not str(pages[0].get("url")).startswith(wall.url):
            return False
        tab = await Tab.open(session, pages[0], 2)
        try:
            r = await tab.call("Runtime.evaluate", {"expression": "Date.now() - window.__wallHeartbeat",
                                                    "returnByValue": True}, 2)
        finally:
            await tab.close()
        age = r.get("result", {}).get("value")
        return isinstance(age, (int, float)) and age < 1000
    except Exception:
        return False


@pytest.fixture
async def running(browser: Browser, wall: Wall, tmp_path: Path,
                  caplog: pytest.LogCaptureFixture) -> AsyncIterator[aiohttp.ClientSession]:
    """The agent watching the browser, and the wall already loaded by it and judged healthy (so a step
    a busy machine made it take while loading is behind it, not pending when the test begins)."""
    caplog.set_level(logging.DEBUG, logger="wall_kiosk")
    task = asyncio.create_task(run_agent(settings(browser, wall, tmp_path)))
    async with aiohttp.ClientSession() as session:
        await until("the agent loads the wall once the server answers",
                    lambda: wall_is_healthy(session, browser, wall), 30)
        await until("the agent judges it healthy", lambda: _async(lambda: said(caplog, "check: healthy")), 30)
        yield session
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.mark.timeout(300)
async def test_a_hung_page_is_reloaded_or_the_browser_restarted(
        running: aiohttp.ClientSession, browser: Browser, wall: Wall,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="wall_kiosk")
    loads = len(wall.loads)
    tab = await page_tab(running, browser.devtools)
    await tab.call("Runtime.evaluate", {"expression": "setTimeout(() => { while (true) {} }, 0); 1"}, 5)
    await tab.close()
    await until("the agent notices the hang", lambda: _async(lambda: "it hangs" in caplog.text), 30)
    await until("a fresh wall page answers again", lambda: wall_is_healthy(running, browser, wall))
    assert len(wall.loads) > loads
    assert "reloading" in caplog.text  # first; a hung renderer may not take it, then a restart
    assert "rebooting" not in caplog.text


@pytest.mark.timeout(300)
async def test_a_crashed_renderer_is_reloaded(
        running: aiohttp.ClientSession, browser: Browser, wall: Wall,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="wall_kiosk")
    loads = len(wall.loads)
    tab = await page_tab(running, browser.devtools)
    try:
        await tab.call("Page.navigate", {"url": "chrome://crash"}, 5)
    except Exception:  # the renderer may die before it answers
        pass
    await tab.close()
    await until("the wall comes back after the crash",
                lambda: _async(lambda: len(wall.loads) > loads and "crashed" in caplog.text))
    await until("and answers", lambda: wall_is_healthy(running, browser, wall))
    assert "reloading" in caplog.text
    assert "restarting the browser" not in caplog.text


@pytest.mark.timeout(300)
async def test_a_stopped_heartbeat_is_reloaded(
        running: aiohttp.ClientSession, browser: Browser, wall: Wall,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="wall_kiosk")
    loads = len(wall.loads)
    tab = await page_tab(running, browser.devtools)
    await tab.call("Runtime.evaluate", {"expression": "clearInterval(window.__beat)"}, 5)
    await tab.close()
    await until("the agent reloads the page", lambda: _async(lambda: len(wall.loads) > loads), 30)
    await until("the new page beats again", lambda: wall_is_healthy(running, browser, wall))
    assert "heartbeat stopped" in caplog.text
    assert "reloading" in caplog.text
    assert "restarting the browser" not in caplog.text


@pytest.mark.timeout(300)
async def test_a_dead_browser_is_restarted(browser: Browser, wall: Wall, tmp_path: Path,
                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="wall_kiosk")
    kill(browser)
    task = asyncio.create_task(run_agent(settings(browser, wall, tmp_path, restart_wait=3.0)))
    async with aiohttp.ClientSession() as session:
        await until("the agent restarts the browser and loads the wall",
                    lambda: wall_is_healthy(session, browser, wall))
    await until("the agent sees it healthy", lambda: _async(lambda: "healthy again" in caplog.text), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert "does not answer" in caplog.text
    assert "restarting the browser" in caplog.text
    state = json.loads((tmp_path / "state.json").read_text())
    assert len(state["taken"]["RESTART"]) == 1 and state["pending"] is None


@pytest.mark.timeout(300)
async def test_the_agent_waits_for_the_server_and_says_so(browser: Browser, tmp_path: Path,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="wall_kiosk")
    nowhere = f"http://127.0.0.1:{free_port()}/w/lobby"
    s = AgentSettings(devtools=browser.devtools, wall_url=nowhere, interval=0.5, hang_timeout=2.0,
                      restart_cmd=browser.restart_cmd, sysfs=tmp_path, state_file=tmp_path / "state.json")
    task = asyncio.create_task(run_agent(s))
    async with aiohttp.ClientSession() as session:
        async def says_so() -> bool:
            try:
                tab = await page_tab(session, browser.devtools)
            except Exception:
                return False
            try:
                r = await tab.call("Runtime.evaluate", {"expression": "document.body.textContent",
                                                        "returnByValue": True}, 2)
            finally:
                await tab.close()
            return "Waiting for the wall server" in str(r.get("result", {}).get("value"))
        await until("the screen says what is wrong", says_so, 20)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert caplog.text.count("cannot reach the wall server") == 1  # said once, not every check
    assert "reloading" not in caplog.text and "restarting" not in caplog.text  # no step fixes a server


@pytest.mark.timeout(300)
async def test_a_private_walls_display_key_never_reaches_the_agents_log(
        browser: Browser, wall: Wall, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="wall_kiosk")
    key = "display-key-0123456789"
    keyed = Wall(f"{wall.url}?screen=1&of=1&key={key}", wall.loads)
    s = AgentSettings(devtools=browser.devtools, wall_url=keyed.url, interval=0.5, hang_timeout=2.0,
                      restart_cmd=browser.restart_cmd, sysfs=tmp_path, state_file=tmp_path / "state.json")
    task = asyncio.create_task(run_agent(s))
    async with aiohttp.ClientSession() as session:
        await until("the agent loads the keyed wall", lambda: wall_is_healthy(session, browser, keyed), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert "/w/lobby?screen=…&of=…&key=…" in caplog.text  # the log still says which wall it shows
    assert key not in caplog.text


@pytest.mark.timeout(300)
async def test_a_page_past_the_memory_limit_is_reloaded(browser: Browser, wall: Wall, tmp_path: Path,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="wall_kiosk")
    task = asyncio.create_task(run_agent(settings(browser, wall, tmp_path, heap_limit_mb=40)))
    async with aiohttp.ClientSession() as session:
        await until("the wall is up", lambda: wall_is_healthy(session, browser, wall), 30)
        await until("and judged healthy", lambda: _async(lambda: said(caplog, "check: healthy")), 30)
        loads = len(wall.loads)
        tab = await page_tab(session, browser.devtools)
        await tab.call("Runtime.evaluate", {"expression": "window.__leak = new Array(12e6).fill(1.5); 1"}, 10)
        await tab.close()
        await until("the agent reloads the leaking page", lambda: _async(lambda: len(wall.loads) > loads), 30)
        await until("the fresh page answers", lambda: wall_is_healthy(session, browser, wall))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert "MB of JS heap, past the limit of 40 MB: reloading" in caplog.text


async def test_without_cec_ctl_the_tv_schedule_is_skipped_with_a_log_line(
        caplog: pytest.LogCaptureFixture) -> None:
    if shutil.which("cec-ctl") is not None:
        pytest.skip("this machine has cec-ctl: it would switch a real TV")
    caplog.set_level(logging.INFO, logger="wall_kiosk")
    schedule = TvSchedule("08:00", "19:00")
    await schedule.tick(dt.time(9))
    assert "cec-ctl not found" in caplog.text and schedule.applied is None


async def wall_paints(session: aiohttp.ClientSession, browser: Browser, wall: Wall) -> bool:
    """The wall's tab gets a frame (it is in front and painting), whichever tab /json lists first."""
    try:
        pages = [t for t in await targets(session, browser.devtools, 2)
                 if t.get("type") == "page" and str(t.get("url")).startswith(wall.url)]
        if not pages:
            return False
        tab = await Tab.open(session, pages[0], 2)
        try:
            await tab.call("Runtime.evaluate", {"expression": NEXT_FRAME, "awaitPromise": True}, 1)
            return True
        finally:
            await tab.close()
    except Exception:
        return False


async def another_tab_in_front(session: aiohttp.ClientSession, browser: Browser) -> Tab:
    """A blank tab opened over the wall (a popup, a stray link): the wall's tab is hidden and paints
    nothing, while its script still answers."""
    async with session.put(f"{browser.devtools}/json/new?about:blank") as r:
        tab = await Tab.open(session, await r.json(content_type=None), 5)
    await tab.call("Page.bringToFront", timeout=5)
    return tab


@pytest.mark.timeout(300)
async def test_a_page_that_paints_nothing_is_brought_back_and_reloaded(
        running: aiohttp.ClientSession, browser: Browser, wall: Wall,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="wall_kiosk")
    loads = len(wall.loads)
    blank = await another_tab_in_front(running, browser)
    await until("the wall's tab stops painting", lambda: _async_not(wall_paints(running, browser, wall)), 10)
    await until("the agent reloads it", lambda: _async(lambda: len(wall.loads) > loads), 30)
    await until("and it paints again, in front", lambda: wall_paints(running, browser, wall))
    await blank.close()
    assert "the page painted no frame for 3 s (it is hidden): reloading" in caplog.text
    assert "restarting the browser" not in caplog.text


@pytest.mark.timeout(300)
async def test_the_real_wall_page_hidden_behind_another_tab_is_brought_back(
        browser: Browser, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The same with the wall page itself, served by a real node: it keeps answering the agent while
    hidden, and only the frame check sees that nothing reaches the screen."""
    caplog.set_level(logging.INFO, logger="wall_kiosk")
    async with running_node(make_config()) as base, aiohttp.ClientSession() as session:
        real = Wall(f"{base}/w/lobby", [])
        agent = asyncio.create_task(run_agent(settings(browser, real, tmp_path)))
        try:
            await until("the agent shows the wall", lambda: wall_paints(session, browser, real), 30)
            first = await evaluate_on(session, browser, real, "performance.timeOrigin")
            blank = await another_tab_in_front(session, browser)
            await until("the agent reloads it in front", lambda: _async(lambda: "reloading" in caplog.text))

            async def fresh_and_painting() -> bool:
                loaded = await evaluate_on(session, browser, real, "performance.timeOrigin")
                return loaded not in (first, None) and await wall_paints(session, browser, real)
            await until("a fresh load paints again", fresh_and_painting)
            await blank.close()
        finally:
            agent.cancel()
            with pytest.raises(asyncio.CancelledError):
                await agent
    assert "the page painted no frame for 3 s (it is hidden): reloading" in caplog.text
    assert "heartbeat" not in caplog.text and "restarting the browser" not in caplog.text


async def evaluate_on(session: aiohttp.ClientSession, browser: Browser, wall: Wall, expression: str) -> Any:
    """A value from the wall's tab (None while there is none, or it does not answer)."""
    try:
        pages = [t for t in await targets(session, browser.devtools, 5)
                 if t.get("type") == "page" and str(t.get("url")).startswith(wall.url)]
        tab = await Tab.open(session, pages[0], 5)
    except Exception:
        return None
    try:
        r = await tab.call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, 5)
        return r.get("result", {}).get("value")
    except Exception:
        return None
    finally:
        await tab.close()


def said(caplog: pytest.LogCaptureFixture, message: str) -> int:
    return sum(r.getMessage().startswith(message) for r in caplog.records)


@pytest.mark.timeout(300)
async def test_a_tv_power_cycle_is_a_state_then_the_output_is_switched_on_and_the_page_reloaded(
        browser: Browser, wall: Wall, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The kiosk boots with the TV off, then the TV is switched off at the wall while the Pi stays on: its
    HDMI connector says disconnected (a sysfs tree of our own, in the kernel's format). The agent loads the
    wall anyway, says "TV off" and judges nothing; when the TV is back it switches the output on again, and
    reloads a page that paints nothing."""
    caplog.set_level(logging.DEBUG, logger="wall_kiosk")
    drm = tmp_path / "sys" / "class" / "drm"
    for name, status in (("card1-HDMI-A-1", "disconnected"), ("card1-HDMI-A-2", "disconnected"),
                         ("card1-Writeback-1", "unknown")):
        (drm / name).mkdir(parents=True)
        (drm / name / "status").write_text(f"{status}\n")
    (drm / "card1").mkdir()  # the card itself has no status
    hdmi = drm / "card1-HDMI-A-1" / "status"
    switched = tmp_path / "switched-on"
    output_cmd = (sys.executable, "-c", "import sys; open(sys.argv[1], 'a').write(sys.argv[2] + '\\n')",
                  str(switched), "{output}")
    agent = asyncio.create_task(run_agent(settings(browser, wall, tmp_path, sysfs=tmp_path / "sys",
                                                   output_cmds=(output_cmd,))))
    async with aiohttp.ClientSession() as session:
        try:
            await until("the wall is loaded while the TV is off", lambda: wall_paints(session, browser, wall))
            assert said(caplog, "the TV is off") == 1 and not switched.exists()
            hdmi.write_text("connected\n")
            await until("the output is switched on when the TV comes", lambda: _async(
                lambda: switched.exists() and switched.read_text() == "HDMI-A-1\n"), 10)
            await until("the page is judged healthy", lambda: _async(lambda: said(caplog, "check: healthy")))

            hdmi.write_text("disconnected\n")
            await until("the agent sees the TV go",
                        lambda: _async(lambda: said(caplog, "the TV is off") == 2))
            loads = len(wall.loads)
            blank = await another_tab_in_front(session, browser)  # with no output, nothing paints
            checked = said(caplog, "check: TV off")
            # Long enough that a judged page would have been reloaded (interval 0.5 s, frame timeout 3 s).
            await until("twelve more checks while the TV is off",
                        lambda: _async(lambda: said(caplog, "check: TV off") >= checked + 12), 30)
            assert len(wall.loads) == loads and "painted no frame" not in caplog.text
            assert switched.read_text() == "HDMI-A-1\n"

            hdmi.write_text("connected\n")
            await until("the output is switched on again", lambda: _async(
                lambda: switched.read_text() == "HDMI-A-1\nHDMI-A-1\n"), 10)
            await until("the page that paints nothing is reloaded",
                        lambda: _async(lambda: len(wall.loads) > loads))
            await until("and paints", lambda: wall_paints(session, browser, wall))
            await blank.close()
        finally:
            agent.cancel()
            with pytest.raises(asyncio.CancelledError):
                await agent
    text = caplog.text
    assert text.rindex("the TV is off") < text.rindex("the TV is back on HDMI-A-1") \
        < text.index("painted no frame") < text.index("reloading")
    assert "restarting the browser" not in text and "rebooting" not in text


async def _async(f: Any) -> bool:
    return bool(f())


async def _async_not(check: Any) -> bool:
    return not await check


def test_escalation_goes_reload_restart_reboot_and_never_loops() -> None:
    policy = Policy(Limits(reloads=2, reload_window=600, restarts=2, restart_window=3600, reboots=1,
                           reboot_window=3600), History())
    t = 1_000_000.0
    steps = []
    for i in range(8):  # the page never gets better
        step = policy.next_step(t + i * 10)
        steps.append(step)
        if step is not None:
            policy.taken(step, t + i * 10)
    # a reload that did not help is followed by a restart, a restart that did not help by a reboot
    assert steps == [Step.RELOAD, Step.RESTART, Step.REBOOT, None, None, None, None, None]


def test_reloads_that_help_are_limited_per_window_then_restart() -> None:
    policy = Policy(Limits(reloads=3, reload_window=600), History())
    t = 5_000.0
    for i in range(3):  # each reload helped for a while
        assert policy.next_step(t + i) is Step.RELOAD
        policy.taken(Step.RELOAD, t + i)
        policy.healthy()
    assert policy.next_step(t + 10) is Step.RESTART  # a fourth problem within 10 minutes
    assert policy.next_step(t + 601) is Step.RELOAD  # the window has passed


def test_at_most_one_reboot_per_hour_even_across_agent_restarts(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    policy = Policy(Limits(), History.load(state))
    policy.taken(Step.REBOOT, 100.0)
    policy.history.save(state)
    after_boot = Policy(Limits(), History.load(state))  # the agent starts again after the reboot
    after_boot.healthy()
    assert after_boot.next_step(200.0, Step.REBOOT) is None
    assert after_boot.next_step(100.0 + 3601, Step.REBOOT) is Step.REBOOT
    state.write_text("{not json")
    assert Policy(Limits(), History.load(state)).next_step(0.0) is Step.RELOAD


def test_a_dead_devtools_port_skips_the_reload() -> None:
    assert Policy(Limits(), History()).next_step(0.0, Step.RESTART) is Step.RESTART


def test_tv_schedule_by_day_and_over_midnight() -> None:
    eight, seven_pm = dt.time(8), dt.time(19)
    assert tv_should_be_on(dt.time(12), eight, seven_pm)
    assert not tv_should_be_on(dt.time(19, 0), eight, seven_pm)
    assert not tv_should_be_on(dt.time(7, 59), eight, seven_pm)
    assert tv_should_be_on(dt.time(23), dt.time(18), dt.time(2))
    assert not tv_should_be_on(dt.time(3), dt.time(18), dt.time(2))


def test_bad_settings_are_named() -> None:
    with pytest.raises(ValueError, match="not an http"):
        settings_from_args(build_parser().parse_args(["--url", "wall-server:8080/w/lobby"]))
    with pytest.raises(ValueError, match="HH:MM"):
        settings_from_args(build_parser().parse_args(["--url", "http://w/w/x", "--tv-on", "8",
                                                      "--tv-off", "9"]))
    s = settings_from_args(build_parser().parse_args(["--url", "http://w:8080/w/lobby",
                                                      "--restart-cmd", "systemctl restart x.service"]))
    assert s.restart_cmd == ["systemctl", "restart", "x.service"] and s.healthz == "http://w:8080/healthz"


# --- pairing with a real wall server ------------------------------------------------------------------

FAST = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)


async def evaluate(session: aiohttp.ClientSession, devtools: str, expression: str) -> Any:
    """A value from the browser's page, as anyone looking at the screen would read it (None if none)."""
    try:
        tab = await page_tab(session, devtools)
    except Exception:
        return None
    try:
        r = await tab.call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, 2)
        return r.get("result", {}).get("value")
    except Exception:
        return None
    finally:
        await tab.close()


@pytest.mark.timeout(300)
async def test_a_new_kiosk_shows_its_code_is_paired_to_a_private_wall_reports_and_a_revoke_shows_why(
        browser: Browser, tmp_path: Path, redis_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="wall_kiosk")
    store_url = temp_store_url()
    async with connect(store_url, hasher=FAST) as store:
        admin = await store.users.add("ada", "a long admin password", "admin")
        cookie, _ = await store.sessions.create(admin.id)
    cfg = make_config("redis", redis_url, store_url=store_url, private=("lobby",), kiosks={
        "offline_after": 5.0, "report_interval": 0.5, "screenshot_interval": 1.0})
    credentials = tmp_path / "state" / "kiosk.json"
    async with running_node(cfg) as base, aiohttp.ClientSession() as s, \
            aiohttp.ClientSession(cookies={"wall_session": cookie},
                                  headers={"Origin": base, "X-CSRF-Token": csrf_for(cookie)}) as admin_http:
        agent = asyncio.create_task(run_agent(AgentSettings(
            devtools=browser.devtools, wall_url=base, interval=0.5, hang_timeout=2.0, settle=0.5,
            restart_cmd=browser.restart_cmd, sysfs=tmp_path, state_file=tmp_path / "state" / "agent.json",
            credentials_file=credentials)))
        try:
            code = ""

            async def code_on_screen() -> bool:
                nonlocal code
                code = str(await evaluate(s, browser.devtools,
                                          "document.getElementById('pair-code')?.textContent || ''"))
                return len(code) == 6 and code[2] == "-"
            await until("the screen shows a pairing code", code_on_screen, 20)
            size = await evaluate(s, browser.devtools, "parseFloat(getComputedStyle("
                                  "document.getElementById('pair-code')).fontSize) / innerHeight")
            assert size > 0.2  # the code is over a fifth of the screen's height: readable across a room

            async with admin_http.post(f"{base}/console/api/fleet/approve",
                                       json={"code": code, "wall": "lobby", "screen": 2, "of": 2}) as r:
                assert r.status == 201, await r.text()

            async def shows_the_wall() -> bool:
                url = await evaluate(s, browser.devtools, "location.href")
                return url == f"{base}/w/lobby?screen=2&of=2"
            await until("the kiosk loads its private wall as screen 2 of 2", shows_the_wall, 20)
            assert credentials.stat().st_mode & 0o777 == 0o600
            saved = json.loads(credentials.read_text())
            assert saved["url"].startswith("/w/lobby?screen=2&of=2&key=") and saved["token"]
            assert saved["url"].split("key=")[1] not in caplog.text  # the key is never logged
            assert saved["token"] not in caplog.text

            async def reported() -> dict[str, Any] | None:
                async with admin_http.get(f"{base}/console/api/fleet") as r:
                    kiosks = (await r.json())["kiosks"]
                k = kiosks[0] if kiosks else None
                return k if k and k["state"] == "online" and k["screenshot_age"] is not None \
                    and k["status"]["state"] == "healthy" else None
            await until("the fleet shows it online, healthy, with a screenshot", reported, 30)
            kiosk = await reported()
            assert kiosk is not None and kiosk["status"]["version"]
            assert kiosk["status"]["memory"]["heap_mb"] > 0
            async with admin_http.get(f"{base}/console/api/fleet/kiosks/{kiosk['id']}/screenshot") as r:
                assert r.status == 200 and (await r.read())[:3] == b"\xff\xd8\xff"

            async with admin_http.post(f"{base}/console/api/fleet/kiosks/{kiosk['id']}/identify") as r:
                assert r.status == 200

            async def identifies() -> bool:
                text = await evaluate(s, browser.devtools,
                                      "document.getElementById('__wall_identify')?.textContent || ''")
                return "2 of 2" in str(text)
            await until("the screen flashes its number", identifies, 10)

            async with admin_http.post(f"{base}/console/api/fleet/kiosks/{kiosk['id']}/revoke") as r:
                assert r.status == 200

            async def says_revoked() -> bool:
                text = await evaluate(s, browser.devtools,
                                      "document.getElementById('pair-status')?.textContent || ''")
                return "revoked" in str(text)
            await until("the screen says it was revoked, under a new code", says_revoked, 20)
            assert "refused this kiosk" in caplog.text and not credentials.exists()
        finally:
            agent.cancel()
            with pytest.raises(asyncio.CancelledError):
                await agent


@pytest.mark.timeout(300)
@pytest.mark.parametrize(("where", "says"), [("not a wall server", "the wall server's address?"),
                                             ("nowhere", "cannot reach")])
async def test_a_wrong_server_address_is_said_on_screen_and_in_the_log_once(
        browser: Browser, wall: Wall, tmp_path: Path, caplog: pytest.LogCaptureFixture, where: str,
        says: str) -> None:
    caplog.set_level(logging.INFO, logger="wall_kiosk")
    # The stand-in wall answers, but has no fleet API; nothing listens on the other port.
    server = wall.url.removesuffix("/w/lobby") if where == "not a wall server" \
        else f"http://127.0.0.1:{free_port()}"
    agent = asyncio.create_task(run_agent(AgentSettings(
        devtools=browser.devtools, wall_url=server, interval=0.5, hang_timeout=2.0, retry=0.5,
        restart_cmd=browser.restart_cmd, sysfs=tmp_path, state_file=tmp_path / "agent.json",
        credentials_file=tmp_path / "kiosk.json")))
    async with aiohttp.ClientSession() as s:
        async def on_screen() -> bool:
            text = str(await evaluate(s, browser.devtools, "document.body.textContent"))
            return "Cannot pair this screen" in text and says in text
        await until(f"the screen says {says!r}", on_screen, 20)
        await asyncio.sleep(1.5)  # several more attempts
    agent.cancel()
    with pytest.raises(asyncio.CancelledError):
        await agent
    assert sum(says in r.getMessage() for r in caplog.records) == 1  # said once, not every attempt
    assert "restarting" not in caplog.text


@pytest.mark.timeout(300)
async def test_an_expired_pairing_code_is_replaced_by_a_new_one_on_screen(
        browser: Browser, tmp_path: Path, redis_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="wall_kiosk")
    cfg = make_config("redis", redis_url, kiosks={"pairing_ttl": 2.0})
    async with running_node(cfg) as base, aiohttp.ClientSession() as s:
        agent = asyncio.create_task(run_agent(AgentSettings(
            devtools=browser.devtools, wall_url=base, interval=0.5, hang_timeout=2.0,
            restart_cmd=browser.restart_cmd, sysfs=tmp_path, state_file=tmp_path / "agent.json",
            credentials_file=tmp_path / "kiosk.json")))
        codes: list[str] = []

        async def codes_seen() -> bool:
            code = str(await evaluate(s, browser.devtools,
                                      "document.getElementById('pair-code')?.textContent || ''"))
            if len(code) == 6 and code not in codes:
                codes.append(code)
            return len(codes) >= 2
        try:
            await until("a second code replaces the expired first one", codes_seen, 40)
        finally:
            agent.cancel()
            with pytest.raises(asyncio.CancelledError):
                await agent
    assert "expired" in caplog.text and not (tmp_path / "kiosk.json").exists()


def drm_tree(root: Path, **statuses: str) -> Path:
    """/sys/class/drm as the kernel lays it out: card1-HDMI-A-1/status holding `connected\\n`."""
    for name, status in statuses.items():
        (root / "class" / "drm" / f"card1-{name.replace('_', '-')}").mkdir(parents=True)
        (root / "class" / "drm" / f"card1-{name.replace('_', '-')}" / "status").write_text(f"{status}\n")
    return root


def test_the_tv_is_off_only_when_every_watched_connector_says_disconnected(tmp_path: Path) -> None:
    both = drm_tree(tmp_path / "a", HDMI_A_1="disconnected", HDMI_A_2="connected", Writeback_1="unknown")
    assert connectors(both) == {"HDMI-A-1": "disconnected", "HDMI-A-2": "connected"}  # writeback: no screen
    assert power(connectors(both)) is Power.ON
    assert power(connectors(both, only="HDMI-A-1")) is Power.OFF  # --connector HDMI-A-1
    assert power(connectors(drm_tree(tmp_path / "b", HDMI_A_1="disconnected"))) is Power.OFF
    assert power(connectors(drm_tree(tmp_path / "c", VGA_1="unknown"))) is Power.UNKNOWN  # no hotplug line
    assert power(connectors(tmp_path / "no-drm")) is Power.UNKNOWN  # a VM, a container: never judged
    assert x11_name("HDMI-A-1") == "HDMI-1" and x11_name("DP-2") == "DP-2"


async def test_a_failed_output_command_is_said_with_its_exit_and_output(tmp_path: Path) -> None:
    fails = (sys.executable, "-c", "import sys; print('no output named', sys.argv[1]); sys.exit(3)",
             "{output}")
    display = Display(drm_tree(tmp_path, HDMI_A_1="connected"), None, "cage", (fails,))
    display.poll()
    said = await display.switch_on()
    assert said is not None and "exited 3: no output named HDMI-A-1" in said
    braces = (sys.executable, "-c", "import sys; sys.exit(sys.argv[1] != 'HDMI-A-1' or sys.argv[2] != '{}')",
              "{output}", "{}")
    display.output_cmds = (braces,)  # a command of the user's, with braces of its own
    assert await display.switch_on() is None
    assert await Display(tmp_path, None, "cage", (("no-such-command-here", "{output}"),)).switch_on() \
        == "no-such-command-here '' failed: [Errno 2] No such file or directory: 'no-such-command-here'"
