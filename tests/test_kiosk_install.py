"""kiosk/install.sh run with --root into a temp dir: the file tree a kiosk gets, what it would run, and
that running it twice changes nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "kiosk" / "install.sh"
URL = "http://wall-server:8080/w/lobby"

FLAGS = ["--kiosk", "--noerrdialogs", "--disable-infobars", "--disable-session-crashed-bubble",
         "--disable-features=Translate,TranslateUI", "--disable-pinch", "--overscroll-history-navigation=0",
         "--no-first-run", "--check-for-update-interval=31536000", "--disable-component-update",
         "--remote-debugging-port=9222", "--remote-debugging-address=127.0.0.1",
         "--user-data-dir=/var/lib/wallkiosk/chromium",
         # the page keeps its timers and its socket at full speed while the TV is off (no output)
         "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
         "--disable-backgrounding-occluded-windows"]


def install(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT), "--root", str(root), *args], capture_output=True, text=True,
                          timeout=120)


def tree(root: Path) -> dict[str, tuple[str, bytes | str, int]]:
    found: dict[str, tuple[str, bytes | str, int]] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            found[rel] = ("link", os.readlink(path), 0)
        elif path.is_file():
            found[rel] = ("file", path.read_bytes(), path.stat().st_mode & 0o7777)
    return found


@pytest.fixture
def pi(tmp_path: Path) -> Path:
    """A Raspberry Pi OS root with its one-line kernel command line."""
    cmdline = tmp_path / "boot" / "firmware" / "cmdline.txt"
    cmdline.parent.mkdir(parents=True)
    cmdline.write_text("console=serial0,115200 console=tty1 root=PARTUUID=1234-02 rootfstype=ext4 rootwait\n")
    return tmp_path


def test_a_kiosk_gets_its_session_agent_and_settings(pi: Path) -> None:
    done = install(pi, "--url", URL, "--screen", "2", "--of", "3", "--tv-on", "08:00", "--tv-off", "19:00")
    assert done.returncode == 0, done.stderr
    env = (pi / "etc/wall-kiosk/kiosk.env").read_text()
    assert f"WALL_URL={URL}?screen=2&of=3\n" in env
    assert "AGENT_ARGS=--tv-on 08:00 --tv-off 19:00\n" in env

    session = (pi / "etc/systemd/system/wall-kiosk.service").read_text()
    for line in ("User=wallkiosk", "PAMName=login", "TTYPath=/dev/tty1", "Conflicts=getty@tty1.service",
                 "ExecStart=/usr/local/lib/wall-kiosk/session.sh", "Restart=always", "RestartSec=3",
                 "StartLimitBurst=10", "WantedBy=multi-user.target"):
        assert line in session.splitlines(), line
    agent = (pi / "etc/systemd/system/wall-kiosk-agent.service").read_text()
    assert ("ExecStart=/opt/wall-kiosk/bin/wall-kiosk-agent --url ${WALL_URL} --session ${WALL_KIOSK_SESSION}"
            in agent)
    assert "Restart=always" in agent.splitlines() and "User=wallkiosk" in agent.splitlines()

    browser = (pi / "usr/local/lib/wall-kiosk/browser.sh").read_text()
    for flag in FLAGS:
        assert flag in browser, flag
    assert "file:///usr/local/share/wall-kiosk/starting.html" in browser  # the agent loads the wall later
    assert "xset s off -dpms s noblank" in browser
    assert "exec cage -d --" in (pi / "usr/local/lib/wall-kiosk/session.sh").read_text()
    assert (pi / "usr/local/share/wall-kiosk/starting.html").is_file()

    cursor = pi / "usr/share/icons/wall-kiosk-invisible/cursors"
    assert (cursor / "default").read_bytes()[:4] == b"Xcur" and len((cursor / "default").read_bytes()) == 68
    assert os.readlink(cursor / "left_ptr") == "default"
    assert 'subject.user !== "wallkiosk"' in (pi / "etc/polkit-1/rules.d/50-wall-kiosk.rules").read_text()
    assert (pi / "boot/firmware/cmdline.txt").read_text().strip().endswith("rootwait consoleblank=0")

    plan = (pi / "kiosk-install.plan").read_text().splitlines()
    assert ("apt-get install -y --no-install-recommends cage wlr-randr chromium fonts-noto-core "
            "fonts-noto-color-emoji fonts-noto-cjk python3-venv v4l-utils polkitd") in plan
    assert any(p.startswith("useradd --system") and p.endswith(" wallkiosk") for p in plan)
    # The agent alone, from its lock (hash-checked) into an empty venv, then itself without resolving.
    lock = ROOT / "requirements" / "kiosk.txt"
    pip = "/opt/wall-kiosk/bin/pip install --quiet"
    assert plan.index("python3 -m venv --clear /opt/wall-kiosk") \
        < plan.index(f"{pip} --require-hashes -r {lock}") \
        < plan.index(f"cp -r {ROOT}/kiosk/pyproject.toml {ROOT}/kiosk/wall_kiosk /opt/wall-kiosk/src/") \
        < plan.index(f"{pip} --no-deps --no-build-isolation --force-reinstall /opt/wall-kiosk/src")
    assert not [p for p in plan if "pip install" in p and p.rstrip().endswith(str(ROOT))]  # never the server
    assert "systemctl enable wall-kiosk.service wall-kiosk-agent.service" in plan
    assert not (pi / "opt").exists() and not (pi / "var").exists()  # nothing was run


def test_with_the_server_alone_the_kiosk_pairs_and_keeps_its_token_in_its_home(pi: Path) -> None:
    done = install(pi, "--url", "http://wall-server:8080/")
    assert done.returncode == 0, done.stderr
    assert "WALL_URL=http://wall-server:8080\n" in (pi / "etc/wall-kiosk/kiosk.env").read_text()
    agent = (pi / "etc/systemd/system/wall-kiosk-agent.service").read_text()
    assert "--credentials /var/lib/wallkiosk/kiosk.json" in agent
    plan = (pi / "kiosk-install.plan").read_text().splitlines()
    assert "install -d -o wallkiosk -g wallkiosk -m 0750 /var/lib/wallkiosk" in plan  # only the kiosk


@pytest.mark.parametrize(("url", "secure"), [
    ("http://wall.lan:8080/w/lobby", "--unsafely-treat-insecure-origin-as-secure=http://wall.lan:8080"),
    ("http://wall.lan:8080", "--unsafely-treat-insecure-origin-as-secure=http://wall.lan:8080"),  # pairing
    ("https://wall.example/w/lobby", None),
])
def test_the_browser_lets_a_plain_http_wall_keep_its_offline_shell(pi: Path, tmp_path: Path, url: str,
                                                                    secure: str | None) -> None:
    """The service worker needs a secure origin: the wall server's own origin is declared one, no other."""
    assert install(pi, "--url", url).returncode == 0
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "chromium").write_text('#!/bin/sh\nprintf "%s\\n" "$@"\n')  # says what it was started with
    (bin_dir / "chromium").chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path),
           "WALL_URL": (pi / "etc/wall-kiosk/kiosk.env").read_text().split("WALL_URL=")[1].split("\n")[0]}
    ran = subprocess.run(["sh", str(pi / "usr/local/lib/wall-kiosk/browser.sh")], env=env, text=True,
                         capture_output=True, check=True)
    args = ran.stdout.splitlines()
    assert "--kiosk" in args
    assert [a for a in args if a.startswith("--unsafely")] == ([secure] if secure else [])


