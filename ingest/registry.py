"""Every source type, found in one place: a type name, its typed options and how to build its connector.

A module under ingest/sources/ provides `TYPE`, `Options` (a frozen msgspec Struct that forbids unknown
fields and carries its limits) and `build(name, options, ctx)`. Adding a network is that module, its
line below, and its test.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from ingest.sources import bluesky, mastodon, reddit, replay, rss, twitch, webhook, x
from wall.configcheck import convert

MODULES: tuple[ModuleType, ...] = (replay, webhook, mastodon, bluesky, twitch, rss, reddit, x)
REGISTRY: dict[str, ModuleType] = {m.TYPE: m for m in MODULES}


def check_options(type_: str, raw: dict[str, Any], path: str) -> tuple[object | None, list[str]]:
    """The typed options of a source, or the problems with them as 'key.path: what; the fix'."""
    module = REGISTRY.get(type_)
    if module is None:
        known = ", ".join(sorted(REGISTRY))
        return None, [f"{path}.type: '{type_}' is not a source type; use one of {known}"]
    problems: list[str] = []
    options = convert(raw, module.Options, path, problems)
    return (None, problems) if problems else (options, [])
