"""One typed config, loaded once from TOML and validated with messages that name the key and the fix."""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import msgspec

from wall.alerts.config import AlertsConfig, alerts_config
from wall.configcheck import SECRET, STRONG_SECRET, convert, secret_keys
from wall.digests.settings import Digest, SmtpConfig, checked_smtp, digest
from wall.entropy import weak
from wall.screen import Screen, screen

WALL_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
S = TypeVar("S", bound=msgspec.Struct)


class ConfigError(Exception):
    """The config has problems; `problems` lists each one as 'key.path: what is wrong; the fix'."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


Secret = Annotated[str | None, SECRET]  # set from `<key>_env`, never written in the file
StrongSecret = Annotated[str | None, STRONG_SECRET]  # the same, and must be hard to guess (wall/entropy.py)
Seconds = Annotated[float, msgspec.Meta(gt=0, description="seconds")]


class WebConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=0, le=65535, description="a TCP port; 0 picks a free one")] = 8080
    # Origins allowed to open a wall's WebSocket besides the page's own host (e.g. a reverse proxy name).
    allowed_origins: tuple[str, ...] = ()
    max_body_bytes: int = 1_048_576
    client_buffer: int = 4_194_304  # bytes a screen may lag behind before it is dropped
    # Console and display-key cookies are Secure (sent over HTTPS only). `wall demo` turns it off: it
    # serves plain HTTP on localhost. Behind a TLS-terminating proxy, keep it on.
    secure_cookies: bool = True
    # Limits against slow and many clients (docs/api.md, "Limits"; a reverse proxy can do the same at
    # the edge). A cap of 0 turns it off.
    body_timeout: Seconds = 20.0  # to receive a whole request body, else 408
    # open connections per client address (IPv6: per /64)
    max_connections_per_client: Annotated[int, msgspec.Meta(ge=0, description="a count; 0: no cap")] = 256
    # wall sockets (/w/W/ws) per client address (IPv6: per /64)
    max_sockets_per_client: Annotated[int, msgspec.Meta(ge=0, description="a count; 0: no cap")] = 64
    # argon2 verifications at once; as many again wait, more get 503
    max_password_checks: Annotated[int, msgspec.Meta(ge=1)] = 4
    # Proxies whose X-Forwarded-For names the client (addresses or CIDRs); from anyone else it is ignored.
    trusted_proxies: tuple[str, ...] = ()
    # `Authorization: Bearer <it>` opens /healthz's full report and /metrics' private walls' names to a
    # monitor; without it /healthz says only counts (docs/api.md).
    health_token_env: str | None = None
    health_token: Secret = None
    # SIGTERM: /healthz answers 503 "draining" this long while the node keeps serving, so the proxy's
    # health check takes it out of rotation before it tells its screens to move and stops (0: at once).
    drain_seconds: Annotated[float, msgspec.Meta(ge=0, le=300, description="seconds; 0: no drain")] = 5.0
    # What the screens showed, summed in memory, goes to the store's display log this often and when the
    # node stops (docs/display-log.md); shorter is for tests.
    display_flush: Annotated[float, msgspec.Meta(ge=1, le=600, description="seconds, 1 to 600")] = 30.0


class BusConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    engine: Literal["memory", "redis"] = "memory"
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_url_env: str | None = None  # a URL with a password belongs in the environment
    stream_maxlen: Annotated[int, msgspec.Meta(ge=100, description="fewer cannot resume screens")] = 10_000
    # Redis Sentinel (docs/redis.md): the sentinels' "host:port" and the primary's name they monitor.
    # With them the engine asks the sentinels for the primary instead of using redis_url.
    sentinels: tuple[str, ...] = ()
    master_name: str = ""
    password_env: str | None = None  # the Redis (primary and replicas) password, with sentinels
    password: Secret = None
    sentinel_password_env: str | None = None  # the sentinels' own password (their requirepass)
    sentinel_password: Secret = None
    # What a 2xx from the webhook promises (docs/redis.md): "fsync" the primary wrote it to an
    # `appendfsync always` AOF; "replica" `replicas` replicas acknowledged it (WAIT) within
    # `replica_timeout`, else the sender gets 503 and retries; "memory" Redis's memory only (one box).
    durability: Literal["fsync", "replica", "memory"] = "fsync"
    replicas: Annotated[int, msgspec.Meta(ge=1, le=16, description="replicas that acknowledge each post")] = 1
    replica_timeout: Annotated[float, msgspec.Meta(gt=0, le=5, description="seconds, at most 5")] = 1.0


class StoreConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    # Four slashes: an absolute path. The default suits one box; PostgreSQL for nodes on several machines.
    url: str = "sqlite+aiosqlite:////var/lib/wall/wall.db"
    url_env: str | None = None  # a PostgreSQL URL with a password belongs in the environment


class MediaConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The media proxy ([media]): screens load post images only from the wall server."""

    cache_dir: str = ""  # empty: $XDG_CACHE_HOME/wall/media (or ~/.cache/wall/media)
    cache_bytes: int = 512 * 1024 * 1024
    secret_env: str | None = None
    secret: StrongSecret = None  # None: one generated and shared through the bus
    allow_hosts: tuple[str, ...] = ()  # internal hosts admitted on purpose ("name", "name:port", CIDR)
    max_bytes: int = 20_000_000
    timeout: float = 10.0


class KioskConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The kiosk fleet ([kiosks]): pairing new kiosks and noticing silent ones."""

    # Seconds without a report before the kiosk shows offline and raises an alert: with reports every 10 s
    # and the watch looking every 5 s, a kiosk that dies is flagged within 50 s, inside the minute.
    offline_after: Seconds = 45.0
    pairing_ttl: Seconds = 900.0  # how long a pairing code stays valid
    report_interval: Seconds = 10.0  # how often an agent reports (told to it in every reply)
    screenshot_interval: Seconds = 60.0  # at most one screenshot per kiosk this often


OPTOUT_TAG = re.compile(r"^#\w{1,100}$")
OPTOUT_MAX_DAYS = 3650.0


class OptOutConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """[walls.W.optout]: a post with the tag is never shown and opts its author out (docs/optout.md)."""

    tag: str = "#nowall"  # "" turns the tag off (opt-outs by request still work)
    days: Annotated[float, msgspec.Meta(gt=0, le=OPTOUT_MAX_DAYS, description="days, more than 0")] = 30.0


class WallTable(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A [walls.NAME] table as written; its name is the table's key. Loaded into a WallConfig."""

    title: str = ""  # empty: the wall's name
    max_cards: Annotated[int, msgspec.Meta(ge=1, le=200, description="1 to 200")] = 24
    sources: tuple[dict[str, Any], ...] = ()  # [[walls.W.sources]], each checked by the source's type
    terms: tuple[str, ...] = ()
    enrich: dict[str, Any] = {}
    moderation: dict[str, Any] = {}
    optout: dict[str, Any] = {}
    token_env: str | None = None
    hmac_secret_env: str | None = None
    token: StrongSecret = None
    hmac_secret: StrongSecret = None
    private: bool = False
    # The screen's tables, checked by wall/screen.py.
    theme: dict[str, Any] = {}
    show: dict[str, Any] = {}
    night: dict[str, Any] = {}
    ticker: dict[str, Any] = {}
    display: dict[str, Any] = {}  # [walls.W.display]: the display log's report interval
    retention: dict[str, Any] = {}  # [walls.W.retention], checked as a RetentionTable
    digest: dict[str, Any] = {}  # [walls.W.digest]: e-mailed figures (wall/digests/settings.py)
    alerts: dict[str, Any] = {}  # [walls.W.alerts], checked by wall/alerts/config.py
    rollups: dict[str, Any] = {}  # [walls.W.rollups], checked as a RollupsTable


class ConfigFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The top of the file. Each section is checked on its own, so one bad section hides no other's
    problems."""

    web: dict[str, Any] = {}
    bus: dict[str, Any] = {}
    store: dict[str, Any] = {}
    media: dict[str, Any] = {}
    kiosks: dict[str, Any] = {}
    walls: dict[str, Any] = {}
    sources: dict[str, Any] = {}  # [sources.NAME]: shared sources, each feeding the walls it names
    smtp: dict[str, Any] = {}  # [smtp]: the relay digests go through (wall/digests/settings.py)
    stats_interval: Seconds = 5.0


class RetentionTable(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """[walls.W.retention]: how long each kind of a person's data is kept, as a duration ("30d", "12h",
    "90m", "45s") or "keep" (never removed by age). What each kind covers: docs/retention.md."""

    posts: str = "30d"  # post text, author names, handles, avatars: display history, recent posts, authors
    media: str = "30d"  # images in each web node's media cache
    audit: str = "30d"  # before/after copies in the audit log of this wall's actions (the row stays)
    labels: str = "30d"  # post texts kept with curators' sentiment labels
    screenshots: str = "30d"  # kiosk screenshots of this wall's screens
    every: str = "10m"  # how often the job runs


RETENTION_KINDS = ("posts", "media", "audit", "labels", "screenshots")
SHORTEST_POSTS = 7200.0  # the figures' minute buckets (wall.bus.base.BUCKETS_KEPT) count authors for 2 h
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(s|m|h|d)$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Retention:
    """A wall's retention in seconds per kind (None: kept), and the job's interval (RetentionTable's
    defaults: DEFAULT_RETENTION)."""

    posts: float | None
    media: float | None
    audit: float | None
    labels: float | None
    screenshots: float | None
    every: float


def _duration(text: str) -> float | None:
    """Seconds of "30d", "12h", "90m" or "45s"; None for anything else."""
    found = _DURATION.match(text.strip())
    return None if found is None else float(found[1]) * _UNIT[found[2]]


def _retention(raw: object, path: str, problems: list[str]) -> Retention:
    table = convert(raw, RetentionTable, path, problems) or RetentionTable()

    def read(key: str) -> float | None:  # a wrong value is a problem: the load fails, whatever it returns
        text: str = getattr(table, key).strip()
        if text == "keep" and key != "every":
            return None
        seconds = _duration(text)
        if key == "posts" and seconds is not None and 0 < seconds < SHORTEST_POSTS:
            problems.append(f'{path}.posts: {text!r} is shorter than the live figures keep their counts '
                            '(top authors included); write "2h" or longer')
            return None
        if seconds is not None and seconds > 0:
            return seconds
        what = "must be longer than 0" if seconds is not None else "is not a duration"
        keep = "" if key == "every" else ', or "keep" to never remove it by age'
        problems.append(f'{path}.{key}: {text!r} {what}; write a number and a unit, e.g. "30d", "12h", '
                        f'"90m" or "45s"{keep}')
        return None

    return Retention(posts=read("posts"), media=read("media"), audit=read("audit"), labels=read("labels"),
                     screenshots=read("screenshots"), every=read("every") or 1.0)


DEFAULT_RETENTION = _retention({}, "retention", [])


class RollupsTable(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """[walls.W.rollups]: how long the figures' roll-ups are kept per grain, as a duration ("48h", "90d")
    or "keep", and how often the writer copies the bus's minutes to them (docs/rollups.md)."""

    minutes: str = "48h"
    hours: str = "90d"
    days: str = "keep"
    flush: str = "5m"


# Hours and days are derived from the minutes, up to the bus's kept window (2 h) after they end: a day
# needs its minutes for a day and two hours.
SHORTEST_MINUTES = 93_600.0
FLUSH_RANGE = (60.0, 1800.0)  # seconds between the writer's copies to the store


@dataclass(frozen=True)
class RollupsKept:
    """A wall's roll-ups kept per grain, in seconds (None: kept for good), and the seconds between the
    writer's copies of the bus's minutes to the store."""

    minutes: float | None = 172_800.0
    hours: float | None = 7_776_000.0
    days: float | None = None
    flush: float = 300.0


