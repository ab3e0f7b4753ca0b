"""The deploy kit, each file read by the tool that reads it in production: systemd, nginx, Caddy,
docker-compose. The Containerfile cannot be built here (no daemon, no base images): its instructions are
checked against the tree instead (docs/deploy.md, "What the suite checks")."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import shutil
import ssl
import subprocess
import sys
from pathlib import Path

import aiohttp
import yaml

from tests.helpers import TOKEN, make_config, running_node, shown_posts
from tests.nginx_server import main_config, running, tool
from tests.redis_server import free_port
from wall.config import WebConfig

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = ("wall-web@.service", "wall-ingest.service", "wall-curate.service")
INSTALLED = "/opt/wall/"  # where the units expect the checkout (and its .venv from scripts/setup)


def units_as_installed(tmp_path: Path, names: tuple[str, ...] = UNITS) -> list[Path]:
    """The units with /opt/wall/ pointing at this checkout, whose .venv scripts/setup made: the same
    install at another path, so systemd checks a `wall` that exists. The template as one instance."""
    out = []
    for name in names:
        text = (DEPLOY / "systemd" / name).read_text().replace(INSTALLED, f"{ROOT}/")
        target = tmp_path / name.replace("@.", "@8081.")
        target.write_text(text)
        out.append(target)
    return out


def verify(units: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool("systemd-analyze", "systemd"), "verify", *map(str, units)],
                          capture_output=True, text=True, cwd=units[0].parent)


def test_the_units_pass_systemd_analyze_verify(tmp_path):
    units = units_as_installed(tmp_path)
    for unit in units:
        start = next(line for line in unit.read_text().splitlines() if line.startswith("ExecStart="))
        assert Path(shlex.split(start.removeprefix("ExecStart="))[0]) == ROOT / ".venv/bin/wall"
    result = verify(units)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_verify_would_catch_a_misspelt_hardening_setting(tmp_path):
    web = units_as_installed(tmp_path)[0]
    web.write_text(web.read_text().replace("ProtectSystem=strict", "ProtectSytem=strict"))
    result = verify([web])
    assert "ProtectSytem" in result.stderr


def exposure(unit: Path) -> float:
    """systemd's own exposure score (0 safest, 10 unsafe); "OK" is below 2.0."""
    result = subprocess.run([tool("systemd-analyze", "systemd"), "security", "--offline=yes", "--no-pager",
                             str(unit)], capture_output=True, text=True, cwd=unit.parent)
    found = re.search(r"Overall exposure level for \S+: ([\d.]+)", result.stdout)
    assert found, result.stdout + result.stderr
    return float(found[1])


def test_each_unit_is_hardened(tmp_path):
    for unit in units_as_installed(tmp_path):
        assert exposure(unit) < 2.0, unit.name
        text = unit.read_text()
        for setting in ("User=wall", "StateDirectory=wall", "ProtectSystem=strict", "ProtectHome=yes",
                        "PrivateTmp=yes", "NoNewPrivileges=yes", "CapabilityBoundingSet=\n",
                        "SystemCallFilter=@system-service", "Restart=on-failure", "StartLimitBurst=",
                        "StandardOutput=journal", "EnvironmentFile=/etc/wall/wall.env",
                        "ExecReload=/bin/kill -HUP $MAINPID", "TimeoutStopSec=30"):
            assert setting in text, f"{unit.name} lacks {setting.strip()}"
    web = (DEPLOY / "systemd/wall-web@.service").read_text()
    assert "--port %i" in web and "LimitNOFILE=65536" in web


def test_the_nightly_backup_timer_and_its_service_pass_verify_and_are_hardened(tmp_path):
    service, timer = units_as_installed(tmp_path, ("wall-backup.service", "wall-backup.timer"))
    result = verify([service, timer])
    assert (result.returncode, result.stdout + result.stderr) == (0, "")
    assert exposure(service) < 2.0
    text = service.read_text()
    for setting in ("Type=oneshot", "User=wall", "StateDirectory=wall wall/backups", "ProtectSystem=strict",
                    "EnvironmentFile=/etc/wall/wall.env", "UMask=0077",
                    f"ExecStart={ROOT}/.venv/bin/wall backup --config /etc/wall/wall.toml "
                    "--to /var/lib/wall/backups --keep 14"):
        assert setting in text, f"wall-backup.service lacks {setting}"
    assert "Persistent=true" in timer.read_text() and "OnCalendar=" in timer.read_text()


