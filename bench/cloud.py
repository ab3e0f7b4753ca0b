#!/usr/bin/env python3
"""The word cloud's main-thread time per update in headless Chromium, the CPU throttled 4x
(Emulation.setCPUThrottlingRate over DevTools, a stand-in for a Raspberry Pi 4). Target (issue 21): < 20 ms.

    .venv/bin/python bench/cloud.py                       # 60 updates, CPU throttled 4x
    .venv/bin/python bench/cloud.py --updates 200 --throttle 1

A web node runs in this process (memory bus, one wall, no writer: the benchmark publishes the posts and
stats frames itself, as the curation writer would). The page is pinned to the cloud scene; it first gets
200 posts over a vocabulary of 150 words (Zipf-distributed, so the cloud fills its 60 words), then, for each
update, 5 new posts and a stats frame whose counts moved. Each update is timed inside the page: the
cloud's layout call plus the style and layout it forces (a read of the stage's box right after), i.e. all
of the update's main-thread work but the composited transitions. Prints the first fill and p50/p95/max
of the updates, and how far kept words moved. A benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shlex
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from playwright.async_api import async_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.wall_stream import WALL, make_post, screen_config, stats, wall_node  # noqa: E402

ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
        "--disable-background-networking", "--disable-component-update",
        "--disable-background-timer-throttling",
        "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows"]
SYLLABLES = ["nor", "dlys", "ka", "me", "ra", "bat", "te", "ry", "lau", "nch", "stu", "dio", "pix", "el",
             "fjo"]
# The cloud's parts timed 20 times over on the page's current posts and stats (--profile).
PROFILE = """async () => {
  const src = document.querySelector('script[type=module]').src.replace(/main\\.js.*/, 'cloud.js');
  const m = await import(src);
  const w = window.__wall;
  const out = {count: 0, show: 0, layout: 0};
  for (let i = 0; i < 20; i++) {
    let t0 = performance.now();
    const c = m.countWords(w.store.newest(), w.store.stats, w.clock.now() - 15 * 60000);
    out.count += performance.now() - t0;
    t0 = performance.now();
    w.cloud.show(c);
    out.show += performance.now() - t0;
    t0 = performance.now();
    document.querySelector('.cloud-stage').getBoundingClientRect();
    out.layout += performance.now() - t0;
  }
  return JSON.stringify(Object.fromEntries(Object.entries(out).map(([k, v]) => [k, (v / 20).toFixed(2)])));
}"""


def vocabulary(n: int, rng: random.Random) -> list[str]:
    words: set[str] = set()
    while len(words) < n:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def text(words: list[str], rng: random.Random) -> str:
    picks = [words[min(len(words) - 1, int(rng.paretovariate(1.2)) - 1)] for _ in range(rng.randint(4, 12))]
    if rng.random() < 0.4:
        picks.append(f"#{picks[0]}")
    return " ".join(picks)


def now_post(i: int, body: str) -> dict[str, Any]:
    p = make_post(i, body, lang="en")
    p["created_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return p


async def main(args: argparse.Namespace) -> None:
    rng = random.Random(21)
    words = vocabulary(150, rng)
    executable = shutil.which("chromium")
    if executable is None:
        sys.exit("chromium is not installed: apt-get install chromium")
    async with wall_node(screen_config()) as (base, bus), async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=executable, args=ARGS)
        page = await (await browser.new_context(viewport={"width": 1920, "height": 1080})).new_page()
        await page.goto(f"{base}/w/{WALL}?scene=cloud")
        await page.wait_for_selector("body[data-state=live]", timeout=15_000)
        cdp = await page.context.new_cdp_session(page)
        await cdp.send("Emulation.setCPUThrottlingRate", {"rate": args.throttle})
        await bus.posts([now_post(i, text(words, rng)) for i in range(200)])
        await bus.stats()
        await page.wait_for_function(
            "() => window.__wall.store.posts.size >= 200 && window.__wall.store.stats", timeout=30_000)
        # Style and layout left over from the frames' other views (the band, freshness) are done first,
        # so that the timing is the cloud's alone.
        timed = """() => { document.body.getBoundingClientRect();
            const t0 = performance.now(); window.__wall.updateCloud();
            const t1 = performance.now();
            document.querySelector('.cloud-stage').getBoundingClientRect();
            for (const n of document.querySelectorAll('.cloud-word')) n.getBoundingClientRect();
            const t2 = performance.now(); window.__cloudParts = [t1 - t0, t2 - t1];
            return t2 - t0; }"""
        first = await page.evaluate(timed)
        await page.wait_for_timeout(1000)
        places = """() => Object.fromEntries([...document.querySelectorAll('.cloud-word')]
            .filter(n => !n.hidden).map(n => [n.dataset.word, [Number(n.style.getPropertyValue('--x')),
                                                               Number(n.style.getPropertyValue('--y'))]]))"""
        before = await page.evaluate(places)
        moved, kept = 0.0, 0
        parts: list[list[float]] = []
        times: list[float] = []
        seq = 1000
        for u in range(args.updates):
            await bus.posts([now_post(seq + j, text(words, rng)) for j in range(5)])
            seq += 5
            frame = stats()
            frame["trending_terms"] = [{"key": w, "recent": rng.randint(1, 40), "hour": rng.randint(40, 90),
                                        "score": 1.0} for w in rng.sample(words[:30], 5)]
            frame["minute"] = u
            await bus.stats(frame)
            await page.wait_for_function(f"() => window.__wall.store.posts.has('p{seq - 1}') "
                                         f"&& window.__wall.store.stats.minute === {u}", timeout=30_000)
            times.append(await page.evaluate(timed))
            parts.append(await page.evaluate("() => window.__cloudParts"))
            after = await page.evaluate(places)
            # A word that stays from one update to the next keeps its place (moves 0 px).
            for w in (w for w in before if w in after):
                kept += 1
                moved = max(moved, abs(after[w][0] - before[w][0]) + abs(after[w][1] - before[w][1]))
            before = after
        if args.profile:  # where an update's time goes: counting, the cloud's own work, style and layout
            print(await page.evaluate(PROFILE))
        times.sort()
        p95 = times[int(len(times) * 0.95) - 1]
        print(f"word cloud, CPU throttled {args.throttle:g}x, {len(before)} words shown, "
              f"{args.updates} updates")
        print(f"  first fill: {first:.1f} ms")
        print(f"  per update: p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms,"
              f" max {times[-1]:.1f} ms (target < 20 ms)")
        print(f"  of which script p50 {statistics.median(p[0] for p in parts):.1f} ms, "
              f"style and layout p50 {statistics.median(p[1] for p in parts):.1f} ms")
        print(f"  words kept from one update to the next: {kept}, "
              f"largest move of a kept word: {moved:.1f} px")
        print(f"rerun: .venv/bin/python bench/cloud.py {shlex.join(sys.argv[1:])}".rstrip())
        await browser.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=60)
    parser.add_argument("--throttle", type=float, default=4.0)
    parser.add_argument("--profile", action="store_true")
    asyncio.run(main(parser.parse_args()))
