#!/usr/bin/env python3
"""Regenerate the LDNOOBW profanity lists shipped in ingest/enrich/data/profanity/ldnoobw/.

The lists come from the npm package `naughty-words` (the "List of Dirty, Naughty, Obscene, and Otherwise
Bad Words", https://github.com/LDNOOBW/List-of-Dirty-Naughty-Obscene-and-Otherwise-Bad-Words, CC BY 4.0).
A developer runs this; nothing downloads at run time. Each `<lang>.json` becomes `<code>.txt`, one entry a
line, as published (order kept, blanks and repeats dropped), named by the ISO 639-1 code the language
detector gives: Norwegian `no` -> `nb`, Filipino `fil` -> `tl`; the Québec French list is added to `fr`;
Kabyle and Klingon are left out (no code the detector knows). The package's LICENSE is copied beside them
and README.md says which version they are. The project's own exclusions stay in ../exclude.txt.

    python3 tools/ldnoobw.py                       # runs `npm pack naughty-words` in a temporary folder
    python3 tools/ldnoobw.py naughty-words-1.2.0.tgz
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "ingest" / "enrich" / "data" / "profanity" / "ldnoobw"
RENAMED = {"no": "nb", "fil": "tl", "fr-CA-u-sd-caqc": "fr"}
LEFT_OUT = {"kab", "tlh"}

README = """\
# LDNOOBW profanity lists

The `*.txt` files here are the "List of Dirty, Naughty, Obscene, and Otherwise Bad Words" by Shutterstock
and its contributors, https://github.com/LDNOOBW/List-of-Dirty-Naughty-Obscene-and-Otherwise-Bad-Words,
as published in the npm package `naughty-words` {version}, licensed under the Creative Commons Attribution
4.0 International licence (CC BY 4.0, full text in `LICENSE`; https://creativecommons.org/licenses/by/4.0/).

Changes made here: converted from JSON to one entry a line; files named by the ISO 639-1 code the
project's language detector gives (Norwegian `no` is `nb.txt`, Filipino `fil` is `tl.txt`); the Québec
French list is appended to `fr.txt`; Kabyle and Klingon are left out. The entries themselves are unchanged:
the project drops some of them when it reads them (`../exclude.txt`, its own file, CC0).

Regenerate with `python3 tools/ldnoobw.py` (a developer's step; nothing downloads at run time).
"""


def tarball() -> Path:
    """The npm tarball named on the command line, or one `npm pack` fetches now."""
    if len(sys.argv) > 1:
        return Path(sys.argv[1]).resolve()
    where = Path(tempfile.mkdtemp(prefix="ldnoobw-"))
    name = subprocess.run(["npm", "pack", "naughty-words"], cwd=where, check=True, capture_output=True,
                          text=True).stdout.strip().splitlines()[-1]
    return where / name


def main() -> None:
    lists: dict[str, list[str]] = {}
    with tarfile.open(tarball()) as tar:
        def read(name: str) -> str:
            member = tar.extractfile(f"package/{name}")
            assert member is not None, name
            return member.read().decode("utf-8")

        version = json.loads(read("package.json"))["version"]
        licence = read("LICENSE")
        names = sorted(m.name.removeprefix("package/") for m in tar.getmembers()
                       if m.name.count("/") == 1 and m.name.endswith(".json"))
        for name in names:
            lang = name.removesuffix(".json")
            if lang in LEFT_OUT or lang.startswith(("package", "bower")):
                continue
            entries = lists.setdefault(RENAMED.get(lang, lang), [])
            for entry in json.loads(read(name)):
                entry = " ".join(entry.split())
                if entry and entry not in entries:
                    entries.append(entry)
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.txt"):
        old.unlink()
    for code, entries in lists.items():
        (OUT / f"{code}.txt").write_text("\n".join(entries) + "\n", encoding="utf-8")
    (OUT / "LICENSE").write_text(licence, encoding="utf-8")
    (OUT / "README.md").write_text(README.format(version=version), encoding="utf-8")
    print(f"naughty-words {version}: {len(lists)} lists, {sum(map(len, lists.values()))} entries -> {OUT}")


if __name__ == "__main__":
    main()
