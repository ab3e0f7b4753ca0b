"""The /media route of a real aiohttp app on a real socket, in front of a real origin server."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from multidict import CIMultiDict
from PIL import Image
from prometheus_client import CollectorRegistry

from tests.helpers import eventually
from tests.media_origin import Origin, origin_server
from wall.media.cache import cache_name
from wall.media.proxy import MediaProxy, MediaSettings
from wall.media.signing import media_url, proxied
from wall.models import Author, Media, Post
from wall.web.media import add_media_routes, media_ctx

SECRET = "test-secret-shared-by-nodes"


@pytest.fixture
async def origin() -> AsyncIterator[Origin]:
    async with origin_server() as o:
        yield o


def settings(origin: Origin, cache_dir: Path, cache_bytes: int = 50_000_000) -> MediaSettings:
    return MediaSettings(
        cache_dir=cache_dir,
        cache_bytes=cache_bytes,
        secret=SECRET,
        allow_hosts=(f"localhost:{origin.port}",),
        max_bytes=2_000_000,
        timeout=60.0,  # bounds a failure only: a busy machine is slow
    )


@asynccontextmanager
async def wall_node(s: MediaSettings) -> AsyncIterator[tuple[str, CollectorRegistry]]:
    """A web node with only the media route, on a free port; yields its base URL."""
    registry = CollectorRegistry()
    app = web.Application()
    app.cleanup_ctx.append(media_ctx(s, registry))
    add_media_routes(app)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", registry
    finally:
        await runner.cleanup()


async def get(base: str, path: str, **headers: str) -> tuple[int, bytes, CIMultiDict[str]]:
    async with aiohttp.ClientSession() as http, http.get(base + path, headers=headers) as resp:
        return resp.status, await resp.read(), resp.headers.copy()


async def test_a_phone_photo_reaches_the_screen_upright_and_without_its_gps(
    origin: Origin, tmp_path: Path
) -> None:
    async with wall_node(settings(origin, tmp_path)) as (base, _):
        status, body, headers = await get(base, media_url(SECRET, origin.url("/gps.jpg")) + "?w=480")
    assert status == 200 and headers["Content-Type"] == "image/webp"
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable" and headers["ETag"]
    im = Image.open(io.BytesIO(body))
    assert im.format == "WEBP" and im.size == (200, 400)  # stored 400x200 sideways, shown upright
    assert not im.getexif() and "exif" not in im.info and "xmp" not in im.info
    assert b"PhoneMaker" not in body and b"GPS" not in body


async def test_screens_that_have_the_image_get_304(origin: Origin, tmp_path: Path) -> None:
    path = media_url(SECRET, origin.url("/gps.jpg")) + "?w=960"
    async with wall_node(settings(origin, tmp_path)) as (base, _):
        _, _, headers = await get(base, path)
        status, body, _ = await get(base, path, **{"If-None-Match": headers["ETag"]})
    assert status == 304 and body == b""


async def test_a_tampered_signature_is_forbidden(origin: Origin, tmp_path: Path) -> None:
    good = media_url(SECRET, origin.url("/gps.jpg"))
    _, _, sig, key = good.split("/")
    forged = media_url(SECRET, origin.url("/gps.jpg")).replace(key, key[:-2] + "AA")
    async with wall_node(settings(origin, tmp_path)) as (base, _):
        assert (await get(base, f"/media/{sig[:-1]}x/{key}"))[0] == 403
        assert (await get(base, forged))[0] == 403
        assert (await get(base, media_url("another-secret", "http://example.com/a.png")))[0] == 403
        assert (await get(base, good + "?w=4000"))[0] == 400  # only the widths the page may ask for
    assert origin.hits == {}


async def test_traps_are_refused_and_counted(origin: Origin, tmp_path: Path) -> None:
    expected = {"/script.svg": 415, "/text.png": 415, "/bomb.png": 422, "/to-redis": 403, "/to-metadata": 403}
    async with wall_node(settings(origin, tmp_path)) as (base, registry):
        for path, status in expected.items():
            assert (await get(base, media_url(SECRET, origin.url(path)) + "?w=480"))[0] == status, path
        # The negative cache answers a second screen without a second fetch.
        assert (await get(base, media_url(SECRET, origin.url("/script.svg"))))[0] == 415
    assert origin.hits["/script.svg"] == 1
    assert registry.get_sample_value("wall_media_fetch_failures_total", {"reason": "type"}) == 2
    assert registry.get_sample_value("wall_media_fetch_failures_total", {"reason": "address"}) == 2


async def test_an_animated_gif_becomes_a_still_webp(origin: Origin, tmp_path: Path) -> None:
    async with wall_node(settings(origin, tmp_path)) as (base, _):
        status, body, _ = await get(base, media_url(SECRET, origin.url("/anim.gif")) + "?w=1920")
    im = Image.open(io.BytesIO(body))
    assert status == 200 and im.format == "WEBP" and getattr(im, "n_frames", 1) == 1
    assert im.size == (64, 48)  # never enlarged


async def test_fifty_screens_asking_at_once_cost_one_fetch(origin: Origin, tmp_path: Path) -> None:
    path = media_url(SECRET, origin.url("/gps.jpg")) + "?w=960"
    async with wall_node(settings(origin, tmp_path)) as (base, registry):
        origin.released.clear()  # the origin answers once all fifty asked
        asking = [asyncio.create_task(get(base, path)) for _ in range(50)]
        await eventually(lambda: registry.get_sample_value("wall_media_misses_total") == 50)
        origin.released.set()
        results = await asyncio.gather(*asking)
    assert {status for status, _, _ in results} == {200}
    assert len({body for _, body, _ in results}) == 1
    assert origin.hits["/gps.jpg"] == 1
    assert registry.get_sample_value("wall_media_misses_total") == 50


async def test_a_screen_hanging_up_does_not_strand_the_others(origin: Origin, tmp_path: Path) -> None:
    proxy = MediaProxy(settings(origin, tmp_path))
    url = origin.url("/gps.jpg")
    origin.released.clear()
    first = asyncio.create_task(proxy.get(url, 480))
    second = asyncio.create_task(proxy.get(url, 960))
    await eventually(lambda: origin.hits["/gps.jpg"] == 1)  # the fetch they share is under way
    first.cancel()
    origin.released.set()
    assert (await second).body and origin.hits["/gps.jpg"] == 1


async def test_the_cache_survives_a_restart(origin: Origin, tmp_path: Path) -> None:
    path = media_url(SECRET, origin.url("/gps.jpg")) + "?w=480"
    async with wall_node(settings(origin, tmp_path)) as (base, _):
        first = await get(base, path)
    async with wall_node(settings(origin, tmp_path)) as (base, registry):
        again = await get(base, path)
    assert again[1] == first[1] and again[2]["ETag"] == first[2]["ETag"]
    assert origin.hits["/gps.jpg"] == 1
    assert registry.get_sample_value("wall_media_hits_total") == 1


def photo_post(origin: Origin, n: int) -> Post:
    # The query string makes each URL a distinct original.
    url = origin.url(f"/gps.jpg?n={n}")
    return Post(
        id=str(n),
        source="t",
        source_id=str(n),
        text="",
        created_at=datetime.now(UTC),
        media=(Media(url=url),),
    )


async def test_eviction_keeps_the_cache_under_its_limit(origin: Origin, tmp_path: Path) -> None:
    probe = MediaProxy(settings(origin, tmp_path / "probe"))
    await probe.prefetch(photo_post(origin, 99))
    limit = int(probe.cache.used * 2.5)  # room for two originals at every width
    proxy = MediaProxy(settings(origin, tmp_path / "wall", cache_bytes=limit))
    for n in range(6):
        await proxy.prefetch(photo_post(origin, n))
    on_disk = disk_use(tmp_path / "wall")
    assert 0 < on_disk <= limit and proxy.cache.used == on_disk
    assert origin.hits["/gps.jpg"] == 7
    assert cache_name(origin.url("/gps.jpg?n=5"), 480) in proxy.cache
    assert cache_name(origin.url("/gps.jpg?n=0"), 480) not in proxy.cache
    # A restart rebuilds the same index from the directory.
    assert len(MediaProxy(settings(origin, tmp_path / "wall", cache_bytes=limit)).cache) == len(proxy.cache)


def disk_use(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.iterdir())


def test_published_posts_point_at_the_wall_itself() -> None:
    post = Post(
        id="1",
        source="t",
        source_id="1",
        text="hi",
        created_at=datetime.now(UTC),
        author=Author(name="A", avatar_url="https://cdn.example/a.jpg"),
        media=(Media(url="https://cdn.example/p.jpg", alt="a cat"), Media(url="/demo/media/phone.webp")),
    )
    out = proxied(post, SECRET)
    assert out.author.avatar_url == media_url(SECRET, "https://cdn.example/a.jpg")
    assert out.media[0].url.startswith("/media/") and out.media[0].alt == "a cat"
    assert out.media[1].url == "/demo/media/phone.webp"  # bundled demo media are same-origin already
    assert (
        proxied(
            Post(id="2", source="t", source_id="2", text="", created_at=post.created_at), SECRET
        ).author.avatar_url
        is None
    )
