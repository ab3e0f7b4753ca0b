"""How a wall looks on its screens: theme, run of show, night schedule, ticker framing ([walls.W.*]).

Pure: dataclasses and a checker that reports each problem with its key path and the fix, like config.py.
The page gets these as the `config` frame (docs/page.md); nothing here is secret.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SCENES = ("agora", "mosaic", "spotlight", "stats", "ticker")
MODES = ("dark", "light")
NIGHT_MODES = ("dim", "slide")
HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
FONT = re.compile(r"^[A-Za-z0-9 _-]{1,60}$")
ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")
MIN_CONTRAST = 4.5
DARK = {"background": "#070a10", "surface": "#131a26", "text": "#f5f7fb", "muted": "#b4bfd1",
        "accent": "#63d2ff"}
LIGHT = {"background": "#f4f6fa", "surface": "#ffffff", "text": "#121826", "muted": "#414b5e",
         "accent": "#005f8f"}


@dataclass(frozen=True)
class Theme:
    mode: str = "dark"
    colors: dict[str, str] = field(default_factory=lambda: dict(DARK))
    logo: str = ""  # a path on the wall's own origin (e.g. /demo/media/logo.svg); CSP allows no other
    font: str = ""  # a font family installed on the kiosk (docs/page.md); empty: the bundled stack
    brand: str = ""  # the brand's short name in share of voice; empty: the wall's title


@dataclass(frozen=True)
class Slot:
    scene: str
    seconds: float


@dataclass(frozen=True)
class Show:
    """The run of show: scenes in turn, each for its seconds, on the server's clock (all screens agree)."""

    playlist: tuple[Slot, ...] = (Slot("agora", 300.0),)
    call_to_action: str = ""  # "Post with #nordlys" on the spotlight scene
    qr_url: str = ""  # what the QR code encodes; empty: no QR code
    min_dwell: float = 6.0  # seconds a post is shown before the next from the queue, grows with length
    max_dwell: float = 20.0
    queue: int = 12  # posts waiting beyond this are summed up ("+37 more about #launch")


@dataclass(frozen=True)
class Night:
    """Outside office hours the wall dims (or shows a slide): saves the panel and the electricity."""

    start: str = ""  # "20:00"; empty: no night schedule
    end: str = ""  # "07:00"
    timezone: str = "UTC"
    mode: str = "dim"
    text: str = ""


@dataclass(frozen=True)
class Screen:
    theme: Theme = Theme()
    show: Show = Show()
    night: Night = Night()
    frame_ancestors: tuple[str, ...] = ()  # origins that may frame the ticker (a streaming tool's page)

    def public(self) -> dict[str, Any]:
        """What the page gets in its `config` frame."""
        d = asdict(self)
        d.pop("frame_ancestors")
        d["show"]["playlist"] = [[s["scene"], s["seconds"]] for s in d["show"]["playlist"]]
        return d


def luminance(hex_colour: str) -> float:
    """WCAG relative luminance of '#rrggbb'."""
    def channel(v: int) -> float:
        c = v / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


