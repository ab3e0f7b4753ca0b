"""A wall's published look: the screen part of one config file (wall/screen.py), as every node applies it.

A reload (SIGHUP to any `wall` process, or `wall reload-config`) publishes each wall's look in the wall's
announced state on the bus (kind "config"); every web node applies the latest one to its hub, so all the
screens of a wall agree whichever node serves them. Each look carries the digest of its settings, so a node
can tell that its own file says something else (docs/page.md, "One look on every node").
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
from collections.abc import Iterable

import msgspec

from wall.bus.base import Bus
from wall.config import WallConfig
from wall.screen import Screen

KIND = "config"  # the wall's announced state this lives in (Bus.announce(kind=...)); stats are another
_TAG = "screen_config"


class Look(msgspec.Struct, frozen=True, tag=_TAG):
    """The look of one wall as published: who published it, when, and the settings themselves (so a node
    whose file is older still shows what the others show)."""

    wall: str
    digest: str
    screen: Screen
    by: str  # the process that published it (role, host and pid: process_name()), for /healthz
    at: float  # epoch seconds


_decoder = msgspec.json.Decoder(Look)
_encoder = msgspec.json.Encoder()


def digest(screen: Screen) -> str:
    """Names the settings: equal for equal settings, whatever the file's layout, comments or other parts."""
    return hashlib.sha256(_encoder.encode(screen)).hexdigest()[:12]


def publish(wall: str, screen: Screen, by: str) -> bytes:
    """The body to announce for a wall's look."""
    return _encoder.encode(Look(wall, digest(screen), screen, by, time.time()))


def is_look(body: bytes) -> bool:
    """Whether an announcement is a look (the others are stats events); tagged structs encode the tag
    first."""
    return body.startswith(b'{"type":"' + _TAG.encode() + b'"')


def read(body: bytes) -> Look | None:
    """A published look, or None when the bytes are not one (another version's shape): the caller keeps
    what it shows."""
    try:
        found = _decoder.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError, TypeError, ValueError):
        return None
    return found if found.digest == digest(found.screen) else None


def process_name(role: str) -> str:
    """Who published, as an operator finds it: the role, the host and the process id."""
    return f"{role} on {socket.gethostname()} (pid {os.getpid()})"


async def publish_all(bus: Bus, walls: Iterable[WallConfig], by: str) -> dict[str, str]:
    """Publish the look of each wall; every web node applies it. Returns {wall: digest}."""
    published = {}
    for wall in walls:
        await bus.announce(wall.name, publish(wall.name, wall.screen, by), kind=KIND)
        published[wall.name] = digest(wall.screen)
    return published
