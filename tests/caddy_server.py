"""Debian's Caddy in front of web nodes, running the shipped deploy/Caddyfile on free ports of 127.0.0.1.

The site is `https://127.0.0.1:<port>`: for an IP address Caddy issues the certificate from its own local
CA (kept in this server's directory, never installed in the system's trust store); `ssl_context()` trusts
that CA alone, so the tests' clients verify the proxy's certificate like any browser would.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import time
import urllib.request
from pathlib import Path

from tests.redis_server import free_port

CADDYFILE = Path(__file__).resolve().parent.parent / "deploy" / "Caddyfile"
MISSING = "caddy is not installed: run scripts/test, which installs it (apt-get install caddy)"


class CaddyServer:
    """`caddy run` with deploy/Caddyfile, proxying to `upstreams` ("127.0.0.1:PORT" each)."""

    def __init__(self, dir: Path, upstreams: list[str]) -> None:
        self.dir = dir
        self.upstreams = upstreams
        self.port, self.http_port, self.admin_port = free_port(), free_port(), free_port()
        self.log = dir / "caddy.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        # HOME and the XDG directories: its local CA and certificates stay in this server's directory.
        home = self.dir / "home"
        return {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home / "data"),
                "XDG_CONFIG_HOME": str(home / "config"), "WALL_SITE": self.url,
                "WALL_UPSTREAMS": " ".join(self.upstreams),
                "WALL_CADDY_ADMIN": f"127.0.0.1:{self.admin_port}",
                "WALL_HTTP_PORT": str(self.http_port), "WALL_HTTPS_PORT": str(self.port),
                "WALL_CADDY_OPTIONS": "skip_install_trust"}

    def start(self, timeout: float = 60.0) -> None:
        """Start Caddy; return once its admin API answers and its site completes a verified handshake."""
        binary = shutil.which("caddy")
        if binary is None:
            raise RuntimeError(MISSING)
        self.dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [binary, "run", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
                env=self.env(), stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if self._handshakes():
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"caddy did not serve {self.url} within {timeout:g} s; "
                           f"its log:\n{self.log_text()}")

    def _handshakes(self) -> bool:
        try:
            context = self.ssl_context()
            with socket.create_connection(("127.0.0.1", self.port), timeout=2.0) as raw, \
                    context.wrap_socket(raw, server_hostname="127.0.0.1"):
                return True
        except (OSError, ssl.SSLError):
            return False

    def ssl_context(self) -> ssl.SSLContext:
        """Trusts this Caddy's local CA only (its root certificate exists once Caddy made it)."""
        root = self.dir / "home" / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"
        return ssl.create_default_context(cafile=str(root))

    def upstream_status(self) -> list[dict[str, object]]:
        """Caddy's own view of its upstreams (admin API): address, requests in flight, recent fails."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.admin_port}/reverse_proxy/upstreams",
                                    timeout=5) as r:
            answer: list[dict[str, object]] = json.load(r)
            return answer

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-6000:]
        except OSError:
            return "(no log written)"
