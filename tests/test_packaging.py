"""Someone installs the built wheel (not the source tree) into a fresh venv and runs the demo from it;
the connectors are found through the `wall.connectors` entry points of the install, editable or not."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from ingest.registry import GROUP, REGISTRY
from tests.redis_server import free_port

ROOT = Path(__file__).resolve().parent.parent
UV = ROOT / ".venv-tools" / "bin" / "uv"  # scripts/setup installs the locked uv there


def run(*args: str | Path, cwd: Path = ROOT) -> None:
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.status, r.read()


def test_the_wheel_carries_the_page_and_the_demo_runs_from_it(tmp_path: Path):
    run(UV, "build", "--wheel", "--no-build-isolation", "--python", sys.executable, "-o", tmp_path / "dist")
    (wheel,) = (tmp_path / "dist").glob("wall-*.whl")
    venv = tmp_path / "venv"
    run(UV, "venv", "--quiet", "--python", sys.executable, venv)
    python = venv / "bin" / "python"
    run(UV, "pip", "install", "--quiet", "--python", python, "--require-hashes", "-r",
        ROOT / "requirements" / "runtime.txt")
    run(UV, "pip", "install", "--quiet", "--python", python, "--no-deps", wheel)

    port = free_port()
    elsewhere = tmp_path / "elsewhere"  # not the source tree: everything must come from the install
    elsewhere.mkdir()
    log = (tmp_path / "demo.log").open("w")  # a file, not a pipe nobody reads: a full pipe would stall it
    demo = subprocess.Popen([str(venv / "bin" / "wall"), "demo", "--port", str(port), "--interval", "0.2"],
                            cwd=elsewhere, stdout=log, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")})  # its own store
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # a busy machine starts it slowly
        while True:
            try:
                status, _ = get(f"{base}/healthz")
                break
            except OSError:
                assert demo.poll() is None and time.monotonic() < deadline, "the demo did not start"
                time.sleep(0.2)
        assert status == 200
        status, page = get(f"{base}/w/demo")
        assert status == 200
        assert b"Bluesky" in page and b"Mastodon" in page  # data-networks: names from the connectors
        script = re.search(rb'src="(/static/[^"]+/js/main\.js)"', page)
        assert script, page[:500]
        status, body = get(base + script.group(1).decode())
        assert status == 200 and b"import" in body
        deadline = time.monotonic() + 60
        while True:
            posts = json.loads(get(f"{base}/api/v1/walls/demo/posts")[1])["posts"]
            if posts:
                break
            assert time.monotonic() < deadline, "the demo wall stayed empty"
            time.sleep(0.2)
        assert get(f"{base}/demo/media/x3-front.svg")[0] == 200  # the bundled demo pictures too
        site = subprocess.run([str(python), "-c", "import wall.paths as p; print(p.STATIC)"],
                              capture_output=True, text=True, cwd=elsewhere).stdout
        assert str(venv) in site  # served from the installed package, not from this checkout
        listed = subprocess.run(
            [str(python), "-c", "from ingest.registry import REGISTRY as R; print(*sorted(R))"],
            capture_output=True, text=True, cwd=elsewhere).stdout
        assert listed.split() == sorted(REGISTRY)  # the wheel's entry points, as the editable install's
        scripts = subprocess.run(  # the Redis engine's Lua scripts are package data, read at import
            [str(python), "-c", "from wall.bus.redis.link import SOURCES as S; print(*sorted(S))"],
            capture_output=True, text=True, cwd=elsewhere)
        expected = ["admit", "announce", "commit", "forget", "lease", "publish", "range"]
        assert scripts.stdout.split() == expected, scripts.stderr
    finally:
        demo.terminate()
        try:
            demo.wait(60)  # a busy machine stops it slowly too
        except subprocess.TimeoutExpired:
            demo.kill()
            raise AssertionError("the demo did not stop within 60 s of SIGTERM; its log ends:\n"
                                 + (tmp_path / "demo.log").read_text()[-2000:]) from None
        finally:
            log.close()


def test_the_editable_install_registers_the_built_in_connectors_as_entry_points():
    from importlib.metadata import entry_points

    names = {ep.name: ep.value for ep in entry_points(group=GROUP)}
    assert names["bluesky"] == "ingest.sources.bluesky:SPEC"
    assert set(names) == set(REGISTRY)
