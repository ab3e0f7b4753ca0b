"""An author's erasure on Redis (Inbox.erase_author): find the author's posts in the wall's keys, then
remove them in one MULTI. What the writer commits between the two, its own second call removes."""

from __future__ import annotations

import time
from typing import Any

from redis.asyncio import Redis

from wall.bus import erasure
from wall.bus.base import BUCKETS_KEPT
from wall.bus.erasure import ErasedAuthor
from wall.bus.redis.keys import Keys
from wall.bus.redis.link import Link
from wall.bus.redis.stream import messages
from wall.models import Post


class RedisErase:
    link: Link

    async def erase_author(self, wall: str, author: str) -> ErasedAuthor:
        minute = int(time.time() // 60)  # the buckets the commit keeps (BUCKETS_KEPT minutes, and a margin)
        buckets = [Keys.bucket(wall, m) for m in range(minute - BUCKETS_KEPT - 2, minute + 2)]

        async def scan(r: Redis) -> list[Any]:
            pipe = r.pipeline(transaction=False)
            pipe.xrange(Keys.events(wall))
            pipe.xrange(Keys.inbox(wall))
            pipe.hgetall(Keys.recent(wall))
            pipe.get(Keys.control(wall))
            pipe.get(Keys.announced(wall))
            for key in buckets:
                pipe.hkeys(key)
            found: list[Any] = await pipe.execute()
            return found

        events, inbox, recent, control, announced, *fields = await self.link.call(scan)
        found: dict[str, Post] = {}
        event_ids, entry_ids = [], []
        for msg in messages(events):
            if (hit := erasure.in_event(msg.body, author)) is not None:
                found[hit[0].id] = hit[0]
                event_ids.append(msg.id)
        for msg in messages(inbox):
            if (post := erasure.in_entry(msg.body, author)) is not None:
                found[post.id] = post
                entry_ids.append(msg.id)
        for body in recent.values():
            if (post := erasure.in_recent(bytes(body), author)) is not None:
                found[post.id] = post
        posts = tuple(found.values())
        names = sorted({n.decode() for keys in fields for n in keys})
        counters = erasure.author_counters(names, author, posts)

        async def remove(r: Redis) -> list[Any]:
            pipe = r.pipeline(transaction=True)
            if event_ids:
                pipe.xdel(Keys.events(wall), *event_ids)
            if entry_ids:
                pipe.xdel(Keys.inbox(wall), *entry_ids)
            if found:
                pipe.zrem(Keys.recent_index(wall), *found)  # first: its reply repeats the HDEL's
                pipe.hdel(Keys.recent(wall), *found)
                pipe.delete(*(Keys.counted(wall, pid) for pid in found))
            pipe.srem(Keys.authors(wall), author)
            pipe.zrem(Keys.authors_at(wall), author)  # retention's record of their last approval
            if counters:
                for key in buckets:
                    pipe.hdel(key, *counters)
            if erasure.in_control(None if control is None else bytes(control), author):
                pipe.delete(Keys.control(wall))
            if erasure.mentions(None if announced is None else bytes(announced), author, posts):
                pipe.delete(Keys.announced(wall))  # the writer's next one has the figures without them
            done: list[Any] = await pipe.execute()
            return done

        replies = [int(n) for n in await self.link.call(remove)]
        if found:  # the ZREM's reply repeats the HDEL's
            del replies[bool(event_ids) + bool(entry_ids)]
        return ErasedAuthor(posts, sum(replies))