def test_on_a_pc_the_console_never_blanks_either(tmp_path: Path) -> None:
    """No cmdline.txt: consoleblank=0 goes on GRUB's default command line, once, and update-grub runs."""
    grub = tmp_path / "etc" / "default" / "grub"
    grub.parent.mkdir(parents=True)
    grub.write_text('GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX=""\n')
    done = install(tmp_path, "--url", URL)
    assert done.returncode == 0, done.stderr
    assert 'GRUB_CMDLINE_LINUX_DEFAULT="quiet consoleblank=0"\n' in grub.read_text()
    assert "update-grub" in (tmp_path / "kiosk-install.plan").read_text().splitlines()
    again = install(tmp_path, "--url", URL)
    assert grub.read_text().count("consoleblank=0") == 1 and "added" not in again.stdout
    assert "update-grub" not in (tmp_path / "kiosk-install.plan").read_text().splitlines()


def test_running_it_twice_changes_nothing(pi: Path) -> None:
    assert install(pi, "--url", URL).returncode == 0
    first = tree(pi)
    again = install(pi, "--url", URL)
    assert again.returncode == 0, again.stderr
    assert tree(pi) == first
    assert "wrote" not in again.stdout and "added" not in again.stdout
    assert (pi / "boot/firmware/cmdline.txt").read_text().count("consoleblank=0") == 1


