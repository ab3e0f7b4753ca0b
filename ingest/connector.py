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
  per post on a fast stream), `Throttled` when the source asked it to wait (the supervisor does the
  waiting, then pulls the next item: the connector never sleeps on a rate limit itself), and `Skipped`
  for a message it could not use.
- It raises `SourceError` with words a person can act on ("401 from mastodon.example: the token in
  WALL_MASTODON_TOKEN was refused") when the source cannot go on; the supervisor backs off and calls
  `stream()` again with the last stored cursor. Transient network errors may also simply propagate.
  `retry_after` (seconds), when the source said how long to wait, overrides the supervisor's backoff.
- Each raw message is parsed through `guard()`: whatever the parsing raises becomes a `Skipped` item,
  which the supervisor logs once and counts in the source's health, and the connector goes on (its next
  checkpoint moves the cursor past the message). No message can stall a source.
- Posts are yielded as the network gives them: the supervisor's sanitizer (ingest/sanitize.py) cleans
  text and author fields, checks URLs, fixes entity offsets and clamps dates for every source.
- A module under ingest/sources/ provides one connector as `SPEC = ConnectorSpec(...)`: its type (the
  `type` in the config), display name, network, `Options` (a frozen msgspec Struct with
  forbid_unknown_fields, limits as msgspec.Meta, defaults for everything optional) and
  `build(name, options, ctx) -> Connector`. The registry finds it through the `wall.connectors` entry
  point group; adding a network is the module, its fixture and its docs section.
- Post ids come from the network and its native id (`wall.models.post_id(network, native_id)`), never
  from the source's configured name: the same post seen through two sources is one post.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Generic, ParamSpec, Protocol, TypeVar

import aiohttp

from wall.models import Post
from wall.redact import without_values


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
    """The source asked us to wait until `until` (epoch seconds): the supervisor waits, health says so."""

    until: float
    reason: str


@dataclass(frozen=True, slots=True)
class Skipped:
    """A message that could not be used (why, without its content): counted, logged once, passed over."""

    reason: str


Item = Upsert | Delete | Checkpoint | Throttled | Skipped
P = ParamSpec("P")
T = TypeVar("T")


def guard(parse: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T | Skipped:
    """`parse(*args)`, or Skipped when it raises anything: one message never stops a source."""
    try:
        return parse(*args, **kwargs)
    except Exception as e:  # whatever a hostile or broken message makes the parser raise
        return Skipped(f"{type(e).__name__}: {without_values(str(e))[:160]}")


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


@dataclass(frozen=True)
class ConnectorSpec(Generic[T]):
    """What a connector module says about itself (its module-level `SPEC`), found by ingest/registry.py."""

    type: str  # the `type` of a source in the config
    display_name: str  # what screens and the console call the network ("Bluesky")
    network: str  # the `source` of the posts it yields (the webhook and replay use the source's name)
    options: builtins.type[T]  # frozen msgspec Struct, unknown fields forbidden
    # None: not pulled, posts arrive at web nodes (the webhook) and no connector runs
    build: Callable[[str, T, SourceContext], Connector] | None = None