class Checker:
    """Reads the screen tables of one wall; `problems` collects 'key.path: what; the fix'."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems

    def _table(self, data: dict[str, Any], key: str, path: str, known: set[str]) -> dict[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            self.problems.append(f"{path}: expected a table ([{path}])")
            return {}
        for k in sorted(set(value) - known):
            self.problems.append(f"{path}.{k}: unknown key; known keys: {', '.join(sorted(known))}")
        return value

    def _str(self, t: dict[str, Any], key: str, path: str, default: str,
             pattern: re.Pattern[str] | None = None, fix: str = "") -> str:
        value = t.get(key, default)
        if not isinstance(value, str):
            self.problems.append(f"{path}.{key}: expected a string, got {value!r}")
            return default
        if pattern is not None and value and not pattern.match(value):
            self.problems.append(f"{path}.{key}: {value!r} is not valid; {fix}")
            return default
        return value

    def _num(self, t: dict[str, Any], key: str, path: str, default: float, lo: float, hi: float) -> float:
        value = t.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
            self.problems.append(f"{path}.{key}: expected a number from {lo:g} to {hi:g}, got {value!r}")
            return default
        return float(value)

    def _choice(self, t: dict[str, Any], key: str, path: str, choices: tuple[str, ...]) -> str:
        value = t.get(key, choices[0])
        if value not in choices:
            self.problems.append(f"{path}.{key}: {value!r} is not one of {', '.join(choices)}")
            return choices[0]
        return str(value)

    def screen(self, wt: dict[str, Any], path: str) -> Screen:
        return Screen(self.theme(wt, f"{path}.theme"), self.show(wt, f"{path}.show"),
                      self.night(wt, f"{path}.night"), self.ticker(wt, f"{path}.ticker"))

    def theme(self, wt: dict[str, Any], path: str) -> Theme:
        t = self._table(wt, "theme", path, {"mode", "logo", "font", "brand", *DARK})
        mode = self._choice(t, "mode", path, MODES)
        colors = dict(LIGHT if mode == "light" else DARK)
        for key in DARK:
            colors[key] = self._str(t, key, path, colors[key], HEX, 'use "#rrggbb"').lower()
        for fg, bg in (("text", "background"), ("text", "surface"), ("muted", "surface"),
                       ("accent", "background")):
            ratio = contrast(colors[fg], colors[bg])
            if ratio < MIN_CONTRAST:
                self.problems.append(
                    f"{path}.{fg}: contrast of {fg} on {bg} is {ratio:.2f}:1, under {MIN_CONTRAST}:1 "
                    f"(unreadable from across a lobby); pick a {'lighter' if mode == 'dark' else 'darker'} "
                    f"{fg} or a {'darker' if mode == 'dark' else 'lighter'} {bg}")
        logo = self._str(t, "logo", path, "")
        if logo and not (logo.startswith("/") and not logo.startswith("//")):
            self.problems.append(f"{path}.logo: {logo!r} must be a path on the wall server (e.g. "
                                 "/demo/media/logo.svg): screens load nothing from another origin")
            logo = ""
        font = self._str(t, "font", path, "", FONT, "use a font family name such as \"Noto Sans\"")
        return Theme(mode, colors, logo, font, self._str(t, "brand", path, "")[:40])

    def show(self, wt: dict[str, Any], path: str) -> Show:
        t = self._table(wt, "show", path, {"playlist", "call_to_action", "qr_url", "min_dwell",
                                            "max_dwell", "queue"})
        slots: list[Slot] = []
        raw = t.get("playlist", [["agora", 300]])
        if not isinstance(raw, list) or not raw:
            self.problems.append(f'{path}.playlist: expected a list like [["agora", 120], ["spotlight", 30]]')
            raw = []
        for i, item in enumerate(raw):
            ipath = f"{path}.playlist[{i}]"
            if not (isinstance(item, list) and len(item) == 2):
                self.problems.append(f'{ipath}: expected ["scene", seconds], e.g. ["agora", 120]')
                continue
            scene, seconds = item
            if scene not in SCENES:
                self.problems.append(f"{ipath}: {scene!r} is not a scene; use one of {', '.join(SCENES)}")
                continue
            if isinstance(seconds, bool) or not isinstance(seconds, int | float) \
                    or not 5 <= seconds <= 86400:
                self.problems.append(f"{ipath}: {seconds!r} seconds; use 5 to 86400")
                continue
            slots.append(Slot(scene, float(seconds)))
        qr_url = self._str(t, "qr_url", path, "")
        if qr_url and not qr_url.startswith(("https://", "http://")):
            self.problems.append(f"{path}.qr_url: {qr_url!r} is not a web address; use https://…")
            qr_url = ""
        min_dwell = self._num(t, "min_dwell", path, 6.0, 0.05, 600)
        max_dwell = self._num(t, "max_dwell", path, max(20.0, min_dwell), 0.05, 600)
        if max_dwell < min_dwell:
            self.problems.append(f"{path}.max_dwell: {max_dwell:g} is under min_dwell {min_dwell:g}; raise")
        return Show(tuple(slots) or Show.playlist, self._str(t, "call_to_action", path, "")[:120], qr_url,
                    min_dwell, max(min_dwell, max_dwell), int(self._num(t, "queue", path, 12, 1, 1000)))

    def night(self, wt: dict[str, Any], path: str) -> Night:
        t = self._table(wt, "night", path, {"start", "end", "timezone", "mode", "text"})
        start = self._str(t, "start", path, "", HHMM, 'use "HH:MM", e.g. "20:00"')
        end = self._str(t, "end", path, "", HHMM, 'use "HH:MM", e.g. "07:00"')
        if bool(start) != bool(end):
            self.problems.append(f"{path}: set both start and end (or neither)")
        tz = self._str(t, "timezone", path, "UTC")
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            self.problems.append(f"{path}.timezone: {tz!r} is not a time zone; use one like Europe/Helsinki")
            tz = "UTC"
        return Night(start, end, tz, self._choice(t, "mode", path, NIGHT_MODES),
                     self._str(t, "text", path, "")[:200])

    def ticker(self, wt: dict[str, Any], path: str) -> tuple[str, ...]:
        t = self._table(wt, "ticker", path, {"frame_ancestors"})
        raw = t.get("frame_ancestors", [])
        if not isinstance(raw, list):
            self.problems.append(f'{path}.frame_ancestors: expected a list like ["https://studio.example"]')
            return ()
        out = []
        for origin in raw:
            if not (isinstance(origin, str) and ORIGIN.match(origin)):
                self.problems.append(f"{path}.frame_ancestors: {origin!r} is not an origin; use "
                                     "scheme://host[:port], e.g. https://studio.example (no path, no *)")
                continue
            out.append(origin)
        return tuple(out)