def test_a_new_url_rewrites_only_the_settings(pi: Path) -> None:
    assert install(pi, "--url", URL).returncode == 0
    moved = install(pi, "--url", "http://wall-server:8080/w/cafeteria")
    assert moved.returncode == 0
    assert [line for line in moved.stdout.splitlines() if line.startswith("wrote")] == [
        "wrote /etc/wall-kiosk/kiosk.env"]
    assert "WALL_URL=http://wall-server:8080/w/cafeteria" in (pi / "etc/wall-kiosk/kiosk.env").read_text()


def test_uninstall_removes_what_it_installed(pi: Path) -> None:
    assert install(pi, "--url", URL).returncode == 0
    done = install(pi, "--uninstall")
    assert done.returncode == 0, done.stderr
    left = {p for p in tree(pi) if not p.startswith("boot/")}
    assert left == {"kiosk-install.plan"}
    plan = (pi / "kiosk-install.plan").read_text().splitlines()
    assert plan[0] == "systemctl disable --now wall-kiosk.service wall-kiosk-agent.service"
    assert "userdel --remove wallkiosk" in plan and "systemctl enable getty@tty1.service" in plan


@pytest.mark.parametrize(("args", "says"), [
    ([], "give the wall server's URL"),
    (["--url", "wall-server:8080/w/lobby"], "does not look like a wall server"),
    (["--url", "http://wall-server:8080/lobby"], "does not look like a wall server"),
    (["--url", "http://wall-server:8080", "--screen", "1", "--of", "2"], "go with a wall URL"),
    (["--url", URL, "--screen", "4", "--of", "3"], "between 1 and 3"),
    (["--url", URL, "--tv-on", "8am"], "HH:MM"),
    (["--url", URL, "--session", "gnome"], "cage or x11"),
    (["--url", URL, "--colour", "red"], "unknown option '--colour'"),
])
def test_bad_input_is_named_and_nothing_is_written(tmp_path: Path, args: list[str], says: str) -> None:
    done = install(tmp_path, *args)
    assert done.returncode == 2
    assert says in done.stderr
    assert tree(tmp_path) == {}


def test_the_scripts_are_shellcheck_clean(tmp_path: Path) -> None:
    if shutil.which("shellcheck") is None:
        subprocess.run(["apt-get", "install", "-y", "shellcheck"], capture_output=True, check=False)
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed and apt-get could not install it")
    assert install(tmp_path, "--url", URL).returncode == 0
    made = [tmp_path / "usr/local/lib/wall-kiosk" / name for name in ("browser.sh", "session.sh")]
    done = subprocess.run(["shellcheck", str(SCRIPT), *map(str, made)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout
    assert "set -euo pipefail" in SCRIPT.read_text()
