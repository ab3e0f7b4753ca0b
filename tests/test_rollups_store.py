"""The roll-ups' store API (wall/store/rollups.py) on SQLite and PostgreSQL: a writer replaces minutes,
derives hours and days, and readers get series, totals and tops over any range."""

from __future__ import annotations

import pytest

# the session's PostgreSQL, and a fresh store on SQLite then on PostgreSQL
from tests.test_store_contract import empty_database, fresh_store, postgres  # noqa: F401
from wall.curate.figures import BRAND_KEY
from wall.store import Store
from wall.store.rollups import TOP_KEPT, Superseded, cover

DAY0 = 1_700_000_000 // 86_400 * 86_400  # a UTC midnight, in the past
M0 = DAY0 // 60  # its first minute


def test_a_range_is_read_from_the_coarsest_whole_buckets() -> None:
    # 23:30 the day before to 01:30 two days later: minutes, an hour, a day, an hour, minutes
    start, end = DAY0 - 1800, DAY0 + 86_400 + 3600 + 1800
    assert cover(start, end) == [
        ("minute", start, DAY0), ("day", DAY0, DAY0 + 86_400), ("hour", DAY0 + 86_400, DAY0 + 90_000),
        ("minute", DAY0 + 90_000, end)]
    assert cover(DAY0, DAY0 + 59) == [("minute", DAY0, DAY0 + 59)]
    assert cover(DAY0, DAY0) == []
    # the day and its 01:00 not derived since their minutes changed: hours, minutes, hours
    assert cover(DAY0, DAY0 + 86_400, [("day", DAY0), ("hour", DAY0 + 3600)]) == [
        ("hour", DAY0, DAY0 + 3600), ("minute", DAY0 + 3600, DAY0 + 7200),
        ("hour", DAY0 + 7200, DAY0 + 86_400)]


async def test_a_minute_written_twice_holds_what_the_bus_said_last(store: Store) -> None:
    r = store.rollups
    await r.replace("w", 1, {M0: {"posts": 3, "tag:rust": 2, f"voice:{BRAND_KEY}": 1}})
    await r.replace("w", 1, {M0: {"posts": 2, "tag:rust": 1, f"voice:{BRAND_KEY}": 1}})  # a retraction
    await r.replace("w", 1, {M0: {"posts": 2, "tag:rust": 1, f"voice:{BRAND_KEY}": 1}})  # again: no change
    assert await r.series("w", "minute", DAY0, DAY0 + 3600) == [
        (float(DAY0), {"posts": 2, "tag:rust": 1, f"voice:{BRAND_KEY}": 1})]
    assert await r.series("w", "minute", DAY0, DAY0 + 3600, prefix="voice:") == [
        (float(DAY0), {f"voice:{BRAND_KEY}": 1})]
    await r.replace("w", 1, {M0: {}})  # its last post taken back: the minute is empty
    assert await r.series("w", "minute", DAY0, DAY0 + 3600) == []
    assert await r.series("other", "minute", 0, 2 * DAY0) == []


async def test_hours_and_days_are_derived_from_the_minutes_they_hold(store: Store) -> None:
    r = store.rollups
    assert await r.first_bucket("w") is None
    # two posts at 00:00, one at 01:59, one at 23:59
    await r.replace("w", 7, {M0: {"posts": 2, "sent:positive": 2, "sentsum": 1500, "scored": 2},
                             M0 + 119: {"posts": 1, "sent:negative": 1, "sentsum": -700, "scored": 1},
                             M0 + 1439: {"posts": 1, "sent:unscored": 1}})
    assert await r.marked("w") == [("hour", DAY0), ("day", DAY0), ("hour", DAY0 + 3600),
                                   ("hour", DAY0 + 82_800)]
    for grain, bucket in await r.marked("w"):
        await r.derive("w", 7, grain, bucket)
    assert await r.marked("w") == []
    assert await r.series("w", "hour", DAY0, DAY0 + 86_400, "posts") == [
        (DAY0, {"posts": 2}), (DAY0 + 3600, {"posts": 1}), (DAY0 + 82_800, {"posts": 1})]
    assert await r.series("w", "day", DAY0, DAY0 + 86_400) == [
        (DAY0, {"posts": 4, "sent:positive": 2, "sent:negative": 1, "sent:unscored": 1, "sentsum": 800,
                "scored": 3})]
    # the whole day from its day bucket; 01:00-02:00 plus a minute from the hour and the minutes
    assert (await r.totals("w", DAY0, DAY0 + 86_400))["posts"] == 4
    assert await r.totals("w", DAY0 + 3600, DAY0 + 7260, "sent:") == {"sent:negative": 1}
    assert await r.first_bucket("w") == DAY0


