"""The access log without secrets: a display key in a URL (`/w/W?key=...`) is logged as REDACTED. The
address logged is the client's (behind a trusted proxy, the one it names: wall/web/address.py)."""

from __future__ import annotations

from aiohttp import web_log
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from wall.web.address import client_address

SECRET_PARAMS = frozenset({"key", "token", "password"})


class AccessLogger(web_log.AccessLogger):
    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        found = SECRET_PARAMS & request.query.keys() if request is not None else set()
        if found:
            request = request.clone(rel_url=request.rel_url.update_query({k: "REDACTED" for k in found}))
        if request is not None and (client := client_address(request)) != request.remote:
            request = request.clone(remote=client)
        super().log(request, response, time)
