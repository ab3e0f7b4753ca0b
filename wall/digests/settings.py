"""The [smtp] section and each wall's [walls.W.digest] table, as typed structs checked at load
(wall/config.py calls these; docs/digests.md). Pure: no network, no store."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time as clocktime
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from wall.configcheck import SECRET, convert

Security = Literal["starttls", "tls", "none"]
DEFAULT_PORTS: dict[str, int] = {"starttls": 587, "tls": 465, "none": 25}
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_AT = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class SmtpConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """[smtp]: the relay every wall's digests go through."""

    host: str = ""
    port: Annotated[int, msgspec.Meta(ge=0, le=65535, description="a TCP port; 0: 587, 465 or 25 by "
                                                                  "security")] = 0
    # "starttls": plain connect, then STARTTLS before anything else is said (submission, port 587);
    # "tls": TLS from the first byte (port 465); "none": clear text, allowed to this machine only.
    security: Security = "starttls"
    username: str = ""  # empty: no AUTH
    password_env: str | None = None  # the NAME of an environment variable holding the password
    password: Annotated[str | None, SECRET] = None
    password_file: str = ""  # or a file outside the repo holding it (a systemd credential, a mounted secret)
    sender: str = msgspec.field(default="", name="from")  # e.g. "Wall digests <wall@example.com>"
    ca_file: str = ""  # a CA to trust besides the system's (an internal relay's certificate)
    timeout: Annotated[float, msgspec.Meta(gt=0, le=300, description="seconds")] = 30.0
    # A send that fails is tried again after retry_after, 2x, 4x ... (with jitter), `attempts` in all.
    attempts: Annotated[int, msgspec.Meta(ge=1, le=10, description="tries per digest, 1 to 10")] = 5
    retry_after: Annotated[float, msgspec.Meta(gt=0, le=3600, description="seconds")] = 60.0

    @property
    def port_or_default(self) -> int:
        return self.port or DEFAULT_PORTS[self.security]


def checked_smtp(smtp: SmtpConfig, problems: list[str]) -> SmtpConfig:
    """What a Struct cannot say about [smtp]; the password read from password_file."""
    if not smtp.host:
        problems.append('smtp.host: name the SMTP relay, e.g. host = "smtp.example.com"')
    if smtp.security == "none" and smtp.host and smtp.host not in LOCAL_HOSTS:
        problems.append(f'smtp.security: "none" sends the password and the digests in clear text, so it is '
                        f'allowed only to this machine ({", ".join(LOCAL_HOSTS)}), not {smtp.host!r}; use '
                        '"starttls" (port 587) or "tls" (port 465)')
    if smtp.password_env and smtp.password_file:
        problems.append("smtp.password_file: the password comes from password_env or password_file, not "
                        "both; remove one")
    password = smtp.password
    if smtp.password_file and not smtp.password_env:
        try:
            password = Path(smtp.password_file).read_text(encoding="utf-8").strip() or None
        except OSError as e:
            problems.append(f"smtp.password_file: cannot read {smtp.password_file} ({e.strerror}); give a "
                            "readable file holding the password alone")
        else:
            if password is None:
                problems.append(f"smtp.password_file: {smtp.password_file} is empty; write the password "
                                "in it")
    if smtp.username and not (smtp.password_env or smtp.password_file):
        problems.append('smtp.username: a login needs a password; add password_env = "VAR" (or '
                        "password_file) naming where it is")
    if (smtp.password_env or smtp.password_file) and not smtp.username:
        problems.append('smtp.username: a password is set but no username; add username = "..."')
    if not is_address(smtp.sender):
        problems.append('smtp.from: name the sender, e.g. from = "Wall digests <wall@example.com>"')
    if smtp.ca_file and not Path(smtp.ca_file).is_file():
        problems.append(f"smtp.ca_file: no file {smtp.ca_file}; give a PEM file of the CA to trust, or "
                        "remove it")
    return msgspec.structs.replace(smtp, password=password)


class DigestTable(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """[walls.W.digest] as written."""

    to: tuple[str, ...] = ()
    every: Literal["daily", "weekly"] = "daily"
    at: str = "08:00"  # local time the digest leaves, in `tz`
    tz: str = "UTC"
    day: str = "monday"  # weekly: the day it leaves, covering the seven days before
    # Top authors and post texts in the attachment: off by default, a mailbox is beyond retention's and
    # erasure's reach (docs/digests.md, "Privacy").
    people: bool = False


@dataclass(frozen=True)
class Digest:
    """A wall's digest schedule and recipients, checked."""

    to: tuple[str, ...]
    every: Literal["daily", "weekly"] = "daily"
    at: clocktime = clocktime(8, 0)
    tz: str = "UTC"
    weekday: int = 0  # Monday
    people: bool = False


def digest(raw: object, path: str, problems: list[str]) -> Digest | None:
    """[walls.W.digest] checked; None when the wall has none or it has problems (they stop the load)."""
    if not raw:
        return None
    table = convert(raw, DigestTable, path, problems)
    if table is None:
        return None
    found = len(problems)
    if not table.to:
        problems.append(f'{path}.to: list who gets it, e.g. to = ["comms@example.com"]')
    for i, to in enumerate(table.to):
        if not is_address(to):
            problems.append(f'{path}.to[{i}]: {to[:80]!r} is not an e-mail address; e.g. '
                            '"comms@example.com"')
    at = _AT.match(table.at.strip())
    if at is None:
        problems.append(f'{path}.at: {table.at[:20]!r} is not a time of day; write "HH:MM", e.g. "08:00"')
    try:
        ZoneInfo(table.tz)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f'{path}.tz: {table.tz[:60]!r} is not a time zone; write one like "Europe/Helsinki" '
                        'or "UTC"')
    if table.day not in WEEKDAYS:
        problems.append(f"{path}.day: {table.day[:20]!r} is not a day; use one of {', '.join(WEEKDAYS)}")
    if len(problems) > found or at is None:
        return None
    return Digest(to=table.to, every=table.every, at=clocktime(int(at[1]), int(at[2])), tz=table.tz,
                  weekday=WEEKDAYS.index(table.day), people=table.people)


def is_address(text: str) -> bool:
    """Looks like one mailbox ("a@b.c" or "Name <a@b.c>"), with no line break that could add a header."""
    if "\n" in text or "\r" in text:
        return False
    _, addr = parseaddr(text)
    local, _, domain = addr.rpartition("@")
    return bool(local) and "." in domain and " " not in addr