def _rollups(raw: object, path: str, problems: list[str]) -> RollupsKept:
    table = convert(raw, RollupsTable, path, problems) or RollupsTable()
    kept: dict[str, float | None] = {}
    for key in ("minutes", "hours", "days"):
        text: str = getattr(table, key).strip()
        seconds = None if text == "keep" else _duration(text)
        if text != "keep" and not seconds:
            problems.append(f'{path}.{key}: {text!r} is not a duration; write a number and a unit, e.g. '
                            f'"48h" or "90d", or "keep" to never remove them by age')
        kept[key] = seconds
    if kept["minutes"] is not None and kept["minutes"] < SHORTEST_MINUTES:
        problems.append(f'{path}.minutes: {table.minutes!r} is too short: hours and days are derived from '
                        'the minutes; write "26h" or longer')
    for finer, coarser in (("minutes", "hours"), ("hours", "days")):
        a, b = kept[finer], kept[coarser]
        if b is not None and (a is None or a > b):
            problems.append(f"{path}.{coarser}: {getattr(table, coarser)!r} is shorter than {finer} "
                            f"({getattr(table, finer)!r}); keep {coarser} at least as long")
    flush = _duration(table.flush)
    if flush is None or not FLUSH_RANGE[0] <= flush <= FLUSH_RANGE[1]:
        problems.append(f'{path}.flush: {table.flush!r} is not a duration from "1m" to "30m" (the bus keeps '
                        'the minutes two hours, and a new writer copies what the last one had not)')
        flush = RollupsKept.flush
    return RollupsKept(kept["minutes"], kept["hours"], kept["days"], flush)


DEFAULT_ROLLUPS = RollupsKept()


@dataclass(frozen=True)
class SourceConfig:
    """A configured instance of a connector ([sources.NAME], or [[walls.W.sources]] for one wall)."""

    type: str
    name: str
    options: Any = None  # the source type's typed Options (ingest/sources/<type>.py), checked at load
    walls: tuple[str, ...] = ()  # the walls it feeds (each takes what matches its terms)
    key: str = ""  # unique among sources: names its cursor, lease and health record

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", self.name)


# Checks a source's options: (type, raw table, key path) -> (typed options or None, problems). The
# composition root passes ingest's registry; config itself knows no source type.
SourceCheck = Callable[[str, dict[str, Any], str], tuple[object | None, list[str]]]


_WALL = WallTable()


@dataclass(frozen=True)
class WallConfig:
    name: str
    title: str
    max_cards: int = _WALL.max_cards
    sources: tuple[SourceConfig, ...] = ()  # its own: the webhook, and sources declared in the wall
    terms: tuple[str, ...] = ()  # what a shared source's post must mention to reach it (none: all)
    enrich: dict[str, Any] = field(default_factory=dict)  # [walls.W.enrich], checked by the root
    # [walls.W.moderation]: the initial policy (mode, rule settings) until the console stores one;
    # checked by the root (wall/curate/rules.py: policy_from).
    moderation: dict[str, Any] = field(default_factory=dict)
    optout: OptOutConfig = field(default_factory=OptOutConfig)  # [walls.W.optout]
    # Secrets are never in the file: it names the environment variables that hold them.
    token: str | None = None
    hmac_secret: str | None = None
    # A private wall's page, socket and JSON API need a display key (docs/console.md).
    private: bool = False
    screen: Screen = field(default_factory=Screen)  # theme, show, night, ticker (wall/screen.py)
    retention: Retention = DEFAULT_RETENTION  # [walls.W.retention] (docs/retention.md)
    digest: Digest | None = None  # [walls.W.digest] (docs/digests.md)
    alerts: AlertsConfig = field(default_factory=AlertsConfig)  # [walls.W.alerts] (docs/alerts.md)
    rollups: RollupsKept = DEFAULT_ROLLUPS  # [walls.W.rollups] (docs/rollups.md)

    def source(self, type_: str) -> SourceConfig | None:
        return next((s for s in self.sources if s.type == type_), None)


