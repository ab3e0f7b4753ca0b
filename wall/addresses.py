"""Client addresses grouped by network: one person usually holds a whole IPv4 /24 or IPv6 /64 (an office
NAT range, a cloud host, a home connection), so limits meant for one sender count per network."""

from __future__ import annotations

import ipaddress


def network(address: str, v4_prefix: int = 24, v6_prefix: int = 64) -> str:
    """The network an address belongs to ("203.0.113.0/24", "2001:db8::/64"); an IPv4-mapped IPv6
    address counts as its IPv4 one; something that is no address (a Unix socket) is its own network."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = v4_prefix if ip.version == 4 else v6_prefix
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))
