"""`wall-kiosk-agent` (the server's `wall kiosk-agent` too): keeps a kiosk's Chromium showing the wall,
through the DevTools protocol.

Every `interval` seconds it asks the page a tiny question (`Runtime.evaluate`): the answer's round trip is
the heartbeat, and `window.__wallHeartbeat` (ms since the epoch, set by the page) when the page sets it.
It also reads the JS heap (`Performance.getMetrics`) and waits for the page's next frame
(`requestAnimationFrame`): a renderer that answers but paints nothing (its tab hidden, the compositor
stalled, the output gone) is as blank as a crashed one. When the page hangs, crashes, stops its heartbeat,
paints no frame or grows past the memory limit, it takes the next step the policy allows: reload, restart
the browser, reboot.

While the TV is off or unplugged (its DRM connector says `disconnected`, wall_kiosk/display.py) the
agent judges nothing and reports "TV off": no step can fix a TV (it still loads the wall, so that it is
there when the TV is). When it comes back, the agent switches
the output on again (wlr-randr or xrandr, per session); a page that then paints nothing is reloaded.
Before loading the wall it waits until the server answers, so a screen never boots into an error page.

Started with only the server's address (`--url http://wall-server:8080`), it pairs first: it shows a code
from the server, an admin approves it in the console, and from then on it shows the wall it was assigned,
reports to the server and follows its commands (wall_kiosk/fleet.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import logging
import math
import shlex
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from wall_kiosk import __version__
from wall_kiosk.cdp import DevToolsError, Tab, targets
from wall_kiosk.display import OUTPUT_CMDS, Display, Power
from wall_kiosk.fleet import Credentials, FleetClient, ServerError, since, system_status
from wall_kiosk.policy import History, Limits, Policy, Step
from wall_kiosk.redact import configure_logging, redact_url, redact_urls
from wall_kiosk.tv import TvSchedule, parse_hhmm

log = logging.getLogger(__name__)

# The round trip is the heartbeat; the page's own heartbeat, when it sets one, is reported as its age.
PROBE = ("[document.readyState, typeof window.__wallHeartbeat === 'number' ? "
         "Date.now() - window.__wallHeartbeat : null]")
# Resolves at the page's next frame: a visible page that paints gets one within a vsync or two.
NEXT_FRAME = "new Promise(done => requestAnimationFrame(() => done(true)))"
SHOT_WIDTH = 480  # pixels: enough to recognise the wall in the console, about 20 KB as JPEG
# "Identify": the kiosk's position over everything for 10 s, blinking, then gone. %s is the text (JSON).
IDENTIFY = """(() => {
  document.getElementById("__wall_identify")?.remove();
  const d = document.createElement("div");
  d.id = "__wall_identify";
  d.textContent = %s;
  Object.assign(d.style, {position: "fixed", inset: "0", zIndex: "2147483647", display: "flex",
    alignItems: "center", justifyContent: "center", textAlign: "center", whiteSpace: "pre-line",
    background: "rgba(0, 0, 0, 0.85)", color: "#ffd24d", font: "700 18vh/1.1 sans-serif"});
  document.documentElement.append(d);
  const blink = setInterval(() => { d.style.opacity = d.style.opacity === "0.2" ? "1" : "0.2"; }, 500);
  setTimeout(() => { clearInterval(blink); d.remove(); }, 10000);
  return true;
})()"""


@dataclass(frozen=True)
class AgentSettings:
    devtools: str
    wall_url: str
    interval: float = 5.0
    hang_timeout: float = 10.0
    heap_limit_mb: int = 1024
    restart_cmd: list[str] = field(default_factory=lambda: ["systemctl", "restart", "wall-kiosk.service"])
    reboot_cmd: list[str] = field(default_factory=lambda: ["systemctl", "reboot"])
    state_file: Path = Path("/var/lib/wallkiosk/agent-state.json")
    heartbeat_timeout: float = 30.0  # a page heartbeat older than this means the page's loop stopped
    frame_timeout: float = 10.0  # a page that paints no frame for this long shows nothing new
    restart_wait: float = 60.0  # how long a restarted browser may take before its DevTools port answers
    settle: float = 3.0  # after a step, time for the page to load before it is judged again
    limits: Limits = field(default_factory=Limits)
    tv_on: str | None = None  # "08:00": turn the TV on over HDMI-CEC at this local time
    tv_off: str | None = None  # "19:00"
    # The TV's connection, read from the kernel's DRM connectors under sysfs (tests give a tree of their own).
    sysfs: Path = Path("/sys")
    connector: str | None = None  # "HDMI-A-1"; None: any connector of the card
    session: str = "cage"  # the kiosk's graphical session (kiosk/install.sh --session): cage or x11
    output_cmds: tuple[tuple[str, ...], ...] | None = None  # None: the session's (display.OUTPUT_CMDS)
    # Pairing and reports (when wall_url is the server alone):
    credentials_file: Path = Path("/var/lib/wallkiosk/kiosk.json")
    reset: bool = False  # forget the saved credentials and pair again
    report_interval: float = 10.0  # until the server says otherwise
    screenshot_interval: float = 60.0
    retry: float = 10.0  # seconds between attempts while the server cannot be asked

    def __post_init__(self) -> None:
        parts = urlsplit(self.wall_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"wall URL {self.wall_url!r} is not an http(s) URL like "
                             "http://wall-server:8080 (to pair) or http://wall-server:8080/w/lobby")
        if self.session not in OUTPUT_CMDS:
            raise ValueError(f"session {self.session!r} is not one of {', '.join(OUTPUT_CMDS)}")
        if (self.tv_on is None) != (self.tv_off is None):
            raise ValueError("give both tv_on and tv_off, or neither")
        for t in (self.tv_on, self.tv_off):
            if t is not None:
                parse_hhmm(t)

    @property
    def server(self) -> str:
        parts = urlsplit(self.wall_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def pairs(self) -> bool:
        """Only the server's address was given: the kiosk pairs and the console assigns its wall."""
        return urlsplit(self.wall_url).path in ("", "/")

    @property
    def healthz(self) -> str:
        return f"{self.server}/healthz"


