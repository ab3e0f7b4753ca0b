"""Turn the TV on and off on a schedule over HDMI-CEC with `cec-ctl` (v4l-utils), where the device can."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import shutil

log = logging.getLogger(__name__)


def parse_hhmm(text: str) -> dt.time:
    try:
        hours, minutes = text.split(":")
        return dt.time(int(hours), int(minutes))
    except ValueError as e:
        raise ValueError(f"TV time {text!r} is not HH:MM (e.g. 08:00)") from e


def tv_should_be_on(now: dt.time, on: dt.time, off: dt.time) -> bool:
    """Whether the schedule wants the TV on at `now`; `off` before `on` means on over midnight."""
    if on <= off:
        return on <= now < off
    return now >= on or now < off


class TvSchedule:
    """Sends a CEC command only when the wanted state changes (and once at start), never every check."""

    def __init__(self, on: str, off: str) -> None:
        self.on, self.off = parse_hhmm(on), parse_hhmm(off)
        self.applied: bool | None = None
        self.cec = shutil.which("cec-ctl")
        if self.cec is None:
            log.info("cec-ctl not found (apt install v4l-utils): the TV schedule %s-%s is skipped", on, off)

    async def tick(self, now: dt.time) -> None:
        if self.cec is None:
            return
        want = tv_should_be_on(now, self.on, self.off)
        if want == self.applied:
            return
        if self.applied is None:  # the adapter needs a logical address before it may send anything
            await self._cec("--playback", "--osd-name", "Wall")
        self.applied = want
        log.info("turning the TV %s over HDMI-CEC", "on" if want else "off")
        await self._cec("--to", "0", "--image-view-on" if want else "--standby")

    async def _cec(self, *args: str) -> None:
        assert self.cec is not None
        try:
            proc = await asyncio.create_subprocess_exec(self.cec, *args, stdout=asyncio.subprocess.DEVNULL,
                                                        stderr=asyncio.subprocess.PIPE)
            _, err = await asyncio.wait_for(proc.communicate(), 15)
        except (TimeoutError, OSError) as e:
            log.warning("cec-ctl %s failed (%s): does this TV support HDMI-CEC, and is it on?",
                        " ".join(args), str(e) or "timeout")
            return
        if proc.returncode:
            log.warning("cec-ctl %s exited %s: %s", " ".join(args), proc.returncode,
                        err.decode(errors="replace").strip())
