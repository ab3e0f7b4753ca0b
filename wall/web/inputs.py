"""Every byte a request brings, decoded in one place per kind: JSON bodies, forms, path and query
parameters, the headers the app reads. A failure is an HTTP 4xx that says what was wrong, never a 500.

JSON itself is decoded by `wall.models.decode_untrusted` (bodies and socket frames alike); this module
adds what HTTP needs around it (media type, size, status codes).
"""

from __future__ import annotations

import re
from typing import Any, TypeVar
from urllib.parse import urlsplit

from aiohttp import web

from wall.models import BadJSON, decode_untrusted, encode
from wall.web.http import json_content, read_body
from wall.web.keys import CONFIG

T = TypeVar("T")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
MAX_ID = 2**63 - 1  # ids are SQL BIGINTs: a larger number is no id, not an overflow in the driver
_ID = re.compile(r"[0-9]{1,19}")


def refusal(status: type[web.HTTPException] | int, message: str, **extra: Any) -> web.HTTPException:
    """An error answer to raise: JSON {"error": message, ...} like every API route's."""
    exc = web.HTTPException(text=encode({"error": message, **extra}).decode(),
                            content_type="application/json")
    exc.set_status(status if isinstance(status, int) else status.status_code)
    return exc


async def json_body(request: web.Request, type_: type[T], empty: bytes = b"{}") -> T:
    """The JSON body as `type_` (no body at all: `empty`). 415 not JSON, 413 too large, 400 not usable
    JSON, 422 the wrong shape (the message names the field)."""
    if not json_content(request):
        raise refusal(415, f"Content-Type {request.content_type!r} is not JSON; send "
                           "'Content-Type: application/json'")
    limit = request.app[CONFIG].web.max_body_bytes
    raw = await read_body(request, limit)
    if raw is None:
        raise refusal(413, f"body larger than {limit} bytes")
    try:
        return decode_untrusted(raw or empty, type_)
    except BadJSON as e:
        raise refusal(e.status, str(e)) from None


async def form(request: web.Request) -> dict[str, str]:
    """A form post's text fields (files are ignored); 400 when it cannot be read as a form (a broken
    multipart body, an unknown or wrong charset)."""
    try:
        fields = await request.post()
    except (ValueError, LookupError, AssertionError) as e:  # UnicodeDecodeError is a ValueError
        raise refusal(400, f"the form cannot be read: {type(e).__name__}; send it as UTF-8 "
                           "application/x-www-form-urlencoded") from None
    found: dict[str, str] = {}
    for name, value in fields.items():
        if isinstance(value, str):
            found.setdefault(name, value)
    return found


def path_id(request: web.Request, name: str) -> int | None:
    """A numeric id in the path (ASCII digits, fits in 63 bits), or None: the caller answers 404."""
    raw = request.match_info.get(name, "")
    if not _ID.fullmatch(raw) or int(raw) > MAX_ID:
        return None
    return int(raw)


def query_int(request: web.Request, name: str, default: int, lo: int, hi: int) -> int:
    """A whole number from the query string, from lo to hi; 400 naming the parameter otherwise."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.lstrip("-").isdigit() and len(raw) <= 19) or not lo <= int(raw) <= hi:
        raise refusal(400, f"{name}: expected a whole number from {lo} to {hi}")
    return int(raw)


def origin_host(origin: str) -> str | None:
    """The host[:port] an Origin header names, or None when it names none that parses."""
    try:
        return urlsplit(origin).netloc
    except ValueError:  # "http://[", an IPv6 address that is not one
        return None


def cookies(request: web.Request, name: str, longest: int = 128) -> list[str]:
    """Every value of cookie `name` the browser sent (a cookie planted for another path or a sibling
    subdomain arrives beside ours, and `request.cookies` would keep only one), at most four; values that
    are empty, longer than `longest` or not ASCII (no token of ours is) are left out."""
    found = []
    for header in request.headers.getall("Cookie", []):
        for part in header.split(";"):
            key, _, value = part.strip().partition("=")
            if key == name and 0 < len(value) <= longest and value.isascii():
                found.append(value)
    return found[:4]


def bearer(request: web.Request) -> str | None:
    """The token of `Authorization: Bearer <token>`, or None (none given, another scheme, not ASCII)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or not token.isascii():
        return None
    return token
