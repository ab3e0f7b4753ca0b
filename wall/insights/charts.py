"""Charts as plain SVG markup made here, the same on the page and in the PDF: no script, no style
attribute (the console's CSP), colours as SVG presentation attributes, every text escaped."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from wall.insights.timefmt import stamp

W, H = 640, 220  # the viewBox; the SVG scales to its column
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 40
COLOURS = ("#4cc2ff", "#ffb347", "#7ee081", "#ff6b81", "#c792ea", "#f7e463", "#9aa5b1")
SENTIMENT_COLOURS = {"positive": "#7ee081", "neutral": "#9aa5b1", "negative": "#ff6b81",
                     "unscored": "#59616b"}
INK, GRID = "#c8d0d8", "#3a424c"


def _svg(label: str, body: list[str], height: int = H) -> Markup:
    # Markup: every piece of text in `body` went through escape()
    return Markup(
        f'<svg class="chart" viewBox="0 0 {W} {height}" role="img" aria-label="{escape(label)}" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="Noto Sans, sans-serif" font-size="12">'
        f'<title>{escape(label)}</title>{"".join(body)}</svg>')


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000,
                 100_000, 200_000, 500_000, 1_000_000):
        if value <= step * 4:
            return float(step * 4)
    return value


def _frame(lo: float, hi: float, y_min: float, y_max: float, tz: str, grain: str, fmt: str = "{:g}"
           ) -> list[str]:
    """Axes: four horizontal grid lines with their values, and up to six time labels."""
    body = []
    for k in range(5):
        v = y_min + (y_max - y_min) * k / 4
        y = TOP + (H - TOP - BOTTOM) * (1 - k / 4)
        body.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
                    f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" fill="{INK}">'
                    f'{escape(fmt.format(v))}</text>')
    if hi > lo:
        for k in range(6):
            t = lo + (hi - lo) * k / 5
            x = LEFT + (W - LEFT - RIGHT) * k / 5
            anchor = "start" if k == 0 else "end" if k == 5 else "middle"
            label = stamp(t, tz, grain) if grain == "day" else stamp(t, tz, grain)[5:]  # no year
            body.append(f'<text x="{x:.1f}" y="{H - BOTTOM + 16}" text-anchor="{anchor}" fill="{INK}">'
                        f'{escape(label)}</text>')
    return body


def _x(t: float, lo: float, hi: float) -> float:
    return LEFT + (W - LEFT - RIGHT) * ((t - lo) / (hi - lo) if hi > lo else 0.5)


def _y(v: float, y_min: float, y_max: float) -> float:
    return TOP + (H - TOP - BOTTOM) * (1 - (v - y_min) / (y_max - y_min))


def columns(label: str, points: Sequence[tuple[float, float]], lo: float, hi: float, step: float, tz: str,
            grain: str) -> Markup:
    """Volume: one column per bucket."""
    top = _nice_max(max((v for _, v in points), default=0))
    body = _frame(lo, hi, 0, top, tz, grain)
    width = max(1.0, (W - LEFT - RIGHT) * step / (hi - lo) - 1) if hi > lo else 4.0
    for t, v in points:
        if v > 0:
            y = _y(v, 0, top)
            body.append(f'<rect x="{_x(t, lo, hi):.1f}" y="{y:.1f}" width="{width:.1f}" '
                        f'height="{H - BOTTOM - y:.1f}" fill="{COLOURS[0]}"/>')
    return _svg(label, body)


def lines(label: str, series: Sequence[tuple[str, Sequence[tuple[float, float]]]], lo: float, hi: float,
          tz: str, grain: str, y_range: tuple[float, float] | None = None, percent: bool = False) -> Markup:
    """Several series as lines with a legend under the chart (sentiment trend, share of voice)."""
    values = [v for _, pts in series for _, v in pts]
    y_min, y_max = y_range or (0.0, _nice_max(max(values, default=0)))
    body = _frame(lo, hi, y_min, y_max, tz, grain, "{:.0f}%" if percent else "{:g}")
    for k, (name, pts) in enumerate(series):
        colour = COLOURS[k % len(COLOURS)]
        coords = " ".join(f"{_x(t, lo, hi):.1f},{_y(v, y_min, y_max):.1f}" for t, v in pts)
        if len(pts) == 1:
            t, v = pts[0]
            body.append(f'<circle cx="{_x(t, lo, hi):.1f}" cy="{_y(v, y_min, y_max):.1f}" r="3" '
                        f'fill="{colour}"/>')
        elif pts:
            body.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>')
        x = LEFT + 110 * k
        body.append(f'<rect x="{x}" y="{H - 14}" width="10" height="10" fill="{colour}"/>'
                    f'<text x="{x + 14}" y="{H - 5}" fill="{INK}">{escape(name[:16])}</text>')
    return _svg(label, body)


def split(label: str, parts: Sequence[tuple[str, int]]) -> Markup:
    """A 100 % bar of parts with their shares written under it (the sentiment split)."""
    total = sum(v for _, v in parts)
    height = 64
    body: list[str] = []
    x = float(LEFT)
    span = W - LEFT - RIGHT
    for k, (name, v) in enumerate(parts):
        colour = SENTIMENT_COLOURS.get(name, COLOURS[k % len(COLOURS)])
        width = span * v / total if total else 0
        if width > 0:
            body.append(f'<rect x="{x:.1f}" y="8" width="{width:.1f}" height="24" fill="{colour}"/>')
        x += width
        share = f"{100 * v / total:.0f}%" if total else "0%"
        lx = LEFT + 150 * k
        body.append(f'<rect x="{lx}" y="44" width="10" height="10" fill="{colour}"/>'
                    f'<text x="{lx + 14}" y="53" fill="{INK}">{escape(name)} {escape(share)}</text>')
    return _svg(label, body, height)
