"""Who a request comes from: the client address, and the group that per-client limits count.

The peer of the TCP connection is the client, unless the peer is one of `[web] trusted_proxies`: then the
client is the right-most X-Forwarded-For entry that is not itself a trusted proxy (every proxy appends the
address it saw, so entries to the left of the first untrusted one may be forged by the client). From any
other peer X-Forwarded-For is ignored: anyone can send one.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable

from aiohttp import web

from wall.addresses import network
from wall.web.keys import CONFIG

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@functools.lru_cache(maxsize=8)
def networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """The configured trusted proxies as networks (config checked that each one parses)."""
    return tuple(ipaddress.ip_network(e, strict=False) for e in entries)


def _parse(text: str) -> Address | None:
    try:
        found = ipaddress.ip_address(text.strip().removeprefix("[").split("]")[0])
    except ValueError:
        return None
    if isinstance(found, ipaddress.IPv6Address) and found.ipv4_mapped is not None:
        return found.ipv4_mapped  # a dual-stack socket's ::ffff:a.b.c.d is that IPv4 client
    return found


def trusted(peer: str | None, proxies: Iterable[Network]) -> bool:
    """The peer is a configured proxy, so its X-Forwarded-For is believed."""
    found = _parse(peer) if peer else None
    return found is not None and any(found in net for net in proxies)


def client_address(request: web.BaseRequest) -> str:
    """The client's address: the peer, or through trusted proxies the client they name; "unknown" for
    a peer without an address (a Unix socket)."""
    peer = request.remote
    # A request refused before routing (a malformed one, in the access log) has no app: no proxies then.
    info = request.match_info if isinstance(request, web.Request) else None
    cfg = info.current_app.get(CONFIG) if info is not None else None
    proxies = networks(cfg.web.trusted_proxies) if cfg is not None else ()
    if not trusted(peer, proxies):
        return peer or "unknown"
    hops = [h.strip() for line in request.headers.getall("X-Forwarded-For", []) for h in line.split(",")]
    for hop in reversed(hops):
        found = _parse(hop)
        if found is None:
            break  # a garbled entry: nothing left of it can be believed
        if not any(found in net for net in proxies):
            return str(found)
    return peer or "unknown"  # only proxies (or nothing) named: the request comes from the proxy itself


def client_group(address: str) -> str:
    """What per-client limits count: an IPv4 address, or the /64 of an IPv6 one (one household or host
    is given a whole /64, and picks any address in it at will)."""
    return network(address, v4_prefix=32).removesuffix("/32")
