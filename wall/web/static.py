"""Static files served from memory under a content-hash prefix, so browsers may cache them forever."""

from __future__ import annotations

import hashlib
import mimetypes
import re
from pathlib import Path

from aiohttp import web

IMMUTABLE = "public, max-age=31536000, immutable"
TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}


class StaticFiles:
    """All files below a folder, read once. The digest of their contents is the URL prefix: any change
    gives every file a new URL (relative module imports keep working), and is the page version."""

    def __init__(self, root: Path) -> None:
        self.files: dict[str, tuple[bytes, str]] = {}
        h = hashlib.sha256()
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            rel = path.relative_to(root).as_posix()
            data = path.read_bytes()
            h.update(rel.encode() + b"\0" + data)
            self.files[rel] = (data, content_type(path))
        self.digest = h.hexdigest()[:12]
        self.prefix = f"/static/{self.digest}"

    async def handle(self, request: web.Request) -> web.Response:
        if request.match_info["digest"] != self.digest:
            # An old page asks for old files: send it the current ones, not cached forever.
            raise web.HTTPFound(f"{self.prefix}/{request.match_info['path']}")
        found = self.files.get(request.match_info["path"])
        if found is None:
            raise web.HTTPNotFound()
        data, ctype = found
        return web.Response(body=data, content_type=ctype, headers={"Cache-Control": IMMUTABLE})


def content_type(path: Path) -> str:
    return TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


SAFE_NAME = re.compile(r"^[\w][\w.-]{0,100}$")


async def serve_file(request: web.Request, folder: Path, name: str) -> web.FileResponse:
    """One file from a flat folder (FileResponse answers 404 when it is missing); no path may leave it."""
    if not SAFE_NAME.match(name) or ".." in name:
        raise web.HTTPNotFound()
    path = folder / name
    return web.FileResponse(path, headers={"Cache-Control": "public, max-age=86400",
                                           "Content-Type": content_type(path)})
