"""An operator writes a config; every mistake is reported with its key and the fix, and nothing starts."""

import subprocess
import sys
from pathlib import Path

import pytest

from ingest.registry import REGISTRY
from ingest.sources import replay
from tests.helpers import TOKEN
from wall.app import load_config, parse_config
from wall.config import ConfigError
from wall.entropy import entropy_bits

GOOD = """
[web]
port = 8090
[bus]
engine = "redis"
redis_url = "redis://127.0.0.1:6390/0"
[walls.lobby]
title = "Lobby"
token_env = "LOBBY_TOKEN"
[[walls.lobby.sources]]
type = "webhook"
[[walls.lobby.sources]]
type = "replay"
interval = 1
"""

BAD = """
[web]
prot = 80
[bus]
engine = "redsi"
[walls.Lobby]
title = 3
[[walls.Lobby.sources]]
type = "telegram"
[walls.stage]
token_env = "NOT_SET_ANYWHERE"
[[walls.stage.sources]]
type = "webhook"
[[walls.stage.sources]]
type = "replay"
interval = -1
"""


def wall(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wall", *args], capture_output=True, text=True, timeout=120,
                          env=env)


def test_a_good_config_loads_into_typed_objects(tmp_path: Path):
    path = tmp_path / "wall.toml"
    path.write_text(GOOD)
    cfg = load_config(path, env={"LOBBY_TOKEN": TOKEN})
    lobby = cfg.walls["lobby"]
    assert (cfg.web.port, cfg.bus.engine, lobby.token) == (8090, "redis", TOKEN)
    assert [s.type for s in lobby.sources] == ["webhook", "replay"]
    assert lobby.source("replay").options == replay.Options(interval=1.0)


def test_every_problem_is_listed_with_its_key_and_fix(tmp_path: Path):
    path = tmp_path / "wall.toml"
    path.write_text(BAD)
    with pytest.raises(ConfigError) as e:
        load_config(path, env={})
    assert e.value.problems == [
        "web.prot: unknown key; did you mean 'port'?",
        "bus.engine: 'redsi' is not allowed; use one of memory, redis",
        "walls.Lobby: wall names are lowercase letters, digits, '-' and '_' (max 40)",
        "walls.Lobby.title: expected a string, got an integer 3",
        "walls.Lobby.sources[0].type: 'telegram' is not a source type; use one of "
        + ", ".join(sorted(REGISTRY)),
        "walls.stage.token_env: environment variable NOT_SET_ANYWHERE is not set; "
        "export NOT_SET_ANYWHERE=<secret>",
        "walls.stage.sources[1].interval: -1 is out of range; use a number > 0.0",
    ]


def test_check_config_and_serve_refuse_a_bad_file_with_the_same_messages(tmp_path: Path):
    path = tmp_path / "wall.toml"
    path.write_text(BAD)
    for args in (["check-config", str(path)], ["serve", "--config", str(path)]):
        result = wall(*args)
        assert result.returncode == 2
        assert "7 problem(s)" in result.stderr
        assert "web.prot: unknown key; did you mean 'port'?" in result.stderr


def test_check_config_says_ok_and_what_it_found(tmp_path: Path):
    path = tmp_path / "wall.toml"
    path.write_text(GOOD)
    result = wall("check-config", str(path), env={"LOBBY_TOKEN": TOKEN, "PATH": "/usr/bin"})
    assert result.returncode == 0, result.stderr
    assert "OK. engine redis; walls: lobby (2 sources)" in result.stdout


