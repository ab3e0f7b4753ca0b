"""The webhook source: comms tools and scripts POST posts to a wall; web nodes admit them to its inbox.

A 2xx means every post listed in `accepted` is in the wall's inbox (the curation writer will show it);
anything else means the ones not listed are not.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import time

import msgspec
from aiohttp import web

from ingest.connector import ConnectorSpec
from ingest.pipeline import Batch, InputError, Pipeline, PostIn, admit_input, parse_posts
from wall.config import WallConfig
from wall.models import BadJSON
from wall.web.address import client_address, client_group
from wall.web.backoff import Backoff
from wall.web.http import error, json_content, json_response, read_body
from wall.web.inputs import bearer
from wall.web.keys import CONFIG, METRICS
from wall.web.openapi import WALL, Operation, describe, obj

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Wall-Signature"
PIPELINE = web.AppKey("pipeline", Pipeline)
WRONG_TOKENS = web.AppKey("webhook_wrong_tokens", Backoff)  # per client address (an IPv6 /64 is one)


def authorized(wall: WallConfig, request: web.Request, body: bytes) -> bool:
    """A Bearer token, or an HMAC-SHA256 of the raw body ("sha256=<hex>"), compared in constant time."""
    token = bearer(request)
    if wall.token and token is not None:
        return hmac.compare_digest(token.encode(), wall.token.encode())
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if wall.hmac_secret and signature.startswith("sha256=") and signature.isascii():
        expected = hmac.new(wall.hmac_secret.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(signature[7:].strip().lower().encode(), expected.encode())
    return False


async def webhook(request: web.Request) -> web.Response:
    cfg = request.app[CONFIG]
    name = request.match_info["wall"]
    wall = cfg.walls.get(name)
    rejected = request.app[METRICS].webhook_rejected
    source = wall.source("webhook") if wall else None
    if wall is None or source is None:
        return error(404, f"wall {name!r} has no webhook source; add one to its sources in the config")
    sender, backoff = client_group(client_address(request)), request.app[WRONG_TOKENS]
    wait = backoff.wait(sender, time.monotonic())
    if wait > 0:  # not even checked: guessing a token costs time
        rejected.labels(name, "backoff").inc()
        seconds = math.ceil(wait)
        return json_response({"error": f"too many wrong tokens or signatures from your address: retry in "
                                       f"{seconds} s with the right one"}, 429,
                             headers={"Retry-After": str(seconds)})
    body = await read_body(request, cfg.web.max_body_bytes)
    if body is None:
        rejected.labels(name, "too_large").inc()
        return error(413, f"body larger than {cfg.web.max_body_bytes} bytes; send fewer posts per request")
    if not authorized(wall, request, body):
        backoff.failed(sender, time.monotonic())
        rejected.labels(name, "unauthorized").inc()
        log.info("wall %s: webhook refused: bad or missing token/signature from %s", name,
                 client_address(request))
        return json_response(
            {"error": f"missing or wrong credentials: send 'Authorization: Bearer <token>' or "
                      f"'{SIGNATURE_HEADER}: sha256=<hmac of the body>'"},
            401, headers={"WWW-Authenticate": 'Bearer realm="wall"'},
        )
    backoff.succeeded(sender)
    if not json_content(request):
        rejected.labels(name, "media_type").inc()
        return error(415, f"Content-Type {request.content_type!r} is not JSON; send "
                          "'Content-Type: application/json'")
    try:
        posts = admit_input(source.name, parse_posts(body))
    except BadJSON as e:
        rejected.labels(name, "invalid").inc()
        return error(400, str(e))
    except InputError as e:
        rejected.labels(name, "invalid").inc()
        return error(422, str(e))

    pipeline, accepted = request.app[PIPELINE], list[dict[str, object]]()
    for post in posts:
        try:
            outcome, inbox_id = await pipeline.submit(name, post)
        except Exception as e:
            log.warning("wall %s: webhook could not admit a post: %s", name, e)
            # Not durable yet (Redis down or failing over, or too few replicas acknowledged): the post may
            # be in already, and a retry is safe: the dedupe on its id answers "duplicate" once it is.
            said = (f"the post is not durably recorded yet ({type(e).__name__}: the bus is unreachable or "
                    "too few replicas acknowledged it); retry, posts listed in 'accepted' are already in")
            return json_response({"error": said, "accepted": accepted}, 503, headers={"Retry-After": "1"})
        request.app[METRICS].webhook_posts.labels(name, outcome).inc()
        accepted.append({"id": post.source_id, "post_id": post.id, "inbox_id": inbox_id, "outcome": outcome})
    return json_response({"accepted": accepted}, 202)


def add_webhook_routes(app: web.Application, pipeline: Pipeline) -> None:
    """The ingest role's part of a web node: POST /api/v1/walls/{wall}/posts."""
    app[PIPELINE] = pipeline
    app[WRONG_TOKENS] = Backoff()
    app.router.add_post("/api/v1/walls/{wall}/posts", webhook)
    describe(app, OPERATION)


OPERATION = Operation(
    "POST", "/api/v1/walls/{wall}/posts", "put posts on a wall: one, or {\"posts\": […]}",
    ok=202, body=(PostIn, Batch), reply=obj("accepted", accepted={"type": "array"}),
    errors=(400, 401, 404, 408, 413, 415, 422, 429, 503), security=("token",),
    parameters=(WALL,))


class Options(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """[[walls.X.sources]] type = "webhook": takes no options; the wall's token_env/hmac_secret_env
    say who may post."""


# Not pulled (no build): web nodes receive its posts (add_webhook_routes).
SPEC: ConnectorSpec[Options] = ConnectorSpec(type="webhook", display_name="Web", network="webhook",
                                             options=Options)
