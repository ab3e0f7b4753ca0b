"""The kiosk fleet: pairing codes, kiosks and their tokens, their last report, pending commands.

Contract:
- `enroll` gives a new kiosk a short code for a person to read off the screen ("K7-4QX") and a secret
  poll token returned exactly once (only its sha256 is kept). Codes are unique among live pairing requests
  and expire after `ttl` seconds. A newcomer is never refused for want of room: past PENDING_PER_NETWORK
  live requests from its network (wall.addresses: /24, /64), or MAX_PENDING in all, the requests least
  alive go (never polled first, oldest first; then the least recently polled), so a flood pushes out
  itself, not a kiosk that polls every few seconds. Their kiosks' next poll finds them unknown, and the
  agent asks for a new code.
- `clear_pending` drops every live pairing request (an admin's answer to a flood).
- `approve(code, …)` turns a live pairing request into a kiosk assigned to a wall, as screen k of n;
  an expired code raises CodeExpired, an unknown one UnknownCode (the admin is told which).
- `claim(poll_token)` is the kiosk's poll (the last one kept in `claimed_at`): while nobody approved it,
  "waiting"; once approved, the kiosk's own token, minted then and returned once (a claim repeated before
  the code expires, e.g. after a lost reply, replaces the token: the old one stops working); after
  expiry, "expired".
- `authenticate(token)` answers the kiosk the token belongs to, revoked or not (the caller tells a revoked
  kiosk so); None for a token nobody issued. `revoke` takes effect on the next request.
- `report` records the kiosk's status and hands back the commands queued for it, each delivered once.
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from wall.addresses import network
from wall.store.base import clock, new_token, token_hash, upsert
from wall.store.schema import kiosk_commands, kiosk_enrollments, kiosk_screenshots, kiosks

# No 0/O, 1/I/L, 2/Z, 5/S, 6/G, 8/B: read off a TV across a room and typed on a phone.
CODE_ALPHABET = "ACDEFHJKMNPQRTUVWXY3479"
COMMANDS = ("reload", "identify", "assign")
MAX_PENDING = 200  # live pairing requests at once: a flood of enrolls cannot grow the table
PENDING_PER_NETWORK = 50  # live pairing requests from one /24 or /64: a venue pairing its screens at once


class UnknownCode(LookupError):
    """No pairing request has this code."""


class CodeExpired(LookupError):
    """The pairing request with this code expired: the kiosk shows a new one."""


class ClaimState(enum.Enum):
    WAITING = "waiting"  # not approved yet
    APPROVED = "approved"  # here is your token
    EXPIRED = "expired"  # the code expired before anyone approved it: enroll again
    UNKNOWN = "unknown"  # no such poll token


@dataclass(frozen=True, slots=True)
class Enrollment:
    id: int
    code: str
    hostname: str
    ip: str
    created_at: float
    expires_at: float


@dataclass(frozen=True, slots=True)
class Kiosk:
    id: int
    name: str
    wall: str
    screen: int
    screens: int
    display_key_id: int | None
    created_at: float
    created_by: str
    revoked_at: float | None
    last_seen: float | None
    status: dict[str, Any]
    screenshot_at: float | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    state: ClaimState
    kiosk: Kiosk | None = None
    token: str | None = None  # the kiosk's own token, only with APPROVED


def new_code() -> str:
    chars = "".join(secrets.choice(CODE_ALPHABET) for _ in range(5))
    return f"{chars[:2]}-{chars[2:]}"


def normalise_code(text: str) -> str:
    """What a person typed ("k7 4qx", "K74QX") as the code's stored form ("K7-4QX")."""
    chars = "".join(c for c in text.upper() if c.isalnum())
    return f"{chars[:2]}-{chars[2:]}" if len(chars) == 5 else chars


def _kiosk(row: Any, screenshot_at: float | None = None) -> Kiosk:
    return Kiosk(row.id, row.name, row.wall, row.screen, row.screens, row.display_key_id, row.created_at,
                 row.created_by, row.revoked_at, row.last_seen, dict(row.status or {}), screenshot_at)


KIOSK_COLUMNS = [c for c in kiosks.c if c.name != "token_hash"]


