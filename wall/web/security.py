"""Headers that keep internet text from ever running as code on a screen."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

# Nothing leaves the wall server: post images and avatars come through its own /media proxy.
_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; worker-src 'self'; form-action 'self'; frame-ancestors {ancestors}"
)
CSP = _POLICY.format(ancestors="'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def framable_by(response: web.StreamResponse, origins: tuple[str, ...]) -> None:
    """Let these origins (and no other) frame this one response: the ticker as a streaming tool's browser
    source. The same policy otherwise; X-Frame-Options is left out, since it cannot name an allow-list."""
    ancestors = " ".join(origins) if origins else "'none'"
    response.headers["Content-Security-Policy"] = _POLICY.format(ancestors=ancestors)
    if not origins:
        response.headers["X-Frame-Options"] = "DENY"


@web.middleware
async def security_headers(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as e:
        e.headers.update(HEADERS)
        raise
    if not response.prepared:  # WebSockets and file streams are already on their way
        own_policy = "Content-Security-Policy" in response.headers  # framable_by() decided the framing
        for name, value in HEADERS.items():
            if not own_policy or name not in ("Content-Security-Policy", "X-Frame-Options"):
                response.headers[name] = value
    return response
