"""An author's erasure and export in the SQL store (wall/privacy/ drives them; docs/erasure.md).

Contract:
- `erase_posts(wall, post_ids, author)` deletes the posts' decisions and sentiment labels (the label keeps
  the post's text), empties the audit records that name the posts or the author (target, before, after
  set to NULL: the record that someone did something stays), and drops the last screenshot of the wall's
  kiosks when any of its posts was erased (a screenshot may show them; the next report brings a new one).
  Bans are kept: they keep a person off the wall, which is what an erasure is often asked for with
  (docs/erasure.md). Every deletion is by key, so it is idempotent and safe beside another erasure.
- `author_hash(author)`: the keyed hash (HMAC-SHA256 with the store's "erasure" secret) the audit keeps
  instead of the handle: it says an erasure of this person happened to whoever already knows the handle.
- `about(wall, post_ids, author)`: what the store holds about those posts and that author, as plain data
  (the export).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from wall.store.base import insert_new
from wall.store.schema import audit, bans, bus_secrets, decisions, kiosk_screenshots, kiosks, sentiment_labels

SECRET = "erasure"  # the bus_secrets row of the audit's keyed hash
CHUNK = 500  # ids per IN (…): far below SQLite's bound-parameter limit


@dataclass(frozen=True, slots=True)
class Erased:
    """Rows the store removed or emptied for one wall."""

    decisions: int = 0
    labels: int = 0
    audit: int = 0
    screenshots: int = 0


def _json_text(value: str) -> str:
    """How a string looks inside a stored JSON column (SQLAlchemy writes json.dumps, ASCII-escaped)."""
    return json.dumps(value)


def _mentions(column: sa.ColumnElement[Any], values: Sequence[str]) -> sa.ColumnElement[bool]:
    text = sa.cast(column, sa.Text)
    return sa.or_(*(text.ilike(f"%{_escape(_json_text(v))}%", escape="\\") for v in values))


def _escape(pattern: str) -> str:
    return pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _chunks(ids: Sequence[str]) -> list[Sequence[str]]:
    return [ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)] or [()]


class Erasures:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def author_hash(self, author: str) -> str:
        async with self.engine.begin() as conn:
            await insert_new(conn, bus_secrets, {"name": SECRET, "value": secrets.token_urlsafe(32)},
                             keys=("name",))
            key: str = (await conn.execute(sa.select(bus_secrets.c.value)
                                           .where(bus_secrets.c.name == SECRET))).scalar_one()
        return hmac.new(key.encode(), author.encode(), hashlib.sha256).hexdigest()[:32]

    async def erase_posts(self, wall: str, post_ids: Sequence[str], author: str) -> Erased:
        found = Erased()
        async with self.engine.begin() as conn:
            for ids in _chunks(post_ids):
                d = await conn.execute(decisions.delete().where(decisions.c.wall == wall,
                                                                decisions.c.post_id.in_(ids)))
                s = await conn.execute(sentiment_labels.delete().where(sentiment_labels.c.wall == wall,
                                                                       sentiment_labels.c.post_id.in_(ids)))
                found = Erased(found.decisions + d.rowcount, found.labels + s.rowcount)
            a = await conn.execute(audit.update().where(self._audit_of(wall, post_ids, author))
                                   .values(target=None, before=None, after=None))
            shots = 0
            if post_ids:
                mine = sa.select(kiosks.c.id).where(kiosks.c.wall == wall)
                shots = (await conn.execute(kiosk_screenshots.delete().where(
                    kiosk_screenshots.c.kiosk_id.in_(mine)))).rowcount
        return Erased(found.decisions, found.labels, a.rowcount, shots)

    @staticmethod
    def _audit_of(wall: str, post_ids: Sequence[str], author: str) -> sa.ColumnElement[bool]:
        """Audit records that name the posts (of this wall) or the author (anywhere), not emptied yet."""
        c = audit.c
        named = [c.target.ilike(_escape(author), escape="\\"), _mentions(c.before, [author]),
                 _mentions(c.after, [author])]
        for ids in _chunks(post_ids):
            if ids:
                named.append(sa.and_(c.wall == wall, sa.or_(c.target.in_(ids), _mentions(c.before, ids),
                                                            _mentions(c.after, ids))))
        return sa.and_(sa.or_(*named), sa.or_(c.target.is_not(None), c.before.is_not(None),
                                              c.after.is_not(None)))

    async def about(self, wall: str, post_ids: Sequence[str], author: str) -> dict[str, Any]:
        """What the store holds about the posts (of this wall) and the author, as plain data."""
        async with self.engine.connect() as conn:
            out: dict[str, list[dict[str, Any]]] = {"decisions": [], "labels": [], "audit": []}
            for ids in _chunks(post_ids):
                out["decisions"] += [dict(r._mapping) for r in await conn.execute(
                    sa.select(decisions).where(decisions.c.wall == wall, decisions.c.post_id.in_(ids)))]
                out["labels"] += [dict(r._mapping) for r in await conn.execute(
                    sa.select(sentiment_labels).where(sentiment_labels.c.wall == wall,
                                                      sentiment_labels.c.post_id.in_(ids)))]
            out["audit"] = [dict(r._mapping) for r in await conn.execute(
                sa.select(audit).where(self._audit_of(wall, post_ids, author))
                .order_by(audit.c.id))]
            out["bans"] = [dict(r._mapping) for r in await conn.execute(
                sa.select(bans).where(bans.c.author == author, bans.c.wall.in_((wall, "*"))))]
        return out
