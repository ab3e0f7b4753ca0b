"""Where the page's files live: beside the package in the source tree (installed editable)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "static"
TEMPLATES = ROOT / "templates"
DEMO_MEDIA = ROOT / "ingest" / "demo" / "media"