@dataclass(frozen=True)
class Problem:
    reason: str
    minimum: Step = Step.RELOAD  # a browser whose DevTools port is dead cannot be helped by a reload


def on_wall(url: str, wall_url: str) -> bool:
    """Whether the tab shows the wall (the page may add a query or fragment of its own)."""
    a, b = urlsplit(url), urlsplit(wall_url)
    return (a.scheme, a.netloc, a.path.rstrip("/")) == (b.scheme, b.netloc, b.path.rstrip("/"))


class Agent:
    def __init__(self, settings: AgentSettings, session: aiohttp.ClientSession) -> None:
        self.s = settings
        self.session = session
        self.policy = Policy(settings.limits, History.load(settings.state_file))
        self.tab: Tab | None = None
        self.server_said: str | None = None  # the last thing said about the server, to say it once
        self.gave_up = False
        self.tv = TvSchedule(settings.tv_on, settings.tv_off) if settings.tv_on and settings.tv_off else None
        self.display = Display(settings.sysfs, settings.connector, settings.session,
                               settings.output_cmds or OUTPUT_CMDS[settings.session])
        # What the reports say: the agent's last judgement and the page's figures.
        self.started = time.monotonic()
        self.state = "starting"
        self.heartbeat_age: float | None = None
        self.heap_mb: float | None = None
        self.shown_url = ""
        # The fleet, when the kiosk pairs with the server instead of being given its wall.
        self.fleet: FleetClient | None = None
        self.creds: Credentials | None = None
        self.note: str | None = None  # why the kiosk pairs again (its token was revoked), under the code
        self.report_interval = settings.report_interval
        self.screenshot_interval = settings.screenshot_interval
        self.last_shot = -math.inf
        self.report_said: str | None = None
        if settings.pairs:
            self.fleet = FleetClient(session, settings.server, settings.hang_timeout)
            if settings.reset:
                Credentials.forget(settings.credentials_file)
            self.creds = Credentials.load(settings.credentials_file, settings.server)

    @property
    def wall_url(self) -> str:
        """The wall this kiosk shows: given, or assigned by the console (empty while it pairs)."""
        if self.fleet is None:
            return self.s.wall_url
        return f"{self.s.server}{self.creds.url}" if self.creds is not None else ""

    async def run(self) -> None:
        log.info("kiosk agent for %s watching the browser through DevTools at %s", _shown(self.s.wall_url),
                 self.s.devtools)
        await self.wait_for_devtools()  # at boot the browser starts with the agent: give it time
        reporter = asyncio.create_task(self.report_loop()) if self.fleet is not None else None
        try:
            while True:
                if self.tv is not None:
                    await self.tv.tick(dt.datetime.now().time())
                if self.fleet is not None and self.creds is None:
                    try:
                        await self.pair()
                    except (KeyError, TypeError, ValueError, OSError) as e:  # a reply of the wrong shape
                        log.error("pairing failed (%s: %s): trying again in %g s", type(e).__name__, e,
                                  self.s.retry)
                        await asyncio.sleep(self.s.retry)
                    continue
                if not await self.tv_is_there():
                    self.state = "TV off"
                    await self.load_only()
                    log.debug("check: %s", self.state)
                    await asyncio.sleep(self.s.interval)
                    continue
                problem = await self.check()
                if problem is True:
                    self.state = "healthy" if self.tv is None or self.tv.applied is not False \
                        else "healthy, TV off by the schedule"
                    if self.policy.history.pending is not None:
                        log.info("the wall is healthy again at %s", _shown(self.wall_url))
                        self.policy.healthy()
                        self.policy.history.save(self.s.state_file)
                    self.gave_up = False
                elif isinstance(problem, Problem):
                    self.state = problem.reason
                    await self.escalate(problem)
                else:
                    self.state = f"waiting for the wall server: {self.server_said}" if self.server_said \
                        else "loading the wall"
                log.debug("check: %s", self.state)
                await asyncio.sleep(self.s.interval)
        finally:
            if reporter is not None:
                reporter.cancel()
                await asyncio.gather(reporter, return_exceptions=True)
            await self.drop_tab()

    async def tv_is_there(self) -> bool:
        """False while the TV is off or unplugged. When it comes back, its output is switched on again."""
        before, now = self.display.poll()
        if now is Power.OFF:
            if before is not Power.OFF:
                log.info("the TV is off or unplugged (no display connected): waiting for it, judging nothing")
            return False
        if before is Power.OFF:
            failed = await self.display.switch_on()
            if failed is None:
                log.info("the TV is back on %s: its output is switched on again", self.display.shown)
            else:  # a page that stays blank is caught by the frame check, which reloads, then restarts
                log.warning("the TV is back on %s, but switching its output on failed: %s",
                            self.display.shown, failed)
        return True

    async def load_only(self) -> None:
        """While the TV is off: the wall in the tab if it is not there yet, nothing judged."""
        try:
            pages = [t for t in await targets(self.session, self.s.devtools, self.s.hang_timeout)
                     if t.get("type") == "page"]
            if pages:
                target = self.pick(pages)
                tab = await self.attach(target)
                if not on_wall(url := str(target.get("url", "")), self.wall_url):
                    await self.load_wall(tab, url)
        except DevToolsError as e:  # judged when the TV is back
            log.debug("while the TV is off: %s", e)

    def pick(self, pages: list[dict[str, Any]]) -> dict[str, Any]:
        """The tab the agent watches: the one it had, else the first page."""
        mine = [t for t in pages if self.tab is not None and t.get("id") == self.tab.target_id]
        return (mine or pages)[0]

    async def check(self) -> Problem | bool:
        """True when the page is healthy; False when the wall is being loaded or waits for the server
        (which no step can fix); else the problem."""
        try:
            pages = [t for t in await targets(self.session, self.s.devtools, self.s.hang_timeout)
                     if t.get("type") == "page"]
        except DevToolsError as e:
            await self.drop_tab()
            return Problem(f"{e}: is the browser running with --remote-debugging-port?", Step.RESTART)
        if not pages:
            await self.drop_tab()
            return Problem("the browser has no page open", Step.RESTART)
        target = self.pick(pages)
        try:
            tab = await self.attach(target)
        except DevToolsError as e:
            return Problem(str(e), Step.RESTART)
        if tab.crashed:
            return Problem("the page crashed (\"Aw, Snap!\")")
        url = self.shown_url = str(target.get("url", ""))
        if not on_wall(url, self.wall_url):
            if await self.load_wall(tab, url):
                return False
            return Problem(f"the browser does not load {_shown(self.wall_url)} "
                           f"(it shows {_shown(url) or 'nothing'})")
        try:
            value = (await tab.call("Runtime.evaluate", {"expression": PROBE, "returnByValue": True},
                                    self.s.hang_timeout)).get("result", {}).get("value")
        except TimeoutError:
            if tab.crashed:
                return Problem("the page crashed (\"Aw, Snap!\")")
            return Problem(f"the page did not answer within {self.s.hang_timeout:g} s: it hangs")
        except DevToolsError as e:
            return Problem(f"the page did not answer: {e}")
        age = value[1] if isinstance(value, list) and len(value) == 2 else None
        self.heartbeat_age = round(age / 1000, 1) if isinstance(age, (int, float)) else None
        if isinstance(age, (int, float)) and age > self.s.heartbeat_timeout * 1000:
            return Problem(f"the page's heartbeat stopped {age / 1000:.0f} s ago")
        try:
            metrics = await tab.call("Performance.getMetrics", timeout=self.s.hang_timeout)
        except (TimeoutError, DevToolsError) as e:
            if tab.crashed:  # the renderer died between the two questions
                return Problem("the page crashed (\"Aw, Snap!\")")
            return Problem(f"the page did not report its memory ({str(e) or 'timeout'})")
        heap = next((m.get("value", 0) for m in metrics.get("metrics", [])
                     if m.get("name") == "JSHeapUsedSize"), 0)
        self.heap_mb = round(heap / 2**20, 1)
        if heap > self.s.heap_limit_mb * 1024 * 1024:
            return Problem(f"the page uses {heap / 2**20:.0f} MB of JS heap, "
                           f"past the limit of {self.s.heap_limit_mb} MB")
        # Last: the one question that may take seconds, and a page short of memory may paint late.
        if not await self.paints(tab):
            return Problem(f"the page painted no frame for {self.s.frame_timeout:g} s"
                           f"{' (it is hidden)' if await self.hidden(tab) else ''}")
        return True

    async def paints(self, tab: Tab) -> bool:
        """Whether the page gets a frame within frame_timeout (it answered the probe: it does not hang)."""
        try:
            await tab.call("Runtime.evaluate", {"expression": NEXT_FRAME, "awaitPromise": True},
                           self.s.frame_timeout)
        except TimeoutError:
            return False
        except DevToolsError:
            return True  # the connection went: the next check sees why
        return True

    async def hidden(self, tab: Tab) -> bool:
        try:
            found = await tab.call("Runtime.evaluate", {"expression": "document.hidden",
                                                        "returnByValue": True}, self.s.hang_timeout)
        except (TimeoutError, DevToolsError):
            return False
        return found.get("result", {}).get("value") is True

    async def attach(self, target: dict[str, Any]) -> Tab:
        if self.tab is not None and self.tab.target_id == target.get("id") and not self.tab.closed:
            return self.tab
        await self.drop_tab()
        self.tab = tab = await Tab.open(self.session, target, self.s.hang_timeout)
        for method in ("Inspector.enable", "Performance.enable", "Page.enable"):
            try:
                await tab.call(method, timeout=self.s.hang_timeout)
            except (TimeoutError, DevToolsError) as e:  # a hung page: the probe will say so
                log.debug("%s on %s: %s", method, _shown(str(target.get("url", ""))), e)
        return tab

    async def page(self) -> tuple[Tab, str] | None:
        """The browser's page and its URL, for pairing; a dead DevTools port restarts the browser."""
        try:
            pages = [t for t in await targets(self.session, self.s.devtools, self.s.hang_timeout)
                     if t.get("type") == "page"]
            if pages:
                target = self.pick(pages)
                return await self.attach(target), str(target.get("url", ""))
            problem = Problem("the browser has no page open", Step.RESTART)
        except DevToolsError as e:
            problem = Problem(f"{e}: is the browser running with --remote-debugging-port?", Step.RESTART)
        await self.drop_tab()
        await self.escalate(problem)
        return None

    async def drop_tab(self) -> None:
        if self.tab is not None:
            await self.tab.close()
            self.tab = None

    async def server_answers(self) -> str | None:
        """None when the wall server serves the wall, else what is wrong, in words for a person."""
        timeout = aiohttp.ClientTimeout(total=self.s.hang_timeout)
        try:
            async with self.session.get(self.s.healthz, timeout=timeout) as resp:
                if resp.status not in (200, 503):  # 503: up but degraded; the wall page copes with that
                    return (f"{_shown(self.s.healthz)} answers HTTP {resp.status}: is "
                            f"{_shown(self.s.wall_url)} the right wall server URL?")
            # A private wall's key answers with a redirect that sets the screen's cookie: the browser
            # keeps it; this check only needs to know the wall is there.
            async with self.session.get(self.wall_url, timeout=timeout, allow_redirects=False) as resp:
                if resp.status not in (200, 302, 303, 307):
                    return f"{_shown(self.wall_url)} answers HTTP {resp.status}: is the wall name right?"
        except (TimeoutError, aiohttp.ClientError) as e:
            said = redact_urls(str(e), keep_paths=True) or type(e).__name__
            return (f"cannot reach the wall server at {_shown(self.s.healthz)} ({said}): "
                    "check the URL and the network")
        return None

    async def load_wall(self, tab: Tab, current: str) -> bool:
        """Load the wall once its server answers; False when the browser does not take the navigation."""
        wrong = await self.server_answers()
        if wrong is not None:
            if wrong != self.server_said:
                log.warning("waiting for the wall server: %s", wrong)
                self.server_said = wrong
            await self.say_on_screen(tab, f"Waiting for the wall server. {wrong}")
            return True
        self.server_said = None
        log.info("the wall server answers: loading %s (the tab showed %s)", _shown(self.wall_url),
                 _shown(current) or "nothing")
        if not await self.navigate(tab):
            return False
        await asyncio.sleep(self.s.settle)
        return True

    async def say_on_screen(self, tab: Tab, text: str) -> None:
        """Put the message on the placeholder page so whoever looks at the TV knows what is wrong."""
        expr = f"document.body && (document.body.textContent = {_js_string(text)})"
        try:
            await tab.call("Runtime.evaluate", {"expression": expr}, self.s.hang_timeout)
        except (TimeoutError, DevToolsError):
            pass  # only a courtesy: the log says it too

    async def navigate(self, tab: Tab, url: str | None = None) -> bool:
        url = url or self.wall_url
        try:
            await tab.call("Page.navigate", {"url": url}, self.s.hang_timeout)
            return True
        except (TimeoutError, DevToolsError) as e:
            log.warning("the browser did not take the navigation to %s (%s)", _shown(url),
                        str(e) or "no answer")
            return False

    # --- pairing and reports ------------------------------------------------------------------------

    async def pair(self) -> None:
        """Show a pairing code until an admin approves it (the credentials are saved) or it expires."""
        assert self.fleet is not None
        self.state = "pairing"
        try:
            enrolled = await self.fleet.enroll(socket.gethostname(), __version__)
        except ServerError as e:
            await self.say_pairing_problem(f"Cannot pair this screen. {e}")
            await asyncio.sleep(self.s.retry)
            return
        code, poll = str(enrolled["code"]), str(enrolled["poll_token"])
        pair_url = f"{self.s.server}{enrolled.get('pair_url', '/kiosk/pair?code=' + code)}"
        log.info("pairing code %s: an admin types it at %s/console/fleet", code, self.s.server)
        self.server_said = None
        deadline = time.monotonic() + float(enrolled.get("expires_in", 900))
        every = float(enrolled.get("poll_interval", 3.0))
        while time.monotonic() < deadline:
            if self.tv is not None:  # a code may wait for an admin for a quarter of an hour
                await self.tv.tick(dt.datetime.now().time())
            shown = await self.page()
            if shown is not None and shown[1] != pair_url:
                await self.navigate(shown[0], pair_url)
            await asyncio.sleep(every)
            try:
                status, reply = await self.fleet.claim(poll)
            except ServerError as e:
                await self.say_pairing_problem(f"Lost the wall server while pairing. {e}", pair_page=True)
                continue
            if status == 200 and reply.get("state") == "approved":
                self.paired(reply)
                return
            if status != 200:  # expired or unknown: a new code
                log.warning("pairing code %s: %s", code, reply.get("error", f"HTTP {status}"))
                return
            minutes = max(1, round((deadline - time.monotonic()) / 60))
            await self.pair_status(f"{self.note + ' ' if self.note else ''}Waiting for approval… this code "
                                   f"is valid for {minutes} more minute{'s' if minutes > 1 else ''}.")
        log.info("pairing code %s expired: asking for a new one", code)

    def paired(self, reply: dict[str, Any]) -> None:
        kiosk = dict(reply.get("kiosk") or {})
        self.creds = Credentials(self.s.server, str(reply["token"]), str(reply["url"]), kiosk)
        self.creds.save(self.s.credentials_file)
        self.note = None
        self.intervals(reply)
        log.info("paired as kiosk %s (%s): screen %s of %s of wall %s", kiosk.get("id"), kiosk.get("name"),
                 kiosk.get("screen"), kiosk.get("of"), kiosk.get("wall"))

    def intervals(self, reply: dict[str, Any]) -> None:
        for key in ("report_interval", "screenshot_interval"):
            value = reply.get(key)
            if isinstance(value, (int, float)) and 0.1 <= value <= 3600:
                setattr(self, key, float(value))

    async def say_pairing_problem(self, text: str, pair_page: bool = False) -> None:
        if text != self.server_said:
            log.warning("%s", text)
            self.server_said = text
        shown = await self.page()
        if shown is not None:
            if pair_page:
                await self.pair_status(text)
            else:
                await self.say_on_screen(shown[0], text)

    async def pair_status(self, text: str) -> None:
        """The line under the pairing code."""
        if self.tab is None:
            return
        expr = (f"(() => {{ const e = document.getElementById('pair-status'); "
                f"if (e) e.textContent = {_js_string(text)}; }})()")
        try:
            await self.tab.call("Runtime.evaluate", {"expression": expr}, self.s.hang_timeout)
        except (TimeoutError, DevToolsError):
            pass

    async def report_loop(self) -> None:
        while True:
            if self.creds is None:
                await asyncio.sleep(1.0)
                continue
            try:
                await self.report()
            except (KeyError, TypeError, ValueError, OSError) as e:  # never let one odd reply stop reports
                log.error("report failed (%s: %s)", type(e).__name__, e)
            await asyncio.sleep(self.report_interval)

    async def report(self) -> None:
        """Tell the server how the kiosk is; carry out the commands in its reply."""
        assert self.fleet is not None and self.creds is not None
        body: dict[str, Any] = {"version": __version__, "agent_uptime": since(self.started),
                                "heartbeat_age": self.heartbeat_age, "url": _shown(self.shown_url),
                                "state": self.state[:300], **system_status()}
        if self.heap_mb is not None:
            body["memory"] = {**body.get("memory", {}), "heap_mb": self.heap_mb}
        if time.monotonic() - self.last_shot >= self.screenshot_interval:
            shot = await self.screenshot()
            if shot is not None:
                body["screenshot"] = shot
                self.last_shot = time.monotonic()
        creds = self.creds
        try:
            status, reply = await self.fleet.report(creds.token, body)
        except ServerError as e:
            if str(e) != self.report_said:
                log.warning("cannot report to the wall server: %s", e)
                self.report_said = str(e)
            return
        if status == 401:
            message = str(reply.get("error", "the wall server refused this kiosk's token"))
            log.error("the wall server refused this kiosk: %s. Showing a new pairing code", message)
            Credentials.forget(self.s.credentials_file)
            self.creds = None
            self.note = message
            if self.tab is not None:
                await self.say_on_screen(self.tab, message)
            return
        if status != 200:
            said = f"HTTP {status}: {reply.get('error')}"
            if said != self.report_said:
                log.warning("the wall server refused the report: %s", said)
                self.report_said = said
            return
        self.report_said = None
        self.intervals(reply)
        for command in reply.get("commands", []):
            if isinstance(command, dict):
                await self.follow(command, creds)

    async def follow(self, command: dict[str, Any], creds: Credentials) -> None:
        op = command.get("op")
        if op == "assign" and isinstance(command.get("url"), str):
            kiosk = dict(command.get("kiosk") or creds.kiosk)
            self.creds = Credentials(creds.server, creds.token, str(command["url"]), kiosk)
            self.creds.save(self.s.credentials_file)
            log.info("re-assigned by the console: screen %s of %s of wall %s", kiosk.get("screen"),
                     kiosk.get("of"), kiosk.get("wall"))
            if self.tab is not None:
                await self.navigate(self.tab)
        elif op == "reload":
            log.info("the console asks for a reload of %s", _shown(self.wall_url))
            if self.tab is not None:
                await self.navigate(self.tab)
        elif op == "identify":
            kiosk = dict(command.get("kiosk") or creds.kiosk)
            log.info("the console asks this kiosk to identify itself")
            if self.tab is not None:
                text = f"{kiosk.get('screen', '?')} of {kiosk.get('of', '?')}\n{kiosk.get('name', '')}"
                with contextlib.suppress(TimeoutError, DevToolsError):
                    await self.tab.call("Runtime.evaluate", {"expression": IDENTIFY % _js_string(text)},
                                        self.s.hang_timeout)
        else:
            log.warning("the wall server sent a command this agent does not know: %r", op)

    async def screenshot(self) -> str | None:
        """A small JPEG of the page (base64), or None when the page cannot take one now."""
        tab = self.tab
        if tab is None or tab.closed:
            return None
        try:
            size = (await tab.call("Runtime.evaluate", {"expression": "[innerWidth, innerHeight]",
                                                        "returnByValue": True}, self.s.hang_timeout)
                    ).get("result", {}).get("value")
            width, height = float(size[0]), float(size[1])
            clip = {"x": 0, "y": 0, "width": width, "height": height, "scale": min(1.0, SHOT_WIDTH / width)}
            shot = await tab.call("Page.captureScreenshot", {"format": "jpeg", "quality": 50, "clip": clip},
                                  self.s.hang_timeout)
        except (TimeoutError, DevToolsError, TypeError, ValueError, IndexError, ZeroDivisionError):
            return None
        data = shot.get("data")
        return data if isinstance(data, str) else None

    # --- escalation ----------------------------------------------------------------------------------

    async def escalate(self, problem: Problem) -> None:
        now = time.time()
        step = self.policy.next_step(now, problem.minimum)
        if step is None:
            if not self.gave_up:
                log.error("%s, and every step is used up for now (limits %s): only watching until they "
                          "expire", problem.reason, self.s.limits)
                self.gave_up = True
            return
        self.policy.taken(step, now)
        self.policy.history.save(self.s.state_file)
        if step is Step.RELOAD:
            log.warning("%s: reloading %s", problem.reason, _shown(self.wall_url))
            if self.tab is not None:
                with contextlib.suppress(TimeoutError, DevToolsError):  # a tab behind another paints nothing
                    await self.tab.call("Page.bringToFront", timeout=self.s.hang_timeout)
                await self.navigate(self.tab)
                # A fresh connection for the next check: the old one's "crashed" flag would outlive the
                # crash, and the reload would look as if it had not helped.
                await self.drop_tab()
            await asyncio.sleep(self.s.settle)
        elif step is Step.RESTART:
            log.warning("%s: restarting the browser with %s", problem.reason, shlex.join(self.s.restart_cmd))
            await self.drop_tab()
            await run_command(self.s.restart_cmd)
            await self.wait_for_devtools()
        else:
            log.error("%s: rebooting the device with %s", problem.reason, shlex.join(self.s.reboot_cmd))
            await self.drop_tab()
            await run_command(self.s.reboot_cmd)
            await asyncio.sleep(self.s.restart_wait)

    async def wait_for_devtools(self) -> None:
        deadline = time.monotonic() + self.s.restart_wait
        while time.monotonic() < deadline:
            try:
                await targets(self.session, self.s.devtools, self.s.hang_timeout)
                log.info("the browser's DevTools at %s answer", self.s.devtools)
                return
            except DevToolsError:
                await asyncio.sleep(0.5)
        log.error("the browser's DevTools at %s still do not answer after %g s",
                  self.s.devtools, self.s.restart_wait)


