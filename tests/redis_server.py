"""A real redis-server for the tests, on a free port of 127.0.0.1, whose data survives a restart; and a
primary with replicas watched by three real redis-sentinel processes, to kill the primary under load."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from tests.ports import free_port

MISSING = "redis-server is not installed: run scripts/test, which installs it (apt-get install redis-server)"
MISSING_SENTINEL = ("redis-sentinel is not installed: run scripts/test, which installs it "
                    "(apt-get install redis-sentinel)")


class RedisServer:
    """redis-server as a subprocess: append-only file fsynced on every write, so a restart loses nothing."""

    program = "redis-server"

    def __init__(self, port: int, dir: Path | str, replica_of: int | None = None,
                 appendfsync: str = "always") -> None:
        self.port = port
        self.dir = Path(dir)
        self.replica_of = replica_of  # the primary's port on 127.0.0.1, for a replica
        self.appendfsync = appendfsync
        self.log = self.dir / "redis.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        """Start the server and return once it answers PING."""
        binary = shutil.which(self.program)
        if binary is None:
            raise RuntimeError(MISSING if self.program == "redis-server" else MISSING_SENTINEL)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(self.argv(binary), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
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

    def argv(self, binary: str) -> list[str]:
        replica = ["--replicaof", "127.0.0.1", str(self.replica_of)] if self.replica_of else []
        return [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
                "--appendonly", "yes", "--appendfsync", self.appendfsync, "--save", "",
                "--logfile", str(self.log), *replica]

    def kill(self) -> None:
        """kill -9: no shutdown, no last sync."""
        self._kill()

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


class SentinelServer(RedisServer):
    """redis-sentinel watching one primary, with short timings: down after 1 s, a failover within ~3 s."""

    program = "redis-sentinel"

    def __init__(self, port: int, dir: Path | str, primary: int, master_name: str, quorum: int = 2) -> None:
        super().__init__(port, dir)
        self.primary, self.master_name, self.quorum = primary, master_name, quorum

    def argv(self, binary: str) -> list[str]:
        conf = self.dir / "sentinel.conf"  # sentinel rewrites its file: one of its own
        if not conf.exists() or f"port {self.port}\n" not in conf.read_text():  # new, or moved ports
            name = self.master_name
            conf.write_text(
                f"port {self.port}\nbind 127.0.0.1\ndir {self.dir}\nlogfile {self.log}\n"
                f"sentinel monitor {name} 127.0.0.1 {self.primary} {self.quorum}\n"
                f"sentinel down-after-milliseconds {name} 1000\n"
                f"sentinel failover-timeout {name} 3000\n"
                f"sentinel parallel-syncs {name} 2\n")
        return [binary, str(conf)]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self._kill()

    def master(self) -> dict[str, str]:
        """SENTINEL MASTER <name> as a dict ({} when unreachable)."""
        reply = self.command(b"SENTINEL", b"MASTER", self.master_name.encode()) or b""
        words = [w.decode() for w in reply.split(b"\r\n") if w and not w.startswith((b"*", b"$"))]
        return dict(zip(words[::2], words[1::2], strict=False))


def _start_on_a_free_port(server: RedisServer, tries: int = 3) -> None:
    """Start it; when another process took its port since free_port() (seven ports make that likelier on a
    busy machine), take another."""
    for attempt in range(tries):
        try:
            server.start()
            return
        except RuntimeError as e:
            if "Address already in use" not in str(e) or attempt == tries - 1:
                raise
            server.port = free_port()


class SentinelCluster:
    """A primary, its replicas and three sentinels on 127.0.0.1, like a small production Redis."""

    def __init__(self, dir: Path | str, replicas: int = 2, master_name: str = "wall") -> None:
        self.dir = Path(dir)
        self.master_name = master_name
        self.servers = [RedisServer(free_port(), self.dir / "redis0")]
        self.servers += [RedisServer(free_port(), self.dir / f"redis{i + 1}", self.servers[0].port)
                         for i in range(replicas)]
        self.sentinels = [SentinelServer(free_port(), self.dir / f"sentinel{i}", self.servers[0].port,
                                         master_name) for i in range(3)]

    @property
    def addresses(self) -> list[str]:
        """The sentinels as [bus] sentinels lists them."""
        return [f"127.0.0.1:{s.port}" for s in self.sentinels]

    def start(self, timeout: float = 60.0) -> None:
        """Start everything; return once the replicas are in sync and every sentinel knows the others and
        every replica (a sentinel that does not could not vote or pick a replica)."""
        primary = self.servers[0]
        _start_on_a_free_port(primary)
        for server in self.servers[1:]:
            server.replica_of = primary.port
            _start_on_a_free_port(server)
        for sentinel in self.sentinels:
            sentinel.primary = primary.port
            _start_on_a_free_port(sentinel)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            known = [s.master() for s in self.sentinels]
            if all(k.get("num-other-sentinels") == str(len(self.sentinels) - 1)
                   and k.get("num-slaves") == str(len(self.servers) - 1) for k in known):
                return
            time.sleep(0.1)
        raise RuntimeError(f"the sentinels did not see each other and every replica within {timeout:g} s: "
                           f"{[s.master() for s in self.sentinels]}")

    def primary(self) -> RedisServer | None:
        """The server every sentinel names as primary, once it says so itself (None meanwhile)."""
        ports = {s.master().get("port") for s in self.sentinels}
        if len(ports) != 1:
            return None
        port = int(ports.pop() or 0)
        server = next((s for s in self.servers if s.port == port), None)
        if server is None or b"role:master" not in (server.command(b"INFO", b"replication") or b""):
            return None
        return server

    def stop(self) -> None:
        for process in [*self.sentinels, *self.servers]:
            process.stop()
