"""Every source type, found in one place: the `ConnectorSpec`s of the `wall.connectors` entry points.

Built-in connectors register through the same entry point group as third-party packages (pyproject.toml,
`[project.entry-points."wall.connectors"]`, `bluesky = "ingest.sources.bluesky:SPEC"`), so adding a
network is its module, its fixture and its docs section. A third-party connector that cannot be loaded
is logged and left out; the others go on.
"""

from __future__ import annotations

import logging
from importlib.metadata import entry_points
from typing import Any

from ingest.connector import ConnectorSpec
from wall.configcheck import convert

GROUP = "wall.connectors"
log = logging.getLogger(__name__)


def discover() -> dict[str, ConnectorSpec[Any]]:
    """The spec of every installed connector by its type."""
    found: dict[str, ConnectorSpec[Any]] = {}
    for ep in entry_points(group=GROUP):
        try:
            spec = ep.load()
        except Exception as e:  # a broken plugin must not take the built-in sources down with it
            log.error("connector %s (%s) cannot be loaded: %s", ep.name, ep.value, e)
            continue
        if not isinstance(spec, ConnectorSpec) or spec.type != ep.name:
            log.error("connector %s (%s) is not a ConnectorSpec of type %r; left out", ep.name, ep.value,
                      ep.name)
        elif spec.type in found:
            log.error("connector type %r is registered twice (%s); the first one stays", spec.type, ep.value)
        else:
            found[spec.type] = spec
    if not found:
        raise RuntimeError(f"no connector is registered in the {GROUP!r} entry point group; install the "
                           "package (pip install -e . or the wheel), not only its files")
    return found


REGISTRY: dict[str, ConnectorSpec[Any]] = discover()


def display_names() -> dict[str, str]:
    """What screens and the console call each network: {post source: display name}."""
    return {spec.network: spec.display_name for spec in REGISTRY.values()}



def check_options(type_: str, raw: dict[str, Any], path: str) -> tuple[object | None, list[str]]:
    """The typed options of a source, or the problems with them as 'key.path: what; the fix'."""
    spec = REGISTRY.get(type_)
    if spec is None:
        known = ", ".join(sorted(REGISTRY))
        return None, [f"{path}.type: '{type_}' is not a source type; use one of {known}"]
    problems: list[str] = []
    options = convert(raw, spec.options, path, problems)
    return (None, problems) if problems else (options, [])
