"""Where the page's files live: at the top of a source tree, or inside the package once installed."""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_TREE = _PACKAGE.parent
# A checkout (or an editable install) has them beside the package; a wheel maps them into it.
_BASE = _TREE if (_TREE / "static").is_dir() and (_TREE / "templates").is_dir() else _PACKAGE
STATIC = _BASE / "static"
TEMPLATES = _BASE / "templates"
DEMO_MEDIA = _TREE / "ingest" / "demo" / "media"  # ingest/ sits beside wall/ in a tree and when installed
