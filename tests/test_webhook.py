"""A comms tool posts to a wall's webhook; bad requests get a clear 4xx and lose nothing else."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import aiohttp
import pytest

from tests.helpers import HMAC_SECRET, TOKEN, Screen, make_config, post, running_node, shown_posts
from wall.media.signing import decode_key
from wall.web.backoff import Backoff


@pytest.fixture
async def node():
    async with running_node(make_config(max_body_bytes=20_000)) as base, aiohttp.ClientSession() as s:
        yield base, s


async def test_one_post_and_a_batch_are_accepted_with_their_ids(node):
    base, s = node
    status, reply = await post(s, base, {"id": "a1", "text": "Hello #nordlys", "lang": "en",
                                         "author": {"name": "Aino", "handle": "@aino"},
                                         "created_at": "2026-03-12T08:00:00+02:00",
                                         "media": [{"url": "https://cdn.example/x.jpg", "alt": "A phone"}]})
    assert status == 202
    assert [a["id"] for a in reply["accepted"]] == ["a1"]
    assert reply["accepted"][0]["outcome"] == "new" and reply["accepted"][0]["inbox_id"]

    status, reply = await post(s, base, {"posts": [{"id": "b1", "text": "one"}, {"id": "b2", "text": "two"}]})
    assert status == 202 and [a["id"] for a in reply["accepted"]] == ["b1", "b2"]

    posts = await shown_posts(s, base, 3, limit=10)
    assert [p["source_id"] for p in posts] == ["b2", "b1", "a1"]  # newest first
    aino = posts[2]
    assert aino["author"] == {"name": "Aino", "handle": "aino"}
    assert aino["created_at"] == "2026-03-12T06:00:00Z"
    assert aino["entities"] == [{"kind": "hashtag", "start": 6, "end": 14, "value": "nordlys"}]
    # Screens load it through the wall's own signed media route, never from cdn.example.
    assert [m["alt"] for m in aino["media"]] == ["A phone"]
    assert aino["media"][0]["url"].startswith("/media/")
    assert decode_key(aino["media"][0]["url"].split("/")[3]) == "https://cdn.example/x.jpg"


async def test_the_same_post_twice_is_a_duplicate_and_an_edit_is_an_update(node):
    base, s = node
    screen = await Screen(s, base).connect()
    await post(s, base, {"id": "e1", "text": "first version"})
    _, again = await post(s, base, {"id": "e1", "text": "first version"})
    _, edited = await post(s, base, {"id": "e1", "text": "second version"})
    assert again["accepted"][0]["outcome"] == "duplicate"
    assert edited["accepted"][0]["outcome"] == "updated"
    updates = await screen.wait_for(lambda f: f["type"] == "update")
    assert updates[0]["post"]["text"] == "second version"
    assert screen.posts() == ["e1"]


async def test_hmac_signature_of_the_body_is_accepted_and_a_wrong_one_refused(node):
    base, s = node
    body = json.dumps({"id": "h1", "text": "signed"}).encode()
    good = "sha256=" + hmac.new(HMAC_SECRET.encode(), body, hashlib.sha256).hexdigest()
    url = f"{base}/api/v1/walls/lobby/posts"
    json_type = {"Content-Type": "application/json"}
    async with s.post(url, data=body, headers={"X-Wall-Signature": good, **json_type}) as r:
        assert r.status == 202
    async with s.post(url, data=body + b" ", headers={"X-Wall-Signature": good, **json_type}) as r:
        assert r.status == 401
        assert "X-Wall-Signature" in (await r.json())["error"]


@pytest.mark.parametrize(
    ("body", "headers", "status", "says"),
    [
        (b'{"id": "x", "text": ', {}, 400, "not valid JSON"),
        (b'{"id": "x", "text": "\xff\xfe"}', {}, 400, "encoding must be UTF-8"),
        (b"[1, 2]", {}, 422, "JSON object"),
        (b'{"text": "no id"}', {}, 422, "missing required field `id`"),
        (b'{"id": "x", "text": 5}', {}, 422, "Expected `str`, got `int` - at `$.text`"),
        (b'{"posts": [{"id": "ok", "text": "fine"}, {"id": "y"}]}', {}, 422, "`$.posts[1]`"),
        (b'{"id": "x", "text": "hi", "created_at": "yesterday"}', {}, 422, "$.created_at"),
        (b'{"id": "x", "text": "hi", "url": "javascript:alert(1)"}', {}, 422, "only http(s) URLs"),
        (b'{"id": "x", "text": "  "}', {}, 422, "empty post"),
        # only zero-width and control characters: nothing a screen could show (the one sanitizer refuses it)
        (b'{"id": "x", "text": "\\u200b\\u2066\\u0007\\u200b"}', {}, 422,
         "$.text: no visible text and no media left after cleaning"),
        (b'{"posts": [{"id": "ok", "text": "fine"}, {"id": "y", "text": "\\u202e\\u200b"}]}', {}, 422,
         "$.posts[1].text: no visible text"),
        (b'{"posts": []}', {}, 422, "$.posts"),
        (b'{"id": "x", "text": "' + b"a" * 30_000 + b'"}', {}, 413, "larger than 20000 bytes"),
        (b'{"id": "x", "text": "hi"}', {"Authorization": "Bearer wrong"}, 401, "credentials"),
        (b'{"id": "x", "text": "hi"}', {"Authorization": ""}, 401, "credentials"),
    ],
)
async def test_bad_requests_get_a_clear_error_and_lose_nothing(node, body, headers, status, says):
    base, s = node
    assert (await post(s, base, {"id": "kept", "text": "accepted before"}))[0] == 202
    got, reply = await post(s, base, body, headers=headers)
    assert got == status
    assert says in reply["error"]
    # Nothing of a refused batch is published, what was accepted before stays, the node keeps serving.
    assert (await post(s, base, {"id": "after", "text": "accepted after"}))[0] == 202
    assert [p["source_id"] for p in await shown_posts(s, base, 2)] == ["after", "kept"]


async def test_unknown_wall_and_wall_without_webhook_say_so(node):
    base, s = node
    status, reply = await post(s, base, {"id": "x", "text": "hi"}, wall="nope")
    assert status == 404 and "no webhook source" in reply["error"]
    async with s.get(f"{base}/api/v1/walls/nope/posts") as r:
        assert r.status == 404
    async with s.get(f"{base}/api/v1/walls/lobby/posts?limit=0") as r:
        assert r.status == 400 and "limit" in (await r.json())["error"]


async def test_refusals_are_counted_in_metrics(node):
    base, s = node
    await post(s, base, {"id": "x", "text": "hi"}, headers={"Authorization": "Bearer wrong"})
    async with s.get(f"{base}/metrics") as r:
        text = await r.text()
    assert 'wall_webhook_rejected_total{reason="unauthorized",wall="lobby"} 1.0' in text


async def test_wrong_tokens_from_one_address_back_off_and_other_senders_are_unaffected(node):
    base, s = node
    wrong = {"Authorization": "Bearer guess"}
    for i in range(Backoff.FREE):
        assert (await post(s, base, {"id": f"g{i}", "text": "guess"}, headers=wrong))[0] == 401
    url = f"{base}/api/v1/walls/lobby/posts"
    for credentials in (wrong, {}):  # the right token too: while the door is closed nothing is checked
        async with s.post(url, json={"id": "late", "text": "hi"}, headers=credentials) as r:
            assert r.status == 429 and "wrong tokens" in (await r.json())["error"]
            assert 1 <= int(r.headers["Retry-After"]) <= Backoff.FIRST

    # the right token from another address (any 127.x.y.z is this machine) goes straight through
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))) as other:
        status, reply = await post(other, base, {"id": "ok1", "text": "from the comms tool"})
    assert status == 202 and reply["accepted"][0]["id"] == "ok1"
    async with s.get(f"{base}/metrics") as r:
        text = await r.text()
    assert 'wall_webhook_rejected_total{reason="backoff",wall="lobby"} 2.0' in text
    assert f'wall_webhook_rejected_total{{reason="unauthorized",wall="lobby"}} {Backoff.FREE}.0' in text


def test_the_wait_grows_with_each_failure_resets_on_success_and_memory_stays_bounded():
    backoff, t = Backoff(), 1000.0
    for _ in range(Backoff.FREE - 1):
        backoff.failed("203.0.113.9", t)
    assert backoff.wait("203.0.113.9", t) == 0  # a few typos cost nothing
    waits = []
    for _ in range(5):
        backoff.failed("203.0.113.9", t)
        waits.append(backoff.wait("203.0.113.9", t))
        t += waits[-1]  # it tries again as soon as it may, and fails again
    assert waits == [5, 10, 20, 40, 80]
    for _ in range(10):
        backoff.failed("203.0.113.9", t)
    assert backoff.wait("203.0.113.9", t) == Backoff.LONGEST  # bounded
    assert backoff.wait("198.51.100.1", t) == 0  # another address is not slowed
    backoff.succeeded("203.0.113.9")
    assert backoff.wait("203.0.113.9", t) == 0
    for i in range(Backoff.SIZE + 50):
        backoff.failed(f"10.{i // 65536}.{i // 256 % 256}.{i % 256}", t)
    assert len(backoff.keys) == Backoff.SIZE and "10.0.0.0" not in backoff.keys  # the oldest went first


NESTED = 5_000
DEEP_BODIES = {
    "array": b"[" * NESTED + b"]" * NESTED,
    "object in a post": b'{"id": "x", "text": "hi", "author": '
    + b'{"a": ' * NESTED + b"1" + b"}" * (NESTED + 1),
    "inside a batch": b'{"posts": [{"id": "x", "text": "hi", "media": '
    + b"[" * NESTED + b"]" * NESTED + b"}]}",
}


@pytest.mark.parametrize("shape", DEEP_BODIES)
async def test_a_body_nested_thousands_deep_is_refused_and_the_node_keeps_serving(shape):
    async with running_node(make_config()) as base, aiohttp.ClientSession() as s:
        got, reply = await post(s, base, DEEP_BODIES[shape])
        assert got == 400
        assert "nested too deeply" in reply["error"]
        assert (await post(s, base, {"id": "after", "text": "still here"}))[0] == 202
        async with s.get(f"{base}/healthz") as r:
            assert r.status == 200 and (await r.json())["status"] == "ok"


async def test_a_screen_whose_hello_is_nested_too_deeply_is_closed_with_the_reason(node):
    base, s = node
    async with s.ws_connect(f"{base}/w/lobby/ws") as ws:
        # Under the hello's 4 KiB limit, and nested in a key the server would otherwise skip.
        await ws.send_str('{"type": "hello", "x": ' + "[" * 1990 + "]" * 1990 + "}")
        msg = await ws.receive(timeout=30)
        assert msg.type == aiohttp.WSMsgType.CLOSE
        assert ws.close_code == 1008 and "nested too deeply" in (msg.extra or "")
    screen = await Screen(s, base).connect()  # the node still serves screens
    await post(s, base, {"id": "p1", "text": "after the hostile hello"})
    assert await screen.wait_posts(1) == ["p1"]


async def test_a_post_from_the_future_is_clamped_to_its_arrival(node):
    base, s = node
    before = datetime.now(UTC)
    await post(s, base, {"id": "f1", "text": "from 2099", "created_at": "2099-01-01T00:00:00Z"})
    await post(s, base, {"id": "p1", "text": "from the past", "created_at": "2026-01-01T00:00:00Z"})
    posts = {p["source_id"]: p for p in await shown_posts(s, base, 2)}
    future = datetime.fromisoformat(posts["f1"]["created_at"])
    assert before <= future <= datetime.now(UTC)
    assert posts["p1"]["created_at"] == "2026-01-01T00:00:00Z"


async def test_a_form_body_is_refused_with_415_naming_json(node):
    base, s = node
    url = f"{base}/api/v1/walls/lobby/posts"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with s.post(url, data={"id": "x", "text": "hi"}, headers=headers) as r:
        assert r.status == 415
        assert "application/json" in (await r.json())["error"]
    async with s.get(f"{base}/api/v1/walls/lobby/posts") as r:
        assert (await r.json())["posts"] == []
