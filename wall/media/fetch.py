"""Fetch an original from the internet without letting a post point the node at its own network."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

log = logging.getLogger(__name__)

Reason = Literal["scheme", "address", "size", "type", "timeout", "decode", "status"]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
MAX_REDIRECTS = 3


class MediaError(Exception):
    """A refused or failed fetch; `reason` is the class that is logged and counted."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason: Reason = reason


@dataclass(frozen=True)
class AllowList:
    """Internal hosts admitted on purpose: exact 'name', 'name:port' or a CIDR ('10.1.0.0/16').

    A name admits that name only (its literal address stays refused), so tests can admit
    'localhost:PORT' while a redirect to 127.0.0.1:6379 is still refused.
    """

    entries: tuple[str, ...] = ()

    def admits_name(self, host: str, port: int) -> bool:
        host = host.lower()
        return host in self.entries or f"{host}:{port}" in self.entries

    def admits_address(self, addr: IPAddress) -> bool:
        for entry in self.entries:
            try:
                if addr in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
        return False


def address_refusal(addr: IPAddress) -> str | None:
    """Why an address must not be fetched from by default, or None if it is public."""
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return "ipv4-mapped"
    if addr in METADATA:
        return "metadata"
    for name in ("loopback", "unspecified", "link_local", "multicast", "private", "reserved"):
        if getattr(addr, f"is_{name}"):
            return name
    if isinstance(addr, ipaddress.IPv6Address) and addr in ipaddress.ip_network("fc00::/7"):
        return "unique-local"
    if not addr.is_global:
        return "not-global"
    return None


class PinnedResolver(AbstractResolver):
    """Answers only with the addresses already checked, so aiohttp cannot look the name up again."""

    def __init__(self, host: str, addrs: list[IPAddress]) -> None:
        self._host, self._addrs = host, addrs

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host != self._host:
            raise OSError(f"resolver pinned to {self._host}, asked for {host}")
        return [
            {
                "hostname": host,
                "host": str(addr),
                "port": port,
                "family": socket.AF_INET6 if addr.version == 6 else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            for addr in self._addrs
        ]

    async def close(self) -> None:
        return None


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    body: bytes


class Fetcher:
    """Fetches one URL at a time with every hop checked; one pinned connection per hop."""

    def __init__(
        self, allow: AllowList, max_bytes: int, timeout: float, connect_timeout: float = 5.0
    ) -> None:
        self.allow, self.max_bytes = allow, max_bytes
        self.timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=min(connect_timeout, timeout))

    async def check(self, url: str) -> tuple[str, list[IPAddress]]:
        """Resolve the URL's host once and return (host, the checked addresses to connect to)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise MediaError("scheme", f"scheme {parts.scheme!r} not allowed: {url}")
        host = (parts.hostname or "").lower()
        if not host:
            raise MediaError("scheme", f"no host in {url}")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as e:
            raise MediaError("scheme", f"bad port in {url}") from e
        try:
            literal: IPAddress | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            addrs = [literal]
        else:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except OSError as e:
                raise MediaError("address", f"cannot resolve {host}: {e}") from e
            addrs = list(dict.fromkeys(ipaddress.ip_address(str(i[4][0]).split("%")[0]) for i in infos))
        if not addrs:
            raise MediaError("address", f"no address for {host}")
        if literal is None and self.allow.admits_name(host, port):
            return host, addrs
        # Every answer must be acceptable: otherwise a name with one public and one private address
        # would pass the check and aiohttp could pick the other.
        for addr in addrs:
            why = address_refusal(addr)
            if why and not self.allow.admits_address(addr):
                raise MediaError("address", f"{host} resolves to {why} address {addr}: {url}")
        return host, addrs

    async def fetch(self, url: str) -> Fetched:
        """The body of url after at most MAX_REDIRECTS checked redirects, never more than max_bytes."""
        try:
            async with asyncio.timeout(self.timeout.total):
                for _ in range(MAX_REDIRECTS + 1):
                    host, addrs = await self.check(url)
                    result = await self._hop(url, host, addrs)
                    if isinstance(result, Fetched):
                        return result
                    url = result
        except TimeoutError as e:
            raise MediaError("timeout", f"timed out fetching {url}") from e
        raise MediaError("status", f"more than {MAX_REDIRECTS} redirects: {url}")

    async def _hop(self, url: str, host: str, addrs: list[IPAddress]) -> Fetched | str:
        connector = aiohttp.TCPConnector(resolver=PinnedResolver(host, addrs), use_dns_cache=False, limit=1)
        headers = {"User-Agent": "wall-media/1", "Accept": "image/*"}
        try:
            async with aiohttp.ClientSession(connector=connector, timeout=self.timeout) as session:
                async with session.get(url, allow_redirects=False, headers=headers) as resp:
                    if resp.status in (301, 302, 303, 307, 308):
                        target = resp.headers.get("Location")
                        if not target:
                            raise MediaError("status", f"redirect without Location: {url}")
                        return urljoin(url, target)
                    if resp.status != 200:
                        raise MediaError("status", f"status {resp.status} from {url}")
                    declared = resp.content_length
                    if declared is not None and declared > self.max_bytes:
                        raise MediaError("size", f"{declared} bytes declared > {self.max_bytes}: {url}")
                    return Fetched(url, await self._read(resp, url))
        except aiohttp.ClientError as e:
            raise MediaError("status", f"{type(e).__name__} fetching {url}: {e}") from e

    async def _read(self, resp: aiohttp.ClientResponse, url: str) -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > self.max_bytes:
                # Stop reading: closing the response drops the connection mid-body.
                raise MediaError("size", f"more than {self.max_bytes} bytes from {url}")
            chunks.append(chunk)
        return b"".join(chunks)