async def test_an_hour_or_day_not_derived_yet_is_read_from_its_minutes(store: Store) -> None:
    r = store.rollups
    await r.replace("w", 1, {M0: {"posts": 2, "tag:rust": 2}, M0 + 61: {"posts": 1}})
    for grain, bucket in await r.marked("w"):
        await r.derive("w", 1, grain, bucket)
    # 00:30, the hour still open (the writer derives it once it has ended): the readers sum its minutes
    await r.replace("w", 1, {M0 + 30: {"posts": 4, "tag:rust": 1}})
    assert await r.marked("w") == [("hour", DAY0), ("day", DAY0)]
    assert await r.series("w", "hour", DAY0, DAY0 + 86_400, "posts") == [
        (DAY0, {"posts": 6}), (DAY0 + 3600, {"posts": 1})]
    assert await r.series("w", "day", DAY0, DAY0 + 86_400) == [(DAY0, {"posts": 7, "tag:rust": 3})]
    assert await r.totals("w", DAY0, DAY0 + 86_400, now=DAY0 + 86_400) == {"posts": 7, "tag:rust": 3}
    # its last post taken back: the hour is gone from the series before it is derived again
    await r.replace("w", 1, {M0 + 61: {}})
    assert await r.series("w", "hour", DAY0, DAY0 + 86_400, "posts") == [(DAY0, {"posts": 6})]
    for grain, bucket in await r.marked("w"):
        await r.derive("w", 1, grain, bucket)
    assert await r.series("w", "day", DAY0, DAY0 + 86_400) == [(DAY0, {"posts": 6, "tag:rust": 3})]


async def test_a_derived_bucket_keeps_the_top_of_each_open_family(store: Store) -> None:
    r = store.rollups
    tags = {f"tag:t{k:03}": k + 1 for k in range(TOP_KEPT["hour"] + 20)}
    await r.replace("w", 1, {M0: {"posts": 500, **tags, "source:bluesky": 500}})
    await r.derive("w", 1, "hour", DAY0)
    hour = dict((await r.series("w", "hour", DAY0, DAY0 + 1))[0][1])
    assert sum(name.startswith("tag:") for name in hour) == TOP_KEPT["hour"]
    assert "tag:t019" not in hour and "tag:t020" in hour  # the lowest 20 went
    assert hour["posts"] == 500 and hour["source:bluesky"] == 500  # bounded families stay whole
    assert await r.top("w", "tag:", DAY0, DAY0 + 3600, limit=2) == [("t119", 120), ("t118", 119)]
    assert len(await r.top("w", "tag:", DAY0, DAY0 + 60, limit=1000)) == len(tags)  # minutes keep all


async def test_a_writer_that_lost_its_lease_cannot_write_over_its_successor(store: Store) -> None:
    r = store.rollups
    await r.replace("w", 5, {M0: {"posts": 1}})
    await r.replace("w", 9, {M0: {"posts": 2}})  # the next lease holder
    with pytest.raises(Superseded):
        await r.replace("w", 5, {M0: {"posts": 1}})
    with pytest.raises(Superseded):
        await r.derive("w", 5, "hour", DAY0)
    assert await r.totals("w", DAY0, DAY0 + 60) == {"posts": 2}
    await r.replace("other", 5, {M0: {"posts": 1}})  # tokens are per wall


async def test_retention_and_erasure_remove_buckets_and_authors(store: Store) -> None:
    r = store.rollups
    await r.replace("w", 1, {M0: {"posts": 2, "author:Alice": 1, "author:bob": 1},
                             M0 + 2 * 1440: {"posts": 1, "author:alice": 1}})
    await r.replace("v", 1, {M0: {"posts": 1, "author:alice": 1}})
    for wall in ("w", "v"):
        for grain, bucket in await r.marked(wall):
            await r.derive(wall, 1, grain, bucket)
    assert sorted(await r.walls()) == ["v", "w"]
    assert await r.forget_names("w", ["author:ALICE"]) == 6  # two minutes, their hours and days
    assert await r.top("w", "author:", 0, 2 * DAY0) == [("bob", 1)]
    assert await r.top("v", "author:", 0, 2 * DAY0) == [("alice", 1)]  # only the wall named
    assert await r.forget_before("w", "author:", DAY0 + 86_400) == 3  # bob's minute, hour, day
    assert await r.top("w", "author:", 0, 2 * DAY0) == []
    assert await r.trim("w", "minute", DAY0 + 86_400) == 1  # the first day's minute ("posts")
    assert await r.series("w", "minute", 0, 2 * DAY0) == [(DAY0 + 2 * 86_400, {"posts": 1})]
    assert (await r.totals("w", DAY0, DAY0 + 86_400))["posts"] == 2  # its day stays
