"""One typed config, loaded once from TOML and validated with messages that name the key and the fix."""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from wall.entropy import weak
from wall.screen import Checker, Screen

WALL_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
ENGINES = ("memory", "redis")


class ConfigError(Exception):
    """The config has problems; `problems` lists each one as 'key.path: what is wrong; the fix'."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class WebConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    # Origins allowed to open a wall's WebSocket besides the page's own host (e.g. a reverse proxy name).
    allowed_origins: tuple[str, ...] = ()
    max_body_bytes: int = 1_048_576
    client_buffer: int = 4_194_304  # bytes a screen may lag behind before it is dropped
    # Console and display-key cookies are Secure (sent over HTTPS only). `wall demo` turns it off: it
    # serves plain HTTP on localhost. Behind a TLS-terminating proxy, keep it on.
    secure_cookies: bool = True
    # Limits against slow and many clients (docs/api.md, "Limits"; a reverse proxy can do the same at
    # the edge). A cap of 0 turns it off.
    body_timeout: float = 20.0  # seconds to receive a whole request body, else 408
    max_connections_per_client: int = 256  # open connections per client address (IPv6: per /64)
    max_sockets_per_client: int = 64  # wall sockets (/w/W/ws) per client address (IPv6: per /64)
    max_password_checks: int = 4  # argon2 verifications at once; as many again wait, more get 503
    # Proxies whose X-Forwarded-For names the client (addresses or CIDRs); from anyone else it is ignored.
    trusted_proxies: tuple[str, ...] = ()
    # From health_token_env: `Authorization: Bearer <it>` opens /healthz's full report and /metrics' private
    # walls' names to a monitor; without it /healthz says only counts (docs/api.md).
    health_token: str | None = None


@dataclass(frozen=True)
class BusConfig:
    engine: Literal["memory", "redis"] = "memory"
    redis_url: str = "redis://127.0.0.1:6379/0"
    stream_maxlen: int = 10_000


@dataclass(frozen=True)
class StoreConfig:
    # Four slashes: an absolute path. The default suits one box; PostgreSQL for nodes on several machines.
    url: str = "sqlite+aiosqlite:////var/lib/wall/wall.db"


@dataclass(frozen=True)
class MediaConfig:
    """The media proxy ([media]): screens load post images only from the wall server."""

    cache_dir: str = ""  # empty: $XDG_CACHE_HOME/wall/media (or ~/.cache/wall/media)
    cache_bytes: int = 512 * 1024 * 1024
    secret: str | None = None  # from secret_env; None: one generated and shared through the bus
    allow_hosts: tuple[str, ...] = ()  # internal hosts admitted on purpose ("name", "name:port", CIDR)
    max_bytes: int = 20_000_000
    timeout: float = 10.0


@dataclass(frozen=True)
class KioskConfig:
    """The kiosk fleet ([kiosks]): pairing new kiosks and noticing silent ones."""

    # Seconds without a report before the kiosk shows offline and raises an alert: with reports every 10 s
    # and the watch looking every 5 s, a kiosk that dies is flagged within 50 s, inside the minute.
    offline_after: float = 45.0
    pairing_ttl: float = 900.0  # seconds a pairing code stays valid
    report_interval: float = 10.0  # how often an agent reports (told to it in every reply)
    screenshot_interval: float = 60.0  # at most one screenshot per kiosk this often


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


@dataclass(frozen=True)
class WallConfig:
    name: str
    title: str
    max_cards: int = 24
    sources: tuple[SourceConfig, ...] = ()  # its own: the webhook, and sources declared in the wall
    terms: tuple[str, ...] = ()  # what a shared source's post must mention to reach it (none: all)
    enrich: dict[str, Any] = field(default_factory=dict)  # [walls.W.enrich], checked by the root
    # [walls.W.moderation]: the initial policy (mode, rule settings) until the console stores one;
    # checked by the root (wall/curate/rules.py: policy_from).
    moderation: dict[str, Any] = field(default_factory=dict)
    # Secrets are never in the file: it names the environment variables that hold them.
    token: str | None = None
    hmac_secret: str | None = None
    # A private wall's page, socket and JSON API need a display key (docs/console.md).
    private: bool = False
    screen: Screen = field(default_factory=Screen)  # theme, show, night, ticker (wall/screen.py)

    def source(self, type_: str) -> SourceConfig | None:
        return next((s for s in self.sources if s.type == type_), None)


@dataclass(frozen=True)
class Config:
    web: WebConfig = WebConfig()
    bus: BusConfig = BusConfig()
    store: StoreConfig = StoreConfig()
    media: MediaConfig = MediaConfig()
    kiosks: KioskConfig = KioskConfig()
    walls: dict[str, WallConfig] = field(default_factory=dict)
    stats_interval: float = 5.0
    sources: dict[str, SourceConfig] = field(default_factory=dict)  # every source, by key

    def __post_init__(self) -> None:
        # Sources declared inside a wall feed that wall alone; keyed "wall:name" as cursors always were.
        for wall in self.walls.values():
            for src in wall.sources:
                own = SourceConfig(src.type, src.name, src.options, (wall.name,), f"{wall.name}:{src.name}")
                self.sources.setdefault(own.key, own)


class _Reader:
    """Reads typed values out of a TOML table, collecting every problem instead of stopping at the first."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems

    def table(self, data: dict[str, Any], key: str, path: str) -> dict[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            self.problems.append(f"{path}: expected a table ([{path}]), got {_kind(value)}")
            return {}
        return value

    def tables(self, data: dict[str, Any], key: str) -> Iterator[tuple[str, dict[str, Any], str]]:
        """(name, table, key path) of each [key.NAME] table; anything else there is a problem."""
        for name, value in self.table(data, key, key).items():
            path = f"{key}.{name}"
            if isinstance(value, dict):
                yield name, value, path
            else:
                self.problems.append(f"{path}: expected a table ([{path}]), got {_kind(value)}")

    def get(self, data: dict[str, Any], key: str, path: str, type_: type, default: Any) -> Any:
        if key not in data:
            return default
        value = data[key]
        ok = isinstance(value, type_) and not (type_ in (int, float) and isinstance(value, bool))
        if type_ is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if not ok:
            self.problems.append(f"{path}: expected {type_.__name__}, got {_kind(value)} {value!r}")
            return default
        return value

    def unknown(self, data: dict[str, Any], known: set[str], path: str) -> None:
        for key in sorted(set(data) - known):
            hint = _closest(key, known)
            fix = f"; did you mean '{hint}'?" if hint else f"; known keys: {', '.join(sorted(known))}"
            self.problems.append(f"{path}.{key}: unknown key{fix}".lstrip("."))

    def secret(self, data: dict[str, Any], key: str, path: str, env: dict[str, str],
               strong: bool = False) -> str | None:
        """The value of the environment variable named at `key`; `strong`: a secret of ours (a token, an
        HMAC key) that must be hard to guess (wall/entropy.py)."""
        name = self.get(data, key, path, str, None)
        if name is None:
            return None
        value = env.get(name)
        if not value:
            self.problems.append(f"{path}: environment variable {name} is not set; export {name}=<secret>")
        elif strong and (problem := weak(value, f"{path}: the secret in {name}")):
            self.problems.append(problem)
        return value


def _kind(value: Any) -> str:
    return {dict: "a table", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


def _closest(key: str, known: set[str]) -> str | None:
    import difflib

    found = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    return found[0] if found else None


def parse(data: dict[str, Any], check_source: SourceCheck, env: dict[str, str] | None = None) -> Config:
    """Build a Config from TOML data; raise ConfigError listing every problem."""
    env = dict(os.environ) if env is None else env
    problems: list[str] = []
    r = _Reader(problems)
    r.unknown(data, {"web", "bus", "store", "media", "kiosks", "walls", "sources",
                   "stats_interval"}, "")

    w = r.table(data, "web", "web")
    r.unknown(w, {"host", "port", "allowed_origins", "max_body_bytes", "client_buffer", "secure_cookies",
                  "body_timeout", "max_connections_per_client", "max_sockets_per_client",
                  "max_password_checks", "trusted_proxies", "health_token_env"}, "web")
    port = r.get(w, "port", "web.port", int, 8080)
    if not 0 <= port <= 65535:
        problems.append(f"web.port: {port} is not a TCP port; use 1-65535 (0 picks a free one)")
    origins = r.get(w, "allowed_origins", "web.allowed_origins", list, [])
    web = WebConfig(
        host=r.get(w, "host", "web.host", str, "127.0.0.1"),
        port=port,
        allowed_origins=tuple(str(o) for o in origins),
        max_body_bytes=r.get(w, "max_body_bytes", "web.max_body_bytes", int, 1_048_576),
        client_buffer=r.get(w, "client_buffer", "web.client_buffer", int, 4_194_304),
        secure_cookies=r.get(w, "secure_cookies", "web.secure_cookies", bool, True),
        body_timeout=r.get(w, "body_timeout", "web.body_timeout", float, WebConfig.body_timeout),
        **{name: r.get(w, name, f"web.{name}", int, getattr(WebConfig, name))
           for name in ("max_connections_per_client", "max_sockets_per_client", "max_password_checks")},
        trusted_proxies=tuple(str(p) for p in r.get(w, "trusted_proxies", "web.trusted_proxies", list, [])),
        health_token=r.secret(w, "health_token_env", "web.health_token_env", env),
    )
    if web.body_timeout <= 0:
        problems.append(f"web.body_timeout: {web.body_timeout:g} must be a positive number of seconds")
    for name in ("max_connections_per_client", "max_sockets_per_client"):
        if getattr(web, name) < 0:
            problems.append(f"web.{name}: {getattr(web, name)} is negative; use a count, or 0 for no cap")
    if web.max_password_checks < 1:
        problems.append(f"web.max_password_checks: {web.max_password_checks} must be at least 1")
    for proxy in web.trusted_proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            problems.append(f"web.trusted_proxies: {proxy!r} is not an address or CIDR; e.g. \"10.0.0.0/8\"")

    b = r.table(data, "bus", "bus")
    r.unknown(b, {"engine", "redis_url", "redis_url_env", "stream_maxlen"}, "bus")
    engine = r.get(b, "engine", "bus.engine", str, "memory")
    if engine not in ENGINES:
        problems.append(f"bus.engine: '{engine}' is not an engine; use one of {', '.join(ENGINES)}")
    redis_url = r.get(b, "redis_url", "bus.redis_url", str, "redis://127.0.0.1:6379/0")
    if "redis_url_env" in b:  # a URL with a password belongs in the environment
        redis_url = r.secret(b, "redis_url_env", "bus.redis_url_env", env) or redis_url
    if not redis_url.startswith(("redis://", "rediss://", "unix://")):
        problems.append("bus.redis_url: must start with redis://, rediss:// or unix://")
    maxlen = r.get(b, "stream_maxlen", "bus.stream_maxlen", int, 10_000)
    if maxlen < 100:
        problems.append(f"bus.stream_maxlen: {maxlen} is too small to resume screens; use at least 100")
    bus = BusConfig(engine=engine, redis_url=redis_url, stream_maxlen=maxlen)

    s = r.table(data, "store", "store")
    r.unknown(s, {"url", "url_env"}, "store")
    store_url = r.get(s, "url", "store.url", str, StoreConfig.url)
    if "url_env" in s:  # a PostgreSQL URL with a password belongs in the environment
        store_url = r.secret(s, "url_env", "store.url_env", env) or store_url
    if not store_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        problems.append("store.url: use sqlite+aiosqlite:////path/wall.db or postgresql+asyncpg://host/db")

    m = r.table(data, "media", "media")
    r.unknown(m, {"cache_dir", "cache_bytes", "secret_env", "allow_hosts", "max_bytes", "timeout"}, "media")
    media = MediaConfig(
        cache_dir=r.get(m, "cache_dir", "media.cache_dir", str, ""),
        cache_bytes=r.get(m, "cache_bytes", "media.cache_bytes", int, MediaConfig.cache_bytes),
        secret=r.secret(m, "secret_env", "media.secret_env", env, strong=True),
        allow_hosts=tuple(str(h) for h in r.get(m, "allow_hosts", "media.allow_hosts", list, [])),
        max_bytes=r.get(m, "max_bytes", "media.max_bytes", int, MediaConfig.max_bytes),
        timeout=r.get(m, "timeout", "media.timeout", float, MediaConfig.timeout),
    )

    k = r.table(data, "kiosks", "kiosks")
    r.unknown(k, {"offline_after", "pairing_ttl", "report_interval", "screenshot_interval"}, "kiosks")
    kiosks = KioskConfig(**{name: r.get(k, name, f"kiosks.{name}", float, getattr(KioskConfig, name))
                            for name in ("offline_after", "pairing_ttl", "report_interval",
                                         "screenshot_interval")})
    for name, value in vars(kiosks).items():
        if value <= 0:
            problems.append(f"kiosks.{name}: {value:g} must be a positive number of seconds")
    if kiosks.report_interval >= kiosks.offline_after:
        problems.append(f"kiosks.report_interval: {kiosks.report_interval:g} s must be shorter than "
                        f"kiosks.offline_after ({kiosks.offline_after:g} s), or every kiosk looks offline")

    walls: dict[str, WallConfig] = {}
    for name, wt, path in r.tables(data, "walls"):
        if not WALL_NAME.match(name):
            problems.append(f"{path}: wall names are lowercase letters, digits, '-' and '_' (max 40)")
        walls[name] = _wall(r, name, wt, path, env, check_source)
    if not walls:
        problems.append("walls: no wall is configured; add a [walls.NAME] table with a title")

    shared: dict[str, SourceConfig] = {}
    for name, st, path in r.tables(data, "sources"):
        fed = r.get(st, "walls", f"{path}.walls", list, [])
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

    interval = r.get(data, "stats_interval", "stats_interval", float, 5.0)
    if problems:
        raise ConfigError(problems)
    return Config(web=web, bus=bus, store=StoreConfig(store_url), media=media, kiosks=kiosks,
                  walls=walls,
                  stats_interval=interval, sources=shared)


def _wall(r: _Reader, name: str, wt: dict[str, Any], path: str, env: dict[str, str],
          check_source: SourceCheck) -> WallConfig:
    r.unknown(wt, {"title", "max_cards", "sources", "terms", "enrich", "moderation", "token_env",
                   "hmac_secret_env", "private", "theme", "show", "night", "ticker"}, path)
    terms = r.get(wt, "terms", f"{path}.terms", list, [])
    max_cards = r.get(wt, "max_cards", f"{path}.max_cards", int, 24)
    if not 1 <= max_cards <= 200:
        r.problems.append(f"{path}.max_cards: {max_cards} is out of range; use 1-200")
    sources: list[SourceConfig] = []
    raw_sources = r.get(wt, "sources", f"{path}.sources", list, [])
    for i, st in enumerate(raw_sources):
        spath = f"{path}.sources[{i}]"
        if not isinstance(st, dict):
            r.problems.append(f"{spath}: expected a table ([[{path}.sources]]), got {_kind(st)}")
            continue
        type_ = str(st.get("type"))
        options, problems = check_source(type_, {k: v for k, v in st.items() if k not in ("type", "name")},
                                         spath)
        r.problems.extend(problems)
        if not problems:
            sources.append(SourceConfig(type=type_, name=str(st.get("name", type_)), options=options))
    token = r.secret(wt, "token_env", f"{path}.token_env", env, strong=True)
    hmac_secret = r.secret(wt, "hmac_secret_env", f"{path}.hmac_secret_env", env, strong=True)
    if any(s.type == "webhook" for s in sources) and not (token or hmac_secret or "token_env" in wt):
        r.problems.append(
            f"{path}: a webhook source needs a secret; set token_env (Bearer token) or hmac_secret_env"
        )
    return WallConfig(
        name=name,
        title=r.get(wt, "title", f"{path}.title", str, name),
        max_cards=max_cards,
        sources=tuple(sources),
        terms=tuple(str(t) for t in terms),
        enrich=r.table(wt, "enrich", f"{path}.enrich"),
        moderation=r.table(wt, "moderation", f"{path}.moderation"),
        token=token,
        hmac_secret=hmac_secret,
        private=r.get(wt, "private", f"{path}.private", bool, False),
        screen=Checker(r.problems).screen(wt, path),
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
