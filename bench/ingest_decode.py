"""Ingest throughput on one core: Jetstream, Mastodon streaming and Twitch IRC lines through decode,
normalize and the supervisor's sanitizer, with and without the sanitizer.

Run: .venv/bin/python -m bench.ingest_decode [--messages 100000]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ingest.connector import SourceContext, Upsert
from ingest.sanitize import Refused, sanitize
from ingest.sources import mastodon, twitch
from ingest.sources.bluesky import Handler, Matcher
from tests.fakes.state import Memory

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
WORDS = "the a phone battery today camera launch coffee morning great love train city rain music".split()


def message(rng: random.Random, i: int) -> bytes:
    """One Jetstream v1 message: ~85% non-matching posts, likes/reposts, deletes, identity/account."""
    did = f"did:plc:{rng.getrandbits(120):030x}"[:32]
    time_us = 1773302535104240 + i * 300
    roll = rng.random()
    if roll < 0.04:
        return json.dumps(
            {
                "did": did,
                "time_us": time_us,
                "kind": "identity",
                "identity": {"did": did, "handle": "x.example", "seq": i, "time": "2026-03-12T08:00:00Z"},
            }
        ).encode()
    if roll < 0.06:
        return json.dumps(
            {
                "did": did,
                "time_us": time_us,
                "kind": "account",
                "account": {"active": True, "did": did, "seq": i, "time": "2026-03-12T08:00:00Z"},
            }
        ).encode()
    if roll < 0.20:
        coll = rng.choice(["app.bsky.feed.like", "app.bsky.feed.repost", "app.bsky.graph.follow"])
        return json.dumps(
            {
                "did": did,
                "time_us": time_us,
                "kind": "commit",
                "commit": {
                    "rev": "3mgtwpuydmu4b",
                    "operation": "create",
                    "collection": coll,
                    "rkey": f"r{i}",
                    "record": {
                        "$type": coll,
                        "createdAt": "2026-03-12T08:02:13.669Z",
                        "subject": {
                            "cid": "bafyreiero2otaqicdjtx5dt6qx",
                            "uri": f"at://{did}/app.bsky.feed.post/x",
                        },
                    },
                    "cid": "bafyreiero2otaqicdjtx5dt6qxmdqa6vfh2wu5237cxsnljw37uvktmcjq",
                },
            }
        ).encode()
    if roll < 0.23:
        return json.dumps(
            {
                "did": did,
                "time_us": time_us,
                "kind": "commit",
                "commit": {
                    "rev": "3mgtwqc7rpabo",
                    "operation": "delete",
                    "collection": "app.bsky.feed.post",
                    "rkey": f"r{i}",
                },
            }
        ).encode()
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 40)))
    facets = []
    if rng.random() < 0.08:  # the matching share of all messages ends near 6%, posts ~8%
        text = "🚀 my #Nordlys " + text
        facets = [
            {
                "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "Nordlys"}],
                "index": {"byteEnd": 16, "byteStart": 8},
            }
        ]
    record: dict[str, object] = {
        "$type": "app.bsky.feed.post",
        "createdAt": "2026-03-12T08:02:13.669Z",
        "facets": facets,
        "langs": ["en"],
        "text": text,
    }
    if rng.random() < 0.2:
        record["embed"] = {
            "$type": "app.bsky.embed.images",
            "images": [
                {
                    "alt": "a phone",
                    "aspectRatio": {"height": 4, "width": 3},
                    "image": {
                        "$type": "blob",
                        "ref": {"$link": "bafkreic4lbbznzcqircgzvdyeuihn2"},
                        "mimeType": "image/jpeg",
                        "size": 9,
                    },
                }
            ],
        }
    return json.dumps(
        {
            "did": did,
            "time_us": time_us,
            "kind": "commit",
            "commit": {
                "rev": "3mgtwpuydmu4b",
                "operation": "create",
                "collection": "app.bsky.feed.post",
                "rkey": f"r{i}",
                "record": record,
                "cid": "bafyreiero2otaqicdjtx5dt6qxmdqa6vfh2wu5237cxsnljw37uvktmcjq",
            },
        },
        ensure_ascii=False,
    ).encode()


def mastodon_events(n: int) -> list[str]:
    """`update` payloads as the streaming API sends them: the fixture's statuses with fresh ids."""
    statuses = json.loads((FIXTURES / "mastodon" / "timelines_tag_nordlys.json").read_text())
    out = []
    for i in range(n):
        s = dict(statuses[i % len(statuses)], id=str(116215154705170435 + i))
        s["uri"] = f"{s['uri']}/{i}"
        out.append(json.dumps(s, ensure_ascii=False))
    return out


def twitch_lines(rng: random.Random, n: int) -> list[str]:
    """PRIVMSG lines with IRCv3 tags as irc-ws.chat.twitch.tv sends them; ~10% name the terms."""
    out = []
    for i in range(n):
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 15)))
        text = f"nordlys {words}" if rng.random() < 0.1 else words
        login = f"viewer{i % 5000}"
        out.append(f"@badge-info=;badges=;color=#1E90FF;display-name={login};emotes=;first-msg=0;id=m{i};"
                   f"mod=0;room-id=1;subscriber=0;tmi-sent-ts={1773302535104 + i};turbo=0;user-id={i % 5000};"
                   f"user-type= :{login}!{login}@{login}.tmi.twitch.tv PRIVMSG #nordlysphones :{text}")
    return out


def rate(messages: list[Any], step: Callable[[Any], list[Any]], clean: bool) -> tuple[float, int]:
    """Best of 3 messages/s of `step` (decode + normalize) and, with `clean`, the sanitizer after it."""
    best, kept = 0.0, 0
    for _ in range(3):
        kept = 0
        start = time.perf_counter()
        for raw in messages:
            for item in step(raw):
                if clean and isinstance(item, Upsert):
                    try:
                        sanitize(item.post)
                    except Refused:
                        continue
                kept += 1
        best = max(best, len(messages) / (time.perf_counter() - start))
    return best, kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=100_000)
    args = parser.parse_args()
    rng = random.Random(8)
    jetstream = [message(rng, i) for i in range(args.messages)]
    handler = Handler(
        Matcher(keywords=("nordlys", "kestrel"), hashtags=("nordlys",), mentions=("nordlys.example",))
    )
    ctx = SourceContext(http=None, state=Memory(), env={})  # type: ignore[arg-type]  # no I/O here
    fedi = mastodon.Mastodon("bench", mastodon.Options(instance="https://toot.example"), ctx)
    chat = twitch.Chat(("nordlys",))
    runs: list[tuple[str, list[Any], Callable[[Any], list[Any]]]] = [
        ("Jetstream messages", jetstream, lambda raw: [i] if (i := handler.handle(raw)) is not None else []),
        ("Mastodon streaming updates", mastodon_events(args.messages // 4),
         lambda raw: [i] if (i := fedi._event("update", raw)) is not None else []),
        ("Twitch IRC lines", twitch_lines(rng, args.messages), lambda raw: chat.handle(twitch.parse(raw))),
    ]
    for name, messages, step in runs:
        without, kept = rate(messages, step, clean=False)
        with_, _ = rate(messages, step, clean=True)
        print(f"{len(messages):,} {name}, {kept:,} yielded: decode+normalize {without:,.0f} msg/s, "
              f"+ sanitize {with_:,.0f} msg/s on one core (best of 3)")
    print("rerun: .venv/bin/python -m bench.ingest_decode --messages 100000")


if __name__ == "__main__":
    main()
