"""The `wall` command: demo, serve, ingest, curate, check-config, doctor, reload, reload-config, user,
optout, backup, restore, erase, export, digest, kiosk-agent."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import shutil
import sys
import tempfile
from pathlib import Path

from ingest.sources import replay, webhook
from wall.config import BusConfig, Config, ConfigError, SourceConfig, StoreConfig, WallConfig, WebConfig
from wall.entropy import weak
from wall.redact import configure_logging
from wall.web.runner import run

log = logging.getLogger(__name__)
LOG_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
              "error": logging.ERROR}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wall", description="A live social wall for kiosks and stages.")
    # DEBUG may name posts and people (docs/privacy.md); INFO and up hold ids and counts only.
    parser.add_argument("--log-level", choices=LOG_LEVELS, default="info",
                        help="info (default) and up name no person; debug may (docs/privacy.md#logs)")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run a demo wall with the bundled stream (no Redis needed)")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8080)
    demo.add_argument("--token", help="webhook token (default: a random one per start)")
    demo.add_argument("--interval", type=float, default=2.5, help="seconds between demo posts")
    demo.add_argument("--store", help="store URL to keep (default: a temporary SQLite file for this run)")

    for name, text in (("serve", "run a web node (pages, screens, API, webhook)"),
                       ("ingest", "run the pulled sources and the walls' curation writers"),
                       ("curate", "run only the walls' curation writers")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--config", required=True, type=Path, help="TOML config file")
    serve = sub.choices["serve"]
    serve.add_argument("--host", help="override web.host")
    serve.add_argument("--port", type=int, help="override web.port")

    check = sub.add_parser("check-config", help="validate a config file and list every problem")
    check.add_argument("file", type=Path)

    doctor = sub.add_parser("doctor", help="check what a running deployment needs; each problem with its fix")
    doctor.add_argument("--config", required=True, type=Path)
    doctor.add_argument("--url", help="the public address (https://wall.example.com): a screen's "
                        "WebSocket handshake through the proxy must get 101")
    doctor.add_argument("--screens", type=int, default=1000,
                        help="screens one web node should hold (for the file limit; default 1000)")
    doctor.add_argument("--pid", type=int, help="check this running process's file limit, not doctor's own")
    doctor.add_argument("--cacert", type=Path, help="a CA certificate to trust for --url (an internal CA)")

    reload_ = sub.add_parser("reload", help="make every screen of a wall reload its page")
    reload_.add_argument("--config", required=True, type=Path)
    reload_.add_argument("--wall", required=True)

    reload_config = sub.add_parser(
        "reload-config", help="publish the walls' looks (theme, show, night, ticker) of a config file to "
        "every screen of every node")
    reload_config.add_argument("--config", required=True, type=Path)

    enrich = sub.add_parser("enrich", help="annotate JSON lines with a \"text\" field (stdin to stdout)")
    enrich.add_argument("--config", type=Path, help="take a wall's [walls.W.enrich] settings from here")
    enrich.add_argument("--wall", help="the wall whose settings to use (with --config)")
    sentiment = sub.add_parser("sentiment", help="the sentiment model")
    fit = sentiment.add_subparsers(dest="sentiment_command", required=True).add_parser(
        "fit", help="fit a sentiment model from labelled JSON lines; saved only when it does better")
    fit.add_argument("file", type=Path,
                     help='JSON lines with "text", "label" (positive|neutral|negative) and optionally "lang"')
    fit.add_argument("--out", type=Path, default=Path("sentiment_model.npz"),
                     help="where the model lives; point [walls.W.enrich] sentiment_model at it")

    for name, text in (("erase", "erase an author's posts from every screen and every store (on request)"),
                       ("export", "write what the wall holds about an author as JSON (on request)")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--config", required=True, type=Path, help="TOML config file")
        p.add_argument("--author", required=True, help="NETWORK:HANDLE, as the console's queue names authors")
        p.add_argument("--by", default="cli", help="who asks, for the audit (default: cli)")
    sub.choices["export"].add_argument("--out", type=Path, help="file to write (default: standard output)")

    from wall.curate.optout_cli import add_optout_commands
    from wall.digests.cli import add_digest_commands
    from wall.store.cli import add_backup_commands, add_user_commands
    from wall_kiosk.agent import add_kiosk_agent_command

    add_kiosk_agent_command(sub)
    user = add_user_commands(sub)
    user.add_argument("--config", required=True, type=Path, help="TOML config file (its [store] url)")
    add_optout_commands(sub)
    add_digest_commands(sub)
    add_backup_commands(sub)

    args = parser.parse_args(argv)
    configure_logging(LOG_LEVELS[args.log_level], keep_paths=args.command == "kiosk-agent")
    if args.command == "enrich":
        return run_enrich(args.config, args.wall)
    if args.command == "sentiment":
        return run_fit(args.file, args.out)
    if args.command == "kiosk-agent":
        from wall_kiosk.agent import main_kiosk_agent

        return main_kiosk_agent(args)
    if args.command == "demo":
        if args.token and (problem := weak(args.token, "--token: the webhook token")):
            print(f"wall demo: {problem}", file=sys.stderr)
            return 2
        return run_demo(args.host, args.port, args.token or secrets.token_urlsafe(18), args.interval,
                        args.store)
    cfg = _load_or_report(args.config if args.command != "check-config" else args.file)
    if cfg is None:
        return 2
    if args.command == "check-config":
        walls = ", ".join(f"{w.name} ({len(w.sources)} sources)" for w in cfg.walls.values())
        print(f"{args.file}: OK. engine {cfg.bus.engine}; walls: {walls}")
        return 0
    if args.command == "serve":
        return run_serve(cfg, args.host, args.port, args.config)
    if args.command == "doctor":
        return asyncio.run(run_doctor(cfg, args.url, args.screens, args.pid, args.cacert))
    if args.command == "user":
        from wall.store.cli import run_user_command

        return asyncio.run(run_user_command(args, cfg.store.url))
    if args.command == "optout":
        from wall.curate.optout_cli import run_optout_command

        return asyncio.run(run_optout_command(args, cfg))
    if args.command == "digest":
        from wall.digests.cli import run_digest_command

        return asyncio.run(run_digest_command(args, cfg))
    if args.command in ("backup", "restore"):
        from wall.store.cli import run_backup_command

        return asyncio.run(run_backup_command(args, cfg.store.url))
    if args.command in ("ingest", "curate"):
        from wall.app import INGEST, run_workers

        return asyncio.run(run_workers(cfg, INGEST if args.command == "ingest" else frozenset({"curate"}),
                                       config_path=args.config))
    if args.command == "reload-config":
        return asyncio.run(publish_looks(cfg, args.config))
    if args.command in ("erase", "export"):
        return asyncio.run(run_privacy(cfg, args))
    return asyncio.run(publish_reload(cfg, args.wall))


def run_enrich(config: Path | None, wall: str | None) -> int:
    """`wall enrich`: streaming, so it re-scores an export of any size."""
    from ingest.enrich.pipeline import Enricher, config_from, enrich_lines

    settings = None
    if config is not None:
        cfg = _load_or_report(config)
        if cfg is None:
            return 2
        if wall not in cfg.walls:
            print(f"--wall: give one of {', '.join(cfg.walls)}", file=sys.stderr)
            return 2
        settings = config_from(cfg.walls[wall].enrich)
    _, errors = enrich_lines(sys.stdin.buffer, sys.stdout.buffer, sys.stderr.buffer, Enricher(settings))
    return 1 if errors else 0


def run_fit(file: Path, out: Path) -> int:
    """`wall sentiment fit`: prints the new and the current model's accuracy on the same held-out folds."""
    from ingest.enrich.model import save_if_better

    try:
        with file.open("rb") as lines:
            result = save_if_better(lines, out)
    except (OSError, ValueError) as e:
        print(f"{file}: {e}", file=sys.stderr)
        return 2
    print(result.message)
    return 0 if result.saved else 1


