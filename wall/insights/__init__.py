"""Insights: a wall's figures over a time range as tables, SVG charts, CSV and PDF (docs/insights.md).

    insights = await gather(store, "lobby", start, end, tz="Europe/Helsinki")
    pdf = await loop.run_in_executor(None, render_pdf, insights, "Lobby: last week")
"""

from wall.insights.gather import gather
from wall.insights.model import Insights, Table
from wall.insights.report import csv_bytes, render_pdf

__all__ = ["Insights", "Table", "csv_bytes", "gather", "render_pdf"]
