"""Whether the TV is there, from the kernel's DRM connectors (`/sys/class/drm/card1-HDMI-A-1/status`:
`connected`, `disconnected` or `unknown`), and the commands that switch the output back on after the TV
was power-cycled while the kiosk stayed on (a TV that drops its HDMI hotplug signal makes the compositor
turn the output off, and it can stay off: the classic black screen)."""

from __future__ import annotations

import asyncio
import enum
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

# Per session, the commands that switch an output on again; `{output}` is the connector's name.
OUTPUT_CMDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "cage": (("wlr-randr", "--output", "{output}", "--on"),),
    # X names the connector HDMI-A-1 "HDMI-1"; screen saver and DPMS off again, in case the server reset them.
    "x11": (("xrandr", "--output", "{x11_output}", "--auto"), ("xset", "s", "off", "-dpms", "s", "noblank")),
}


class Power(enum.Enum):
    ON = "on"  # a connector is connected
    OFF = "off"  # every connector we watch says disconnected: the TV is off or unplugged
    UNKNOWN = "unknown"  # nothing to read (no DRM, a virtual machine) or only `unknown`: never judged


def connectors(sysfs: Path, only: str | None = None) -> dict[str, str]:
    """Each connector's status, by its name without the card (`HDMI-A-1`); the writeback one is no screen.
    Reads a few bytes from sysfs, which the kernel answers from memory."""
    found: dict[str, str] = {}
    for status in sorted((sysfs / "class" / "drm").glob("card*-*/status")):
        name = status.parent.name.split("-", 1)[1]
        if name.startswith("Writeback") or (only is not None and name != only):
            continue
        try:
            found[name] = status.read_text().strip()
        except OSError:
            continue
    return found


def power(found: dict[str, str]) -> Power:
    if any(s == "connected" for s in found.values()):
        return Power.ON
    if found and all(s == "disconnected" for s in found.values()):
        return Power.OFF
    return Power.UNKNOWN


def x11_name(connector: str) -> str:
    """X's modesetting driver drops the connector's subtype: HDMI-A-1 is HDMI-1, DVI-D-1 stays DVI-D-1."""
    return re.sub(r"^HDMI-[AB]-", "HDMI-", connector)


@dataclass
class Display:
    """Follows the TV's connection from check to check, and switches its output on when it is back."""

    sysfs: Path
    connector: str | None  # watch this one only (None: every connector the card has)
    session: str
    output_cmds: tuple[tuple[str, ...], ...]
    timeout: float = 15.0
    state: Power = Power.UNKNOWN
    shown: str = ""  # the connector that came back, for the output commands

    def poll(self) -> tuple[Power, Power]:
        """(before, now)."""
        found = connectors(self.sysfs, self.connector)
        before, self.state = self.state, power(found)
        if self.state is Power.ON:
            self.shown = next(name for name, s in found.items() if s == "connected")
        return before, self.state

    async def switch_on(self) -> str | None:
        """Run the session's output commands for the connector that came back; None, or what failed."""
        env = {**os.environ}
        env.setdefault("XDG_RUNTIME_DIR", f"/run/user/{os.getuid()}")  # where the kiosk's session lives
        if self.session == "cage":
            env.setdefault("WAYLAND_DISPLAY", "wayland-0")  # cage is the only compositor: the first socket
        else:
            env.setdefault("DISPLAY", ":0")
        for template in self.output_cmds:
            # replace(), not format(): a command of the user's may hold braces of its own
            cmd = [a.replace("{output}", self.shown).replace("{x11_output}", x11_name(self.shown))
                   for a in template]
            try:
                proc = await asyncio.create_subprocess_exec(*cmd, env=env, stdout=asyncio.subprocess.PIPE,
                                                            stderr=asyncio.subprocess.STDOUT)
            except OSError as e:
                return f"{shlex.join(cmd)} failed: {e}"
            try:
                out, _ = await asyncio.wait_for(proc.communicate(), self.timeout)
            except TimeoutError:
                proc.kill()
                await proc.wait()
                return f"{shlex.join(cmd)} did not finish within {self.timeout:g} s"
            if proc.returncode:
                said = out.decode(errors="replace").strip()[-300:]
                return f"{shlex.join(cmd)} exited {proc.returncode}: {said}"
        return None
