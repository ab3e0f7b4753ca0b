"""The access log without secrets: a display key in a URL (`/w/W?key=...`) is logged as REDACTED."""

from __future__ import annotations

from aiohttp import web_log
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

SECRET_PARAMS = frozenset({"key", "token", "password"})


class AccessLogger(web_log.AccessLogger):
    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        found = SECRET_PARAMS & request.query.keys() if request is not None else set()
        if found:
            request = request.clone(rel_url=request.rel_url.update_query({k: "REDACTED" for k in found}))
        super().log(request, response, time)