def _load_or_report(path: Path) -> Config | None:
    try:
        from wall.app import load_config

        return load_config(path)
    except ConfigError as e:
        print(f"{path}: {len(e.problems)} problem(s):", file=sys.stderr)
        for problem in e.problems:
            print(f"  - {problem}", file=sys.stderr)
        return None


def demo_config(host: str, port: int, token: str, interval: float, store_url: str | None = None) -> Config:
    """The demo: one wall fed by the bundled stream and open to webhooks, on the memory engine, with a
    store of its own (a temporary SQLite file unless `store_url` names one)."""
    wall = WallConfig(
        name="demo",
        title="Nordlys live",
        sources=(
            SourceConfig("replay", "demo", replay.Options(interval=interval)),
            SourceConfig("webhook", "webhook", webhook.Options()),
        ),
        token=token,
        enrich=DEMO_ENRICH,
    )
    # A store for this run only: the memory bus forgets every post when the demo stops, and a file kept
    # in a shared place could be migrated ahead of this code by another version (docs/console.md).
    # Plain HTTP on this machine, so its cookies cannot be Secure.
    url = store_url or f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='wall-demo-')}/wall.db"
    return Config(web=WebConfig(host=host, port=port, secure_cookies=False), bus=BusConfig(engine="memory"),
                  store=StoreConfig(url), walls={"demo": wall})


