"""What `gather` finds for one wall and time range: plain values, shared by the page, the CSV files and
the PDF. Counts only, except spikes' and screens' posts (text and author while the wall keeps them)."""

from __future__ import annotations

import msgspec

from wall.insights.timefmt import stamp

Cell = str | int | float


class Table(msgspec.Struct, frozen=True):
    """One table of the page, as its CSV file has it: `name` is the file's stem (volume.csv)."""

    name: str
    title: str
    columns: list[str]
    rows: list[list[Cell]]


class PostLine(msgspec.Struct, frozen=True):
    """A post named in a spike or in what the screens showed; text and author empty once not kept."""

    post_id: str
    author: str = ""
    text: str = ""
    status: str = ""


class Spike(msgspec.Struct, frozen=True):
    at: float  # the bucket's start, epoch seconds
    grain: str  # "minute" or "hour"
    posts: int
    baseline: float  # posts per bucket in the hour (or day) before it
    examples: list[PostLine] = []


class Shown(msgspec.Struct, frozen=True):
    post: PostLine
    first_shown: float
    seconds: float
    screens: int


class Insights(msgspec.Struct, frozen=True):
    wall: str
    start: float
    end: float
    tz: str
    grain: str  # of the series: "minute", "hour" or "day"
    posts: int  # posts counted in the range
    volume: list[tuple[float, int]]  # (bucket start, posts), empty buckets as 0
    sentiment: dict[str, int]  # positive, neutral, negative, unscored
    mood: list[tuple[float, float]]  # (bucket start, mean compound score in [-1, 1]) where scored
    voice_names: list[str]  # "" is the brand itself, then competitors by share
    voice: list[tuple[float, list[int]]]  # (bucket start, mentions per name of voice_names)
    topics: list[tuple[str, int]]
    hashtags: list[tuple[str, int]]
    authors: list[tuple[str, int]]
    sources: list[tuple[str, int]]
    statuses: list[tuple[str, int]]
    spikes: list[Spike]
    shown: list[Shown]

    def table(self, name: str) -> Table:
        """The table named `name`; KeyError when there is none."""
        for t in tables(self):
            if t.name == name:
                return t
        raise KeyError(name)


BRAND = "brand"


def voice_label(name: str) -> str:
    return BRAND if name == "" else name


def tables(i: Insights) -> list[Table]:
    """Every table of the page, in page order: what the CSV links download."""
    def when(at: float) -> str:
        return stamp(at, i.tz, i.grain)

    share: list[list[Cell]] = [[when(at), *counts] for at, counts in i.voice]
    return [
        Table("volume", "Volume", ["time", "posts"], [[when(at), n] for at, n in i.volume]),
        Table("sentiment", "Sentiment split", ["sentiment", "posts"],
              [[k, v] for k, v in i.sentiment.items()]),
        Table("mood", "Sentiment trend", ["time", "mean score"],
              [[when(at), round(m, 3)] for at, m in i.mood]),
        Table("voice", "Share of voice", ["time", *map(voice_label, i.voice_names)], share),
        Table("topics", "Topics", ["topic", "posts"], [[k, v] for k, v in i.topics]),
        Table("hashtags", "Top hashtags", ["hashtag", "posts"], [[f"#{k}", v] for k, v in i.hashtags]),
        Table("authors", "Top authors", ["author", "posts"], [[k, v] for k, v in i.authors]),
        Table("sources", "Sources", ["source", "posts"], [[k, v] for k, v in i.sources]),
        Table("statuses", "Decisions", ["status", "posts"], [[k, v] for k, v in i.statuses]),
        Table("spikes", "Spikes", ["time", "posts", "usually", "post id", "author", "text"],
              [[when(s.at), s.posts, round(s.baseline, 1), p.post_id, p.author, p.text]
               for s in i.spikes for p in (s.examples or [PostLine("")])]),
        Table("shown", "What the screens showed",
              ["post id", "first shown", "seconds on screen", "screens", "author", "text"],
              [[s.post.post_id, stamp(s.first_shown, i.tz, "minute"), round(s.seconds, 1), s.screens,
                s.post.author, s.post.text] for s in i.shown]),
    ]


TABLES = ("volume", "sentiment", "mood", "voice", "topics", "hashtags", "authors", "sources", "statuses",
          "spikes", "shown")
