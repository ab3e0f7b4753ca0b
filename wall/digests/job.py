"""The digest job: each wall's digest leaves once per period (docs/digests.md, "Schedule").

One job per wall with a [walls.W.digest] table, in every process with the curate role; whichever holds
the wall's digest lease looks, every CHECK_EVERY or when the next digest is due, for the latest due
period (wall/digests/schedule.py). Once per period across restarts and nodes comes from the store, not the
lease: the sender claims the (wall, period) row first (wall/store/digests.py), and only the claim's
winner composes and sends; the lease only keeps the other nodes from composing the same report for
nothing. The claim is touched before each attempt; one left untouched for longer than the sender could
take (its process died) is taken over. What became of each digest is in the store (the console's Digests
page) and this process's last run in /healthz.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from wall.bus.base import Coordination, backoff, release
from wall.config import WallConfig
from wall.digests.message import Contents, build
from wall.digests.schedule import Period, due, next_due
from wall.digests.settings import SmtpConfig
from wall.digests.smtp import Outcome, send, stale_after, tls_context, with_retries
from wall.store import Store

log = logging.getLogger(__name__)
LEASE_TTL = 6.0  # as the retention job's
RENEW_EVERY = 2.0
CHECK_EVERY = 60.0  # a claim another node holds is looked at again this often (did it finish? die?)
STOP_GRACE = 1.0

# What a digest says for a wall and a period: its figures and the PDF (wall/digests/compose.py).
Compose = Callable[[Store, WallConfig, Period], Awaitable[Contents]]


def digest_lease(wall: str) -> str:
    return f"digest:{wall}"


async def deliver(smtp: SmtpConfig, store: Store, wall: WallConfig, period: Period, by: str,
                  compose: Compose, every: str, now: float | None = None) -> Outcome:
    """Compose the wall's digest of `period` and send it, retried with backoff; the claim (already
    taken by `by`) is touched before each attempt and finished with the outcome."""
    assert wall.digest is not None
    to, context = wall.digest.to, tls_context(smtp)
    contents: list[Contents] = []  # composed once, by the first attempt that gets that far

    async def attempt() -> str:
        if not contents:
            contents.append(await compose(store, wall, period))
        message = build(sender=smtp.sender, to=to, wall=wall.name, title=wall.title, every=every,
                        period=period, contents=contents[0], now=time.time() if now is None else now)
        return await send(smtp, message, context)

    async def before(n: int, error: str | None) -> None:
        await store.digests.touch(wall.name, period.key, by, n - 1, error)

    outcome = await with_retries(attempt, smtp.attempts, smtp.retry_after, before)
    await store.digests.finish(wall.name, period.key, by, "sent" if outcome.sent else "failed",
                               outcome.attempts, outcome.error)
    if outcome.sent:
        log.info("wall %s: digest %s sent to %d recipient(s) (attempt %d)", wall.name, period.key, len(to),
                 outcome.attempts)
    else:
        log.error("wall %s: digest %s not sent after %d attempt(s): %s", wall.name, period.key,
                  outcome.attempts, outcome.error)
    return outcome


@dataclass
class DigestStatus:
    """This process's digest job of a wall, for /healthz."""

    leading: bool = False
    period: str | None = None  # the last period this process looked at
    state: str | None = None  # what became of it: sent, failed, elsewhere (another node is sending it)
    error: str | None = None  # why it failed (or the recipients the relay refused)
    next_at: float | None = None
    job_error: str | None = None  # the job itself failed (the store or the bus was down): tried again soon

    def as_dict(self) -> dict[str, object]:
        return {"leading": self.leading, "period": self.period, "state": self.state, "error": self.error,
                "next_at": self.next_at, "job_error": self.job_error}


