"""A real redis-server for the tests, on a free port of 127.0.0.1, whose data survives a restart."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

MISSING = "redis-server is not installed: run scripts/test, which installs it (apt-get install redis-server)"


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """redis-server as a subprocess: append-only file fsynced on every write, so a restart loses nothing."""

    def __init__(self, port: int, dir: Path | str, *options: str) -> None:
        self.port = port
        self.dir = Path(dir)
        self.options = options  # more redis-server options, e.g. ("--replicaof", host, port)
        self.log = self.dir / "redis.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        """Start the server and return once it answers PING."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError(MISSING)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
             "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--logfile", str(self.log),
             *self.options],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if self.running():
                return
            time.sleep(0.02)
        self._kill()
        raise RuntimeError(f"redis-server on port {self.port} did not answer PING within {timeout:g} s; "
                           f"its log:\n{self._log_text()}")

    def stop(self) -> None:
        """Shut the server down (it syncs its AOF first); does nothing if it is not running."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.command(b"SHUTDOWN")
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass  # _kill() below
        self._kill()

    def restart(self) -> None:
        self.stop()
        self.start()

    def running(self) -> bool:
        """True when our process answers on the port (not some other server that took it meanwhile)."""
        if self.proc is None or self.command(b"PING") != b"+PONG\r\n":
            return False
        info = self.command(b"INFO", b"server") or b""
        return f"process_id:{self.proc.pid}\r\n".encode() in info

    def command(self, *args: bytes) -> bytes | None:
        """Send one command in RESP; return the raw first reply, or None if the server is unreachable."""
        request = b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as s:
                s.sendall(request)
                reply = s.recv(65536)
                if reply.startswith(b"$") and b"\r\n" in reply:  # a bulk string: read all of it
                    head, _, _ = reply.partition(b"\r\n")
                    while 0 <= int(head[1:]) and len(reply) < len(head) + 4 + int(head[1:]):
                        more = s.recv(65536)
                        if not more:
                            break
                        reply += more
                return reply
        except OSError:
            return None

    def _kill(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc = None

    def _log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-4000:]
        except OSError:
            return "(no log written)"
