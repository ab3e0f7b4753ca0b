"""The kiosk's side of the fleet: pairing with the wall server, its credentials file, reports.

A kiosk started with only the server's address asks for a pairing code, shows it, and polls until an admin
approves it in the console; it then keeps its own token (and the wall it shows, with a private wall's
display key) in a file only its user can read. Every report may bring commands back.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

log = logging.getLogger(__name__)


class ServerError(Exception):
    """The wall server could not be asked, or answered something that is not the fleet API."""


@dataclass(frozen=True)
class Credentials:
    server: str
    token: str
    url: str  # the wall's path on the server, with screen, of and a private wall's key
    kiosk: dict[str, Any]

    @classmethod
    def load(cls, path: Path, server: str) -> Credentials | None:
        """The saved credentials for this server, or None (missing, unreadable or another server's)."""
        try:
            raw = json.loads(path.read_text())
            creds = cls(str(raw["server"]), str(raw["token"]), str(raw["url"]), dict(raw.get("kiosk", {})))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as e:
            log.warning("kiosk credentials %s are unreadable (%s): pairing again", path, e)
            return None
        if creds.server != server:
            log.warning("kiosk credentials %s are for %s, not %s: pairing again", path, creds.server, server)
            return None
        return creds

    def save(self, path: Path) -> None:
        """Written atomically, readable by this user only (0600): the token opens the wall."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"server": self.server, "token": self.token, "url": self.url, "kiosk": self.kiosk}, f)
        os.chmod(tmp, 0o600)  # in case the file existed with other modes
        os.replace(tmp, path)

    @staticmethod
    def forget(path: Path) -> None:
        path.unlink(missing_ok=True)


class FleetClient:
    """The fleet API as a kiosk calls it: (HTTP status, JSON reply), or ServerError."""

    def __init__(self, session: aiohttp.ClientSession, server: str, timeout: float) -> None:
        self.session = session
        self.server = server.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def call(self, path: str, body: dict[str, Any],
                   token: str | None = None) -> tuple[int, dict[str, Any]]:
        url = f"{self.server}{path}"
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            async with self.session.post(url, json=body, headers=headers, timeout=self.timeout) as resp:
                try:
                    reply = await resp.json(content_type=None)
                except ValueError:
                    reply = None
                if not isinstance(reply, dict):
                    raise ServerError(f"{url} answers HTTP {resp.status} without the fleet API's JSON: is "
                                      f"{self.server} the wall server's address?")
                return resp.status, reply
        except (TimeoutError, aiohttp.ClientError) as e:
            why = str(e) or type(e).__name__
            raise ServerError(f"cannot reach the wall server at {self.server} ({why}): "
                              "check the address and the network") from e

    async def enroll(self, hostname: str, version: str) -> dict[str, Any]:
        status, reply = await self.call("/api/v1/kiosks/enroll", {"hostname": hostname, "version": version})
        if status != 201 or not isinstance(reply.get("code"), str):
            raise ServerError(f"the wall server refused a pairing code (HTTP {status}): "
                              f"{reply.get('error', 'no reason given')}")
        return reply

    async def claim(self, poll_token: str) -> tuple[int, dict[str, Any]]:
        return await self.call("/api/v1/kiosks/claim", {}, poll_token)

    async def report(self, token: str, status: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return await self.call("/api/v1/kiosks/report", status, token)


def system_status() -> dict[str, Any]:
    """Uptime and memory of the device, from /proc (Linux); empty where it cannot be read."""
    found: dict[str, Any] = {}
    try:
        found["uptime"] = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    try:
        mem = {line.split(":")[0]: float(line.split()[1]) / 1024
               for line in Path("/proc/meminfo").read_text().splitlines() if line.split()[1:]}
        found["memory"] = {"available_mb": round(mem["MemAvailable"], 1),
                           "total_mb": round(mem["MemTotal"], 1)}
    except (OSError, ValueError, KeyError, IndexError):
        pass
    return found


def since(started: float) -> float:
    return round(time.monotonic() - started, 1)