def _shown(url: str) -> str:
    """A URL as the log, the screen and the fleet report say it: a private wall's display key is a secret."""
    return redact_url(url, keep_path=True) if url else ""


def _js_string(text: str) -> str:
    return json.dumps(text)


async def run_command(cmd: list[str]) -> None:
    try:
        proc = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.STDOUT)
        out, _ = await asyncio.wait_for(proc.communicate(), 120)
    except (TimeoutError, OSError) as e:
        log.error("command %s failed: %s", shlex.join(cmd), str(e) or "timeout")
        return
    if proc.returncode:
        log.error("command %s exited %s: %s", shlex.join(cmd), proc.returncode,
                  out.decode(errors="replace").strip()[-500:])


async def run_agent(settings: AgentSettings) -> None:
    """Watch the kiosk's browser until cancelled."""
    async with aiohttp.ClientSession() as session:
        await Agent(settings, session).run()


def add_kiosk_agent_command(
        subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add `kiosk-agent` to the `wall` command's subcommands; run it with main_kiosk_agent(args)."""
    p = subparsers.add_parser("kiosk-agent", help="keep this kiosk's Chromium showing the wall (DevTools)")
    _add_arguments(p)
    return p


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="wall-kiosk-agent",
                                description="Keep a kiosk's Chromium showing the wall.")
    _add_arguments(p)
    return p


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--url", required=True,
                   help="the wall server (http://wall-server:8080: pair in the console) or one wall "
                        "(http://wall-server:8080/w/lobby)")
    p.add_argument("--devtools", default="http://127.0.0.1:9222", help="Chromium's remote debugging address")
    p.add_argument("--interval", type=float, default=5.0, help="seconds between checks")
    p.add_argument("--hang-timeout", type=float, default=10.0, help="seconds the page may take to answer")
    p.add_argument("--heartbeat-timeout", type=float, default=30.0, help="max age of the page's heartbeat")
    p.add_argument("--heap-limit-mb", type=int, default=1024, help="reload when the JS heap passes this")
    p.add_argument("--frame-timeout", type=float, default=10.0,
                   help="reload when the page paints no frame for this many seconds")
    p.add_argument("--session", choices=sorted(OUTPUT_CMDS), default="cage",
                   help="the kiosk's graphical session: how to switch the TV's output on when it comes back")
    p.add_argument("--connector", help="the TV's DRM connector (HDMI-A-1); default: any connector")
    p.add_argument("--output-cmd", action="append", default=None,
                   help="instead of the session's: a command that switches the output on; {output} is the "
                        "connector (repeat for several)")
    p.add_argument("--sysfs", type=Path, default=Path("/sys"), help=argparse.SUPPRESS)  # tests: a fake tree
    p.add_argument("--restart-cmd", default="systemctl restart wall-kiosk.service")
    p.add_argument("--reboot-cmd", default="systemctl reboot")
    p.add_argument("--state-file", type=Path, default=Path("/var/lib/wallkiosk/agent-state.json"))
    p.add_argument("--tv-on", help="turn the TV on at this local time over HDMI-CEC (HH:MM)")
    p.add_argument("--tv-off", help="turn the TV off (standby) at this local time (HH:MM)")
    p.add_argument("--credentials", type=Path, default=Path("/var/lib/wallkiosk/kiosk.json"),
                   help="where a paired kiosk keeps its token (mode 0600)")
    p.add_argument("--reset", action="store_true",
                   help="forget the kiosk's token and show a new pairing code")


