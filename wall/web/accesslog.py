"""The access log without secrets and without people: a display key in a URL (`/w/W?key=...`) is logged as
REDACTED, and so is a console search (`?q=`, which may be an author's name); a media path keeps its
signature and drops its key, the original image's URL (an avatar's may hold a handle). The address logged
is the client's (behind a trusted proxy, the one it names: wall/web/address.py)."""

from __future__ import annotations

from aiohttp import web_log
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from wall.web.address import client_address

SECRET_PARAMS = frozenset({"key", "token", "password"})
PERSONAL_PARAMS = frozenset({"q"})
MEDIA = "/media/"


class AccessLogger(web_log.AccessLogger):
    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        if request is None:
            super().log(request, response, time)
            return
        found = (SECRET_PARAMS | PERSONAL_PARAMS) & request.query.keys()
        if found:
            request = request.clone(rel_url=request.rel_url.update_query({k: "REDACTED" for k in found}))
        if request.path.startswith(MEDIA) and request.path.count("/") == 3:  # /media/{sig}/{key}
            sig = request.path.split("/")[2]
            request = request.clone(rel_url=request.rel_url.with_path(f"{MEDIA}{sig}/REDACTED"))
        if (client := client_address(request)) != request.remote:
            request = request.clone(remote=client)
        super().log(request, response, time)
