"""Imports point one way (DESIGN.md): pure model, then bus and store, then the roles; only the
composition root knows every role. A module added later in the wrong layer fails here."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OURS = ("wall", "ingest", "wall_kiosk")
# Where each of our top-level packages lives in the tree (the kiosk agent's is its own distribution's).
SOURCES = {"wall": ROOT / "wall", "ingest": ROOT / "ingest", "wall_kiosk": ROOT / "kiosk" / "wall_kiosk"}
# module prefix -> prefixes it must never import
FORBIDDEN = {
    "wall.models": ("wall.", "ingest"),
    "wall.health": ("wall.", "ingest"),
    "wall.redact": ("wall.", "ingest"),
    "wall.addresses": ("wall.", "ingest"),
    "wall.entropy": ("wall.", "ingest"),
    "wall.questions": ("wall.", "ingest"),  # pure: which posts ask, which upvote (docs/qa.md)
    "wall.text": ("wall.bus", "wall.web", "wall.curate", "wall.app", "wall.cli", "ingest"),
    "wall.config": ("wall.bus", "wall.web", "wall.curate", "wall.app", "wall.cli", "ingest"),
    "wall.look": ("wall.web", "wall.curate", "wall.app", "wall.cli", "ingest"),
    "wall.bus": ("wall.web", "wall.curate", "wall.app", "wall.cli", "wall.state", "ingest"),
    "wall.web": ("wall.curate", "wall.app", "wall.cli", "ingest"),
    "wall.curate": ("wall.web", "wall.app", "wall.cli", "ingest"),
    "ingest": ("wall.curate", "wall.app", "wall.cli"),
    "wall.doctor": ("wall.web", "wall.curate", "wall.bus", "wall.app", "wall.cli", "ingest"),
    # The kiosk agent is installed alone on a Raspberry Pi (kiosk/pyproject.toml): nothing of the server.
    "wall_kiosk": ("wall.", "ingest"),
    "wall.store": ("wall.web", "wall.curate", "wall.bus", "wall.app", "wall.cli", "ingest"),
    # Privacy (retention, erasure, export) works on the stores: the bus, the store, the media cache.
    "wall.privacy": ("wall.web", "wall.curate", "wall.app", "wall.cli", "ingest"),
    # Digests read the store (and the insights gathered from it) and send mail; leases from the bus.
    "wall.digests": ("wall.web", "wall.curate", "wall.app", "wall.cli", "ingest"),
    # Insights read the store (roll-ups, display log, decisions) and the bus's recent posts; pages use them.
    "wall.insights": ("wall.web", "wall.curate", "wall.app", "wall.cli", "ingest"),
    # Alerts read the bus, the store and the config, and post to targets; the console's page imports them.
    "wall.alerts": ("wall.web", "wall.curate", "wall.app", "wall.cli", "ingest"),
}


def module_name(path: Path) -> str:
    package = next(name for name, where in SOURCES.items() if path.is_relative_to(where))
    parts = (package, *path.relative_to(SOURCES[package]).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def first_party_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return {name for name in found if name.split(".")[0] in OURS}


def test_imports_point_one_way():
    broken = []
    for package in OURS:
        for path in sorted(SOURCES[package].rglob("*.py")):
            name = module_name(path)
            for prefix, banned in FORBIDDEN.items():
                if name == prefix or name.startswith(prefix + "."):
                    for imported in first_party_imports(path):
                        if any(imported == b.rstrip(".") or imported.startswith(b) for b in banned):
                            broken.append(f"{name} imports {imported}")
    assert broken == []


def test_the_rule_catches_a_web_module_that_imports_ingest(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from ingest.pipeline import Pipeline\nimport wall.models\n")
    assert first_party_imports(bad) == {"ingest.pipeline", "wall.models"}


def test_the_kiosk_agent_imports_nothing_of_the_server():
    """Its distribution holds wall_kiosk alone: one import of wall or ingest would fail on the Pi."""
    imports = {i for path in SOURCES["wall_kiosk"].rglob("*.py") for i in first_party_imports(path)}
    assert imports and all(i.startswith("wall_kiosk") for i in imports), imports
