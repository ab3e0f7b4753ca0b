"""The kiosk agent as a Raspberry Pi gets it: the wall-kiosk wheel built from kiosk/, installed with pip
into a fresh venv from its own hash-checked lock (requirements/kiosk.txt), exactly as kiosk/install.sh
does. The venv holds the locked distributions and the agent, nothing of the server, and the agent from it
keeps a real Chromium on a real wall server's wall."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

import wall
import wall_kiosk
from tests.chromium import Browser, launched
from tests.helpers import make_config, running_node
from wall_kiosk.cdp import Tab, targets

ROOT = Path(__file__).resolve().parent.parent
UV = ROOT / ".venv-tools" / "bin" / "uv"  # scripts/setup installs the locked uv there
LOCK = ROOT / "requirements" / "kiosk.txt"


def run(*args: str | Path, cwd: Path = ROOT) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done.stdout


def locked() -> set[str]:
    """The distributions the lock pins (normalised names)."""
    return {m.group(1).lower().replace("_", "-")
            for m in re.finditer(r"^([A-Za-z0-9._-]+)==", LOCK.read_text(), re.MULTILINE)}


@pytest.fixture(scope="module")
def kiosk_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv with the lock and the wall-kiosk wheel, installed with plain pip as on a kiosk."""
    tmp = tmp_path_factory.mktemp("kiosk-venv")
    src = tmp / "src"  # as the installer does: the build's leftovers stay out of the checkout
    shutil.copytree(ROOT / "kiosk" / "wall_kiosk", src / "wall_kiosk",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "kiosk" / "pyproject.toml", src)
    run(UV, "build", "--wheel", "--no-build-isolation", "--python", sys.executable, "-o", tmp / "dist", src)
    (wheel,) = (tmp / "dist").glob("wall_kiosk-*.whl")
    with zipfile.ZipFile(wheel) as z:
        packages = {name.split("/")[0] for name in z.namelist() if ".dist-info/" not in name}
    assert packages == {"wall_kiosk"}, packages  # the agent's package and nothing else
    venv = tmp / "venv"
    run(sys.executable, "-m", "venv", venv)
    pip = venv / "bin" / "pip"
    run(pip, "install", "--quiet", "--require-hashes", "-r", LOCK)
    run(pip, "install", "--quiet", "--no-deps", wheel)
    yield venv


def test_the_kiosk_venv_holds_only_the_locked_distributions_and_the_agent(kiosk_venv: Path,
                                                                         tmp_path: Path) -> None:
    listed = json.loads(run(kiosk_venv / "bin" / "pip", "list", "--format", "json"))
    installed = {d["name"].lower().replace("_", "-") for d in listed} - {"pip"}  # the venv's own installer
    assert installed == locked() | {"wall-kiosk"}
    assert "aiohttp" in installed
    assert not {"wall", "lingua-language-detector", "redis", "sqlalchemy", "msgspec"} & installed
    # Run from elsewhere: nothing may come from this checkout.
    python = kiosk_venv / "bin" / "python"
    done = subprocess.run([str(python), "-c", "import wall"], cwd=tmp_path, capture_output=True, text=True)
    assert "No module named 'wall'" in done.stderr
    version = run(python, "-c", "import wall_kiosk; print(wall_kiosk.__version__, wall_kiosk.__file__)",
                  cwd=tmp_path).split()
    assert version[0] == wall.__version__ == wall_kiosk.__version__  # released together
    assert version[1].startswith(str(kiosk_venv))
    assert "--heartbeat-timeout" in run(kiosk_venv / "bin" / "wall-kiosk-agent", "--help", cwd=tmp_path)


def test_the_lock_pins_every_file_by_its_hash_for_the_pis() -> None:
    text = LOCK.read_text()
    for name in locked():
        block = text.split(f"\n{name}==", 1)[1].split("\n\n", 1)[0] if f"\n{name}==" in text else ""
        assert "--hash=sha256:" in block or name not in text.lower(), name
    assert "aiohttp==" in text and "lingua" not in text and "redis" not in text
    assert "--universal" in text  # every platform's files: x86_64 PCs and aarch64 Raspberry Pis


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    with launched(tmp_path) as b:
        yield b


@pytest.mark.timeout(300)
async def test_the_installed_agent_keeps_a_real_wall_on_screen(kiosk_venv: Path, browser: Browser,
                                                               tmp_path: Path) -> None:
    async with running_node(make_config()) as base, aiohttp.ClientSession() as http:
        wall_url = f"{base}/w/lobby"
        log = (tmp_path / "agent.log").open("w")
        agent = await asyncio.create_subprocess_exec(
            kiosk_venv / "bin" / "wall-kiosk-agent", "--url", wall_url, "--devtools", browser.devtools,
            "--interval", "0.5", "--state-file", tmp_path / "state.json",
            "--restart-cmd", " ".join(browser.restart_cmd),
            cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
        try:
            async def shows_the_wall() -> bool:
                try:
                    pages = [t for t in await targets(http, browser.devtools, 2) if t.get("type") == "page"]
                    if not pages or pages[0].get("url") != wall_url:
                        return False
                    tab = await Tab.open(http, pages[0], 2)
                    try:
                        r = await tab.call("Runtime.evaluate", {
                            "expression": "document.querySelector('[data-networks]') !== null",
                            "returnByValue": True}, 2)
                    finally:
                        await tab.close()
                    return r.get("result", {}).get("value") is True
                except Exception:
                    return False

            deadline = asyncio.get_running_loop().time() + 60
            while not await shows_the_wall():
                assert agent.returncode is None, (tmp_path / "agent.log").read_text()
                assert asyncio.get_running_loop().time() < deadline, (tmp_path / "agent.log").read_text()
                await asyncio.sleep(0.25)
        finally:
            agent.terminate()
            await asyncio.wait_for(agent.wait(), 30)
            log.close()
    said = (tmp_path / "agent.log").read_text()
    assert "the wall server answers: loading" in said and "/w/lobby" in said
    assert "Traceback" not in said
