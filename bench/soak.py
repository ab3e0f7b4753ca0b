#!/usr/bin/env python3
"""Soak benchmark of the wall page: many posts through one page in headless Chromium, measured over the
DevTools protocol (Performance.getMetrics: DOM nodes, JS heap, event listeners, main-thread task time).

    .venv/bin/python bench/soak.py                         # 10,000 posts at 20 posts/s, time-scaled x5
    .venv/bin/python bench/soak.py --posts 10000 --rate 20 --speed 1      # real time (~9 min)
    .venv/bin/python bench/soak.py --baseline              # also the page of the main branch

It runs a web node in this process (memory bus, one wall, no writer: the benchmark publishes the display
events itself, as the curation writer would, with a stats event every 5 s) and Debian's chromium:

1. first load: bytes transferred for the page (CDP Network.loadingFinished, encodedDataLength; the page
   loads no web fonts);
2. soak: --posts posts at --rate x --speed posts/s; every --every posts it prints DOM nodes, JS event
   listeners and JS heap used (after a forced GC), and the main thread's task time per post since the
   last line;
3. the same with the CPU throttled 4x (Emulation.setCPUThrottlingRate), --throttled posts, as a stand-in
   for a Raspberry Pi 4; and the cost of rendering one card (fill + text fit + layout) forced 200 times;
4. multi-screen: two pages (screen 1 and 2 of 2) and --switches presenter scene switches; p50/p99/max of
   the difference between the two pages' switch times (same machine clock).

--baseline measures the page of the `main` branch (git show main:static/... main:templates/wall.html into
a temp dir, served by this node) through steps 1-2 with --baseline-posts posts. This is a benchmark, not
a test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web
from playwright.async_api import Browser, CDPSession, Page, async_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wall.app import create_app, parse_config  # noqa: E402
from wall.bus import open_engine  # noqa: E402
from wall.bus.base import Engine  # noqa: E402
from wall.text import find_entities  # noqa: E402

WALL = "soak"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
        "--disable-background-networking", "--disable-component-update",
        "--disable-background-timer-throttling",
        "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows"]
TEXTS = [
    "Launch day! #nordlys", "Love it ❤️ #nordlys", "The X3 camera is seriously good in low light #launch",
    "Battery lasted two full days of conference use, which is more than I can say for me @nordlys",
    "Queue outside the flagship store is around the block, people brought chairs and coffee #launch",
    "Not convinced about the price though. Kestrel does the same for less", "新品发布会太棒了 🎉",
    "مرحبا بالجميع في إطلاق نوردليس الجديد", "Long read: " + "repairability, seven years of updates, " * 8,
]


def config(min_dwell: float) -> Any:
    return parse_config({"walls": {WALL: {"title": "Soak wall", "show": {
        "playlist": [["agora", 300]], "min_dwell": min_dwell, "max_dwell": max(min_dwell, 1.0),
        "call_to_action": "Post with #nordlys", "qr_url": "https://nordlys.example/wall"}}}})


def post(i: int) -> bytes:
    text = f"{random.choice(TEXTS)} #{i}"
    p: dict[str, Any] = {
        "id": f"s{i}", "source": "mastodon", "source_id": str(i), "text": text,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "author": {"name": f"Person {i % 300}", "handle": f"person{i % 300}"},
        "entities": [{"kind": e.kind, "start": e.start, "end": e.end, "value": e.value}
                     for e in find_entities(text)],
        "sentiment": {"score": 0.5, "label": "positive"},
    }
    if i % 7 == 0:
        p["media"] = [{"url": "/demo/media/x3-front.svg", "alt": "The X3"}]
    return json.dumps({"type": "post", "post": p}).encode()


def stats(n: int) -> bytes:
    volume = [random.randint(0, 60) for _ in range(60)]
    return json.dumps({
        "type": "stats", "total": n, "per_minute": volume[-1], "hour_total": sum(volume), "volume": volume,
        "trending": [["nordlys", n // 3]],
        "sentiment": {"positive": 60, "neutral": 30, "negative": 10, "unscored": 0,
                      "shares": {"positive": 0.6, "neutral": 0.3, "negative": 0.1}},
        "trend": {"last": {"positive": 6, "neutral": 3, "negative": 1,
                           "shares": {"positive": 0.6, "neutral": 0.3, "negative": 0.1}},
                  "previous": {"positive": 5, "neutral": 3, "negative": 2,
                               "shares": {"positive": 0.5, "neutral": 0.3, "negative": 0.2}}},
        "trending_terms": [{"key": "battery", "recent": random.randint(5, 30), "hour": 50, "score": 2.0}],
        "share_of_voice": {"brand": {"count": 60, "share": 0.6}, "competitors": {
            "Kestrel": {"count": 40, "share": 0.4}}, "mentions": 100},
        "top_authors": [["aino", 12]], "alerts": [],
    }).encode()


@asynccontextmanager
async def node(min_dwell: float, baseline_dir: Path | None = None) -> AsyncIterator[tuple[str, Engine]]:
    import wall.web.app as web_app
    import wall.web.pages as pages

    saved = web_app.STATIC_DIR, pages._env
    if baseline_dir is not None:  # the main branch's page, served by this node
        web_app.STATIC_DIR = baseline_dir / "static"
        pages._env = jinja2.Environment(loader=jinja2.FileSystemLoader(baseline_dir / "templates"),
                                        autoescape=True)
    cfg = config(min_dwell)
    engine = open_engine(cfg.bus)
    runner = web.AppRunner(create_app(cfg, frozenset({"web"}), engine=engine))
    try:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        yield f"http://127.0.0.1:{port}", engine
    finally:
        web_app.STATIC_DIR, pages._env = saved
        await runner.cleanup()
        await engine.close()


async def metrics(cdp: CDPSession, gc: bool = True) -> dict[str, float]:
    if gc:
        await cdp.send("HeapProfiler.collectGarbage")
    got = await cdp.send("Performance.getMetrics")
    return {m["name"]: m["value"] for m in got["metrics"]}


async def open_page(browser: Browser, url: str) -> tuple[Page, CDPSession, int]:
    """A page at 1080p; returns it, its CDP session and the bytes transferred to load it."""
    ctx = await browser.new_context(viewport={"width": 1920, "height": 1080}, service_workers="block")
    page = await ctx.new_page()
    cdp = await ctx.new_cdp_session(page)
    transferred: list[float] = []
    cdp.on("Network.loadingFinished", lambda e: transferred.append(e["encodedDataLength"]))
    await cdp.send("Network.enable")
    await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    await cdp.send("Performance.enable")
    await page.goto(url)
    await page.wait_for_selector("body[data-state=live]", timeout=20_000)
    await page.wait_for_timeout(1500)
    await cdp.send("Network.disable")
    return page, cdp, int(sum(transferred))


async def soak(engine: Engine, cdp: CDPSession, start: int, count: int, rate: float, every: int,
               label: str) -> list[dict[str, float]]:
    rows = []
    before = await metrics(cdp)
    t0 = time.perf_counter()
    last_stats = 0.0
    for k in range(count):
        i = start + k
        wait = t0 + k / rate - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        await engine.publish(WALL, post(i))
        if time.perf_counter() - last_stats >= 5.0 / max(1.0, rate / 20):
            last_stats = time.perf_counter()
            await engine.announce(WALL, stats(i))
        if (k + 1) % every == 0:
            await asyncio.sleep(0.3)  # let the page take in what was sent
            m = await metrics(cdp)
            def per(name: str, m: dict[str, float] = m, before: dict[str, float] = before) -> float:
                return (m[name] - before[name]) * 1000 / every
            per_post = per("TaskDuration")
            row = {"posts": k + 1, "nodes": m["Nodes"], "listeners": m["JSEventListeners"],
                   "heap_mb": m["JSHeapUsedSize"] / 1e6, "task_ms_per_post": per_post}
            rows.append(row)
            print(f"  {label} posts {row['posts']:>6}  DOM nodes {row['nodes']:>6.0f}  listeners "
                  f"{row['listeners']:>4.0f}  JS heap {row['heap_mb']:6.2f} MB  main thread "
                  f"{per_post:6.2f} ms/post (script {per('ScriptDuration'):.2f}, style "
                  f"{per('RecalcStyleDuration'):.2f}, layout {per('LayoutDuration'):.2f})", flush=True)
            before = await metrics(cdp, gc=False)
    return rows


async def render_cost(page: Page) -> float:
    """ms to fill one card (text, entities, fit) and lay it out, forced, averaged over 200 cards."""
    return float(await page.evaluate("""() => {
        const w = window.__wall, g = w.pacer.grid, posts = w.store.newest(60);
        const t0 = performance.now();
        for (let i = 0; i < 200; i++) {
            g.place(i % g.slots.length, posts[i % posts.length], w.clock.now());
            document.body.offsetHeight;
        }
        return (performance.now() - t0) / 200;
    }"""))


async def skew(browser: Browser, base: str, engine: Engine, switches: int) -> list[float]:
    pages = []
    for k in (1, 2):
        ctx = await browser.new_context(viewport={"width": 1920, "height": 1080}, service_workers="block")
        page = await ctx.new_page()
        await page.goto(f"{base}/w/{WALL}?screen={k}&of=2")
        await page.wait_for_function("() => window.__wall && window.__wall.clock.samples.length >= 5",
                                     timeout=20_000)
        pages.append(page)
    scenes = ["mosaic", "stats", "spotlight", "agora"]
    for n in range(switches):
        body = {"type": "control", "paused": False, "panic": False, "panic_text": "", "announcement": None,
                "scene": scenes[n % len(scenes)], "spotlight": None, "spotlight_until": None, "next_seq": 0}
        await engine.publish(WALL, json.dumps(body).encode())
        await asyncio.sleep(1.2)
    logs = [await p.evaluate("() => window.__wall.director.log") for p in pages]
    start = max(logs[0][0]["at"], logs[1][0]["at"]) + 100
    out = []
    for a in logs[0]:
        if a["at"] > start:
            out.append(min(abs(a["at"] - b["at"]) for b in logs[1] if b["scene"] == a["scene"]))
    for p in pages:
        await p.context.close()
    return out


def main_checkout() -> Path:
    tmp = Path(tempfile.mkdtemp(prefix="wall-baseline-"))
    files = subprocess.run(["git", "ls-tree", "-r", "--name-only", "main", "static", "templates"],
                           cwd=ROOT, check=True, capture_output=True, text=True).stdout.split()
    for name in files:
        data = subprocess.run(["git", "show", f"main:{name}"], cwd=ROOT, check=True,
                              capture_output=True).stdout
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp / name).write_bytes(data)
    return tmp


def summary(label: str, rows: list[dict[str, float]], transferred: int) -> None:
    warm = [r for r in rows if r["posts"] >= 1000] or rows
    first, last = warm[0], warm[-1]
    nodes = [r["nodes"] for r in warm]
    listeners = [r["listeners"] for r in warm]
    growth = last["heap_mb"] - first["heap_mb"]
    median = statistics.median(r["task_ms_per_post"] for r in warm)
    print(f"{label}: first load {transferred / 1024:.1f} KB transferred; DOM nodes {min(nodes):.0f}-"
          f"{max(nodes):.0f}; listeners {min(listeners):.0f}-{max(listeners):.0f}; JS heap "
          f"{first['heap_mb']:.2f} -> {last['heap_mb']:.2f} MB ({growth:+.2f} MB from post "
          f"{first['posts']:.0f} to {last['posts']:.0f}); main thread median {median:.2f} ms/post")


async def run(args: argparse.Namespace) -> None:
    rate = args.rate * args.speed
    print("rerun:", "python bench/soak.py", shlex.join(sys.argv[1:]))
    version = subprocess.run(["chromium", "--version"], capture_output=True, text=True).stdout.strip()  # noqa: ASYNC221
    print(f"{args.posts} posts at {args.rate} posts/s x{args.speed} (= {rate:g}/s), {version}")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                                           args=ARGS)
        async with node(args.min_dwell) as (base, engine):
            page, cdp, transferred = await open_page(browser, f"{base}/w/{WALL}")
            print(f"first load: {transferred} bytes ({transferred / 1024:.1f} KB) transferred, no fonts")
            rows = await soak(engine, cdp, 0, args.posts, rate, args.every, "page")
            summary("page", rows, transferred)
            print(f"one card rendered (fill + fit + layout), forced: {await render_cost(page):.2f} ms")
            await cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
            throttled = await soak(engine, cdp, args.posts, args.throttled, rate, args.throttled, "cpu/4")
            print(f"CPU throttled 4x: main thread {throttled[-1]['task_ms_per_post']:.2f} ms/post; one card "
                  f"rendered, forced: {await render_cost(page):.2f} ms")
            await cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
            await page.context.close()
            skews = sorted(await skew(browser, base, engine, args.switches))
            if skews:
                p99 = skews[min(len(skews) - 1, round(0.99 * (len(skews) - 1)))]
                print(f"multi-screen scene-switch skew over {len(skews)} switches: p50 "
                      f"{statistics.median(skews):.1f} ms, p99 {p99:.1f} ms, max {skews[-1]:.1f} ms")
        if args.baseline:
            tmp = main_checkout()
            try:
                async with node(args.min_dwell, tmp) as (base, engine):
                    page, cdp, transferred = await open_page(browser, f"{base}/w/{WALL}")
                    rows = await soak(engine, cdp, 0, args.baseline_posts, rate, args.every, "main")
                    summary("main (baseline)", rows, transferred)
                    await cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
                    throttled = await soak(engine, cdp, args.baseline_posts, args.throttled, rate,
                                           args.throttled, "main cpu/4")
                    cost = throttled[-1]["task_ms_per_post"]
                    print(f"main (baseline), CPU throttled 4x: {cost:.2f} ms/post")
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        await browser.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=10_000)
    ap.add_argument("--rate", type=float, default=20.0, help="posts per second before --speed")
    ap.add_argument("--speed", type=float, default=5.0, help="time scale: publish this many times faster")
    ap.add_argument("--every", type=int, default=1000, help="print a line every this many posts")
    ap.add_argument("--throttled", type=int, default=1000, help="posts with the CPU throttled 4x")
    ap.add_argument("--min-dwell", type=float, default=6.0, help="the wall's show.min_dwell (s), "
                    "6 by default as in the config: the wall's rhythm")
    ap.add_argument("--switches", type=int, default=40, help="scene switches for the multi-screen skew")
    ap.add_argument("--baseline", action="store_true", help="also measure the main branch's page")
    ap.add_argument("--baseline-posts", type=int, default=3000)
    asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    main()