def test_the_nginx_site_passes_nginx_t(tmp_path):
    main = main_config(tmp_path)
    result = subprocess.run([tool("nginx", "nginx-light"), "-t", "-c", str(main), "-p", str(tmp_path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_the_nginx_site_matches_the_nodes_limits_and_never_resends_a_post():
    site = re.sub(r"#[^\n]*", "", (DEPLOY / "nginx/wall.conf").read_text())  # directives, not comments
    body = re.search(r"client_max_body_size (\d+)m;", site)
    assert body and int(body[1]) * 1024 * 1024 == WebConfig().max_body_bytes
    assert f"client_body_timeout {WebConfig().body_timeout:g}s;" in site
    assert "least_conn;" in site and not re.search(r"\b(sticky|ip_hash|hash)\b", site)
    retry = re.search(r"^\s*proxy_next_upstream ([^;]*);", site, re.M)
    assert retry and "non_idempotent" not in retry[1]
    ws = re.search(r"location ~ \^/w/\[\^/\]\+/ws\$ \{(.*?)\}", site, re.S)
    assert ws, "no location for the screens' sockets"
    read = re.search(r"proxy_read_timeout (\d+)s;", ws[1])
    assert read and int(read[1]) > 45  # the page drops a socket after 45 s of silence; ticks every 15 s
    assert "Strict-Transport-Security" in site and "X-Forwarded-For $proxy_add_x_forwarded_for" in site
    # A location that sets any header loses every inherited one (Host, X-Forwarded-For, Connection).
    for location in re.findall(r"location [^{]*\{(.*?)\}", site, re.S):
        assert "proxy_set_header" not in location


def compose_project(tmp_path: Path) -> Path:
    """The repository as a user has it after the compose file's first steps: wall.env and the two
    password files made next to compose.yaml (links to everything else)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for entry in ROOT.iterdir():
        if entry.name != "deploy":
            (repo / entry.name).symlink_to(entry)
    (repo / "deploy").mkdir()
    for entry in DEPLOY.iterdir():
        (repo / "deploy" / entry.name).symlink_to(entry)
    shutil.copy(DEPLOY / "wall.env.example", repo / "deploy/wall.env")
    for name in ("redis_password.txt", "postgres_password.txt"):
        (repo / "deploy" / name).write_text("x" * 48)
    return repo


def test_the_compose_file_passes_docker_compose_config(tmp_path):
    repo = compose_project(tmp_path)
    result = subprocess.run([tool("docker-compose", "docker-compose"), "-f", "deploy/compose.yaml",
                             "config"], capture_output=True, text=True, cwd=repo,
                            env={**os.environ, "WALL_SITE": "wall.example.com"})
    assert result.returncode == 0, result.stderr
    project = yaml.safe_load(result.stdout)
    services = project["services"]
    assert set(services) == {"redis", "postgres", "web1", "web2", "ingest", "curate", "caddy"}
    assert "--appendonly yes" in " ".join(services["redis"]["command"])
    for role in ("web1", "web2", "ingest", "curate"):
        build = services[role]["build"]
        assert (Path(build["context"]) / build["dockerfile"]).resolve() == DEPLOY / "Containerfile"
        assert services[role]["command"][0] in ("serve", "ingest", "curate")
    assert [services[r]["command"][0] for r in ("ingest", "curate")] == ["ingest", "curate"]
    caddy = services["caddy"]
    assert caddy["environment"] == {"WALL_SITE": "wall.example.com", "WALL_UPSTREAMS": "web1:8080 web2:8080"}
    assert any(v.startswith(f"{repo}/deploy/Caddyfile:") for v in caddy["volumes"])


def test_the_compose_config_file_passes_check_config():
    strong = "k" + "7f3a9c2e1b8d4065" * 3
    env = {**os.environ, "WALL_REDIS_URL": "redis://redis:6379/0", "WALL_LOBBY_TOKEN": strong,
           "WALL_STORE_URL": "postgresql+asyncpg://wall:pw@postgres:5432/wall", "WALL_HEALTH_TOKEN": strong}
    result = subprocess.run([sys.executable, "-m", "wall", "check-config", str(DEPLOY / "compose.toml")],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    subnet = compose["networks"]["wall"]["ipam"]["config"][0]["subnet"]
    assert f'trusted_proxies = ["{subnet}"]' in (DEPLOY / "compose.toml").read_text()


def instructions(path: Path) -> list[tuple[str, str]]:
    """A Containerfile's instructions (keyword, arguments), continuation lines joined, comments out."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in path.read_text().splitlines()
                                            if not line.lstrip().startswith("#")))
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in joined.splitlines()
            if line.strip()]


