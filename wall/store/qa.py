"""The Q&A queue of each wall: questions the curation writer found in its posts, the audience's upvotes,
and what moderators and the presenter did with them (docs/qa.md).

Contract:
- `take(wall, post, now)` is called by the curation writer for every post routed to the wall, before it
  commits the post's inbox entry. It is idempotent by post id: a post that asks becomes one question
  (numbered 1, 2, … per wall, the number the audience quotes) however often it is applied (a writer
  takeover applies the last entries again); an upvote is kept once per voter and question (the key),
  so the count is exact across takeovers and restarts. A vote names its question by number ("+1 Q3") or
  replies to the question's post (Post.reply_to); a person's vote for their own question is not kept.
- A question's `votes` are the distinct voters of it and of the questions merged into it.
- Statuses: new (waiting for a moderator) -> approved -> showing (on screen, one per wall) -> answered;
  rejected and merged leave the queue. Moderators' order (`move`) ranks the open questions; unranked
  ones follow by votes, then number.
- `erase(wall, post_ids, author)` and `before(wall, cutoff)` remove a person's data (erasure, retention).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from wall.models import Post, author_key
from wall.questions import is_question, upvote
from wall.store.base import clock, insert_new
from wall.store.schema import qa_questions, qa_votes

Status = Literal["new", "approved", "showing", "answered", "rejected", "merged"]
OPEN = ("new", "approved")
MOVES = ("up", "down", "top")
MAX_TEXT = 1000


class NoQuestion(LookupError):
    """The wall has no question of that number (or none fits the request)."""


@dataclass(frozen=True, slots=True)
class Question:
    wall: str
    number: int
    post_id: str
    author: str
    name: str
    text: str
    lang: str | None
    status: Status
    merged_into: int | None
    rank: int | None
    asked_at: float
    votes: int = 0


@dataclass(frozen=True, slots=True)
class Taken:
    """What one post did to the queue: the question it asked, or the question it voted for."""

    asked: int | None = None
    voted: int | None = None


class QA:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def take(self, wall: str, post: Post, now: float | None = None) -> Taken:
        """Keep the post's question or upvote, if it is one (module doc)."""
        voter = author_key(post)
        is_vote, number = upvote(post.text)
        if is_vote and number is None and not post.reply_to:
            return Taken()
        if not is_vote and not is_question(post.text, post.lang):  # most posts: no SQL at all
            return Taken()
        async with self.engine.begin() as conn:
            if is_vote:
                q = qa_questions.c
                where = q.number == number if number is not None else q.post_id == post.reply_to
                row = (await conn.execute(sa.select(q.number, q.author, q.merged_into)
                                          .where(q.wall == wall, where))).first()
                if row is None or row.author == voter:
                    return Taken()
                await insert_new(conn, qa_votes, {"wall": wall, "number": row.number, "voter": voter,
                                                  "post_id": post.id, "at": clock(now)},
                                 keys=("wall", "number", "voter"))
                return Taken(voted=row.merged_into or row.number)
            q = qa_questions.c
            found = (await conn.execute(sa.select(q.number).where(q.wall == wall, q.post_id == post.id))
                     ).scalar()
            if found is not None:
                return Taken(asked=found)
            last = (await conn.execute(sa.select(sa.func.max(q.number)).where(q.wall == wall))).scalar()
            number = (last or 0) + 1
            await conn.execute(qa_questions.insert().values(
                wall=wall, number=number, post_id=post.id, author=voter,
                name=post.author.handle or post.author.name, text=post.text[:MAX_TEXT], lang=post.lang,
                status="new", merged_into=None, rank=None, asked_at=clock(now), updated_at=clock(now)))
            return Taken(asked=number)

    async def questions(self, wall: str, statuses: Sequence[str] = ()) -> list[Question]:
        """The wall's questions in the queue's order (module doc), of `statuses` (all when empty)."""
        async with self.engine.connect() as conn:
            return _ordered(await _all(conn, wall), statuses)

    async def get(self, wall: str, number: int) -> Question:
        found = [x for x in await self.questions(wall) if x.number == number]
        if not found:
            raise NoQuestion(f"wall {wall} has no question Q{number}")
        return found[0]

    async def showing(self, wall: str) -> Question | None:
        """The question on screen, if any."""
        found = await self.questions(wall, ("showing",))
        return found[0] if found else None

    async def set_status(self, wall: str, number: int, status: Status, now: float | None = None) -> Question:
        """Approve, reject, show (the one showing before goes back to approved) or mark answered."""
        await self.get(wall, number)
        q = qa_questions.c
        async with self.engine.begin() as conn:
            if status == "showing":
                await conn.execute(qa_questions.update().where(q.wall == wall, q.status == "showing")
                                   .values(status="approved", updated_at=clock(now)))
            await conn.execute(qa_questions.update().where(q.wall == wall, q.number == number)
                               .values(status=status, updated_at=clock(now)))
        return await self.get(wall, number)

    async def merge(self, wall: str, number: int, into: int, now: float | None = None) -> Question:
        """Merge question `number` (a duplicate) into `into`: its voters count for `into` from now on."""
        if number == into:
            raise ValueError("a question cannot be merged into itself")
        target = await self.get(wall, into)
        if target.status == "merged":
            raise ValueError(f"Q{into} is merged into Q{target.merged_into}; merge into that one")
        await self.get(wall, number)
        q = qa_questions.c
        async with self.engine.begin() as conn:
            await conn.execute(qa_questions.update().where(
                q.wall == wall, sa.or_(q.number == number, q.merged_into == number))
                .values(status="merged", merged_into=into, rank=None, updated_at=clock(now)))
        return await self.get(wall, into)

    async def move(self, wall: str, number: int, how: str, now: float | None = None) -> list[Question]:
        """Move an open question up, down or to the top of the queue; the open questions as ordered now."""
        if how not in MOVES:
            raise ValueError(f"move {how!r} is not one of {', '.join(MOVES)}")
        queue = await self.questions(wall, OPEN)
        at = next((i for i, x in enumerate(queue) if x.number == number), None)
        if at is None:
            raise NoQuestion(f"wall {wall} has no open question Q{number}")
        moved = queue.pop(at)
        queue.insert({"up": max(0, at - 1), "down": at + 1, "top": 0}[how], moved)
        q = qa_questions.c
        async with self.engine.begin() as conn:
            for rank, x in enumerate(queue):
                await conn.execute(qa_questions.update().where(q.wall == wall, q.number == x.number)
                                   .values(rank=rank, updated_at=clock(now)))
        return [replace(x, rank=i) for i, x in enumerate(queue)]

    async def erase(self, wall: str, post_ids: Sequence[str], author: str) -> int:
        """Remove the author's questions and votes and the posts' (erasure); how many rows went."""
        q, v = qa_questions.c, qa_votes.c
        async with self.engine.begin() as conn:
            asked = (await conn.execute(qa_questions.delete().where(
                q.wall == wall, sa.or_(q.author == author, q.post_id.in_(list(post_ids)))))).rowcount
            voted = (await conn.execute(qa_votes.delete().where(
                v.wall == wall, sa.or_(v.voter == author, v.post_id.in_(list(post_ids)))))).rowcount
        return asked + voted

    async def before(self, wall: str, cutoff: float) -> int:
        """Remove the wall's questions asked and votes cast before `cutoff` (retention); how many."""
        q, v = qa_questions.c, qa_votes.c
        async with self.engine.begin() as conn:
            asked = (await conn.execute(qa_questions.delete().where(q.wall == wall, q.asked_at < cutoff))
                     ).rowcount
            voted = (await conn.execute(qa_votes.delete().where(v.wall == wall, v.at < cutoff))).rowcount
        return asked + voted


async def _all(conn: AsyncConnection, wall: str) -> list[Question]:
    rows = (await conn.execute(sa.select(qa_questions).where(qa_questions.c.wall == wall))).all()
    votes = (await conn.execute(sa.select(qa_votes.c.number, qa_votes.c.voter)
                                .where(qa_votes.c.wall == wall))).all()
    root = {r.number: r.merged_into or r.number for r in rows}
    voters: dict[int, set[str]] = {}
    for number, voter in votes:
        voters.setdefault(root.get(number, number), set()).add(voter)
    return [Question(wall, r.number, r.post_id, r.author, r.name, r.text, r.lang, r.status, r.merged_into,
                     r.rank, r.asked_at, len(voters.get(r.number, ()))) for r in rows]


def _ordered(found: list[Question], statuses: Sequence[str]) -> list[Question]:
    kept = [x for x in found if not statuses or x.status in statuses]
    return sorted(kept, key=lambda x: (x.rank is None, x.rank or 0, -x.votes, x.number))