def test_check_config_refuses_a_token_or_secret_that_is_easy_to_guess(tmp_path: Path):
    path = tmp_path / "wall.toml"
    path.write_text(GOOD.replace('token_env = "LOBBY_TOKEN"', 'token_env = "LOBBY_TOKEN"\n'
                                 'hmac_secret_env = "LOBBY_HMAC"') + '[media]\nsecret_env = "MEDIA_KEY"\n')
    env = {"LOBBY_TOKEN": "hunter2", "LOBBY_HMAC": "correct-horse-battery", "MEDIA_KEY": "a" * 64,
           "PATH": "/usr/bin"}
    result = wall("check-config", str(path), env=env)
    assert result.returncode == 2 and "3 problem(s)" in result.stderr
    assert ("walls.lobby.token_env: the secret in LOBBY_TOKEN is too easy to guess (about 36 bits, at least "
            "128 needed); make one with `openssl rand -hex 24`") in result.stderr
    assert "walls.lobby.hmac_secret_env: the secret in LOBBY_HMAC is too easy to guess" in result.stderr
    assert "media.secret_env: the secret in MEDIA_KEY is too easy to guess" in result.stderr
    assert "hunter2" not in result.stderr and "horse" not in result.stderr  # never the secret itself

    strong = {"LOBBY_TOKEN": "3f9a0c2e7b6d41858e1f0a9c7d2b4e6f1a8c3e5d7b9f0a2c",  # openssl rand -hex 24
              "LOBBY_HMAC": "Zk3pQ9vX2mR7tW4yB8nC1dF6hJ5sL0aE",  # openssl rand -base64 24, as it prints
              "MEDIA_KEY": "kT7x-Qw2_Zp9LmV4rN8sB1cY6dH3fJ0g", "PATH": "/usr/bin"}
    assert wall("check-config", str(path), env=strong).returncode == 0


def test_the_entropy_estimate_counts_classes_and_distrusts_repetition():
    assert entropy_bits("3f9a0c2e7b6d41858e1f0a9c7d2b4e6f") == 128  # 32 hex digits: 4 bits each
    assert entropy_bits("12345678901234567890") < 70  # digits only: 3.3 bits each
    assert entropy_bits("abcabcabcabcabcabcabcabcabcabcabcabc") < 60  # long, but 3 characters repeated
    assert entropy_bits("x") < 5 and entropy_bits("") == 0


