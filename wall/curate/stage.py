"""Stage widgets and the rundown's steps as changes of a wall's control state (pure; docs/rundown.md).

- `countdown "MINUTES [title]"`: the countdown scene and widget count to now + MINUTES on the server's
  clock (the screens measure their offset to it); `clear_countdown` ends it.
- `widgets "clock,qr"` (any of WIDGETS, or "none"): what shows over every scene.
- `rundown_auto on|off`: the server steps when an item's time is up (wall/curate/autoadvance.py); turning
  it on counts the current item's time from then.
- `rundown_next`, `rundown_prev`, `rundown_go ID`: step the rundown; the wall switches to the item's scene
  in the same change, and an item of the countdown scene counts down its own duration under its title.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from wall.screen import SCENES, WIDGETS
from wall.store.controls import ControlState
from wall.store.rundown import RundownItem

STAGE_OPS = ("countdown", "clear_countdown", "widgets", "rundown_next", "rundown_prev", "rundown_go",
             "rundown_auto")
COUNTDOWN_MAX_MINUTES = 24 * 60
TITLE_MAX = 120
NOTES_MAX = 4000
ITEM_SECONDS = (5.0, 86_400.0)


def stage_change(op: str, value: str | None, items: Sequence[RundownItem],
                 now: float) -> Callable[[ControlState], ControlState]:
    """The change `op` makes to a control state; ValueError (with the fix) for a bad value."""
    match op:
        case "countdown":
            to, title = _countdown(value or "", now)
            return lambda s: dataclasses.replace(s, countdown_to=to, countdown_title=title)
        case "clear_countdown":
            return lambda s: dataclasses.replace(s, countdown_to=None, countdown_title="")
        case "widgets":
            widgets = _widgets(value or "")
            return lambda s: dataclasses.replace(s, widgets=widgets)
        case "rundown_auto":
            if value not in ("on", "off"):
                raise ValueError('rundown_auto: "on" (the server steps when an item\'s time is up) or "off"')
            return lambda s: dataclasses.replace(s, rundown_auto=value == "on", rundown_since=now)
        case "rundown_next" | "rundown_prev" | "rundown_go":
            if not items:
                raise ValueError("the rundown is empty: a curator writes its items on the console's "
                                 "Rundown page")
            return lambda s: _step(s, op, value, items, now)
    raise ValueError(f"op {op!r} is not one of {', '.join(STAGE_OPS)}")


def _step(state: ControlState, op: str, value: str | None, items: Sequence[RundownItem],
          now: float) -> ControlState:
    at = next((k for k, i in enumerate(items) if i.id == state.rundown_item), -1)
    if op == "rundown_go":
        at = next((k for k, i in enumerate(items) if str(i.id) == (value or "").strip()), -2)
        if at == -2:
            raise ValueError(f"rundown_go {value!r}: no such item in the rundown; use an item's id")
    elif op == "rundown_next":
        if at + 1 >= len(items):
            raise ValueError("the rundown is at its last item; step back or go to an item")
        at += 1
    else:
        if at <= 0:
            raise ValueError("the rundown is at its first item (or has not started); step forward")
        at -= 1
    item = items[at]
    state = dataclasses.replace(state, scene=item.scene, rundown_item=item.id, rundown_since=now)
    if item.scene == "countdown":
        state = dataclasses.replace(state, countdown_to=now + item.seconds, countdown_title=item.title)
    return state


def _countdown(value: str, now: float) -> tuple[float, str]:
    head, _, title = " ".join(value.split()).partition(" ")
    try:
        minutes = float(head)
    except ValueError:
        minutes = -1.0
    if not 0 < minutes <= COUNTDOWN_MAX_MINUTES:
        raise ValueError(f'countdown: "MINUTES [title]", minutes more than 0 and at most '
                         f'{COUNTDOWN_MAX_MINUTES}, e.g. "5 Keynote starts"; got {value[:40]!r}')
    return now + minutes * 60, title[:TITLE_MAX]


def _widgets(value: str) -> tuple[str, ...]:
    names = [w.strip().lower() for w in value.split(",") if w.strip()]
    if names == ["none"]:
        return ()
    wrong = [w for w in names if w not in WIDGETS]
    if wrong or not names:
        raise ValueError(f"widgets: a comma-separated list of {', '.join(WIDGETS)}, or none; "
                         f"got {value[:60]!r}")
    return tuple(w for w in WIDGETS if w in names)


def rundown_check(fields: dict[str, Any]) -> tuple[str, float, str, str]:
    """An item's (scene, seconds, title, notes) from the console's fields; ValueError names the field."""
    scene = str(fields.get("scene", "")).strip()
    if scene not in SCENES:
        raise ValueError(f"scene: one of {', '.join(SCENES)}")
    try:
        seconds = float(fields.get("seconds", 0))
    except (TypeError, ValueError):
        seconds = 0.0
    low, high = ITEM_SECONDS
    if not low <= seconds <= high:
        raise ValueError(f"seconds: {low:g} to {high:g} (the item's planned duration)")
    title = " ".join(str(fields.get("title", "")).split())
    if not 1 <= len(title) <= TITLE_MAX:
        raise ValueError(f"title: 1 to {TITLE_MAX} characters")
    notes = str(fields.get("notes", "")).strip()
    if len(notes) > NOTES_MAX:
        raise ValueError(f"notes: at most {NOTES_MAX} characters")
    return scene, seconds, title, notes
