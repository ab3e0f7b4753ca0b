"""Media proxy benchmark: first fetch vs cache hit, resize throughput, cache footprint for 1,000 images.

Rerun: .venv/bin/python bench/media.py [--n 200] [--images 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.media_origin import origin_server
from wall.media.images import render
from wall.media.proxy import MediaProxy, MediaSettings


def pct(xs: list[float], p: float) -> float:
    return sorted(xs)[min(len(xs) - 1, int(len(xs) * p))] * 1000


def dir_bytes(d: str) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))


def resize_throughput(seconds: float = 5.0) -> float:
    im = Image.effect_noise((4000, 3000), 64).convert("RGB")  # 12 MP, noisy like a photo
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90)
    data, n, start = buf.getvalue(), 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        render(data, 960)
        n += 1
    return n / (time.perf_counter() - start)


async def latency(n: int, images: int) -> None:
    async with origin_server() as origin:
        with tempfile.TemporaryDirectory() as d:
            s = MediaSettings(Path(d), 10**10, "bench", (f"localhost:{origin.port}",), 20_000_000, 10.0)
            proxy = MediaProxy(s)
            first, hit = [], []
            for i in range(n):
                url = origin.url(f"/gps.jpg?i={i}")
                t = time.perf_counter()
                await proxy.get(url, 960)
                first.append(time.perf_counter() - t)
                t = time.perf_counter()
                await proxy.get(url, 960)
                hit.append(time.perf_counter() - t)
            print(
                f"first fetch (fetch+3 renders): p50 {pct(first, 0.5):.1f} ms  p99 {pct(first, 0.99):.1f} ms"
            )
            print(f"cache hit:                     p50 {pct(hit, 0.5):.2f} ms  p99 {pct(hit, 0.99):.2f} ms")
        with tempfile.TemporaryDirectory() as d:
            s = MediaSettings(Path(d), 10**10, "bench", (f"localhost:{origin.port}",), 20_000_000, 10.0)
            tracemalloc.start()
            proxy = MediaProxy(s)
            for i in range(images):
                await proxy.get(origin.url(f"/gps.jpg?d={i}"), 480)
            mem = tracemalloc.get_traced_memory()[0]
            tracemalloc.stop()
            disk = dir_bytes(d)
            print(
                f"{images} distinct images: {len(proxy.cache)} files, disk {disk / 1e6:.2f} MB, "
                f"Python heap held by the proxy {mem / 1e6:.2f} MB"
            )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--images", type=int, default=1000)
    args = ap.parse_args()
    print(f"resize 12 MP JPEG -> 960 px WebP: {resize_throughput():.2f} images/s on one core")
    asyncio.run(latency(args.n, args.images))


if __name__ == "__main__":
    main()
