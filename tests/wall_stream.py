"""A fixed event stream for the wall page's tests and the soak benchmark: posts of every shape, the full
stats event, presenter controls; published straight on the bus, as the curation writer would."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tests.helpers import TOKEN, running_node, temp_store_url
from wall.app import parse_config
from wall.bus import open_engine
from wall.bus.base import Engine
from wall.config import Config
from wall.text import find_entities

WALL = "lobby"
HOSTILE = [
    '<script>document.title="PWNED"</script>',
    '<img src=x onerror="document.title=\'PWNED\'">',
    '<a href="javascript:document.title=\'PWNED\'">click me</a> javascript:alert(1)',
    "\u202eevil override\u202c then normal text \u2067isolated\u2069",
    "مرحبا بالجميع في إطلاق #نوردليس الجديد اليوم",
    "שלום לכולם, ההשקה היום הייתה מדהימה",
    "今日のローンチは最高でした！新しいスマホが楽しみです 📱✨",  # noqa: RUF001
    "新品发布会太棒了，期待新手机 🎉",  # noqa: RUF001
    "Emoji party 🎉🚀📱👩🏽‍💻🏳️‍🌈 #launch",
]


def screen_config(**screen: Any) -> Config:
    """A wall with a theme, a run of show, a QR call to action and a ticker allow-list."""
    wall: dict[str, Any] = {"title": "Nordlys live", "sources": [{"type": "webhook"}], "token_env": "T"}
    wall["show"] = {"playlist": [["agora", 300]], "call_to_action": "Post with #nordlys",
                    "qr_url": "https://nordlys.example/wall", "min_dwell": 0.2, "max_dwell": 1.0,
                    **screen.pop("show", {})}
    wall["ticker"] = {"frame_ancestors": ["https://studio.example"]}
    wall["theme"] = {"brand": "Nordlys", **screen.pop("theme", {})}
    wall.update(screen)
    # A store of the test's own: the default path is one file every test (and process) would share.
    return parse_config({"store": {"url": temp_store_url()}, "walls": {WALL: wall}}, env={"T": TOKEN})


def make_post(i: int, text: str, **extra: Any) -> dict[str, Any]:
    post: dict[str, Any] = {
        "id": f"p{i}", "source": "mastodon", "source_id": str(i), "text": text,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60 * (40 - i % 40))),
        "author": {"name": f"Person {i}", "handle": f"person{i}"},
        "entities": [{"kind": e.kind, "start": e.start, "end": e.end, "value": e.value}
                     for e in find_entities(text)],
    }
    post.update(extra)
    return post


TEXTS = [
    "Launch day! #nordlys",
    "The new X3 camera is seriously good in low light. Took this at the harbour at midnight #nordlys",
    "Battery lasted two full days of conference use, which is more than I can say for me. @nordlys",
    "Queue outside the flagship store is already around the block, people brought chairs and coffee "
    "and someone is playing guitar. Honestly the best launch atmosphere I have seen in years #launch",
    "Not convinced about the price though. Kestrel does the same for less #nordlys",
    "Love it ❤️",
    "Long read: " + "the keynote covered repairability, software updates for seven years, recycled "
    "aluminium, and a surprisingly candid section on what went wrong with the last model. " * 4,
    "Anyone else getting the new colours? #nordlys #launch",
]


def posts(n: int) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        extra: dict[str, Any] = {"lang": "en", "sentiment": {"score": 0.6, "label": "positive"}}
        if i % 5 == 1:
            extra["media"] = [{"url": "/demo/media/x3-front.svg", "alt": "The X3 seen from the front"}]
        if i == 2:
            extra["pinned"] = True
        out.append(make_post(i, TEXTS[i % len(TEXTS)], **extra))
    return out


def stats(now: float | None = None) -> dict[str, Any]:
    """A stats event with every key the writer sends (wall/curate/stats.py, figures.py)."""
    now = time.time() if now is None else now
    volume = [(i * 7) % 23 + (i // 6) for i in range(60)]
    return {
        "type": "stats", "total": 12873, "per_minute": 42, "trending": [["nordlys", 120], ["launch", 80]],
        "minute": int(now // 60), "volume": volume, "hour_total": sum(volume),
        "sentiment": {"positive": 320, "neutral": 150, "negative": 60, "unscored": 5,
                      "shares": {"positive": 0.6038, "neutral": 0.283, "negative": 0.1132}},
        "trend": {"last": {"positive": 90, "neutral": 30, "negative": 10, "unscored": 0,
                           "shares": {"positive": 0.6923, "neutral": 0.2308, "negative": 0.0769}},
                  "previous": {"positive": 70, "neutral": 40, "negative": 20, "unscored": 0,
                               "shares": {"positive": 0.5385, "neutral": 0.3077, "negative": 0.1538}}},
        "top_hashtags": [["nordlys", 120], ["launch", 80], ["x3", 41]],
        "trending_hashtags": [{"key": "launch", "recent": 40, "hour": 80, "score": 3.1},
                              {"key": "x3", "recent": 18, "hour": 41, "score": 2.0}],
        "trending_terms": [{"key": "battery", "recent": 22, "hour": 50, "score": 2.4},
                           {"key": "camera", "recent": 12, "hour": 30, "score": 1.9}],
        "share_of_voice": {"brand": {"count": 300, "share": 0.6},
                           "competitors": {"Kestrel": {"count": 150, "share": 0.3},
                                           "Fjord": {"count": 50, "share": 0.1}}, "mentions": 500},
        "top_authors": [["aino", 12], ["kestrelfan", 9], ["mika", 7]],
        "top_sources": [["mastodon", 300], ["bluesky", 200]],
        "alerts": [{"kind": "volume", "count": 42, "baseline": 9.5, "z": 4.1}],
        "alerts_on_screen": True,
    }


def control(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"type": "control", "paused": False, "panic": False, "panic_text": "",
                            "scene": None, "announcement": None, "spotlight": None,
                            "spotlight_until": None, "next_seq": 0}
    base.update(fields)
    return base


class Bus:
    """Publishes on a wall's display stream like its curation writer does."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def publish(self, body: dict[str, Any]) -> str:
        return await self.engine.publish(WALL, json.dumps(body).encode())

    async def posts(self, items: list[dict[str, Any]]) -> None:
        for p in items:
            await self.publish({"type": "post", "post": p})

    async def stats(self, body: dict[str, Any] | None = None) -> None:
        await self.engine.announce(WALL, json.dumps(body or stats()).encode())


@asynccontextmanager
async def wall_node(cfg: Config, port: int = 0) -> AsyncIterator[tuple[str, Bus]]:
    """A web node alone (no writer: the test is the writer) on a memory bus the test publishes on."""
    engine = open_engine(cfg.bus)
    try:
        async with running_node(cfg, port=port, roles=frozenset({"web"}), engine=engine) as base:
            yield base, Bus(engine)
    finally:
        await engine.close()