def settings_from_args(args: argparse.Namespace) -> AgentSettings:
    return AgentSettings(
        devtools=args.devtools, wall_url=args.url, interval=args.interval, hang_timeout=args.hang_timeout,
        heartbeat_timeout=args.heartbeat_timeout, heap_limit_mb=args.heap_limit_mb,
        frame_timeout=args.frame_timeout, session=args.session, connector=args.connector, sysfs=args.sysfs,
        output_cmds=tuple(tuple(shlex.split(c)) for c in args.output_cmd) if args.output_cmd else None,
        restart_cmd=shlex.split(args.restart_cmd), reboot_cmd=shlex.split(args.reboot_cmd),
        state_file=args.state_file, tv_on=args.tv_on, tv_off=args.tv_off,
        credentials_file=args.credentials, reset=args.reset)


def main_kiosk_agent(args: argparse.Namespace) -> int:
    try:
        settings = settings_from_args(args)
    except ValueError as e:
        log.error("kiosk-agent: %s", e)
        return 2
    try:
        asyncio.run(run_agent(settings))
    except KeyboardInterrupt:
        pass
    return 0


def main(argv: list[str] | None = None) -> int:
    """`wall-kiosk-agent` (the wall-kiosk distribution's script) and `python -m wall_kiosk`."""
    configure_logging(keep_paths=True)
    return main_kiosk_agent(build_parser().parse_args(argv))