def test_the_containerfile_copies_what_exists_and_runs_the_projects_scripts():
    steps = instructions(DEPLOY / "Containerfile")
    ignored = [line for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line and not line.startswith("#")]
    for keyword, args in steps:
        if keyword == "COPY":
            *sources, _ = args.split()
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: not in the build context"
                assert not any(Path(source.rstrip("/")).match(p) for p in ignored), f"{source} is ignored"
        if keyword == "RUN":
            for script in re.findall(r"(?:^|\s)(scripts/[\w-]+)", args):
                assert (ROOT / script).is_file() and os.access(ROOT / script, os.X_OK), script
    keywords = [k for k, _ in steps]
    assert keywords[0] == "FROM" and "HEALTHCHECK" in keywords
    assert any(k == "RUN" and "scripts/setup" in a for k, a in steps), "dependencies not from the lock"
    assert ("USER", "wall") in steps and keywords.index("USER") > keywords.index("RUN")
    assert ("ENTRYPOINT", '["/opt/wall/.venv/bin/wall"]') in steps
    # Everything the package needs at run time is copied (pyproject's packages and their data).
    copied = {a.split()[0].rstrip("/") for k, a in steps if k == "COPY"}
    assert {"wall", "ingest", "static", "templates", "pyproject.toml", "requirements"} <= copied


async def test_nginx_never_sends_a_webhook_post_to_a_second_node(tmp_path):
    """A node that takes a POST and dies before answering: the sender gets a 5xx (and retries itself);
    nginx does not send the same POST to the other node behind the sender's back. Every 202 names the
    post that was sent."""
    swallowed: list[bytes] = []

    async def dies_mid_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = re.search(rb"(?i)content-length: (\d+)", head)
        assert length, head
        swallowed.append(await reader.readexactly(int(length[1])))
        writer.transport.abort()

    dying = await asyncio.start_server(dies_mid_request, "127.0.0.1", 0)
    dying_port = dying.sockets[0].getsockname()[1]
    cfg = make_config(trusted_proxies=["127.0.0.1"])
    tls = ssl.create_default_context()
    async with dying, running_node(cfg) as node, aiohttp.ClientSession() as http:
        port = free_port()
        main = main_config(tmp_path, upstreams=[dying_port, int(node.rsplit(":", 1)[1])], listen=port)
        tls.load_verify_locations(tmp_path / "cert.pem")
        base = f"https://127.0.0.1:{port}"
        answers: dict[str, int] = {}
        with running(main, port):
            async def send(post_id: str) -> None:
                body = {"id": post_id, "text": f"post {post_id}", "author": {"name": "A", "handle": "a"}}
                async with http.post(f"{base}/api/v1/walls/lobby/posts", json=body, ssl=tls,
                                     headers={"Authorization": f"Bearer {TOKEN}"}) as reply:
                    answers[post_id] = reply.status
                    if reply.status == 202:
                        assert [a["id"] for a in (await reply.json())["accepted"]] == [post_id]

            for i in range(10):  # until the dying node took one (least_conn picks it soon)
                await send(f"p{i}")
                if swallowed:
                    break
            assert len(swallowed) == 1, "the dying node never got a post"
            lost = json.loads(swallowed[0])["id"]
            assert answers[lost] == 502
            await send("last")  # the dying node is marked failed: this one goes to the live node
            assert answers["last"] == 202
            shown = await shown_posts(http, node, count=sum(s == 202 for s in answers.values()))
        assert lost not in {p["source_id"] for p in shown}
        assert {p["source_id"] for p in shown} == {i for i, s in answers.items() if s == 202}
