"""The contract every connector (the code for one network) follows, and what it yields.

A connector is built once per configured source (a source: one configured instance of a connector) and
streams items. The supervisor that runs it (ingest/supervisor.py) is the only thing that stores cursors,
writes to wall inboxes and reports health; a connector only speaks its network's protocol.

Contract of `Connector.stream(cursor)`:
- `cursor` is the last value the connector handed out in a `Checkpoint` (None on the very first run).
  The connector resumes from it: nothing after it is lost. Items just before it may come again (an
  overlap is fine, the dedupe step absorbs it); whole histories must not.
- It yields `Upsert` for a post that is new or changed at the source (an edit is an Upsert of the same
  native id), `Delete` when the author or the network removed a post, `Checkpoint` when everything
  yielded so far may be taken as done (the connector decides how often: per page, per few seconds, never
  per post on a fast stream), and `Throttled` before it waits on a rate limit, so health can say so.
- It raises `SourceError` with words a person can act on ("401 from mastodon.example: the token in
  WALL_MASTODON_TOKEN was refused") when the source cannot go on; the supervisor backs off and calls
  `stream()` again with the last stored cursor. Transient network errors may also simply propagate.
  `retry_after` (seconds), when the source said how long to wait, overrides the supervisor's backoff.
- A malformed message is logged with the source's URL and skipped, never raised.
- A module under ingest/sources/ provides one connector: `TYPE` (the `type` in the config), `Options`
  (a frozen msgspec Struct with forbid_unknown_fields, limits as msgspec.Meta, defaults for everything
  optional) and `build(name, options, ctx) -> Connector`. The registry finds it; nothing else changes
  to add a network.
- Post ids come from the network and its native id (`wall.models.post_id(network, native_id)`), never
  from the source's configured name: the same post seen through two sources is one post.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Protocol

import aiohttp

from wall.models import Post


@dataclass(frozen=True, slots=True)
class Upsert:
    """A post, new or edited at the source."""

    post: Post


@dataclass(frozen=True, slots=True)
class Delete:
    """The post with this id (`post_id(network, native_id)`) was removed at the source."""

    post_id: str
    reason: str = "deleted"  # deleted | removed | banned (a moderator or the network took it down)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Everything yielded before this is done: resume after `cursor` next time."""

    cursor: str


@dataclass(frozen=True, slots=True)
class Throttled:
    """The source asked us to wait until `until` (epoch seconds); the connector sleeps, health says so."""

    until: float
    reason: str


Item = Upsert | Delete | Checkpoint | Throttled


class SourceError(Exception):
    """The source cannot go on for now; the message is shown in /healthz as it is, so make it plain."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Connector(Protocol):
    """One configured source: `name` is the source's name in the config (for logs and health)."""

    name: str

    def stream(self, cursor: str | None) -> AsyncIterator[Item]: ...


class KeyValue(Protocol):
    """Small durable state a connector may keep besides its cursor (an RSS feed's seen item ids, an ETag),
    scoped to the source by the supervisor. Values are short strings."""

    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str) -> None: ...


@dataclass(frozen=True)
class SourceContext:
    """What the composition root hands every connector it builds."""

    http: aiohttp.ClientSession  # one session per process, shared by every connector
    state: KeyValue
    env: Mapping[str, str]  # secrets are read from here by the variable names the options give
    user_agent: str = "wall/0.1 (+https://github.com/nordlys/wall; live social wall)"
