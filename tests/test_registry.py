"""A connector from another package is found like the built-in ones: through the `wall.connectors` entry
points; a broken one is logged and left out, and the others go on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ingest.registry import REGISTRY

PLUGIN = '''
import msgspec
from ingest.connector import ConnectorSpec


class Options(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    channel: str


class Echo:
    def __init__(self, name, options, ctx):
        self.name = name

    async def stream(self, cursor):
        return
        yield


SPEC = ConnectorSpec(type="echo", display_name="Echo Chat", network="echo", options=Options,
                     build=lambda name, options, ctx: Echo(name, options, ctx))
'''

PROBE = '''
import json
from ingest.registry import REGISTRY, check_options, display_names
print(json.dumps({"types": sorted(REGISTRY), "name": display_names().get("echo"),
                  "ok": check_options("echo", {"channel": "x"}, "sources.e")[1],
                  "bad": check_options("echo", {"chanel": "x"}, "sources.e")[1]}))
'''


def test_a_third_party_connector_is_registered_through_its_entry_point(tmp_path: Path):
    (tmp_path / "wall_echo.py").write_text(PLUGIN)
    info = tmp_path / "wall_echo-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: wall-echo\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[wall.connectors]\necho = wall_echo:SPEC\nbroken = wall_echo_gone:SPEC\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["types"] == sorted([*REGISTRY, "echo"])  # the built-in ones and the plugin's
    assert found["name"] == "Echo Chat"
    assert found["ok"] == []
    assert found["bad"] == ["sources.e.chanel: unknown key; did you mean 'channel'?"]
    assert "connector broken (wall_echo_gone:SPEC) cannot be loaded" in done.stderr
