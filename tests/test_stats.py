"""The live figures as the curation writer keeps them: a generated hour whose counts are known goes through
what the writer commits (stats.counts_for) and the real engines (memory and Redis), and comes out as exact
figures, share of voice and spike alerts included; retracted posts stop counting."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import pytest

from ingest.pipeline import Pipeline
from tests.helpers import TOKEN, Screen, post, running_node, temp_store_url
from wall.app import parse_config
from wall.bus.base import Commit, Engine, writer_lease
from wall.bus.memory import MemoryEngine
from wall.bus.redis import RedisEngine
from wall.config import Config
from wall.curate.figures import BRAND_KEY
from wall.curate.stats import counts_for, figures, window
from wall.models import Author, Entity, Post, Sentiment

WALL = "lobby"
MINUTE0 = 29_500_000  # minutes since the epoch, in 2026
LAST = MINUTE0 + 59
NOW = LAST * 60 + 30  # half-way through the last minute of the hour


def make(pid: str, label: str | None, *, brand: bool = False, competitors: tuple[str, ...] = (),
         tags: tuple[str, ...] = (), author: str = "", source: str = "mastodon") -> Post:
    text = " ".join(f"#{t}" for t in tags) or "a post"
    entities, at = [], 0
    for t in tags:
        entities.append(Entity("hashtag", at, at + len(t) + 1, t))
        at += len(t) + 2
    return Post(id=pid, source=source, source_id=pid, text=text, created_at=datetime.now(UTC),
                author=Author(handle=author), entities=tuple(entities),
                sentiment=Sentiment(0.0, label) if label else None, competitors=competitors, brand=brand)


def hour() -> list[tuple[int, Post]]:
    """59 steady minutes of 4 posts, then a burst of 24 (20 negative) in the last minute."""
    out = []
    for m in range(59):
        i = m * 4
        out += [(MINUTE0 + m, make(f"p{i}", "positive", brand=True, tags=("nordlys",), author=f"u{i % 3}",
                                   source="bluesky")),
                (MINUTE0 + m, make(f"p{i + 1}", "neutral", brand=True, author=f"u{(i + 1) % 3}")),
                (MINUTE0 + m, make(f"p{i + 2}", "negative", brand=True, competitors=("Kestrel",),
                                   author=f"u{(i + 2) % 3}")),
                (MINUTE0 + m, make(f"p{i + 3}", None, author=f"u{(i + 3) % 3}"))]
    for j in range(24):
        out.append((LAST, make(f"s{j}", "negative" if j < 20 else "positive", brand=True,
                               competitors=("Kestrel",) if j < 6 else (), tags=("outage",),
                               author="angry" if j < 3 else f"s{j}", source="bluesky")))
    return out


@pytest.fixture(params=["memory", "redis"])
async def engine(request: pytest.FixtureRequest) -> AsyncIterator[Engine]:
    found: Engine = (MemoryEngine() if request.param == "memory"
                     else RedisEngine(request.getfixturevalue("redis_url")))
    yield found
    await found.close()


async def commit_hour(engine: Engine) -> tuple[int, str]:
    token = await engine.lease(writer_lease(WALL), "writer-a", ttl=30)
    assert token
    entry = await engine.enqueue(WALL, b"{}")
    for minute, p in hour():
        await engine.commit(WALL, "writer-a", token,
                            Commit(entry, shown=(p.id,), counts=((p.id, counts_for(p)),), minute=minute))
    return token, entry


async def stats(engine: Engine) -> dict[str, object]:
    return figures(await engine.total(WALL), await engine.counts(WALL, window(LAST)), NOW)


async def test_the_figures_of_a_known_hour_are_exact(engine: Engine) -> None:
    await commit_hour(engine)
    s = await stats(engine)
    assert s["total"] == s["hour_total"] == 59 * 4 + 24
    assert s["volume"] == [4] * 59 + [24]
    assert s["per_minute"] == 24 + 2  # this minute, and half of the last one (30 s in)
    assert s["sentiment"] == {"positive": 63, "neutral": 59, "negative": 79, "unscored": 59,
                              "shares": {"positive": round(63 / 201, 4), "neutral": round(59 / 201, 4),
                                         "negative": round(79 / 201, 4)}}
    # Brand: 3 posts a minute for 59 minutes and the 24 of the burst; Kestrel: 59 + 6.
    assert s["share_of_voice"] == {"brand": {"count": 201, "share": round(201 / 266, 4)},
                                   "competitors": {"Kestrel": {"count": 65, "share": round(65 / 266, 4)}},
                                   "mentions": 266}
    assert s["trending"] == [["nordlys", 59], ["outage", 24]]
    assert s["top_sources"] == [["mastodon", 59 * 3], ["bluesky", 59 + 24]]
    assert s["top_authors"][:4] == [["u0", 79], ["u1", 79], ["u2", 78], ["angry", 3]]
    # The burst: 24 posts against a steady 4 (std 0, taken as 1); 20 of 24 negative against a third.
    assert s["alerts"] == [{"kind": "volume", "count": 24, "baseline": 4.0, "z": 20.0},
                           {"kind": "negative", "share": 0.8333, "baseline": round(31 / 93, 4), "z": 5.2}]
    assert BRAND_KEY not in str(s["share_of_voice"])


async def test_retracted_posts_stop_counting_in_every_figure(engine: Engine) -> None:
    token, entry = await commit_hour(engine)
    # The 20 negative posts of the burst are deleted at their source (or hidden by a curator) later on.
    burst = tuple(f"s{j}" for j in range(20))
    await engine.commit(WALL, "writer-a", token,
                        Commit(entry, unshown=burst, uncounted=burst, minute=LAST + 3))
    s = await stats(engine)
    assert s["total"] == s["hour_total"] == 59 * 4 + 4
    assert s["volume"] == [4] * 59 + [4]
    assert s["sentiment"]["negative"] == 59 and s["sentiment"]["positive"] == 63
    assert s["share_of_voice"] == {"brand": {"count": 181, "share": round(181 / 240, 4)},
                                   "competitors": {"Kestrel": {"count": 59, "share": round(59 / 240, 4)}},
                                   "mentions": 240}
    assert s["trending"] == [["nordlys", 59], ["outage", 4]]
    assert ["angry", 3] not in s["top_authors"]
    assert s["alerts"] == []
    # A second retraction of the same posts takes nothing more.
    await engine.commit(WALL, "writer-a", token, Commit(entry, uncounted=burst))
    assert await stats(engine) == s


def wall_config(engine: str, redis_url: str | None = None) -> Config:
    """Two walls on one brand: the lobby shows spike alerts on its screens, the hall does not."""
    enrich = {"terms": {"brand": ["Nordlys"], "competitors": {"Kestrel": ["Kestrel"]}}, "languages": ["en"]}
    walls = {name: {"title": name.title(), "token_env": "T", "sources": [{"type": "webhook"}],
                    "enrich": {**enrich, "spikes_on_screen": name == "lobby"}} for name in ("lobby", "hall")}
    bus = {"engine": engine, **({"redis_url": redis_url} if redis_url else {})}
    # A store of its own: the default path (/var/lib/wall) is shared by every checkout on the machine.
    data = {"bus": bus, "store": {"url": temp_store_url()}, "stats_interval": 0.2, "walls": walls}
    return parse_config(data, env={"T": TOKEN})


@pytest.mark.parametrize("kind", ["memory", "redis"])
async def test_a_wall_page_gets_the_figures_and_a_post_deleted_at_its_source_stops_counting(
    kind: str, request: pytest.FixtureRequest
) -> None:
    redis_url = request.getfixturevalue("redis_url") if kind == "redis" else None
    shared: Engine = MemoryEngine() if kind == "memory" else RedisEngine(str(redis_url))
    texts = {"a1": "I love my Nordlys, the camera is great", "a2": "Nordlys battery lasts all day",
             "a3": "Kestrel is awful, I hate it", "a4": "Nordlys or Kestrel? Nordlys of course"}
    try:
        cfg = wall_config(kind, redis_url)
        async with aiohttp.ClientSession() as s, running_node(cfg, engine=shared) as base:
            lobby, hall = await Screen(s, base).connect(), await Screen(s, base, "hall").connect()
            for sid, text in texts.items():
                assert (await post(s, base, {"id": sid, "text": text}))[0] == 202
            assert (await post(s, base, {"id": "h1", "text": "Nordlys"}, wall="hall"))[0] == 202
            frames = await lobby.wait_for(lambda f: f["type"] == "stats" and f["total"] == 4)
            assert frames[-1]["share_of_voice"] == {"brand": {"count": 3, "share": 0.6},
                                                    "competitors": {"Kestrel": {"count": 2, "share": 0.4}},
                                                    "mentions": 5}
            assert frames[-1]["sentiment"]["positive"] >= 1 and frames[-1]["sentiment"]["negative"] == 1
            assert frames[-1]["alerts_on_screen"] is True and frames[-1]["alerts"] == []
            hall_stats = await hall.wait_for(lambda f: f["type"] == "stats" and f["total"] == 1)
            assert hall_stats[-1]["alerts_on_screen"] is False
            # a4 is deleted where it was posted: it leaves the screen and the figures.
            shown = {f["post"]["source_id"]: f["post"]["id"] for f in lobby.frames if f["type"] == "post"}
            await Pipeline(shared).retract("lobby", shown["a4"])
            await lobby.wait_for(lambda f: f["type"] == "retract")
            after = await lobby.wait_for(lambda f: f["type"] == "stats" and f["total"] == 3)
            assert after[-1]["share_of_voice"] == {"brand": {"count": 2, "share": 0.6667},
                                                   "competitors": {"Kestrel": {"count": 1, "share": 0.3333}},
                                                   "mentions": 3}
            assert after[-1]["hour_total"] == 3 and sum(after[-1]["volume"]) == 3
    finally:
        await shared.close()
