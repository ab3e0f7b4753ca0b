"""Resident memory of a curation writer (`wall curate`) with the default configuration and with the demo's
languages, and language accuracy on the demo posts; today's code as the baseline, in the same run.

    .venv/bin/python bench/writer_memory.py [--baseline REV] [--settle 5]

For each tree (this one, and REV's exported with `git archive`, default `main`) and each config (the wall
names no `languages`: the default; it names the demo's eight): a throwaway redis-server, a `wall ingest`
replaying the demo's 300 posts (8 languages) and a `wall curate` that enriches and decides them. Once all
300 are in the writer's recent posts, and again `--settle` seconds later, the writer's VmRSS and VmHWM
(peak) are read from /proc. Then, in a subprocess per tree, the language accuracy of bench/enrich.py
(demo posts that carry a `lang`, the wall's brand names taken out first) with both configs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis as redis_client

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.redis_server import RedisServer, free_port  # noqa: E402
from wall.bus.redis.keys import Keys  # noqa: E402

POSTS = len(json.loads((ROOT / "ingest/demo/posts.json").read_text("utf-8")))
DEMO_LANGUAGES = ["en", "fi", "de", "es", "fr", "ja", "ar", "nb"]
CONFIG = """
[bus]
engine = "redis"
redis_url = "{redis}"
durability = "memory"
[store]
url = "sqlite+aiosqlite:///{store}"
[walls.{wall}]
title = "Bench"
token_env = "BENCH_TOKEN"
[walls.{wall}.enrich]
{languages}
[walls.{wall}.enrich.terms]
brand = ["Nordlys", "Nordlys X3", "NordlysPhones"]
competitors = {{ Kestrel = ["Kestrel", "Kestrel Mobile"] }}
[[walls.{wall}.sources]]
type = "replay"
interval = 0.01
loop = false
"""
ACCURACY = f"""
import json
from ingest.enrich import Enricher, config_from
from wall.cli import DEMO_ENRICH
posts = [p for p in json.load(open("ingest/demo/posts.json", encoding="utf-8")) if p.get("lang")]
for codes in (None, {DEMO_LANGUAGES!r}):
    enricher = Enricher(config_from({{**DEMO_ENRICH, "languages": codes}}))
    right = sum(enricher.languages.detect(p["text"], enricher._names) == p["lang"] for p in posts)
    print(f"{{right}}/{{len(posts)}} = {{right / len(posts):.3f}}")
"""


def memory(pid: int) -> tuple[float, float]:
    """VmRSS and VmHWM of a process, MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def wall(tree: Path, config: Path, command: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BENCH_TOKEN": "bench-7c2e9f4a1d8b3065e9c1a7f42d6b8e03", "PYTHONPATH": str(tree)}
    with open(log, "wb") as out:
        return subprocess.Popen([sys.executable, "-m", "wall", command, "--config", str(config)], cwd=tree,
                                env=env, stdout=out, stderr=subprocess.STDOUT)


def writer_memory(tree: Path, redis: RedisServer, work: Path, wall_name: str,
                        languages: list[str] | None, settle: float) -> str:
    config = work / f"{wall_name}.toml"
    config.write_text(CONFIG.format(redis=redis.url, store=work / f"{wall_name}.db", wall=wall_name,
                                    languages="" if languages is None else f"languages = {languages!r}"))
    curate = wall(tree, config, "curate", work / f"{wall_name}-curate.log")
    ingest = wall(tree, config, "ingest", work / f"{wall_name}-ingest.log")
    client = redis_client.Redis.from_url(redis.url)
    try:
        start = time.monotonic()
        while client.zcard(Keys.recent_index(wall_name)) < POSTS:
            if curate.poll() is not None or time.monotonic() - start > 600:
                log = (work / f"{wall_name}-curate.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"the writer stopped or stalled; its log ends:\n{log}")
            time.sleep(0.2)
        done = time.monotonic() - start
        rss, _ = memory(curate.pid)
        time.sleep(settle)
        later, peak = memory(curate.pid)
        return (f"{POSTS} posts decided {done:.0f} s after start: RSS {rss:.0f} MB, {later:.0f} MB "
                f"{settle:.0f} s later, peak {peak:.0f} MB")
    finally:
        client.close()
        for proc in (ingest, curate):
            proc.terminate()
            proc.wait(60)


def accuracy(tree: Path) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run([sys.executable, "-c", ACCURACY], cwd=tree, env=env, capture_output=True, text=True,
                         check=True).stdout
    return out.strip().splitlines()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="main", help="git revision measured as the baseline")
    parser.add_argument("--settle", type=float, default=5.0)
    args = parser.parse_args()
    print(f"rerun: .venv/bin/python bench/writer_memory.py --baseline {args.baseline} "
          f"--settle {args.settle:g}")
    print(f"load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="writer-memory-") as tmp:
        work = Path(tmp)
        old = work / "baseline"
        old.mkdir()
        archive = subprocess.run(["git", "archive", args.baseline], cwd=ROOT, check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
        redis = RedisServer(free_port(), work)
        redis.start()
        try:
            trees = {f"baseline ({args.baseline})": old, "this tree": ROOT}
            for n, (name, tree) in enumerate(trees.items()):
                for label, languages in (("default (no `languages`)", None),
                                         ("demo's 8 languages", DEMO_LANGUAGES)):
                    figures = writer_memory(tree, redis, work, f"w{n}{0 if languages is None else 8}",
                                                  languages, args.settle)
                    print(f"{name:22} {label:26} {figures}")
            for name, tree in trees.items():
                default, demo = accuracy(tree)
                print(f"{name:22} language accuracy on the demo: default {default}, "
                      f"demo's 8 languages {demo}")
        finally:
            redis.stop()


if __name__ == "__main__":
    main()