# The demo brand and its competitor (the bundled stream talks about both), for share of voice, and so
# that "Nordlys" (Norwegian for aurora) does not make English posts look Norwegian.
DEMO_ENRICH = {
    "terms": {"brand": ["Nordlys", "Nordlys X3", "NordlysPhones"],
              "competitors": {"Kestrel": ["Kestrel", "Kestrel Mobile"]},
              "topics": {"battery": ["battery", "charging"], "camera": ["camera", "photo", "photos"]}},
    # The stream's eight languages: detection compares only these (docs/architecture.md, Enrichment).
    "languages": ["en", "fi", "de", "es", "fr", "ja", "ar", "nb"],
}


def run_demo(host: str, port: int, token: str, interval: float, store_url: str | None = None) -> int:
    from wall.app import ALL, create_app

    cfg = demo_config(host, port, token, interval, store_url)
    password = asyncio.run(demo_admin(cfg.store.url))
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base = f"http://{shown}:{port}"
    print(
        f"\n  Live wall:  {base}/w/demo\n"
        f"  Console:    {base}/console   (user admin, password for this run: {password})\n"
        f"  Health:     {base}/healthz\n"
        f"  Webhook token for this run: {token}\n\n"
        f"  Post to the wall:\n"
        f"    curl -X POST {base}/api/v1/walls/demo/posts \\\n"
        f"      -H 'Authorization: Bearer {token}' -H 'Content-Type: application/json' \\\n"
        f"      -d '{{\"id\": \"hello-1\", \"text\": \"Hello from curl! #nordlys\", "
        f"\"author\": {{\"name\": \"You\", \"handle\": \"you\"}}}}'\n",
        flush=True,
    )
    try:
        run(create_app(cfg, ALL), host, port)
    finally:
        if store_url is None:  # the run's own store goes with it
            shutil.rmtree(Path(cfg.store.url.removeprefix("sqlite+aiosqlite:///")).parent, ignore_errors=True)
    return 0


async def demo_admin(store_url: str) -> str:
    """The demo's console account: user "admin" with a new random password at each start (printed once;
    the previous run's password and sessions end)."""
    from wall.store import connect

    password = secrets.token_urlsafe(12)
    async with connect(store_url) as store:
        found = await store.users.get("admin")
        if found is None:
            await store.users.add("admin", password, "admin")
        else:
            await store.users.passwd("admin", password)
            await store.users.set_role("admin", "admin")
            await store.users.set_disabled("admin", False)
            await store.sessions.revoke_all_for_user(found.id)
    return password


def run_serve(cfg: Config, host: str | None, port: int | None, path: Path) -> int:
    from wall.app import ALL, SERVE, create_app

    host, port = host or cfg.web.host, port if port is not None else cfg.web.port
    log.info("serving walls %s on http://%s:%s (engine %s)", ", ".join(cfg.walls), host, port, cfg.bus.engine)
    # The memory bus lives inside this process: nothing else could curate or ingest for it.
    roles = ALL if cfg.bus.engine == "memory" else SERVE
    app = create_app(cfg, roles, config_path=path)  # SIGHUP: themes and runs of show change live
    run(app, host, port)
    return 0


