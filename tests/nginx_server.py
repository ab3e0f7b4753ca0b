"""Debian's nginx with the shipped site (deploy/nginx/wall.conf) for the tests: a self-signed certificate
made with openssl in place of the site's, and, to run it, real nodes and a free port of 127.0.0.1."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

SITE = Path(__file__).resolve().parent.parent / "deploy/nginx/wall.conf"


def tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed; scripts/test installs it (apt-get install {package})",
                    pytrace=False)
    return path


def certificate(dir: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: (certificate, key)."""
    cert, key = dir / "cert.pem", dir / "key.pem"
    subprocess.run([tool("openssl", "openssl"), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def main_config(dir: Path, site: str | None = None, upstreams: list[int] | None = None,
                listen: int | None = None) -> Path:
    """A main nginx.conf that includes the site as Debian's does (inside http {}). With `listen`, the
    HTTPS server listens there alone (the port-80 redirect is left out); with `upstreams`, those nodes."""
    cert, key = certificate(dir)
    text = site if site is not None else SITE.read_text()
    for shipped, made in (("/etc/ssl/wall/fullchain.pem", cert), ("/etc/ssl/wall/privkey.pem", key)):
        text = text.replace(shipped, str(made))
    if upstreams is not None:
        servers = "".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;\n" for p in upstreams)
        text = re.sub(r"(    server 127\.0\.0\.1:\d+ .*\n)+", servers, text)
    if listen is not None:
        text = re.sub(r"server \{\n    listen 80;.*?\n\}\n", "", text, flags=re.S)
        text = text.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{listen} ssl http2;")
        text = text.replace("    listen [::]:443 ssl http2;\n", "")
    (dir / "site.conf").write_text(text)
    (dir / "logs").mkdir(exist_ok=True)
    main = dir / "nginx.conf"
    main.write_text(f"error_log {dir}/logs/error.log;\npid {dir}/nginx.pid;\n"
                    f"events {{}}\nhttp {{\n  access_log off;\n  include {dir}/site.conf;\n}}\n")
    return main


@contextmanager
def running(main: Path, port: int) -> Iterator[None]:
    """nginx in the foreground with this config until the block ends; returns once it accepts."""
    proc = subprocess.Popen([tool("nginx", "nginx-light"), "-c", str(main), "-p", str(main.parent),
                             "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    said = proc.stderr.read() if proc.stderr else b""
                    raise RuntimeError(f"nginx did not start: {said!r}") from None
                time.sleep(0.05)
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=30)
