"""The last line of defence: an exception no handler expected becomes a short 500, never a traceback.

It sits inside the security-headers middleware, so the answer still carries the CSP, nosniff and
X-Frame-Options. The server's log gets the traceback, but not the exception's message: a message may
quote what a sender wrote (post text, a header), and the log holds no people's words.
"""

from __future__ import annotations

import logging
import secrets
import traceback
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from wall.models import encode
from wall.web.http import error

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
JSON_PATHS = ("/api/", "/console/api/")
# What reading a request fails with when the client (or the proxy) hangs up mid-body: the connection is
# reset ("Connection lost"), the body is short of its Content-Length, or the stream was already closed.
CUT_OFF = (ConnectionError, HttpProcessingError, RuntimeError)


def wants_json(request: web.Request) -> bool:
    """Scripts and API clients get JSON errors like every JSON route's; people get a short text page."""
    return request.path.startswith(JSON_PATHS) or "application/json" in request.headers.get("Accept", "")


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as e:
        if e.status >= 400 and wants_json(request) and e.content_type != "application/json":
            e.text = encode({"error": e.text or e.reason}).decode()  # a plain-text refusal, as JSON
            e.content_type = "application/json"
        raise
    except Exception as e:
        if request.writer.output_size > 0:  # a socket or a stream already under way: nothing to answer
            raise
        if request.transport is None and isinstance(e, CUT_OFF):
            # The client went away while we read its request: its problem, not a failure of ours. Nobody
            # is left to read an answer; the access log gets this one.
            log.debug("%s %r: the client hung up before its request was read", request.method, request.path)
            return error(400, "the request was cut off before its body was read")
        ref = secrets.token_hex(4)
        frames = "".join(traceback.format_tb(e.__traceback__))
        log.error("%s %r failed (ref %s): %s\n%s", request.method, request.path, ref, type(e).__name__,
                  frames.rstrip())
        message = f"the server failed to answer this request (ref {ref}); it is logged, try again later"
        if wants_json(request):
            return error(500, message)
        return web.Response(status=500, text=f"500 Internal Server Error: {message}\n",
                            content_type="text/plain")
