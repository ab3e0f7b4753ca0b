"""The logs hold no person: a whole day of a wall, `wall serve` and `wall ingest` as separate processes on
Redis, logging at DEBUG to files, and then not one record at INFO or above (the access log included) holds a
post's text, an author's name or handle, in any spelling a log could give them. DEBUG may, and does."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import signal
from pathlib import Path
from urllib.parse import quote, quote_plus

import aiohttp
import msgspec
import pytest
from aiohttp import web

from tests.console_helpers import Browser, opened_store
from tests.fakes.mastodon import Instance
from tests.fakes.server import start
from tests.helpers import Screen, post, settled
from tests.media_origin import jpeg_with_gps
from tests.redis_server import free_port
from tests.test_console import queue_item
from tests.test_processes import logged, wait_up
from wall.bus.redis import RedisEngine
from wall.models import decode_inbox
from wall.redact import without_values

# Each test starts `wall` processes, slow to start on a busy machine: the bound on a hang is wider.
pytestmark = pytest.mark.timeout(300)

CONFIG = """
stats_interval = 0.5
[web]
secure_cookies = false
[bus]
engine = "redis"
redis_url = "{redis_url}"
[store]
url = "{store_url}"
[media]
cache_dir = "{tmp}/media"
allow_hosts = ["127.0.0.1"]
[walls.lobby]
title = "Lobby"
token_env = "LOBBY_TOKEN"
moderation = {{ mode = "pre" }}
[[walls.lobby.sources]]
type = "webhook"
[[walls.lobby.sources]]
type = "mastodon"
name = "fedi"
instance = "{instance}"
hashtags = ["nordlys"]
token_env = "WALL_MASTODON_TOKEN"
backfill_limit = 0
"""

# Three people and what they wrote: words no log line has any other reason to hold.
WILHELMINA = {"name": "Wilhelmina Quarrelsby", "handle": "wquarrel77"}
BARTHOLOMEW = {"name": "Bartholomew Fizzwidget", "handle": "bfizz_1893"}
OTTOLINE = {"name": "Ottoline Quernbürÿ", "handle": "oquern", "acct": "oquern@toot.example"}
TEXTS = ["Quibblesnatch at the lobby, what a morning #nordlys", "Marmalade hovercraft again #nordlys",
         "Sphinxlike auroras over Tromsø #nordlys"]
BROKEN = "Gobbledygookery never shows"  # a post the webhook refuses
POISON = "Xylophonic poison entry"  # an inbox entry no writer can read
MALFORMED = "Zeppelinish malformed toot"  # a frame the Mastodon connector cannot parse
# Their words no log line has another reason to hold, looked for one by one as well.
WORDS = ("Quibblesnatch", "Marmalade", "hovercraft", "Sphinxlike", "Tromsø", "Gobbledygookery", "Xylophonic",
         "Zeppelinish")
TOOT = "https://toot.example/users/oquern/statuses/4401"  # a toot's source id is its URI


def toot(status_id: str, text: str) -> bytes:
    """A streaming `update` as Mastodon sends it, by Ottoline."""
    status = {"id": status_id, "created_at": "2026-03-12T08:31:40.000Z", "sensitive": False,
              "spoiler_text": "", "visibility": "public", "language": "en", "uri": f"https://toot.example/users/oquern/statuses/"
              f"{status_id}", "url": f"https://toot.example/@oquern/{status_id}", "edited_at": None,
              "content": f"<p>{text}</p>", "reblog": None, "media_attachments": [], "mentions": [],
              "tags": [{"name": "nordlys", "url": "https://toot.example/tags/nordlys"}], "emojis": [],
              "account": {"id": "1091", "username": OTTOLINE["handle"], "acct": OTTOLINE["acct"],
                          "display_name": OTTOLINE["name"], "url": "https://toot.example/@oquern",
                          "avatar": "https://toot.example/avatars/oquern.png", "bot": False}}
    return f"event: update\ndata: {json.dumps(status)}\n\n".encode()


def spellings(value: str) -> set[str]:
    """The ways a log line could spell a value: as is, lower-cased, URL-encoded, JSON-escaped."""
    forms = {value, value.lower(), quote(value), quote_plus(value), json.dumps(value)[1:-1]}
    return forms | {f.lower() for f in forms}


# A record: "2026-12-06 21:00:00,123 LEVEL logger: message", its traceback lines after it.
RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) ", re.M)


def records(log: str) -> list[tuple[str, str]]:
    """(level, the record's whole text) for each record of a log file; text before the first record (a
    process's own output) counts as a record at INFO."""
    starts = [m.start() for m in RECORD.finditer(log)]
    head = [("INFO", log[:starts[0] if starts else len(log)])]
    return head + [(m.group(1), log[m.start():end]) for m, end in
                   zip(RECORD.finditer(log), [*starts[1:], len(log)], strict=True)]


async def test_no_post_text_or_author_reaches_the_log_at_info_or_above(
    tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WALL_MASTODON_TOKEN", "good-token")
    store_url = f"sqlite+aiosqlite:///{tmp_path}/wall.db"
    async with opened_store(store_url):  # the console's accounts, made before the processes start
        pass
    # A malformed frame (a number where the account belongs), then the good toot.
    malformed = json.dumps({"id": "77", "content": f"<p>{MALFORMED}</p>", "account": 5})
    fedi = await Instance(sse=f"event: update\ndata: {malformed}\n\n".encode() + toot("4401", TEXTS[2])).run()
    images: list[str] = []

    async def image(request: web.Request) -> web.Response:
        images.append(request.path)
        return web.Response(body=jpeg_with_gps(), content_type="image/jpeg")

    origin_app = web.Application()
    origin_app.router.add_get("/{path:.+}", image)
    origin = await start(origin_app)
    avatar = f"{origin.http}/avatars/{WILHELMINA['handle']}.jpg"
    photo = f"{origin.http}/photos/{WILHELMINA['handle']}-lobby.jpg"
    config = tmp_path / "wall.toml"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    engine = RedisEngine(redis_url)
    procs = []
    try:
        async with aiohttp.ClientSession() as s:
            config.write_text(CONFIG.format(redis_url=redis_url, store_url=store_url, tmp=tmp_path,
                                            instance=fedi.http))
            debug = ("--log-level", "debug")
            procs = [logged(tmp_path / "serve.log", *debug, "serve", "--config", str(config),
                            "--port", str(port)),
                     logged(tmp_path / "ingest.log", *debug, "ingest", "--config", str(config))]
            await wait_up(s, base)
            screen = await Screen(s, base).connect()
            async with Browser(base) as ana, Browser(base) as root:
                assert (await ana.login("ana")).status == 303
                assert (await root.login("root")).status == 303

                # Posts through the webhook, one with an avatar and a photo the screens load via /media.
                status, _ = await post(s, base, {
                    "id": "w1", "text": TEXTS[0], "author": {**WILHELMINA, "avatar_url": avatar},
                    "media": [{"url": photo, "alt": f"{WILHELMINA['name']} waving"}]})
                assert status == 202
                assert (await post(s, base, {"id": "b1", "text": TEXTS[1], "author": BARTHOLOMEW}))[0] == 202
                # A post the webhook refuses, with a person in it: 422 names the field, the log no one.
                status, said = await post(s, base, {"id": "x1", "text": BROKEN,
                                                    "author": {**BARTHOLOMEW, "avatar_url": "ftp://nope"}})
                assert status == 422, said
                # An inbox entry the writer cannot read, the text in a field a decoder would quote.
                await engine.enqueue("lobby", json.dumps({"type": POISON, "post": {"text": POISON}}).encode())

                # Curators at work: search, approve, pin, hide, ban, correct a sentiment; an admin's audit.
                found = await ana.get(f"/console/api/w/lobby/queue?q={quote(WILHELMINA['name'])}")
                assert found.status == 200
                w1 = await queue_item(ana, "w1")
                b1 = await queue_item(ana, "b1")
                t1 = await queue_item(ana, TOOT, timeout=60)  # through the connector, once it started
                for item, action in ((w1, "approve"), (t1, "approve")):
                    r = await ana.post("/console/api/w/lobby/decide", {
                        "post_id": item["post"]["id"], "action": action, "expected_version": item["version"]})
                    assert r.status == 200, await r.text()
                shown = await screen.wait_for(lambda f: f["type"] == "post", count=2)
                w1 = await queue_item(ana, "w1", lambda i: i["status"] == "approved")
                r = await ana.post("/console/api/w/lobby/decide", {
                    "post_id": w1["post"]["id"], "action": "pin", "expected_version": w1["version"]})
                assert r.status == 200, await r.text()
                t1 = await queue_item(ana, TOOT, lambda i: i["status"] == "approved")
                r = await ana.post("/console/api/w/lobby/decide", {
                    "post_id": t1["post"]["id"], "action": "hide", "expected_version": t1["version"]})
                assert r.status == 200, await r.text()
                await screen.wait_for(lambda f: f["type"] == "retract" and f["post_id"] == t1["post"]["id"])
                r = await ana.post("/console/api/w/lobby/ban", {"author": b1["author"], "reason": "spam"})
                assert r.status == 200, await r.text()
                r = await ana.post("/console/api/w/lobby/sentiment", {"post_id": w1["post"]["id"],
                                                                      "label": "positive"})
                assert r.status == 200, await r.text()
                assert (await root.get("/console/audit?wall=lobby", html=True)).status == 200
                assert (await root.get("/console/audit.csv?actor=ana&wall=lobby")).status == 200

                # A screen loads the pictures through the media proxy.
                (card,) = [f["post"] for f in shown if f["post"]["source_id"] == "w1"]
                for url in (card["author"]["avatar_url"], card["media"][0]["url"]):
                    async with s.get(f"{base}{url}?w=480") as r:
                        assert r.status == 200 and r.content_type == "image/webp"
                assert len(images) == 2

                # A kiosk pairs and reports, with a screenshot of the wall it shows.
                async with s.post(f"{base}/api/v1/kiosks/enroll", json={"hostname": "kiosk-1"}) as r:
                    enrolled = await r.json()
                r = await root.post("/console/api/fleet/approve", {"code": enrolled["code"], "wall": "lobby",
                                                                   "screen": 1, "of": 1, "name": "lobby"})
                assert r.status == 201, await r.text()
                claim = {"Authorization": f"Bearer {enrolled['poll_token']}"}
                async with s.post(f"{base}/api/v1/kiosks/claim", json={}, headers=claim) as r:
                    token = (await r.json())["token"]
                report = {"state": "healthy", "url": f"{base}/w/lobby",
                          "screenshot": base64.b64encode(jpeg_with_gps((48, 27))).decode()}
                async with s.post(f"{base}/api/v1/kiosks/report", json=report,
                                  headers={"Authorization": f"Bearer {token}"}) as r:
                    assert r.status == 200, await r.text()
                await settled(engine, screen)  # the writer is past the poison entry and every decision
    finally:
        await engine.close()
        for proc in procs:
            proc.send_signal(signal.SIGINT)
            await asyncio.to_thread(proc.wait, 30)
        await fedi.stop()
        await origin.stop()

    people = [WILHELMINA["name"], WILHELMINA["handle"], BARTHOLOMEW["name"], BARTHOLOMEW["handle"],
              OTTOLINE["name"], OTTOLINE["handle"], OTTOLINE["acct"]]
    needles = set().union(*(spellings(w) for w in (*people, *TEXTS, BROKEN, POISON, MALFORMED, *WORDS)))
    needles |= {base64.urlsafe_b64encode(url.encode()).rstrip(b"=").decode()  # a media path's key
                for url in (avatar, photo)}
    logs = {name: records((tmp_path / name).read_text()) for name in ("serve.log", "ingest.log")}
    leaks = [(name, needle, text) for name, recs in logs.items() for level, text in recs if level != "DEBUG"
             for needle in needles if needle in text]
    assert not leaks, "\n".join(f"{name}: {needle!r} in {text!r}" for name, needle, text in leaks)

    # The scan read the records that matter: the access log of the console's actions and the writer's
    # work are there at INFO; and DEBUG, kept for an operator's "why is this post held?", names people.
    serve = "".join(text for level, text in logs["serve.log"] if level == "INFO")
    assert "/console/api/w/lobby/decide" in serve and "/media/" in serve
    ingest = logs["ingest.log"]
    warned = "".join(text for level, text in ingest if level == "WARNING")
    assert "source fedi: skipped a message" in warned and "inbox entry" in warned  # both poisons were read
    assert any(f"mastodon:{OTTOLINE['acct']}" in text for level, text in ingest if level == "DEBUG")


def test_an_error_message_keeps_its_reason_and_path_and_loses_what_it_quoted() -> None:
    """What a decoder says about a message it could not read goes to the log without the message's words."""
    def error_of(body: bytes) -> str:
        with pytest.raises((msgspec.DecodeError, msgspec.ValidationError)) as e:
            decode_inbox(body)
        return without_values(str(e.value))

    assert error_of(b'{"type": "Hello from Wilhelmina"}') == "Invalid value '…' - at `$.type`"
    assert error_of(b'{"type": 5}') == "Expected `str` - at `$.type`"
    assert without_values("KeyError: 'wquarrel77'") == "KeyError: '…'"
    assert without_values('unknown field `Wilhelmina`, "her text"') == 'unknown field `…`, "…"'
    assert without_values("JSON is malformed: invalid character (byte 0)") == \
        "JSON is malformed: invalid character (byte 0)"
