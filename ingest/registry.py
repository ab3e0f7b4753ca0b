"""Every source type, found in one place: a type name, its typed options and how to build its connector.

A module under ingest/sources/ provides `TYPE`, `Options` (a frozen msgspec Struct that forbids unknown
fields and carries its limits) and `build(name, options, ctx)`. Adding a network is that module, its
line below, and its test.
"""

from __future__ import annotations

import difflib
import re
from types import ModuleType
from typing import Any

import msgspec

from ingest.sources import bluesky, mastodon, reddit, replay, rss, twitch, webhook, x

MODULES: tuple[ModuleType, ...] = (replay, webhook, mastodon, bluesky, twitch, rss, reddit, x)
REGISTRY: dict[str, ModuleType] = {m.TYPE: m for m in MODULES}
_AT = re.compile(r"^(?P<said>.*?)(?: - at `\$(?P<where>[^`]*)`)?$", re.S)


def check_options(type_: str, raw: dict[str, Any], path: str) -> tuple[object | None, list[str]]:
    """The typed options of a source, or the problems with them as 'key.path: what; the fix'."""
    module = REGISTRY.get(type_)
    if module is None:
        known = ", ".join(sorted(REGISTRY))
        return None, [f"{path}.type: '{type_}' is not a source type; use one of {known}"]
    try:
        return msgspec.convert(raw, module.Options), []
    except msgspec.ValidationError as e:
        return None, [_problem(str(e), path, module.Options)]


def _problem(said: str, path: str, options: type) -> str:
    """msgspec's words ("Object contains unknown field `x` - at `$.x`") as a config problem."""
    m = _AT.match(said)
    assert m is not None  # the pattern matches any text
    where, message = m.group("where") or "", m.group("said")
    unknown = re.match(r"Object contains unknown field `(?P<key>[^`]+)`", message)
    if unknown:
        key = unknown.group("key")
        known = sorted(getattr(options, "__struct_fields__", ()))
        hint = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        fix = f"did you mean '{hint[0]}'?" if hint else (
            f"known keys: {', '.join(known)}" if known else "this source type takes no options")
        return f"{path}.{key}: unknown key; {fix}"
    return f"{path}{where}: {message[0].lower() + message[1:]}"
