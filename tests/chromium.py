"""A real headless Chromium with its DevTools port on 127.0.0.1, as a kiosk's browser for the agent's
tests, and the agent's restart command that relaunches it (as `systemctl restart wall-kiosk.service` does
on a kiosk)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.ports import free_port

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# Relaunches Chromium on the same port: the agent's restart command in these tests.
LAUNCHER = """
import os, signal, subprocess, sys, time
chromium, port, profile, pidfile = sys.argv[1:5]
try:
    pid = int(open(pidfile).read())
    os.killpg(pid, signal.SIGKILL)
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except OSError:
            break
        time.sleep(0.05)
except (OSError, ValueError):
    pass
proc = subprocess.Popen([chromium, "--headless=new", "--no-sandbox", "--disable-gpu",
    f"--remote-debugging-port={port}", "--remote-debugging-address=127.0.0.1", f"--user-data-dir={profile}",
    "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
open(pidfile, "w").write(str(proc.pid))
"""


@dataclass
class Browser:
    devtools: str
    restart_cmd: list[str]
    pidfile: Path


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def launched(tmp_path: Path) -> Iterator[Browser]:
    """Chromium started and answering on its DevTools port; killed at the end (skips without Chromium)."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    port = free_port()
    launcher = tmp_path / "launch.py"
    launcher.write_text(LAUNCHER)
    pidfile = tmp_path / "chromium.pid"
    cmd = [sys.executable, str(launcher), CHROMIUM, str(port), str(tmp_path / "profile"), str(pidfile)]
    subprocess.run(cmd, check=True)
    browser = Browser(f"http://127.0.0.1:{port}", cmd, pidfile)
    try:
        deadline = time.monotonic() + 30
        while not _answers(f"http://127.0.0.1:{port}/json/version"):
            assert time.monotonic() < deadline, "chromium did not open its DevTools port within 30 s"
            time.sleep(0.2)
        yield browser
    finally:
        kill(browser)


def kill(browser: Browser) -> None:
    with contextlib.suppress(OSError, ValueError):
        os.killpg(int(browser.pidfile.read_text()), signal.SIGKILL)
