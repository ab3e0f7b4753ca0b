"""The client's address, as every per-address limit sees it (one place, so proxies are handled once)."""

from __future__ import annotations

from aiohttp import web


def client_address(request: web.Request) -> str:
    """The address of the client that sent `request` ("" when unknown, e.g. a Unix socket)."""
    return request.remote or ""
