"""JSON API: the webhook source, recent posts, health and metrics."""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ingest.pipeline import InputError, normalize, parse_posts
from wall.config import WallConfig
from wall.models import BadJSON, encode
from wall.web.keys import CONFIG, ENGINE, HUBS, METRICS, PIPELINE, SOURCES
from wall.web.pages import version

log = logging.getLogger("wall.web")
SIGNATURE_HEADER = "X-Wall-Signature"


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=encode(data), status=status, content_type="application/json", headers=headers)


def error(status: int, message: str, **extra: Any) -> web.Response:
    return json_response({"error": message, **extra}, status)


def authorized(wall: WallConfig, request: web.Request, body: bytes) -> bool:
    """A Bearer token, or an HMAC-SHA256 of the raw body ("sha256=<hex>"), compared in constant time."""
    auth = request.headers.get("Authorization", "")
    if wall.token and auth.startswith("Bearer "):
        return hmac.compare_digest(auth[7:].strip().encode(), wall.token.encode())
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if wall.hmac_secret and signature.startswith("sha256="):
        expected = hmac.new(wall.hmac_secret.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(signature[7:].strip().lower().encode(), expected.encode())
    return False


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


async def webhook(request: web.Request) -> web.Response:
    cfg = request.app[CONFIG]
    name = request.match_info["wall"]
    wall = cfg.walls.get(name)
    rejected = request.app[METRICS].webhook_rejected
    if wall is None or wall.source("webhook") is None:
        return error(404, f"wall {name!r} has no webhook source; add one to its sources in the config")
    body = await read_body(request, cfg.web.max_body_bytes)
    if body is None:
        rejected.labels(name, "too_large").inc()
        return error(413, f"body larger than {cfg.web.max_body_bytes} bytes; send fewer posts per request")
    if not authorized(wall, request, body):
        rejected.labels(name, "unauthorized").inc()
        log.info("wall %s: webhook refused: bad or missing token/signature from %s", name, request.remote)
        return json_response(
            {"error": f"missing or wrong credentials: send 'Authorization: Bearer <token>' or "
                      f"'{SIGNATURE_HEADER}: sha256=<hmac of the body>'"},
            401, headers={"WWW-Authenticate": 'Bearer realm="wall"'},
        )
    if not json_content(request):
        rejected.labels(name, "media_type").inc()
        return error(415, f"Content-Type {request.content_type!r} is not JSON; send "
                          "'Content-Type: application/json'")
    try:
        posts = parse_posts(body)
    except BadJSON as e:
        rejected.labels(name, "invalid").inc()
        return error(400, str(e))
    except InputError as e:
        rejected.labels(name, "invalid").inc()
        return error(422, str(e))

    pipeline, accepted = request.app[PIPELINE], []
    source = wall.source("webhook").name  # type: ignore[union-attr]
    for p in posts:
        post = normalize(source, p)
        try:
            outcome, event_id = await pipeline.submit(name, post)
        except Exception as e:
            log.warning("wall %s: webhook could not publish: %s", name, e)
            return error(503, f"the bus is unavailable ({type(e).__name__}); retry later, posts listed in "
                              "'accepted' are already in", accepted=accepted)
        request.app[METRICS].webhook_posts.labels(name, outcome).inc()
        accepted.append({"id": p.id, "post_id": post.id, "event_id": event_id, "outcome": outcome})
    return json_response({"accepted": accepted}, 202)


async def recent_posts(request: web.Request) -> web.Response:
    hub = request.app[HUBS].get(request.match_info["wall"])
    if hub is None:
        return error(404, f"no wall named {request.match_info['wall']!r}")
    try:
        limit = int(request.query.get("limit", "20"))
    except ValueError:
        return error(400, "limit: expected a whole number from 1 to 200")
    if not 1 <= limit <= 200:
        return error(400, "limit: expected a whole number from 1 to 200")
    return json_response({"wall": hub.wall.name, "last_event_id": hub.last_id,
                          "posts": hub.state.newest(limit)})


async def healthz(request: web.Request) -> web.Response:
    app = request.app
    bus = app[ENGINE].status()
    sources = app[SOURCES]
    walls = {}
    for name, hub in app[HUBS].items():
        walls[name] = {**hub.status(), "sources": [s.as_dict() for s in sources if s.wall == name]}
    failing = [s for s in sources if s.state == "failing"]
    status = "ok" if bus.connected and not failing else "degraded"
    return json_response({
        "status": status,
        "version": version(app),
        "engine": bus.engine,
        "bus": {"connected": bus.connected, "error": bus.error},
        "walls": walls,
    })


async def metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[METRICS].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
