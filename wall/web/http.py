"""Small HTTP helpers every JSON route uses: JSON replies, errors, bounded bodies, the JSON media type."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from wall.models import encode


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=encode(data), status=status, content_type="application/json", headers=headers)


def error(status: int, message: str, **extra: Any) -> web.Response:
    return json_response({"error": message, **extra}, status)


def json_content(request: web.Request) -> bool:
    """JSON, or no Content-Type at all (some senders omit it); a form or anything else is refused."""
    if "Content-Type" not in request.headers:
        return True
    ctype = request.content_type
    return ctype == "application/json" or (ctype.startswith("application/") and ctype.endswith("+json"))


async def read_body(request: web.Request, limit: int) -> bytes | None:
    """The body, or None when it is larger than the limit (checked before and while reading)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    try:
        return await request.read()  # the app's client_max_size is the same limit, for chunked bodies
    except web.HTTPRequestEntityTooLarge:
        return None
