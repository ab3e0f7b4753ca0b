"""How a wall looks on its screens: theme, run of show, night schedule, ticker framing, and how often its
screens report what they showed ([walls.W.*]).

Pure: each table is a msgspec Struct read through wall/configcheck.py like the rest of the config; what
the checks below make of them is plain dataclasses. The page gets these as the `config` frame
(docs/page.md); nothing here is secret.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from wall.configcheck import convert

SCENES = ("agora", "mosaic", "spotlight", "stats", "ticker", "countdown", "qa", "poll", "meter", "cloud",
          "leaders")
# Stage widgets a presenter lays over every scene (docs/rundown.md): the server's time, the countdown, the
# wall's QR code (its show.qr_url).
WIDGETS = ("clock", "countdown", "qr")
HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
FONT = re.compile(r"^[A-Za-z0-9 _-]{1,60}$")
ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")
MIN_CONTRAST = 4.5
DARK = {"background": "#070a10", "surface": "#131a26", "text": "#f5f7fb", "muted": "#b4bfd1",
        "accent": "#63d2ff"}
LIGHT = {"background": "#f4f6fa", "surface": "#ffffff", "text": "#121826", "muted": "#414b5e",
         "accent": "#005f8f"}


Colour = Annotated[str, msgspec.Meta(pattern=f"{HEX.pattern}|^$", description='"#rrggbb"')]
Dwell = Annotated[float, msgspec.Meta(ge=0.05, le=600, description="seconds")]


class ThemeTable(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """[walls.W.theme]; a colour left empty is the mode's (DARK, LIGHT)."""

    mode: Literal["dark", "light"] = "dark"
    background: Colour = ""
    surface: Colour = ""
    text: Colour = ""
    muted: Colour = ""
    accent: Colour = ""
    logo: str = ""
    font: Annotated[str, msgspec.Meta(pattern=f"{FONT.pattern}|^$",
                                      description='a font family name such as "Noto Sans"')] = ""
    brand: str = ""