class Kiosks:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def enroll(self, hostname: str, ip: str, ttl: float, now: float | None = None
                     ) -> tuple[str, Enrollment]:
        """A pairing request: (raw poll token, the request with its code); may evict others (see above)."""
        t = clock(now)
        e = kiosk_enrollments.c
        poll, poll_hash = new_token()
        async with self.engine.begin() as conn:
            # Requests nobody approved within a day of expiring are of no more use to anyone.
            await conn.execute(kiosk_enrollments.delete().where(e.expires_at < t - 86400,
                                                                e.kiosk_id.is_(None)))
            live = (await conn.execute(sa.select(e.id, e.code, e.ip).where(e.expires_at > t,
                                                                            e.kiosk_id.is_(None))
                                       .order_by(e.claimed_at.is_not(None),
                                                 sa.func.coalesce(e.claimed_at, e.created_at), e.id))).all()
            mine = network(ip)
            ours = [r.id for r in live if network(r.ip) == mine]
            evicted = set(ours[:max(0, len(ours) - PENDING_PER_NETWORK + 1)])
            rest = [r.id for r in live if r.id not in evicted]
            evicted |= set(rest[:max(0, len(rest) - MAX_PENDING + 1)])
            if evicted:
                await conn.execute(kiosk_enrollments.delete().where(e.id.in_(evicted)))
            codes = {r.code for r in live if r.id not in evicted}
            code = new_code()
            while code in codes:
                code = new_code()
            hostname, ip = hostname[:255], ip[:64]
            row = {"code": code, "poll_hash": poll_hash, "hostname": hostname, "ip": ip,
                   "created_at": t, "expires_at": t + ttl, "kiosk_id": None, "claimed_at": None}
            enrollment_id = (await conn.execute(kiosk_enrollments.insert().values(**row)
                                                .returning(e.id))).scalar_one()
        return poll, Enrollment(enrollment_id, code, hostname, ip, t, t + ttl)

    async def clear_pending(self, now: float | None = None) -> int:
        """Drop every live pairing request nobody approved; returns how many."""
        e = kiosk_enrollments.c
        async with self.engine.begin() as conn:
            result = await conn.execute(kiosk_enrollments.delete().where(e.expires_at > clock(now),
                                                                         e.kiosk_id.is_(None)))
        return int(result.rowcount or 0)

    async def pending(self, now: float | None = None) -> list[Enrollment]:
        """Live pairing requests nobody approved yet, oldest first."""
        e = kiosk_enrollments.c
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(kiosk_enrollments).where(
                e.expires_at > clock(now), e.kiosk_id.is_(None)).order_by(e.id))).all()
        return [Enrollment(r.id, r.code, r.hostname, r.ip, r.created_at, r.expires_at) for r in rows]

    async def approve(self, code: str, wall: str, screen: int, screens: int, actor: str,
                      name: str | None = None, now: float | None = None) -> Kiosk:
        """Make the kiosk showing `code` screen `screen` of `screens` of `wall`."""
        t = clock(now)
        e = kiosk_enrollments.c
        code = normalise_code(code)
        async with self.engine.begin() as conn:
            rows = (await conn.execute(sa.select(kiosk_enrollments).where(
                e.code == code, e.kiosk_id.is_(None)).order_by(e.id.desc()))).all()
            live = [r for r in rows if r.expires_at > t]
            if not live:
                if rows:
                    raise CodeExpired(f"pairing code {code} expired; the kiosk shows a new code: "
                                      "type that one")
                raise UnknownCode(f"no kiosk shows the pairing code {code}: check the code on the screen")
            req = live[0]
            values = {"name": (name or req.hostname or f"kiosk {code}")[:64], "token_hash": None,
                      "wall": wall, "screen": screen, "screens": screens, "display_key_id": None,
                      "created_at": t, "created_by": actor, "revoked_at": None, "revoked_by": None,
                      "last_seen": None, "status": None}
            kiosk_id = (await conn.execute(kiosks.insert().values(**values)
                                           .returning(kiosks.c.id))).scalar_one()
            await conn.execute(kiosk_enrollments.update().where(e.id == req.id).values(kiosk_id=kiosk_id))
            row = (await conn.execute(sa.select(*KIOSK_COLUMNS).where(kiosks.c.id == kiosk_id))).one()
        return _kiosk(row)

    async def claim(self, poll_token: str, now: float | None = None) -> Claim:
        """The kiosk's poll with its secret poll token (see the module's contract)."""
        t = clock(now)
        e = kiosk_enrollments.c
        async with self.engine.begin() as conn:
            req = (await conn.execute(sa.select(kiosk_enrollments).where(
                e.poll_hash == token_hash(poll_token)))).first()
            if req is None:
                return Claim(ClaimState.UNKNOWN)
            if req.expires_at <= t:
                return Claim(ClaimState.EXPIRED)
            if req.kiosk_id is None:  # the poll keeps the request alive against floods (enroll)
                await conn.execute(kiosk_enrollments.update().where(e.id == req.id).values(claimed_at=t))
                return Claim(ClaimState.WAITING)
            token, hashed = new_token()
            row = (await conn.execute(kiosks.update().where(kiosks.c.id == req.kiosk_id,
                                                            kiosks.c.revoked_at.is_(None))
                                      .values(token_hash=hashed).returning(*KIOSK_COLUMNS))).first()
            if row is None:  # revoked between approval and claim
                return Claim(ClaimState.EXPIRED)
            await conn.execute(kiosk_enrollments.update().where(e.id == req.id).values(claimed_at=t))
        return Claim(ClaimState.APPROVED, _kiosk(row), token)

    async def authenticate(self, token: str) -> Kiosk | None:
        """The kiosk holding this token (check `revoked_at`), or None."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(*KIOSK_COLUMNS).where(
                kiosks.c.token_hash == token_hash(token)))).first()
        return _kiosk(row) if row else None

    async def get(self, kiosk_id: int) -> Kiosk | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(*KIOSK_COLUMNS).where(kiosks.c.id == kiosk_id))).first()
        return _kiosk(row) if row else None

    async def all(self) -> list[Kiosk]:
        """Every kiosk, live ones first, then by wall and screen; with when its screenshot was taken."""
        k = kiosks.c
        query = (sa.select(*KIOSK_COLUMNS, kiosk_screenshots.c.at.label("shot_at"))
                 .outerjoin(kiosk_screenshots, kiosk_screenshots.c.kiosk_id == k.id)
                 .order_by(k.revoked_at.is_not(None), k.wall, k.screen, k.id))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [_kiosk(r, r.shot_at) for r in rows]

    async def report(self, kiosk_id: int, status: dict[str, Any], screenshot: bytes | None = None,
                     now: float | None = None) -> list[str]:
        """Record a live kiosk's report; returns the commands queued for it (oldest first), now delivered."""
        t = clock(now)
        c = kiosk_commands.c
        async with self.engine.begin() as conn:
            await conn.execute(kiosks.update().where(kiosks.c.id == kiosk_id)
                               .values(last_seen=t, status=status))
            if screenshot is not None:
                await upsert(conn, kiosk_screenshots, {"kiosk_id": kiosk_id, "at": t, "jpeg": screenshot},
                             ["kiosk_id"])
            rows = (await conn.execute(sa.select(c.id, c.op).where(
                c.kiosk_id == kiosk_id, c.delivered_at.is_(None)).order_by(c.id))).all()
            if rows:
                await conn.execute(kiosk_commands.update().where(c.id.in_([r.id for r in rows]))
                                   .values(delivered_at=t))
        ops: list[str] = []
        for r in rows:  # the same command twice in one reply does nothing more than once
            if r.op not in ops:
                ops.append(r.op)
        return ops

    async def command(self, kiosk_id: int, op: str, actor: str, now: float | None = None) -> None:
        """Queue a command for the kiosk's next report."""
        if op not in COMMANDS:
            raise ValueError(f"unknown kiosk command {op!r}; use one of {', '.join(COMMANDS)}")
        async with self.engine.begin() as conn:
            await conn.execute(kiosk_commands.insert().values(kiosk_id=kiosk_id, op=op, created_at=clock(now),
                                                              created_by=actor, delivered_at=None))

    async def assign(self, kiosk_id: int, wall: str, screen: int, screens: int, actor: str,
                     now: float | None = None) -> Kiosk | None:
        """Point a live kiosk at another wall or position; it follows at its next report."""
        async with self.engine.begin() as conn:
            row = (await conn.execute(kiosks.update()
                                      .where(kiosks.c.id == kiosk_id, kiosks.c.revoked_at.is_(None))
                                      .values(wall=wall, screen=screen, screens=screens)
                                      .returning(*KIOSK_COLUMNS))).first()
            if row is None:
                return None
            await conn.execute(kiosk_commands.insert().values(kiosk_id=kiosk_id, op="assign",
                                                              created_at=clock(now), created_by=actor,
                                                              delivered_at=None))
        return _kiosk(row)

    async def set_display_key(self, kiosk_id: int, key_id: int | None) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(kiosks.update().where(kiosks.c.id == kiosk_id).values(display_key_id=key_id))

    async def revoke(self, kiosk_id: int, actor: str, now: float | None = None) -> Kiosk | None:
        """Revoke the kiosk's token; returns its record (None if no such live kiosk)."""
        async with self.engine.begin() as conn:
            row = (await conn.execute(kiosks.update()
                                      .where(kiosks.c.id == kiosk_id, kiosks.c.revoked_at.is_(None))
                                      .values(revoked_at=clock(now), revoked_by=actor)
                                      .returning(*KIOSK_COLUMNS))).first()
        return _kiosk(row) if row else None

    async def screenshot(self, kiosk_id: int) -> tuple[float, bytes] | None:
        """The kiosk's latest screenshot (when, JPEG bytes)."""
        s = kiosk_screenshots.c
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(s.at, s.jpeg).where(s.kiosk_id == kiosk_id))).first()
        return (row.at, bytes(row.jpeg)) if row else None
