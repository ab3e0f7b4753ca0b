"""Free TCP ports of 127.0.0.1 for the servers the tests start, safe with two pytest workers at once.

A port from bind(0) comes from the kernel's ephemeral range, which the other worker's bind(0) and every
outgoing connection's local port come from too: between our pick and the server's own bind, either can
take it. So each worker hands out ports from its own slice of the range below the ephemeral one, in turn
(a port picked but not yet bound is not picked again), each checked free by a bind first.
"""

from __future__ import annotations

import os
import random
import socket

LOW = 20000  # below Linux's default ephemeral range (32768-60999), above the well-known services


def _ephemeral_start() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _slice() -> range:
    """This process's ports: the whole range alone, or its worker's share under pytest-xdist."""
    top = max(_ephemeral_start(), LOW + 2000)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", ... under pytest-xdist
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    index = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0
    size = (top - LOW) // max(count, 1)
    return range(LOW + index * size, LOW + (index + 1) * size)


_ports: range | None = None  # read at the first pick: pytest-xdist names the worker before that
_next = 0


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on right now, and that this process has not handed
    out lately."""
    global _ports, _next
    if _ports is None:
        _ports = _slice()
        _next = random.randrange(len(_ports))  # so two suites on one machine do not walk in step
    for _ in range(len(_ports)):
        port = _ports[_next % len(_ports)]
        _next += 1
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free TCP port of 127.0.0.1 in {_ports.start}-{_ports.stop - 1}")
