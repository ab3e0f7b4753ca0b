"""An Insights as what the page and the PDF show: its charts (SVG) and tables, for the shared Jinja2
template (templates/insights/sections.html); the CSV of a table; the PDF of it all."""

from __future__ import annotations

import csv
import io
from typing import Any

import jinja2
from markupsafe import Markup

from wall.insights import charts
from wall.insights.gather import STEP
from wall.insights.model import Cell, Insights, Table, tables, voice_label
from wall.insights.timefmt import stamp
from wall.paths import TEMPLATES

# A cell a spreadsheet would read as a formula starts with one of these: such cells get a leading '
# (OWASP's CSV injection advice); numbers are written as numbers.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                         undefined=jinja2.StrictUndefined)


def csv_cell(value: Cell) -> Cell:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_bytes(table: Table) -> bytes:
    """The table as CSV (UTF-8, a header row, CRLF line ends as RFC 4180 has them)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([csv_cell(c) for c in table.columns])
    writer.writerows([csv_cell(c) for c in row] for row in table.rows)
    return out.getvalue().encode()


def figures(i: Insights) -> dict[str, Any]:
    """The template's context for one Insights: charts as Markup, tables by name, labels."""
    step = STEP[i.grain]
    lo, hi = i.start, max(i.end, i.start + step)
    chart: dict[str, Markup] = {
        "volume": charts.columns("Posts over time", i.volume, lo, hi, step, i.tz, i.grain),
        "sentiment": charts.split("Sentiment split", list(i.sentiment.items())),
        "mood": charts.lines("Mean sentiment score", [("mean score", i.mood)], lo, hi, i.tz, i.grain,
                             (-1.0, 1.0)),
    }
    shares = []
    for k, name in enumerate(i.voice_names):
        pts = [(at, 100 * counts[k] / sum(counts)) for at, counts in i.voice if sum(counts)]
        shares.append((voice_label(name), pts))
    chart["voice"] = charts.lines("Share of voice", shares, lo, hi, i.tz, i.grain, (0.0, 100.0), percent=True)
    return {"i": i, "charts": chart, "tables": {t.name: t for t in tables(i)},
            "span": f"{stamp(i.start, i.tz, 'minute')} to {stamp(i.end, i.tz, 'minute')} ({i.tz})",
            "when": lambda at, grain="minute": stamp(at, i.tz, grain)}


def render_html(i: Insights, title: str) -> str:
    """The PDF's HTML: the report template with its own stylesheet inline (nothing fetched)."""
    css = (TEMPLATES / "insights" / "report.css").read_text()
    return env.get_template("insights/report.html").render(title=title, css=Markup(css),
                                                            **figures(i))


def render_pdf(insights: Insights, title: str) -> bytes:
    """The report as PDF (sync and CPU-bound: callers run it in an executor). WeasyPrint may fetch
    nothing but inline data: URLs; the fonts are the system's (Debian's fonts-noto-*)."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"}, allow_redirects=False, timeout=1)
    pdf: bytes = HTML(string=render_html(insights, title), url_fetcher=fetcher, base_url="data:,").write_pdf()
    return pdf
