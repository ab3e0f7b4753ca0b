"""A wall's polls and their votes (docs/polls.md).

Contract:
- A poll is made with its question and 2-6 options (label and vote words); `state` is the presenter's:
  "ready" (prepared, not shown), "open" (counting and on screen), "closed" (frozen on screen), "hidden" (off
  the screen). `set_state` is the console's and the control API's (through wall/curate/actions.py).
- `counting` and the votes are the curation writer's alone, and every write of them carries its fencing
  token: a write with an older token than one already seen for the wall raises `Superseded` and writes
  nothing. The writer writes a vote before it commits the inbox entry that cast it, so the votes are at
  or ahead of the wall's inbox position, and every write is idempotent (set an author's vote; take it
  back if it came from that post; drop an author's votes): a writer that takes over replays the entries
  after the position and ends with the same votes. Exact across a lease move and a restart.
- One vote per author per poll: the latest counts. `tallies` counts them per option.
- The votes name people (author, post id): `erase` removes an author's, `purge` removes those of polls
  closed before a time (the wall's retention); the poll's counts stay, frozen in `results` at close.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from wall.store.base import clock
from wall.store.rollups import Superseded
from wall.store.schema import poll_fences, poll_votes, polls

State = Literal["ready", "open", "closed", "hidden"]
STATES: tuple[State, ...] = ("ready", "open", "closed", "hidden")


@dataclass(frozen=True, slots=True)
class Option:
    label: str
    words: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Poll:
    id: int
    wall: str
    question: str
    options: tuple[Option, ...]
    state: State
    counting: bool
    created_by: str
    created_at: float
    opened_at: float | None
    closed_at: float | None
    results: tuple[int, ...] | None = None  # frozen when the writer stopped counting

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "wall": self.wall, "question": self.question, "state": self.state,
                "options": [{"label": o.label, "words": list(o.words)} for o in self.options],
                "created_by": self.created_by, "created_at": self.created_at, "opened_at": self.opened_at,
                "closed_at": self.closed_at}


@dataclass(frozen=True, slots=True)
class Vote:
    author: str
    post_id: str
    option: int


class Polls:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    # --- the presenter's ----------------------------------------------------------------------------

    async def create(self, wall: str, question: str, options: list[Option], by: str,
                     now: float | None = None) -> Poll:
        """A prepared poll ("ready")."""
        body = json.dumps([{"label": o.label, "words": list(o.words)} for o in options])
        async with self.engine.begin() as conn:
            result = await conn.execute(polls.insert().values(
                wall=wall, question=question, options=body, state="ready", counting=False, created_by=by,
                created_at=clock(now)))
            pid = result.inserted_primary_key[0] if result.inserted_primary_key else None
            row = (await conn.execute(sa.select(polls).where(polls.c.id == pid))).one()
        return _poll(row)

    async def get(self, wall: str, poll_id: int) -> Poll | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(polls).where(polls.c.wall == wall,
                                                             polls.c.id == poll_id))).first()
        return None if row is None else _poll(row)

    async def of_wall(self, wall: str, limit: int = 50) -> list[Poll]:
        """The wall's polls, the newest first."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(polls).where(polls.c.wall == wall)
                                       .order_by(polls.c.id.desc()).limit(limit))).all()
        return [_poll(r) for r in rows]

    async def shown(self, wall: str) -> Poll | None:
        """The poll screens show: the newest open or closed one (a new one opening hides the others)."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(polls).where(
                polls.c.wall == wall, polls.c.state.in_(("open", "closed")))
                .order_by(polls.c.id.desc()).limit(1))).first()
        return None if row is None else _poll(row)

    async def set_state(self, wall: str, poll_id: int, state: State, now: float | None = None) -> Poll:
        """Move a poll to `state`; opening one hides every other open or closed poll of the wall.
        LookupError for an unknown poll."""
        at = clock(now)
        async with self.engine.begin() as conn:
            row = (await conn.execute(sa.select(polls).where(polls.c.wall == wall,
                                                             polls.c.id == poll_id))).first()
            if row is None:
                raise LookupError(f"wall {wall} has no poll {poll_id}")
            values: dict[str, object] = {"state": state}
            if state == "open":
                await conn.execute(polls.update().where(
                    polls.c.wall == wall, polls.c.id != poll_id, polls.c.state.in_(("open", "closed")))
                    .values(state="hidden"))
                values["opened_at"] = row.opened_at or at
                values["closed_at"] = None
            elif state in ("closed", "hidden") and row.state == "open":
                values["closed_at"] = at
            await conn.execute(polls.update().where(polls.c.id == poll_id).values(**values))
            row = (await conn.execute(sa.select(polls).where(polls.c.id == poll_id))).one()
        return _poll(row)

    # --- the curation writer's (fenced) ---------------------------------------------------------------

    async def counting(self, wall: str) -> list[Poll]:
        """The polls the wall's writer counts votes for."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(polls).where(polls.c.wall == wall,
                                                              polls.c.counting.is_(True)))).all()
        return [_poll(r) for r in rows]

    async def set_counting(self, wall: str, token: int, poll_id: int, counting: bool) -> None:
        """Start or stop counting a poll's votes; stopping freezes its results (votes per option)."""
        async with self.engine.begin() as conn:
            await self._fence(conn, wall, token)
            row = (await conn.execute(sa.select(polls).where(polls.c.wall == wall,
                                                             polls.c.id == poll_id))).first()
            if row is None or bool(row.counting) == counting:  # replayed: already so
                return
            values: dict[str, object] = {"counting": counting, "results": None}
            if not counting:
                values["results"] = json.dumps(await _counts(conn, _poll(row)))
            await conn.execute(polls.update().where(polls.c.wall == wall, polls.c.id == poll_id)
                               .values(**values))

    async def votes(self, poll_id: int) -> list[Vote]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(poll_votes).where(poll_votes.c.poll_id == poll_id))).all()
        return [Vote(r.author, r.post_id, r.option) for r in rows]

    async def write(self, wall: str, token: int, changes: list[tuple[int, str, Vote | None]]) -> None:
        """Apply the writer's vote changes (poll id, author, their vote now or None: none) in one
        transaction, under its fencing token."""
        async with self.engine.begin() as conn:
            await self._fence(conn, wall, token)
            for poll_id, author, vote in changes:
                where = (poll_votes.c.poll_id == poll_id, poll_votes.c.author == author)
                await conn.execute(poll_votes.delete().where(*where))
                if vote is not None:
                    await conn.execute(poll_votes.insert().values(poll_id=poll_id, author=author,
                                                                  post_id=vote.post_id, option=vote.option))

    async def _fence(self, conn: AsyncConnection, wall: str, token: int) -> None:
        insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(poll_fences)
        result = await conn.execute(insert.values(wall=wall, token=token).on_conflict_do_update(
            index_elements=["wall"], set_={"token": insert.excluded.token},
            where=poll_fences.c.token <= insert.excluded.token))
        if result.rowcount != 1:
            raise Superseded(f"wall {wall}: poll votes written by a newer writer than token {token}")

    # --- results ------------------------------------------------------------------------------------

    async def tallies(self, poll: Poll) -> list[int]:
        """Votes per option, in the options' order: the frozen results once counting stopped."""
        if poll.results is not None:
            return list(poll.results)
        async with self.engine.connect() as conn:
            return await _counts(conn, poll)

    # --- privacy ------------------------------------------------------------------------------------

    async def erase(self, wall: str, author: str) -> int:
        """Remove the author's votes in the wall's polls; how many."""
        ids = sa.select(polls.c.id).where(polls.c.wall == wall).scalar_subquery()
        async with self.engine.begin() as conn:
            result = await conn.execute(poll_votes.delete().where(poll_votes.c.author == author.lower(),
                                                                  poll_votes.c.poll_id.in_(ids)))
        return result.rowcount

    async def purge(self, wall: str, before: float) -> int:
        """Remove the votes of the wall's polls that stopped counting before `before`; how many."""
        ids = sa.select(polls.c.id).where(polls.c.wall == wall, polls.c.counting.is_(False),
                                          polls.c.closed_at < before).scalar_subquery()
        async with self.engine.begin() as conn:
            result = await conn.execute(poll_votes.delete().where(poll_votes.c.poll_id.in_(ids)))
        return result.rowcount


async def _counts(conn: AsyncConnection, poll: Poll) -> list[int]:
    counts = [0] * len(poll.options)
    rows = (await conn.execute(sa.select(poll_votes.c.option, sa.func.count())
                               .where(poll_votes.c.poll_id == poll.id).group_by(poll_votes.c.option))).all()
    for option, n in rows:
        if 0 <= option < len(counts):
            counts[option] = int(n)
    return counts


def _poll(row: sa.Row[tuple[object, ...]]) -> Poll:
    options = tuple(Option(str(o["label"]), tuple(o["words"])) for o in json.loads(row.options))
    results = None if row.results is None else tuple(int(n) for n in json.loads(row.results))
    return Poll(row.id, row.wall, row.question, options, row.state, bool(row.counting), row.created_by,
                row.created_at, row.opened_at, row.closed_at, results)
