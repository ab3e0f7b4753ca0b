"""The Redis engine, one part per job over one shared link (docs/architecture.md, "Parts"):

- target.py: where Redis is (a URL, or the primary Sentinel names) and the one place a client is built;
  durable.py: what an admit waits for (`[bus] durability`) and the watch on the primary's settings;
- link.py: the client, one command at a time with status kept, pub/sub, the scripts;
- stream.py: the bus (publish, read, subscribe, announce);
- inbox.py: the wall inboxes (admit, enqueue, read, commit and what the commit keeps);
- coordination.py: leases and their fencing tokens, cursors, shared secrets, health records;
- erase.py: an author's erasure (find, then remove in one MULTI);
- keys.py: every key and channel; *.lua: every script, one file each.
"""

from __future__ import annotations

from wall.bus.base import BusStatus
from wall.bus.redis.coordination import RedisCoordination
from wall.bus.redis.erase import RedisErase
from wall.bus.redis.inbox import RedisInbox
from wall.bus.redis.keys import Keys
from wall.bus.redis.link import Link
from wall.bus.redis.stream import RedisBus
from wall.bus.redis.target import Target

__all__ = ["Keys", "RedisEngine"]


class RedisEngine(RedisBus, RedisInbox, RedisCoordination, RedisErase):
    engine = "redis"

    def __init__(self, url: str, stream_maxlen: int = 10_000, target: Target | None = None) -> None:
        self.url = url
        self.link = Link(target or Target(url=url))
        self.maxlen = stream_maxlen

    def status(self) -> BusStatus:
        return self.link.status()

    async def close(self) -> None:
        await self.link.close()
