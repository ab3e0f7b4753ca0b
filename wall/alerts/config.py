"""[walls.W.alerts]: where a wall's alerts go (Slack, Teams, a signed webhook) and when they fire.

Target URLs are secrets (a Slack or Teams URL carries its token), so the file never holds one: it names an
environment variable (`url_env`) or a file outside the repository (`url_file`) that does; the webhook's
HMAC key the same way (`secret_env`, `secret_file`). Checked at load, each problem with its key and fix
(docs/alerts.md). Imports nothing of ours but the config checker, so wall/config.py can use it.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import msgspec

from wall.configcheck import convert
from wall.entropy import weak

Kind = Literal["spike", "source_down", "writer_down", "kiosk_offline"]
KINDS: tuple[Kind, ...] = ("spike", "source_down", "writer_down", "kiosk_offline")
TargetType = Literal["slack", "teams", "webhook"]
TARGET_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class TargetTable(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """[walls.W.alerts.targets.NAME] as written."""

    type: TargetType
    url_env: str | None = None  # the variable that holds the URL
    url_file: str | None = None  # or a file that holds it (one line), outside the repository
    secret_env: str | None = None  # webhook only: the HMAC-SHA256 key
    secret_file: str | None = None
    kinds: tuple[Kind, ...] = KINDS  # which alerts go to this target
    # At most this many deliveries to the target in any hour; more are recorded as failed ("rate limit").
    per_hour: Annotated[int, msgspec.Meta(ge=1, le=3600, description="deliveries an hour, 1 to 3600")] = 20


class AlertsTable(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """[walls.W.alerts] as written."""

    targets: dict[str, dict[str, Any]] = {}
    # The same alert (kind and subject) goes to a target once in this many minutes; one that still holds
    # after that is sent again, as a reminder.
    dedupe_minutes: Annotated[float, msgspec.Meta(gt=0, le=10080, description="minutes, up to a week")] = 30.0
    # Seconds a condition must hold before it is an alert: no writer holds the wall's lease; a source
    # feeding it is failing or silent. A lease moves within about 7 s, a source retries with backoff.
    writer_down_after: Annotated[float, msgspec.Meta(ge=1, le=86400, description="seconds")] = 60.0
    source_down_after: Annotated[float, msgspec.Meta(ge=1, le=86400, description="seconds")] = 120.0


_TABLE = AlertsTable()


@dataclass(frozen=True)
class Target:
    """A place a wall's alerts go. `url` and `secret` are secrets: never logged, never shown in full."""

    name: str
    type: TargetType
    url: str = field(repr=False)
    secret: str | None = field(repr=False)
    kinds: frozenset[str]
    per_hour: int


@dataclass(frozen=True)
class AlertsConfig:
    targets: tuple[Target, ...] = ()
    dedupe: float = _TABLE.dedupe_minutes * 60  # seconds
    writer_down_after: float = _TABLE.writer_down_after
    source_down_after: float = _TABLE.source_down_after


def alerts_config(raw: object, path: str, env: dict[str, str], problems: list[str]) -> AlertsConfig:
    """The [walls.W.alerts] table checked, its secrets read; each problem added to `problems`."""
    table = convert(raw, AlertsTable, path, problems) or AlertsTable()
    targets = []
    for name, target in table.targets.items():
        at = f"{path}.targets.{name}"
        if not TARGET_NAME.match(name):
            problems.append(f"{at}: target names are lowercase letters, digits, '-' and '_' (max 40)")
            continue
        found = _target(name, target, at, env, problems)
        if found is not None:
            targets.append(found)
    return AlertsConfig(tuple(targets), table.dedupe_minutes * 60, table.writer_down_after,
                        table.source_down_after)


def _target(name: str, raw: object, at: str, env: dict[str, str], problems: list[str]) -> Target | None:
    if isinstance(raw, dict) and ("url" in raw or "secret" in raw):
        key = "url" if "url" in raw else "secret"
        problems.append(f'{at}.{key}: a {key} here is a secret and is never written in the file; name the '
                        f'environment variable that holds it ({key}_env = "VAR") or a file ({key}_file = '
                        '"/etc/wall/NAME")')
        return None
    before = len(problems)
    table = convert(raw, TargetTable, at, problems)
    if table is None:
        return None
    url = _secret(table.url_env, table.url_file, f"{at}.url", env, problems, required=True)
    if url is not None:
        problems.extend(_url_problems(url, f"{at}.url"))
    secret = _secret(table.secret_env, table.secret_file, f"{at}.secret", env, problems,
                     required=table.type == "webhook")
    if secret is not None and table.type != "webhook":
        problems.append(f"{at}.secret: only webhook targets are signed; remove secret_env/secret_file")
    elif secret is not None and (problem := weak(secret, f"{at}.secret: the key")):
        problems.append(problem)
    if len(problems) > before or url is None:
        return None
    return Target(name, table.type, url, secret, frozenset(table.kinds), table.per_hour)


def _secret(env_key: str | None, file_key: str | None, at: str, env: dict[str, str], problems: list[str],
            required: bool) -> str | None:
    """A secret from the environment variable or the file the config names (one of them, not both)."""
    if env_key and file_key:
        problems.append(f"{at}_env, {at}_file: name one place for it, not both")
        return None
    if env_key:
        value = env.get(env_key, "").strip()
        if not value:
            problems.append(f"{at}_env: environment variable {env_key} is not set; export {env_key}=<it>")
        return value or None
    if file_key:
        try:
            value = Path(file_key).read_text(encoding="utf-8").strip()  # read once, at load
        except (OSError, UnicodeDecodeError) as e:
            why = e.strerror if isinstance(e, OSError) else "not UTF-8 text"
            problems.append(f"{at}_file: cannot read {file_key} ({why}); put it there, readable by the "
                            "wall's user alone (chmod 600)")
            return None
        if not value:
            problems.append(f"{at}_file: {file_key} is empty; write it on the file's first line")
        return value or None
    if required:
        key = at.rsplit(".", 1)[1]
        problems.append(f'{at}_env: missing; name the environment variable that holds it ({key}_env = "VAR") '
                        f'or a file ({key}_file = "/etc/wall/NAME")')
    return None


def _url_problems(url: str, at: str) -> list[str]:
    """https, or plain http to this machine only (a relay on localhost): a token never crosses a network
    in clear. The message never shows the URL."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return [f"{at}: the value is not a URL; paste the whole https://… address"]
    if parts.scheme == "https" and host:
        return []
    if parts.scheme == "http" and host:
        try:
            local = ipaddress.ip_address(host).is_loopback
        except ValueError:
            local = host == "localhost"
        if local:
            return []
        return [f"{at}: plain http would send its token in clear; use the https:// address"]
    return [f"{at}: the value is not an http(s) URL; paste the whole https://… address"]
