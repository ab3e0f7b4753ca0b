"""An author's erasure and export in the SQL store (wall/privacy/ drives them; docs/erasure.md).

Contract:
- `erase_posts(wall, post_ids, author)` deletes the posts' decisions, sentiment labels (the label keeps
  the post's text) and display log rows (how long screens showed them), empties the audit records that
  name the posts or the author (target, before, after set to NULL: the record that someone did
  something stays), and drops the last screenshot of the wall's kiosks when any of its posts was erased
  (a screenshot may show them; the next report brings a new one), and takes the author out of the wall
  policy's trusted authors (a curator's note about that person), and removes the author's counters from
  the wall's roll-ups at every grain.
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
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from wall.store.base import insert_new
from wall.store.display_log import erase_rows, rows_of
from wall.store.rollups import Rollups
from wall.store.schema import (
    audit,
    bans,
    bus_secrets,
    decisions,
    kiosk_screenshots,
    kiosks,
    qa_questions,
    qa_votes,
    sentiment_labels,
    walls_policy,
)

SECRET = "erasure"  # the bus_secrets row of the audit's keyed hash
CHUNK = 500  # ids per IN (…): far below SQLite's bound-parameter limit


@dataclass(frozen=True, slots=True)
class Erased:
    """Rows the store removed or emptied for one wall."""

    decisions: int = 0
    labels: int = 0
    audit: int = 0
    screenshots: int = 0
    policy: int = 0  # 1 when the author was among the wall policy's trusted authors
    display_log: int = 0  # posts the display log held
    rollups: int = 0  # the author's counters in the wall's roll-ups ("author:<handle>")


T = TypeVar("T")
STRINGS = re.compile(r'"((?:[^"\\]|\\.)*)"')  # the strings of a JSON text


def _chunks(ids: Sequence[T]) -> list[Sequence[T]]:
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
            shown = await erase_rows(conn, wall, post_ids)
            emptied = 0
            for records in _chunks(await self._audit_of(conn, wall, post_ids, author)):
                emptied += (await conn.execute(audit.update().where(audit.c.id.in_(records))
                                               .values(target=None, before=None, after=None))).rowcount
            shots = 0
            if post_ids:
                mine = sa.select(kiosks.c.id).where(kiosks.c.wall == wall)
                shots = (await conn.execute(kiosk_screenshots.delete().where(
                    kiosk_screenshots.c.kiosk_id.in_(mine)))).rowcount
            policy = await self._untrust(conn, wall, author)
        # The roll-ups count authors by handle alone: the same handle on another network goes too.
        counters = await Rollups(self.engine).forget_names(wall, [f"author:{author.partition(':')[2]}"])
        return Erased(found.decisions, found.labels, emptied, shots, policy, shown, counters)

    @staticmethod
    async def _untrust(conn: AsyncConnection, wall: str, author: str) -> int:
        p = walls_policy.c
        row = (await conn.execute(sa.select(p.settings).where(p.wall == wall))).first()
        settings = dict(row.settings) if row else {}
        trusted = list(settings.get("trusted_authors") or [])
        kept = [a for a in trusted if str(a).lower() != author]
        if len(kept) == len(trusted):
            return 0
        await conn.execute(walls_policy.update().where(p.wall == wall).values(
            settings={**settings, "trusted_authors": kept}))
        return 1

    @staticmethod
    async def _audit_of(conn: AsyncConnection, wall: str, post_ids: Sequence[str], author: str) -> list[int]:
        """Audit records that name the posts (of this wall: as target or a string in before/after) or the
        author (anywhere), not emptied yet. Matched here, in one pass over the records, rather than with
        a LIKE per post id: an erasure names a thousand posts."""
        c, ids, quoted = audit.c, set(post_ids), json.dumps(author)[1:-1]
        query = sa.select(c.id, c.wall, c.target, sa.cast(c.before, sa.Text), sa.cast(c.after, sa.Text))
        query = query.where(sa.or_(c.target.is_not(None), c.before.is_not(None), c.after.is_not(None)))
        found = []
        result = await conn.stream(query.execution_options(yield_per=2000))
        async for record_id, where, target, before, after in result:
            payload = f"{before or ''}\n{after or ''}"
            if (target or "").lower() == author or quoted in payload.lower() or (where == wall and (
                    target in ids or not ids.isdisjoint(STRINGS.findall(payload)))):
                found.append(record_id)
        return found

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
            for records in _chunks(await self._audit_of(conn, wall, post_ids, author)):
                out["audit"] += [dict(r._mapping) for r in await conn.execute(
                    sa.select(audit).where(audit.c.id.in_(records)).order_by(audit.c.id))]
            out["display_log"] = await rows_of(conn, wall, post_ids)
            q, v = qa_questions.c, qa_votes.c
            out["qa_questions"] = [dict(r._mapping) for r in await conn.execute(sa.select(qa_questions).where(
                q.wall == wall, sa.or_(q.author == author, q.post_id.in_(list(post_ids)))))]
            out["qa_votes"] = [dict(r._mapping) for r in await conn.execute(sa.select(qa_votes).where(
                v.wall == wall, sa.or_(v.voter == author, v.post_id.in_(list(post_ids)))))]
            out["bans"] = [dict(r._mapping) for r in await conn.execute(
                sa.select(bans).where(bans.c.author == author, bans.c.wall.in_((wall, "*"))))]
        return out