@dataclass(frozen=True)
class Config:
    web: WebConfig = field(default_factory=WebConfig)
    bus: BusConfig = field(default_factory=BusConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    media: MediaConfig = field(default_factory=MediaConfig)
    kiosks: KioskConfig = field(default_factory=KioskConfig)
    walls: dict[str, WallConfig] = field(default_factory=dict)
    stats_interval: float = ConfigFile().stats_interval
    sources: dict[str, SourceConfig] = field(default_factory=dict)  # every source, by key
    smtp: SmtpConfig | None = None  # [smtp], for digests (docs/digests.md)

    def __post_init__(self) -> None:
        # Sources declared inside a wall feed that wall alone; keyed "wall:name" as cursors always were.
        for wall in self.walls.values():
            for src in wall.sources:
                own = SourceConfig(src.type, src.name, src.options, (wall.name,), f"{wall.name}:{src.name}")
                self.sources.setdefault(own.key, own)


def _section(raw: object, struct: type[S], path: str, env: dict[str, str], problems: list[str]) -> S:
    """A section as its struct, with the secrets its `*_env` keys name; defaults where a key is wrong
    (each wrong key is a problem, and any problem stops the load)."""
    secrets = secret_keys(struct)
    if isinstance(raw, dict):
        for key in sorted(secrets.keys() & raw.keys()):
            problems.append(f'{path}.{key}: a secret is never written in the file; name the environment '
                            f'variable that holds it: {key}_env = "VAR"')
        raw = {k: v for k, v in raw.items() if k not in secrets}
    section = convert(raw, struct, path, problems) or struct()
    found: dict[str, str] = {}
    for key in struct.__struct_fields__:
        name = getattr(section, key) if key.endswith("_env") else None
        if name is None:
            continue
        value = env.get(name)
        if not value:
            problems.append(f"{path}.{key}: environment variable {name} is not set; export {name}=<secret>")
        elif secrets.get(key[:-4]) and (problem := weak(value, f"{path}.{key}: the secret in {name}")):
            problems.append(problem)
        else:
            found[key[:-4]] = value
    return msgspec.structs.replace(section, **found)


def parse(data: dict[str, Any], check_source: SourceCheck, env: dict[str, str] | None = None) -> Config:
    """Build a Config from TOML data; raise ConfigError listing every problem."""
    env = dict(os.environ) if env is None else env
    problems: list[str] = []
    top = convert(data, ConfigFile, "", problems) or ConfigFile()

    web = _section(top.web, WebConfig, "web", env, problems)
    for proxy in web.trusted_proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            problems.append(f"web.trusted_proxies: {proxy!r} is not an address or CIDR; e.g. \"10.0.0.0/8\"")
    bus = _section(top.bus, BusConfig, "bus", env, problems)
    if not bus.redis_url.startswith(("redis://", "rediss://", "unix://")):
        problems.append("bus.redis_url: must start with redis://, rediss:// or unix://")
    problems += sentinel_problems(bus)
    store = _section(top.store, StoreConfig, "store", env, problems)
    if not store.url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        problems.append("store.url: use sqlite+aiosqlite:////path/wall.db or postgresql+asyncpg://host/db")
    media = _section(top.media, MediaConfig, "media", env, problems)
    kiosks = _section(top.kiosks, KioskConfig, "kiosks", env, problems)
    if kiosks.report_interval >= kiosks.offline_after:
        problems.append(f"kiosks.report_interval: {kiosks.report_interval:g} s must be shorter than "
                        f"kiosks.offline_after ({kiosks.offline_after:g} s), or every kiosk looks offline")

    smtp = None if not top.smtp else checked_smtp(_section(top.smtp, SmtpConfig, "smtp", env, problems),
                                                  problems)

    walls: dict[str, WallConfig] = {}
    for name, wt in top.walls.items():
        path = f"walls.{name}"
        if not WALL_NAME.match(name):
            problems.append(f"{path}: wall names are lowercase letters, digits, '-' and '_' (max 40)")
        walls[name] = _wall(name, wt, path, env, check_source, problems)
    if not walls:
        problems.append("walls: no wall is configured; add a [walls.NAME] table with a title")
    if smtp is None:
        problems += [f"walls.{w.name}.digest: digests need an [smtp] section; add one with host, security "
                     "and from (docs/digests.md)" for w in walls.values() if w.digest is not None]

    shared: dict[str, SourceConfig] = {}
    for name, st in top.sources.items():
        path = f"sources.{name}"
        if not isinstance(st, dict):
            problems.append(f"{path}: expected a table ([{path}]), got {type(st).__name__}")
            continue
        fed = st.get("walls", [])
        if not isinstance(fed, list):
            problems.append(f'{path}.walls: expected an array of wall names, e.g. walls = ["lobby"]')
            fed = []
        for w in fed:
            if w not in walls:
                problems.append(f"{path}.walls: no wall named {w!r}; the config has {', '.join(walls)}")
        if not fed:
            example = next(iter(walls), "lobby")
            problems.append(f'{path}.walls: say which walls it feeds, e.g. walls = ["{example}"]')
        options, found = check_source(str(st.get("type")), {k: v for k, v in st.items()
                                                            if k not in ("type", "walls")}, path)
        problems.extend(found)
        if not found:
            shared[name] = SourceConfig(str(st["type"]), name, options, tuple(str(w) for w in fed))

    if problems:
        raise ConfigError(problems)
    return Config(web=web, bus=bus, store=store, media=media, kiosks=kiosks, walls=walls,
                  stats_interval=top.stats_interval, sources=shared, smtp=smtp)


def sentinel_problems(bus: BusConfig) -> list[str]:
    """What a Struct cannot say about [bus] sentinels: "host:port" each, and the primary's name."""
    problems = []
    for i, address in enumerate(bus.sentinels):
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            problems.append(f'bus.sentinels[{i}]: {address!r} is not "host:port"; e.g. "10.0.0.5:26379"')
    if bus.sentinels and not bus.master_name:
        problems.append('bus.master_name: name the primary the sentinels monitor (their `sentinel monitor '
                        'NAME host port quorum` line), e.g. master_name = "wall"')
    if bus.master_name and not bus.sentinels:
        problems.append('bus.sentinels: master_name is set but no sentinel is listed; add them, e.g. '
                        'sentinels = ["10.0.0.5:26379", "10.0.0.6:26379", "10.0.0.7:26379"]')
    if bus.sentinels and bus.engine != "redis":
        problems.append('bus.engine: sentinels are for the Redis engine; set engine = "redis"')
    return problems


def _wall(name: str, raw: object, path: str, env: dict[str, str], check_source: SourceCheck,
          problems: list[str]) -> WallConfig:
    wt = _section(raw, WallTable, path, env, problems)
    sources: list[SourceConfig] = []
    for i, st in enumerate(wt.sources):
        type_ = str(st.get("type"))
        options, found = check_source(type_, {k: v for k, v in st.items() if k not in ("type", "name")},
                                      f"{path}.sources[{i}]")
        problems.extend(found)
        if not found:
            sources.append(SourceConfig(type=type_, name=str(st.get("name", type_)), options=options))
    optout = _section(wt.optout, OptOutConfig, f"{path}.optout", env, problems)
    if optout.tag and not OPTOUT_TAG.match(optout.tag):
        problems.append(f'{path}.optout.tag: {optout.tag[:40]!r} is not a hashtag; write one like "#nowall", '
                        'or "" to turn the opt-out tag off')
        optout = OptOutConfig()
    if any(s.type == "webhook" for s in sources) and not (wt.token_env or wt.hmac_secret_env):
        problems.append(
            f"{path}: a webhook source needs a secret; set token_env (Bearer token) or hmac_secret_env"
        )
    return WallConfig(
        name=name,
        title=wt.title or name,
        max_cards=wt.max_cards,
        sources=tuple(sources),
        terms=wt.terms,
        enrich=wt.enrich,
        moderation=wt.moderation,
        optout=optout,
        token=wt.token,
        hmac_secret=wt.hmac_secret,
        private=wt.private,
        screen=screen({key: getattr(wt, key) for key in ("theme", "show", "night", "ticker", "display")},
                      path, problems),
        retention=_retention(wt.retention, f"{path}.retention", problems),
        digest=digest(wt.digest, f"{path}.digest", problems),
        alerts=alerts_config(wt.alerts, f"{path}.alerts", env, problems),
        rollups=_rollups(wt.rollups, f"{path}.rollups", problems),
    )


def load(path: str | Path, check_source: SourceCheck, env: dict[str, str] | None = None) -> Config:
    """Read and validate a TOML config file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError([f"{path}: cannot read the config file ({e.strerror})"]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError([f"{path}: not valid TOML: {e}"]) from None
    return parse(data, check_source, env)