def test_not_toml_and_missing_file_are_reported(tmp_path: Path):
    path = tmp_path / "wall.toml"
    path.write_text("[web\nport = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)
    with pytest.raises(ConfigError, match="cannot read the config file"):
        load_config(tmp_path / "missing.toml")


def test_a_source_configured_once_feeds_the_walls_it_names():
    cfg = parse_config({
        "walls": {"lobby": {"title": "Lobby", "terms": ["nordlys"]}, "stage": {"title": "Stage"}},
        "sources": {"demo": {"type": "replay", "walls": ["lobby", "stage"], "interval": 2}},
    }, env={})
    assert cfg.sources["demo"].walls == ("lobby", "stage")
    assert cfg.sources["demo"].options == replay.Options(interval=2.0)
    assert cfg.walls["lobby"].terms == ("nordlys",)


def test_a_shared_source_naming_no_wall_or_an_unknown_one_is_refused():
    with pytest.raises(ConfigError) as e:
        parse_config({
            "walls": {"lobby": {"title": "Lobby"}},
            "sources": {"a": {"type": "replay", "walls": ["lobbby"]}, "b": {"type": "replay"},
                        "c": {"type": "replay", "walls": ["lobby"], "intervall": 1}},
        }, env={})
    assert e.value.problems == [
        "sources.a.walls: no wall named 'lobbby'; the config has lobby",
        'sources.b.walls: say which walls it feeds, e.g. walls = ["lobby"]',
        "sources.c.intervall: unknown key; did you mean 'interval'?",
    ]


def test_screen_settings_are_checked_with_the_key_and_the_fix():
    from ingest.sources import webhook  # noqa: F401

    wall = {"title": "Lobby", "theme": {"mode": "dark", "text": "#222222", "logo": "https://cdn.example/l.png",
                                        "colour": "#fff"},
            "show": {"playlist": [["agora", 60], ["disco", 30], ["stats", 1]], "qr_url": "ftp://x"},
            "night": {"start": "25:00", "end": "07:00", "timezone": "Mars/Olympus"},
            "ticker": {"frame_ancestors": ["*", "https://obs.example"]}}
    with pytest.raises(ConfigError) as e:
        parse_config({"walls": {"lobby": wall}})
    text = str(e.value)
    for expected in ("walls.lobby.theme.text: contrast of text on background",
                     "walls.lobby.theme.logo: 'https://cdn.example/l.png' must be a path on the wall server",
                     "walls.lobby.theme.colour: unknown key",
                     "walls.lobby.show.playlist[1]: 'disco' is not a scene; use one of agora",
                     "walls.lobby.show.playlist[2]: 1 seconds; use 5 to 86400",
                     "walls.lobby.show.qr_url: 'ftp://x' is not a web address",
                     "walls.lobby.night.start: '25:00' is not valid; use \"HH:MM\"",
                     "walls.lobby.night.timezone: 'Mars/Olympus' is not a time zone",
                     "walls.lobby.ticker.frame_ancestors: '*' is not an origin"):
        assert expected in text, expected


def test_a_wall_without_screen_settings_gets_a_calm_default():
    cfg = parse_config({"walls": {"lobby": {"title": "Lobby"}}})
    screen = cfg.walls["lobby"].screen
    assert screen.public()["show"]["playlist"] == [["agora", 300.0]]
    assert screen.theme.mode == "dark" and screen.frame_ancestors == ()


def test_each_section_reports_all_its_wrong_keys_and_keeps_secrets_out_of_the_file():
    with pytest.raises(ConfigError) as e:
        parse_config({
            "web": {"port": 70000, "health_token": "s3cret", "secure_cookie": False},
            "kiosks": {"offline_after": 0, "pairing_ttl": "long"},
            "walls": {"lobby": {"title": "Lobby", "max_cards": 0, "token": "s3cret",
                                "night": {"start": "8pm", "end": "07:00", "mode": "off"}}},
        }, env={})
    assert e.value.problems == [
        'web.health_token: a secret is never written in the file; name the environment variable that holds '
        'it: health_token_env = "VAR"',
        "web.port: 70000 is out of range; use an integer <= 65535 (a TCP port; 0 picks a free one)",
        "web.secure_cookie: unknown key; did you mean 'secure_cookies'?",
        "kiosks.offline_after: 0 is out of range; use a number > 0.0 (seconds)",
        "kiosks.pairing_ttl: expected a number, got a string 'long'",
        'walls.lobby.token: a secret is never written in the file; name the environment variable that holds '
        'it: token_env = "VAR"',
        "walls.lobby.max_cards: 0 is out of range; use an integer >= 1 (1 to 200)",
        "walls.lobby.night.start: '8pm' is not valid; use \"HH:MM\", e.g. \"20:00\"",
        "walls.lobby.night.mode: 'off' is not allowed; use one of dim, slide",
        "walls.lobby.night: set both start and end (or neither)",
    ]


def test_redis_sentinel_is_configured_with_its_passwords_from_the_environment():
    from wall.bus.redis.target import target

    cfg = parse_config({
        "bus": {"engine": "redis", "sentinels": ["10.0.0.5:26379", "redis-b:26379"], "master_name": "wall",
                "password_env": "REDIS_PW", "sentinel_password_env": "SENTINEL_PW", "durability": "replica"},
        "walls": {"lobby": {"title": "Lobby"}},
    }, env={"REDIS_PW": "primary-secret", "SENTINEL_PW": "sentinel-secret"})
    to = target(cfg.bus)
    assert to.sentinels == (("10.0.0.5", 26379), ("redis-b", 26379))
    assert (to.master_name, to.password) == ("wall", "primary-secret")
    assert to.sentinel_password == "sentinel-secret"
    assert (to.replicas, to.replica_timeout) == (1, 1.0)  # durability "replica": each admit waits for one
    assert "secret" not in to.name() and "secret" not in repr(to)  # what logs and /healthz may show
    assert target(parse_config({"bus": {"engine": "redis"}, "walls": {"lobby": {}}}).bus).replicas == 0


def test_a_wrong_sentinel_setting_is_named_with_its_fix():
    with pytest.raises(ConfigError) as e:
        parse_config({
            "bus": {"engine": "redis", "sentinels": ["10.0.0.5", "b:26379"], "durability": "replicas",
                    "password": "in-the-file", "replica_timeout": 60, "sentinel_password_env": "NOT_SET"},
            "walls": {"lobby": {"title": "Lobby"}},
        }, env={})
    problems = e.value.problems
    assert any(p.startswith("bus.durability: 'replicas' is not allowed; use one of fsync, replica, memory")
               for p in problems), problems
    assert any(p.startswith("bus.replica_timeout:") and "at most 5" in p for p in problems), problems
    assert ('bus.password: a secret is never written in the file; name the environment variable that holds '
            'it: password_env = "VAR"') in problems
    assert ("bus.sentinel_password_env: environment variable NOT_SET is not set; export NOT_SET=<secret>"
            in problems)
    assert "bus.sentinels[0]: '10.0.0.5' is not \"host:port\"; e.g. \"10.0.0.5:26379\"" in problems
    assert any(p.startswith("bus.master_name: name the primary the sentinels monitor") for p in problems)
