"""When the page is unwell, which step to take: reload the page, restart the browser or reboot the device.
Pure (time is passed in) so the limits can be tested without sleeping; the state is a small JSON file so
the limits survive a restart of the agent and a reboot."""

from __future__ import annotations

import enum
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)


class Step(enum.IntEnum):
    RELOAD = 1  # navigate the tab to the wall again
    RESTART = 2  # restart the browser
    REBOOT = 3  # reboot the device


@dataclass(frozen=True)
class Limits:
    """At most `count` of a step per `window` seconds; past that the next step is taken instead."""

    reloads: int = 3
    reload_window: float = 600.0
    restarts: int = 3
    restart_window: float = 3600.0
    reboots: int = 1
    reboot_window: float = 3600.0

    def of(self, step: Step) -> tuple[int, float]:
        if step is Step.RELOAD:
            return self.reloads, self.reload_window
        if step is Step.RESTART:
            return self.restarts, self.restart_window
        return self.reboots, self.reboot_window


@dataclass
class History:
    """When each step was taken (wall-clock seconds, so they mean something after a reboot)."""

    taken: dict[str, list[float]] = field(default_factory=dict)
    # The last step taken and not yet followed by a healthy check: if the page is still unwell, that step
    # did not help and the next one is due.
    pending: int | None = None

    def to_json(self) -> str:
        return json.dumps({"taken": self.taken, "pending": self.pending})

    @classmethod
    def load(cls, path: Path) -> History:
        try:
            raw = json.loads(path.read_text())
            taken = {str(k): [float(t) for t in v] for k, v in raw.get("taken", {}).items()}
            pending = raw.get("pending")
            return cls(taken, int(pending) if pending is not None else None)
        except FileNotFoundError:
            return cls()
        except (ValueError, TypeError, AttributeError) as e:
            log.warning("kiosk state %s is unreadable (%s): starting with no history", path, e)
            return cls()

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(self.to_json())
        os.replace(tmp, path)  # atomic: a power cut leaves the old state or the new one


class Policy:
    def __init__(self, limits: Limits, history: History) -> None:
        self.limits = limits
        self.history = history

    def healthy(self) -> None:
        """A check passed: whatever was done last helped."""
        self.history.pending = None

    def next_step(self, now: float, minimum: Step = Step.RELOAD) -> Step | None:
        """The step to take for a problem that needs at least `minimum`, or None when every step is used up
        for now (the agent then only watches, so it never loops)."""
        floor = minimum
        if self.history.pending is not None and self.history.pending >= floor:
            floor = Step(self.history.pending + 1) if self.history.pending < Step.REBOOT else Step.REBOOT
        for step in Step:
            if step >= floor and self.used(step, now) < self.limits.of(step)[0]:
                return step
        return None

    def used(self, step: Step, now: float) -> int:
        _, window = self.limits.of(step)
        return sum(1 for t in self.history.taken.get(step.name, []) if now - t < window)

    def taken(self, step: Step, now: float) -> None:
        _, window = self.limits.of(step)
        recent = [t for t in self.history.taken.get(step.name, []) if now - t < window]
        self.history.taken[step.name] = [*recent, now]
        self.history.pending = int(step)