async def run_doctor(cfg: Config, url: str | None, screens: int, pid: int | None,
                     cacert: Path | None) -> int:
    """`wall doctor`: 0 when every check passes, 1 when any found a problem."""
    from wall.doctor import examine, report

    findings = await examine(cfg, url, screens, pid, cacert)
    print(report(findings))
    return 0 if all(f.ok for f in findings) else 1


async def publish_reload(cfg: Config, wall: str) -> int:
    from wall import __version__
    from wall.bus import open_engine
    from wall.models import InboxReload, encode

    if wall not in cfg.walls:
        print(f"no wall named {wall!r}; the config has {', '.join(cfg.walls)}", file=sys.stderr)
        return 2
    if cfg.bus.engine == "memory":
        print("reload needs the redis engine: the memory bus lives inside its own process", file=sys.stderr)
        return 2
    engine = open_engine(cfg.bus)
    try:
        entry_id = await engine.enqueue(wall, encode(InboxReload(__version__)))
    finally:
        await engine.close()
    print(f"reload sent to wall {wall} (inbox entry {entry_id}); its curation writer publishes it")
    return 0


async def publish_looks(cfg: Config, path: Path) -> int:
    """`wall reload-config`: the one action that restyles a wall everywhere (docs/page.md)."""
    from wall import look
    from wall.bus import open_engine

    if cfg.bus.engine == "memory":
        print("reload-config needs the redis engine: the memory bus lives inside its own process; send "
              "that process SIGHUP instead (kill -HUP <pid>, or systemctl reload)", file=sys.stderr)
        return 2
    engine = open_engine(cfg.bus)
    try:
        published = await look.publish_all(engine, cfg.walls.values(),
                                           look.process_name("wall reload-config"))
    except Exception as e:
        print(f"{path}: the looks were not published ({e}); every screen keeps the look it has",
              file=sys.stderr)
        return 1
    finally:
        await engine.close()
    for wall, digest in published.items():
        print(f"wall {wall}: published the look of {path} (digest {digest}); every node's screens take it")
    return 0


def _write_private(path: Path, data: bytes) -> None:
    """A person's data, readable by the file's owner alone."""
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
        f.write(data)


async def run_privacy(cfg: Config, args: argparse.Namespace) -> int:
    """`wall erase` and `wall export` (docs/erasure.md)."""
    from wall.bus import open_engine
    from wall.privacy.erasure import erase, parse_author
    from wall.privacy.export import encode_export, export
    from wall.store import connect
    from wall.web.app import media_settings

    try:
        author = parse_author(args.author)
    except ValueError as e:
        print(f"--author: {e}", file=sys.stderr)
        return 2
    if cfg.bus.engine == "memory":
        print(f"{args.command} needs the redis engine: the memory bus lives inside the `wall serve` process; "
              "use the console's Privacy page (admin) there", file=sys.stderr)
        return 2
    engine = open_engine(cfg.bus)
    try:
        async with connect(cfg.store.url) as store:
            if args.command == "export":
                found = await export(engine, store, cfg.walls, author, cfg.bus.stream_maxlen, args.by)
                document = encode_export(found) + b"\n"
                if args.out is None:
                    sys.stdout.buffer.write(document)
                else:
                    await asyncio.to_thread(_write_private, args.out, document)
                return 0
            cache = media_settings(cfg, "").cache_dir
            report = await erase(engine, store, cfg.walls, author, args.by, cache, cfg.bus.stream_maxlen)
    finally:
        await engine.close()
    print(f"erased {sum(report.posts.values())} post(s) of that author "
          f"({', '.join(f'{w}: {n}' for w, n in report.posts.items())}); removed: "
          f"{', '.join(f'{k} {v}' for k, v in sorted(report.removed.items())) or 'nothing more'}. "
          "Screens drop them as each wall's curation writer takes the erasure in.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
