"""A wall's live figures from a generated stream whose counts are known."""

import pytest

from wall.curate.figures import Entry, Figures

T0 = 1_800_000_000.0 - 1_800_000_000.0 % 60  # a minute boundary
NOW = T0 + 59 * 60 + 30  # half-way through the 60th minute of the stream


def stream() -> list[Entry]:
    """One hour: 4 posts a minute, then a burst of 24 (20 negative) in the last minute."""
    out = []
    for minute in range(59):
        for k in range(4):
            i = minute * 4 + k
            out.append(Entry(
                id=f"p{i}", ts=T0 + minute * 60 + k * 10,
                label=("positive", "neutral", "negative", None)[k],
                brand=k in (0, 1, 2), competitors=["Kestrel"] if k == 2 else [],
                hashtags=["nordlys"] if k == 0 else ["launch"] if k == 1 and minute >= 49 else [],
                terms=["battery"] if k == 3 else [],
                author=f"user{i % 3}", source="mastodon" if k % 2 else "bluesky"))
    for j in range(24):
        out.append(Entry(id=f"s{j}", ts=T0 + 59 * 60 + j, label="negative" if j < 20 else "positive",
                         brand=True, competitors=["Kestrel", "Orca"] if j < 6 else [],
                         hashtags=["outage"], author="angry" if j < 3 else f"s{j}", source="bluesky"))
    return out


@pytest.fixture
def figures() -> Figures:
    f = Figures()
    for e in stream():
        f.add(e)
    return f


def test_volume_per_minute_over_the_last_hour(figures: Figures) -> None:
    snap = figures.snapshot(NOW)
    assert snap["volume"] == [4] * 59 + [24]
    assert snap["total"] == 59 * 4 + 24


def test_sentiment_split_and_trend(figures: Figures) -> None:
    snap = figures.snapshot(NOW)
    assert snap["sentiment"] == {"positive": 59 + 4, "neutral": 59, "negative": 59 + 20, "unscored": 59,
                                 "shares": {"positive": round(63 / 201, 4), "neutral": round(59 / 201, 4),
                                            "negative": round(79 / 201, 4)}}
    trend = snap["trend"]
    assert trend["last"]["negative"] == 14 + 20 and trend["last"]["positive"] == 14 + 4  # minutes 45..59
    assert trend["previous"] == {"positive": 15, "neutral": 15, "negative": 15, "unscored": 15,
                                 "shares": {"positive": 0.3333, "neutral": 0.3333, "negative": 0.3333}}


def test_share_of_voice(figures: Figures) -> None:
    voice = figures.snapshot(NOW)["share_of_voice"]
    # brand: 3 a minute for 59 minutes + 24; Kestrel: 59 + 6; Orca: 6; 272 mentions in all.
    assert voice == {"brand": {"count": 201, "share": round(201 / 272, 4)},
                     "competitors": {"Kestrel": {"count": 65, "share": round(65 / 272, 4)},
                                     "Orca": {"count": 6, "share": round(6 / 272, 4)}},
                     "mentions": 272}


def test_trending_is_against_each_tags_own_baseline(figures: Figures) -> None:
    snap = figures.snapshot(NOW)
    assert snap["top_hashtags"][0] == ["nordlys", 59]  # the most frequent ...
    trending = [t["key"] for t in snap["trending_hashtags"]]
    assert trending == ["outage", "launch"]  # ... is steady, so it is not trending
    # launch: minutes 49..58, so 9 in the last ten minutes (50..59) against 10 in the hour.
    assert snap["trending_hashtags"][1] == {"key": "launch", "recent": 9, "hour": 10,
                                            "score": round(10 / (10 * 10 / 60 + 1), 3)}
    assert snap["trending_terms"] == []  # battery is steady too


def test_top_authors_and_sources(figures: Figures) -> None:
    snap = figures.snapshot(NOW)
    assert snap["top_authors"][:3] == [["user0", 79], ["user1", 79], ["user2", 78]]
    assert snap["top_sources"] == [["bluesky", 118 + 24], ["mastodon", 118]]


def test_spike_alerts_for_volume_and_negative_share(figures: Figures) -> None:
    alerts = figures.snapshot(NOW)["alerts"]
    assert [a["kind"] for a in alerts] == ["volume", "negative"]
    assert alerts[0]["count"] == 24 and alerts[0]["baseline"] == 4.0
    assert alerts[1]["share"] == round(20 / 24, 4)
    # A minute earlier, the stream was steady: no alert.
    assert figures.snapshot(NOW - 60)["alerts"] == []


def test_a_new_wall_with_a_burst_in_its_first_minute_raises_no_spike() -> None:
    """The issue's case: "Spike: 22 posts this minute (usually 0)" on a wall that has no history yet."""
    fresh = Figures()
    for j in range(22):
        fresh.add(Entry(id=f"b{j}", ts=NOW - 20 + j / 2, label="negative"))
    assert fresh.snapshot(NOW)["volume"][-1] == 22
    assert fresh.snapshot(NOW)["alerts"] == []


def test_a_wall_younger_than_the_baseline_raises_no_spike_until_its_history_covers_it() -> None:
    young = Figures()
    for minute in range(20):  # 20 quiet minutes, then a burst
        young.add(Entry(id=f"q{minute}", ts=T0 + (39 + minute) * 60, label="neutral"))
    for j in range(24):
        young.add(Entry(id=f"s{j}", ts=T0 + 59 * 60 + j, label="negative"))
    assert young.snapshot(NOW)["alerts"] == []
    # The roll-ups remember the wall from before (a restart, a lease move, Redis forgot): now it is a spike.
    alerts = young.snapshot(NOW, history_since=T0)["alerts"]
    assert [a["kind"] for a in alerts] == ["volume", "negative"]
    assert young.snapshot(NOW, history_since=T0 + 30 * 60)["alerts"] == []  # 29 minutes: not yet


def test_retract_takes_a_post_back_exactly(figures: Figures) -> None:
    before = figures.snapshot(NOW)
    figures.add(Entry(id="extra", ts=T0 + 59 * 60 + 40, label="negative", brand=True, hashtags=["oops"]))
    assert figures.snapshot(NOW)["volume"][-1] == 25
    assert figures.retract("extra")
    assert not figures.retract("extra")
    assert figures.snapshot(NOW) == before


def test_a_readded_post_replaces_its_first_count(figures: Figures) -> None:
    figures.add(Entry(id="p0", ts=T0, label="negative", brand=True))
    snap = figures.snapshot(NOW)
    assert snap["volume"][0] == 4
    assert snap["sentiment"]["negative"] == 59 + 20 + 1


def test_dump_and_load_give_identical_snapshots(figures: Figures) -> None:
    copy = Figures.load(figures.dump())
    for now in (NOW, NOW - 600, NOW + 1800):
        assert copy.snapshot(now) == figures.snapshot(now)
    copy.retract("s0")
    figures.retract("s0")
    assert copy.dump() == figures.dump()


def test_order_of_arrival_does_not_change_the_figures() -> None:
    forward, backward = Figures(), Figures()
    for e in stream():
        forward.add(e)
    for e in reversed(stream()):
        backward.add(e)
    assert forward.snapshot(NOW) == backward.snapshot(NOW)


def test_old_minutes_leave_the_window_and_memory(figures: Figures) -> None:
    figures.add(Entry(id="later", ts=NOW + 3600, label="neutral"))
    snap = figures.snapshot(NOW + 3600)
    assert snap["volume"] == [0] * 59 + [1] and snap["total"] == 1
    assert len(figures._s.entries) == 1 and len(figures._s.buckets) == 1