class ShowTable(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """[walls.W.show]; each playlist item is checked on its own below, so every bad one is named."""

    playlist: Annotated[tuple[Any, ...], msgspec.Meta(
        min_length=1, description='[["scene", seconds], ...], e.g. [["agora", 120], ["spotlight", 30]]',
    )] = ()  # empty: Show.playlist
    call_to_action: str = ""
    qr_url: str = ""
    min_dwell: Dwell = 6.0
    max_dwell: Dwell | None = None  # None: Show.max_dwell, or min_dwell if that is longer
    queue: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 12
    # The "leaders" scene: the most active contributors by handle; off unless an organiser opts in.
    leaderboard: bool = False
    meter_seconds: Annotated[int, msgspec.Meta(ge=3, le=120, description="seconds")] = 10
    cloud_minutes: Annotated[int, msgspec.Meta(ge=1, le=60, description="minutes")] = 15


class NightTable(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    start: Annotated[str, msgspec.Meta(pattern=f"{HHMM.pattern}|^$", description='"HH:MM", e.g. "20:00"')] \
        = ""  # empty: no night schedule
    end: Annotated[str, msgspec.Meta(pattern=f"{HHMM.pattern}|^$", description='"HH:MM", e.g. "07:00"')] = ""
    timezone: str = "UTC"
    mode: Literal["dim", "slide"] = "dim"
    text: str = ""


class TickerTable(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    frame_ancestors: tuple[Any, ...] = ()  # each checked below, so every bad origin is named


class DisplayTable(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """[walls.W.display]: the display log (docs/display-log.md)."""

    # How often each screen reports which posts it showed, and for how long; once a minute keeps a
    # thousand screens at 17 small frames a second per node. Shorter is for tests.
    report_every: Annotated[float, msgspec.Meta(ge=1, le=600, description="seconds, 1 to 600")] = 60.0


_SHOW = ShowTable()


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
    min_dwell: float = _SHOW.min_dwell  # seconds a post is shown before the next from the queue, grows
    max_dwell: float = 20.0  # with length up to this
    queue: int = _SHOW.queue  # posts waiting beyond this are summed up ("+37 more about #launch")
    leaderboard: bool = False  # the "leaders" scene lists handles only when the organiser opts in
    meter_seconds: int = _SHOW.meter_seconds  # the reaction meter's window
    cloud_minutes: int = _SHOW.cloud_minutes  # the word cloud's window over the posts the page holds


@dataclass(frozen=True)
class Night:
    """Outside office hours the wall dims (or shows a slide): saves the panel and the electricity."""

    start: str = ""  # "20:00"; empty: no night schedule
    end: str = ""  # "07:00"
    timezone: str = "UTC"
    mode: str = "dim"
    text: str = ""


@dataclass(frozen=True)
class Display:
    report_every: float = DisplayTable().report_every  # seconds between a screen's display reports


@dataclass(frozen=True)
class Screen:
    theme: Theme = Theme()
    show: Show = Show()
    night: Night = Night()
    frame_ancestors: tuple[str, ...] = ()  # origins that may frame the ticker (a streaming tool's page)
    display: Display = Display()

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


def screen(tables: dict[str, Any], path: str, problems: list[str]) -> Screen:
    """The screen of one wall from its theme, show, night, ticker and display tables; problems go to
    `problems`."""
    shown = convert(tables.get("display", {}), DisplayTable, f"{path}.display", problems) or DisplayTable()
    return Screen(theme(tables.get("theme", {}), f"{path}.theme", problems),
                  show(tables.get("show", {}), f"{path}.show", problems),
                  night(tables.get("night", {}), f"{path}.night", problems),
                  ticker(tables.get("ticker", {}), f"{path}.ticker", problems),
                  Display(shown.report_every))


def theme(raw: dict[str, Any], path: str, problems: list[str]) -> Theme:
    t = convert(raw, ThemeTable, path, problems) or ThemeTable()
    colors = dict(LIGHT if t.mode == "light" else DARK)
    colors.update({key: getattr(t, key).lower() for key in DARK if getattr(t, key)})
    for fg, bg in (("text", "background"), ("text", "surface"), ("muted", "surface"),
                   ("accent", "background")):
        ratio = contrast(colors[fg], colors[bg])
        if ratio < MIN_CONTRAST:
            problems.append(
                f"{path}.{fg}: contrast of {fg} on {bg} is {ratio:.2f}:1, under {MIN_CONTRAST}:1 "
                f"(unreadable from across a lobby); pick a {'lighter' if t.mode == 'dark' else 'darker'} "
                f"{fg} or a {'darker' if t.mode == 'dark' else 'lighter'} {bg}")
    logo = t.logo
    if logo and not (logo.startswith("/") and not logo.startswith("//")):
        problems.append(f"{path}.logo: {logo!r} must be a path on the wall server (e.g. "
                        "/demo/media/logo.svg): screens load nothing from another origin")
        logo = ""
    return Theme(t.mode, colors, logo, t.font, t.brand[:40])


def show(raw: dict[str, Any], path: str, problems: list[str]) -> Show:
    t = convert(raw, ShowTable, path, problems) or ShowTable()
    slots: list[Slot] = []
    for i, item in enumerate(t.playlist):
        ipath = f"{path}.playlist[{i}]"
        if not (isinstance(item, list | tuple) and len(item) == 2):
            problems.append(f'{ipath}: expected ["scene", seconds], e.g. ["agora", 120]')
            continue
        scene, seconds = item
        if scene not in SCENES:
            problems.append(f"{ipath}: {scene!r} is not a scene; use one of {', '.join(SCENES)}")
            continue
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 5 <= seconds <= 86400:
            problems.append(f"{ipath}: {seconds!r} seconds; use 5 to 86400")
            continue
        if scene == "leaders" and not t.leaderboard:
            problems.append(f"{ipath}: the leaders scene needs {path}.leaderboard = true (off by default)")
            continue
        slots.append(Slot(scene, float(seconds)))
    qr_url = t.qr_url
    if qr_url and not qr_url.startswith(("https://", "http://")):
        problems.append(f"{path}.qr_url: {qr_url!r} is not a web address; use https://…")
        qr_url = ""
    max_dwell = max(Show.max_dwell, t.min_dwell) if t.max_dwell is None else t.max_dwell
    if max_dwell < t.min_dwell:
        problems.append(f"{path}.max_dwell: {max_dwell:g} is under min_dwell {t.min_dwell:g}; raise it")
    return Show(tuple(slots) or Show.playlist, t.call_to_action[:120], qr_url, t.min_dwell,
                max(t.min_dwell, max_dwell), t.queue, t.leaderboard, t.meter_seconds, t.cloud_minutes)


def night(raw: dict[str, Any], path: str, problems: list[str]) -> Night:
    t = convert(raw, NightTable, path, problems) or NightTable()
    if bool(t.start) != bool(t.end):
        problems.append(f"{path}: set both start and end (or neither)")
    tz = t.timezone
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"{path}.timezone: {tz!r} is not a time zone; use one like Europe/Helsinki")
        tz = "UTC"
    return Night(t.start, t.end, tz, t.mode, t.text[:200])


def ticker(raw: dict[str, Any], path: str, problems: list[str]) -> tuple[str, ...]:
    t = convert(raw, TickerTable, path, problems) or TickerTable()
    out = []
    for origin in t.frame_ancestors:
        if not (isinstance(origin, str) and ORIGIN.match(origin)):
            problems.append(f"{path}.frame_ancestors: {origin!r} is not an origin; use "
                            "scheme://host[:port], e.g. https://studio.example (no path, no *)")
            continue
        out.append(origin)
    return tuple(out)
