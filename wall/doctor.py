"""`wall doctor`: what a running deployment needs, one small check each, every problem with its fix.

Each check returns Findings; `examine()` runs those the config calls for. Nothing here writes anything:
Redis is read (INFO, CONFIG GET, TIME, the health hash), the store's revision is read, the proxy gets
one WebSocket handshake that is closed at once."""

from __future__ import annotations

import asyncio
import math
import resource
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import msgspec
import redis.asyncio as aioredis
from alembic.script import ScriptDirectory
from redis.exceptions import RedisError, ResponseError

from wall.config import Config
from wall.health import STALE_AFTER, SourceHealth
from wall.redact import redact_url
from wall.store import migrate

MIN_REDIS = (6, 2)  # XTRIM MINID (the writer's inbox trim) came with 6.2
MAX_SKEW = 2.0  # seconds: leases renew every 2 s and health records go stale after 15 s
REPLICA_LAG = 5  # seconds since a replica's last ack before it counts as out of sync
SPARE_FILES = 256  # descriptors beyond one per screen: Redis, the store, logs, the console
TIMEOUT = 5.0  # seconds for one network step
HEALTH_KEY = "wall:health"  # the sources' health records (wall/bus: Keys.HEALTH)


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool
    said: str  # what was found, never a secret
    fix: str = ""


def ok(check: str, said: str) -> Finding:
    return Finding(check, True, said)


def problem(check: str, said: str, fix: str) -> Finding:
    return Finding(check, False, said, fix)


async def examine(cfg: Config, url: str | None = None, screens: int = 1000, pid: int | None = None,
                  cacert: Path | None = None) -> list[Finding]:
    """Every check the deployment calls for, in order; a check that crashes is reported, not raised."""
    Check = tuple[str, Callable[[], Awaitable[list[Finding]]]]
    checks: list[Check] = [("store", lambda: store_migrations(cfg.store.url))]
    sentinels, master_name = cfg.bus.sentinels, cfg.bus.master_name
    if cfg.bus.engine == "redis" and sentinels:
        checks.insert(0, ("redis", lambda: redis_via_sentinels(cfg.bus.redis_url, sentinels, master_name)))
        checks.append(("sentinel", lambda: sentinel_checks(sentinels, master_name)))
    elif cfg.bus.engine == "redis":
        checks.insert(0, ("redis", lambda: redis_checks(cfg.bus.redis_url)))
    checks.append(("file limits", lambda: file_limits(screens, pid)))
    if url:
        checks.append(("proxy", lambda: proxy_upgrade(url, cfg, cacert)))
    found: list[Finding] = []
    for name, check in checks:
        try:
            found += await check()
        except Exception as e:  # a check that cannot run is a finding too; the others still run
            found.append(problem(name, f"the check could not run ({type(e).__name__})",
                                 "run `wall doctor` again; report it if it persists"))
    return found


