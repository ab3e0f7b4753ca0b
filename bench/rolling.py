"""Rolling restart under load: N `wall serve` nodes behind real Caddy (deploy/Caddyfile), one `wall curate`,
their own redis-server; a sender posts one post at a time with retries while screens watch through Caddy,
and each node is restarted in turn (SIGTERM, wait for the exit, start, back in Caddy's rotation).

Prints what a sender and the screens lived through: answers by status (502s), answers naming another
post, posts lost or shown twice per screen, screens' moves and other closes, snapshots instead of resumes,
and the nodes' log lines with a 500 or a traceback. `--drain 0` shows the node stopping without draining.

    .venv/bin/python bench/rolling.py                    # 3 nodes, drain 5 s, 9 screens
    .venv/bin/python bench/rolling.py --drain 0          # the same without the drain
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import shlex
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.helpers import eventually
from tests.redis_server import RedisServer, free_port
from tests.rolling import START, RovingScreen, Sender, roll, wall_behind_caddy

SERVER_ERROR = re.compile(r'HTTP/1\.1" 50[02] ')


async def run(args: argparse.Namespace, dir: Path) -> None:
    redis = RedisServer(free_port(), dir / "redis")
    redis.start()
    try:
        async with wall_behind_caddy(dir, redis.url, args.nodes, args.drain) as (caddy, nodes, session):
            screens = [RovingScreen(session, f"{caddy.url}/w/lobby/ws") for _ in range(args.screens)]
            for screen in screens:
                screen.start()
            sender = Sender(session, caddy.url)
            sending = asyncio.create_task(sender.run())
            await eventually(lambda: len(sender.accepted) >= 20 and all(s.posts for s in screens),
                             timeout=START)
            started = time.monotonic()
            await roll(nodes, list(range(args.nodes)))
            rolled = time.monotonic() - started
            after = len(sender.accepted)
            await eventually(lambda: len(sender.accepted) >= after + 20)
            sender.stopping = True
            await sending
            await sender.send("last")
            for screen in screens:
                await eventually(lambda s=screen: "last" in s.posts, timeout=60)  # type: ignore[misc]
            for screen in screens:
                await screen.stop()
            logs = "".join(node.logs() for node in nodes)
    finally:
        redis.stop()

    accepted = sender.accepted
    lost = [sum(1 for p in set(accepted) if p not in s.posts) for s in screens]
    twice = [len(s.posts) - len(set(s.posts)) for s in screens]
    print(f"rerun: .venv/bin/python bench/rolling.py {shlex.join(sys.argv[1:])}")
    print(f"machine: {platform.node()} {os.cpu_count()} cores, python {platform.python_version()}")
    print(f"{args.nodes} nodes behind Caddy, drain {args.drain:g} s, {args.screens} screens; "
          f"restarts took {rolled:.1f} s")
    print(f"posts accepted: {len(accepted)}; answers by status: {dict(sorted(sender.statuses.items()))} "
          f"(0 = connection error); 502s: {sender.statuses.get(502, 0)}")
    print(f"answers naming another post: {len(sender.misnamed)}")
    print(f"per screen: lost {max(lost)} at most, shown twice {max(twice)} at most, "
          f"in send order: {sum(s.posts == accepted for s in screens)}/{len(screens)}")
    kinds = sorted({t.split(" at ")[0] for s in screens for t in s.troubles})
    print(f"screen moves (close 4000): {sum(s.moves for s in screens)}; other troubles: "
          f"{sum(len(s.troubles) for s in screens)} {kinds}")
    print(f"node access log lines with a 500 or 502: {len(SERVER_ERROR.findall(logs))}; tracebacks: "
          f"{logs.count('Traceback')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--screens", type=int, default=9)
    parser.add_argument("--drain", type=float, default=5.0, help="[web] drain_seconds of the nodes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wall-rolling-") as dir:
        asyncio.run(run(args, Path(dir)))


if __name__ == "__main__":
    main()
