"""What a digest says (docs/digests.md, "What a digest says"): the insights of the period
(wall/insights/), a few figures and short lists for the mail's body, and the PDF report attached.

Post texts never go in a digest (gather is not handed the bus's recent posts), and without
[walls.W.digest] people = true neither do authors, nor the ids of their posts: a mailbox is beyond the
reach of retention and erasure.
"""

from __future__ import annotations

import asyncio
import dataclasses

import msgspec

from wall.config import WallConfig
from wall.digests.message import Contents
from wall.digests.schedule import Period
from wall.insights import Insights, gather, render_pdf
from wall.insights.model import PostLine
from wall.store import Store

TOP = 5  # items per list in the mail's body; the PDF has the rest


def without_people(insights: Insights) -> Insights:
    """The insights with no author and no post id: counts only."""
    return msgspec.structs.replace(
        insights, authors=[],
        spikes=[msgspec.structs.replace(s, examples=[]) for s in insights.spikes],
        shown=[msgspec.structs.replace(s, post=PostLine("")) for s in insights.shown])


def contents_of(insights: Insights) -> Contents:
    """The mail's figures and lists, from the same insights as the PDF."""
    split = insights.sentiment
    scored = sum(n for k, n in split.items() if k != "unscored")

    def share(kind: str) -> str:
        return f"{round(100 * split.get(kind, 0) / scored)} %" if scored else "-"

    figures = [("Posts", f"{insights.posts:,}"), ("Positive", share("positive")),
               ("Neutral", share("neutral")), ("Negative", share("negative")),
               ("Spikes", str(len(insights.spikes))),
               ("Posts shown on screens", f"{len(insights.shown):,}"),
               ("Time on screens", f"{round(sum(s.seconds for s in insights.shown) / 60):,} min")]
    lists = [("Top hashtags", [f"#{tag} ({n:,})" for tag, n in insights.hashtags[:TOP]]),
             ("Topics", [f"{topic} ({n:,})" for topic, n in insights.topics[:TOP]])]
    if insights.authors:
        lists.append(("Top authors", [f"{who} ({n:,})" for who, n in insights.authors[:TOP]]))
    return Contents(figures=figures, lists=lists)


async def compose(store: Store, wall: WallConfig, period: Period) -> Contents:
    """The digest of `wall` for `period`: gathered from the store, the PDF rendered off the event loop."""
    schedule = wall.digest
    tz, people = (schedule.tz, schedule.people) if schedule is not None else ("UTC", False)
    insights = await gather(store, wall.name, period.start, period.end, tz=tz)
    if not people:
        insights = without_people(insights)
    pdf = await asyncio.get_running_loop().run_in_executor(None, render_pdf, insights, wall.title)
    return dataclasses.replace(contents_of(insights), pdf=pdf)