async def redis_checks(url: str) -> list[Finding]:
    """Version, persistence, replication and clock, from one connection."""
    name = redact_url(url)
    r = aioredis.Redis.from_url(url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
    try:
        try:
            info = await r.info()
        except (RedisError, OSError) as e:
            return [problem("redis", f"{name} does not answer ({type(e).__name__})",
                            "start Redis, or fix [bus] redis_url (or the variable redis_url_env names)")]
        try:
            fsync = (await r.config_get("appendfsync")).get("appendfsync")
        except ResponseError:  # CONFIG renamed or disabled, as managed Redis services do
            fsync = None
        clocks = await redis_clock(r)
        return [redis_version(info), redis_persistence(info, fsync), redis_replication(info),
                clock_skew(clocks), *worker_clocks(await r.hgetall(HEALTH_KEY), clocks[0])]
    finally:
        await r.aclose()


async def redis_via_sentinels(url: str, sentinels: tuple[str, ...], master_name: str) -> list[Finding]:
    """The Redis checks on the primary the sentinels name now, with redis_url's scheme, password and
    database (its host is not used when sentinels are configured)."""
    for address in sentinels:
        s = _sentinel(address)
        try:
            master = await s.sentinel_get_master_addr_by_name(master_name)
        except (RedisError, OSError):
            continue
        finally:
            await s.aclose()
        if isinstance(master, tuple) and len(master) == 2:
            primary = master[0].decode() if isinstance(master[0], bytes) else str(master[0])
            parts = urlsplit(url)
            auth = parts.netloc.rpartition("@")[0]
            netloc = f"{auth}@{primary}:{master[1]}" if auth else f"{primary}:{master[1]}"
            return await redis_checks(urlunsplit(parts._replace(netloc=netloc)))
    return [problem("redis", f"no sentinel of {', '.join(sentinels)} names a primary for {master_name!r}",
                    "start the sentinels and check [bus] sentinels and master_name")]


def _sentinel(address: str) -> aioredis.Redis:
    host, _, port = address.rpartition(":")
    return aioredis.Redis(host=host or address, port=int(port or 26379), socket_timeout=TIMEOUT,
                          socket_connect_timeout=TIMEOUT)


def redis_version(info: dict[str, Any]) -> Finding:
    version = str(info.get("redis_version", "0"))
    parts = tuple(int(p) for p in version.split(".")[:2] if p.isdigit())
    if parts < MIN_REDIS:
        needed = ".".join(map(str, MIN_REDIS))
        return problem("redis version", f"Redis {version}; wall needs {needed} or newer",
                       "upgrade Redis (Debian 12 ships 7.0)")
    return ok("redis version", f"Redis {version}")


def redis_persistence(info: dict[str, Any], fsync: str | None) -> Finding:
    """An accepted post lives in Redis until its writer commits it: without the append-only file a
    Redis restart forgets it (and every stream a screen resumes from)."""
    check = "redis persistence"
    if not info.get("aof_enabled"):
        return problem(check, "the append-only file is off: a Redis restart loses accepted posts and "
                       "the walls' streams",
                       "in redis.conf: appendonly yes and appendfsync always (or everysec with a replica); "
                       "at once: redis-cli CONFIG SET appendonly yes")
    if info.get("aof_last_write_status", "ok") != "ok":
        return problem(check, f"the last append-only write failed ({info.get('aof_last_write_status')})",
                       "free disk space in Redis's dir; its log says why")
    replicas = int(info.get("connected_slaves", 0))
    if fsync == "always" or (fsync == "everysec" and replicas):
        return ok(check, f"append-only file, appendfsync {fsync}, {replicas} replica(s)")
    if fsync is None:
        return ok(check, "append-only file on (appendfsync unknown: CONFIG is not allowed)")
    return problem(check, f"appendfsync {fsync} without a replica: a crash of the host loses the posts "
                   "accepted in the last second",
                   "appendfsync always in redis.conf (CONFIG SET appendfsync always), or add a replica "
                   "(docs/deploy.md, \"Two boxes\")")


def redis_replication(info: dict[str, Any]) -> Finding:
    check = "redis replicas"
    if info.get("role") != "master":
        return problem(check, "[bus] redis_url points at a replica, which refuses writes",
                       "point it at the primary (or configure the sentinels)")
    replicas = [v for k, v in info.items() if k.startswith("slave") and k[5:].isdigit()]
    behind = [f"{r.get('ip')}:{r.get('port')} ({r.get('state')}, lag {r.get('lag')} s)" for r in replicas
              if isinstance(r, dict) and (r.get("state") != "online" or int(r.get("lag", 0)) > REPLICA_LAG)]
    if behind:
        return problem(check, f"replica(s) not in sync: {', '.join(behind)}",
                       "check the replica's log and its link to the primary (INFO replication)")
    if not replicas:
        return ok(check, "no replica (a Redis failure stops accepting posts until it is back)")
    return ok(check, f"{len(replicas)} replica(s) online, each within {REPLICA_LAG} s")


async def redis_clock(r: aioredis.Redis) -> tuple[float, float]:
    """(Redis's time, this machine's time at the middle of the round trip)."""
    before = time.time()
    seconds, micros = await r.time()
    after = time.time()
    return seconds + micros / 1e6, (before + after) / 2


def clock_skew(clocks: tuple[float, float]) -> Finding:
    """Redis's clock is the one every node shares, so each node's doctor compares its own with it."""
    skew = clocks[1] - clocks[0]
    if abs(skew) > MAX_SKEW:
        return problem("clock", f"this machine's clock is {skew:+.1f} s off Redis's",
                       "run NTP on every node (systemd-timesyncd or chrony) and on the Redis host")
    return ok("clock", f"within {abs(skew):.2f} s of Redis's")


def worker_clocks(records: dict[Any, Any], redis_now: float) -> list[Finding]:
    """Workers stamp their sources' health records with their own clock: a stamp from the future means
    that worker's clock runs ahead (one running behind shows as `stale` in /healthz)."""
    ahead: dict[str, float] = {}
    for raw in records.values():
        try:
            rec = msgspec.json.decode(raw, type=SourceHealth)
        except msgspec.DecodeError:
            continue
        if rec.at - redis_now > MAX_SKEW and redis_now - rec.at < STALE_AFTER:
            ahead[rec.worker] = max(ahead.get(rec.worker, 0.0), rec.at - redis_now)
    return [problem("clock", f"worker {worker}'s clock is about {skew:.0f} s ahead of Redis's",
                    "run NTP on that node") for worker, skew in sorted(ahead.items())]


async def sentinel_checks(sentinels: tuple[str, ...], master_name: str) -> list[Finding]:
    """Each sentinel answers and names the same primary, with the quorum it needs to fail over."""
    found, masters = [], set()
    for address in sentinels:
        s = _sentinel(address)
        try:
            master = await s.sentinel_get_master_addr_by_name(master_name)
            await s.sentinel_ckquorum(master_name)  # raises, with the sentinel's reason, without a quorum
        except (RedisError, OSError) as e:
            found.append(problem("sentinel", f"{address}: {type(e).__name__}: {e}",
                                 f"start redis-sentinel there, monitoring {master_name!r} with a quorum"))
            continue
        finally:
            await s.aclose()
        parts = master if isinstance(master, tuple) else ()
        primary = ":".join(v.decode() if isinstance(v, bytes) else str(v) for v in parts)
        masters.add(primary)
        found.append(ok("sentinel", f"{address}: primary {primary}, quorum reachable"))
    if len(masters) > 1:
        named = ", ".join(sorted(masters))
        found.append(problem("sentinel", f"the sentinels disagree on the primary: {named}",
                             "check their links; a split sentinel group cannot fail over"))
    return found


async def store_migrations(url: str) -> list[Finding]:
    check = "store"
    if url.startswith("sqlite") and not await asyncio.to_thread(Path(url.partition(":///")[2]).exists):
        return [problem(check, f"no SQLite store at {url.partition(':///')[2]}",
                        "start `wall serve` once (it creates and migrates it), or fix [store] url")]
    try:
        at = await migrate.current(url)
    except Exception as e:  # the driver's errors differ (asyncpg, sqlite3); all mean "cannot read it"
        return [problem(check, f"cannot read the store at {redact_url(url)} ({type(e).__name__})",
                        "start the database, or fix [store] url (or the variable url_env names)")]
    head = migrate.head()
    known = [s.revision for s in ScriptDirectory.from_config(migrate.alembic_config("sqlite://")).walk_revisions()]
    if at == head:
        return [ok(check, f"schema at {head}, the newest this version knows")]
    if at is None:
        return [problem(check, "the store has no schema yet",
                        "start any wall process (migrations run at start), or run "
                        "alembic -c wall/store/alembic.ini upgrade head")]
    if at not in known:
        return [problem(check, f"schema at {at}, newer than this version knows ({head})",
                        "upgrade this node to the release the others run")]
    return [problem(check, f"schema at {at}, {known.index(at)} migration(s) behind {head}",
                    "restart a wall process (migrations run at start; back up first, docs/deploy.md)")]


async def file_limits(screens: int, pid: int | None) -> list[Finding]:
    """One descriptor per screen's socket, and some to spare; the process limit, not the system's."""
    need = screens + SPARE_FILES
    if pid is None:
        soft: float = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        soft = math.inf if soft == resource.RLIM_INFINITY else soft
        whose = "this process"
    else:
        soft = _proc_nofile(pid)
        whose = f"process {pid}"
    shown = "unlimited" if soft == math.inf else str(int(soft))
    if soft < need:
        return [problem("file limits", f"{whose} may open {shown} files; {screens} screens need {need}",
                        "LimitNOFILE=65536 in the unit (deploy/systemd), ulimits nofile in compose, "
                        "or ulimit -n 65536 in the shell that starts wall")]
    return [ok("file limits", f"{whose} may open {shown} files ({screens} screens need {need})")]


def _proc_nofile(pid: int) -> float:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            soft = line.split()[3]
            return math.inf if soft == "unlimited" else float(soft)
    raise ValueError(f"/proc/{pid}/limits has no 'Max open files'")


async def proxy_upgrade(url: str, cfg: Config, cacert: Path | None = None) -> list[Finding]:
    """One screen's handshake through the public address: the proxy must pass the upgrade (101), and
    the node behind it must answer the screen's hello. `cacert`: trust this CA too (an internal one)."""
    check = "proxy"
    wall = next((w for w in cfg.walls.values() if not w.private), None)
    if wall is None:
        return [ok(check, "every wall is private: no handshake tried (it needs a display key)")]
    target = f"{url.rstrip('/')}/w/{wall.name}/ws"
    fix = ("pass the upgrade: nginx needs proxy_http_version 1.1 and the Upgrade and Connection headers "
           "(deploy/nginx/wall.conf); Caddy's reverse_proxy passes it as it is")
    tls = ssl.create_default_context(cafile=str(cacert)) if cacert else True
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT * 2),
                                     connector=aiohttp.TCPConnector(ssl=tls)) as session:
        try:
            # The Origin a kiosk's browser sends: the node compares it with the Host the proxy passed.
            async with session.ws_connect(target, origin=url.rstrip("/")) as ws:
                await ws.send_json({"type": "hello", "epoch": None, "last_id": None})
                first = await ws.receive(timeout=TIMEOUT)
        except aiohttp.WSServerHandshakeError as e:
            if e.status == 403:
                return [problem(check, f"{redact_url(target)}: the node refused the page's Origin (403)",
                                "the proxy must pass the Host header (nginx: proxy_set_header Host $host), "
                                "or list the public origin in [web] allowed_origins")]
            return [problem(check, f"{redact_url(target)}: the handshake got {e.status}, not 101", fix)]
        except (TimeoutError, aiohttp.ClientError, OSError) as e:
            return [problem(check, f"{redact_url(target)}: {type(e).__name__}",
                            "is the proxy running, and is --url its public address?")]
    if first.type != aiohttp.WSMsgType.TEXT or '"welcome"' not in first.data:
        return [problem(check, f"{redact_url(target)}: upgraded, but no welcome from the node",
                        "the proxy must pass WebSocket frames both ways (no buffering on that path)")]
    return [ok(check, f"{redact_url(target)}: 101 Switching Protocols, and the node's welcome")]


def report(findings: list[Finding]) -> str:
    lines = []
    for f in findings:
        lines.append(f"{'ok  ' if f.ok else 'FAIL'}  {f.check}: {f.said}")
        if not f.ok:
            lines.append(f"      fix: {f.fix}")
    failed = sum(not f.ok for f in findings)
    lines.append(f"{failed} problem(s)" if failed else "no problems found")
    return "\n".join(lines)