class DigestJob:
    def __init__(self, wall: WallConfig, smtp: SmtpConfig, coordination: Coordination, store: Store,
                 owner: str, compose: Compose) -> None:
        assert wall.digest is not None
        self.wall, self.smtp, self.coordination, self.store = wall, smtp, coordination, store
        self.owner, self.compose = owner, compose
        self.status = DigestStatus()
        self.stopping = asyncio.Event()

    async def run_once(self, now: float | None = None) -> float:
        """Send the due digest unless it went (or is going) already; when to look again."""
        schedule = self.wall.digest
        assert schedule is not None
        at = time.time() if now is None else now
        period, _ = due(schedule, at)
        st = self.status
        st.period, st.next_at = period.key, next_due(schedule, at)
        done = await self.store.digests.get(self.wall.name, period.key)
        if done is not None and done.state != "sending":
            st.state, st.error = done.state, done.error
            return st.next_at
        if not await self.store.digests.claim(self.wall.name, period.key, period.start, period.end,
                                              len(schedule.to), self.owner, stale_after(self.smtp), at):
            st.state, st.error = "elsewhere", None  # another node's claim: look again soon, in case it died
            return min(st.next_at, at + CHECK_EVERY)
        outcome = await deliver(self.smtp, self.store, self.wall, period, self.owner, self.compose,
                                schedule.every)
        st.state, st.error = ("sent" if outcome.sent else "failed"), outcome.error
        return st.next_at

    async def run(self) -> None:
        """Hold the wall's digest lease whenever it is free and send what is due, until stop()."""
        name, attempt, wake = digest_lease(self.wall.name), 0, 0.0
        while not self.stopping.is_set():
            try:
                token = await self.coordination.lease(name, self.owner, LEASE_TTL)
                self.status.leading = token is not None
                if token is not None and time.time() >= wake:
                    wake = await self._run_leased(name, token)
                    self.status.job_error = None
                attempt = 0
            except asyncio.CancelledError:
                raise
            except Exception as e:  # the store or the bus is down: tried again soon
                self.status.job_error, wake = f"{type(e).__name__}: {e}", 0.0
                wait = backoff(attempt, base=1.0, cap=30.0)
                log.warning("wall %s: digest job failed (tried again in %.0f s): %s", self.wall.name, wait, e)
                await asyncio.sleep(wait)
                attempt += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), RENEW_EVERY)
        if self.status.leading:
            with contextlib.suppress(Exception):
                await release(self.coordination, name, self.owner)

    async def _run_leased(self, name: str, token: int) -> float:
        """run_once() while renewing the lease beside it. A send goes on if the lease is lost meanwhile:
        its claim in the store, not the lease, is what keeps another node from sending the same digest."""
        job = asyncio.create_task(self.run_once())
        stopping = asyncio.create_task(self.stopping.wait())
        try:
            while not job.done() and not self.stopping.is_set():
                await asyncio.wait({job, stopping}, timeout=RENEW_EVERY, return_when=asyncio.FIRST_COMPLETED)
                if not job.done() and not self.stopping.is_set():
                    self.status.leading = await self.coordination.lease(name, self.owner, LEASE_TTL) == token
        finally:
            stopping.cancel()
            if not job.done():  # stopping: a claim left "sending" is taken over once stale
                job.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await job
        return job.result() if not job.cancelled() else 0.0

    def stop(self) -> None:
        self.stopping.set()


class DigestJobs:
    """Each digest wall's job, run while the context is open; a part of /healthz (wall/web/keys.py)."""

    def __init__(self, walls: Iterable[WallConfig], smtp: SmtpConfig, coordination: Coordination,
                 store: Store, owner: str, compose: Compose) -> None:
        self.jobs = [DigestJob(w, smtp, coordination, store, owner, compose) for w in walls
                     if w.digest is not None]
        self.tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> DigestJobs:
        self.tasks = [asyncio.create_task(j.run(), name=f"digest:{j.wall.name}") for j in self.jobs]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for job in self.jobs:
            job.stop()
        if self.tasks:
            _, late = await asyncio.wait(self.tasks, timeout=STOP_GRACE)
            for task in late:
                task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def wall_health(self, wall: str) -> dict[str, object]:
        here = next((j for j in self.jobs if j.wall.name == wall), None)
        return {} if here is None else {"digest": here.status.as_dict()}

    def problems(self) -> list[str]:
        found = []
        for j in self.jobs:
            if j.status.state == "failed":
                found.append(f"{j.wall.name}: digest {j.status.period} was not sent: {j.status.error}")
            if j.status.job_error:
                found.append(f"{j.wall.name}: digest job: {j.status.job_error}")
        return found
