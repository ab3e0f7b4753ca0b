"""What the console asks of the moderation service (wall/curate/actions.py `Actions` provides it).

The web node does not import curation (tests/test_architecture.py): the composition root builds the
service and hands it in as app[ACTIONS]. Every method takes the acting username and writes one audit
record; decisions reach the wall's curation writer through its inbox.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

from aiohttp import web

DECISIONS = ("approve", "reject", "hide", "unhide", "pin", "unpin", "spotlight", "unspotlight")
CONTROLS = ("pause", "resume", "next", "scene", "clear_scene", "announce", "clear_announcement", "panic",
            "release", "spotlight_next", "countdown", "clear_countdown", "widgets", "rundown_next",
            "rundown_prev", "rundown_go", "rundown_auto", "qa_next", "poll_open", "poll_close", "poll_hide",
            "meter_on", "meter_off")
# Q&A (docs/qa.md): what a moderator (curator) does to a question, and what a presenter may do too
QA_MODERATE = ("approve", "reject", "merge", "up", "down", "top")
QA_PRESENT = ("show", "answered", "hide")
LABELS = ("positive", "neutral", "negative")


class Moderation(Protocol):
    async def queue(self, wall: str, limit: int = 200, q: str | None = None,
                    status: str | None = None) -> list[dict[str, Any]]:
        """Recent posts of the wall, pending, rejected and hidden ones too, newest first."""
        ...

    def subscribe_queue(self, wall: str) -> AsyncIterator[dict[str, Any]]:
        """Live queue items: new posts and every curator's decisions."""
        ...

    async def decide(self, wall: str, post_id: str, actor: str, action: str, expected_version: int | None,
                     seconds: float | None = None) -> dict[str, Any]:
        """Apply a decision; raises wall.store.decisions.Conflict when expected_version is stale."""
        ...

    async def ban(self, wall: str, author: str, actor: str, reason: str = "") -> Any: ...

    async def unban(self, wall: str, author: str, actor: str) -> Any: ...

    async def optouts(self, wall: str) -> list[dict[str, Any]]:
        """Who is opted out of the wall now: [{author, reason ("tag" | "request"), by, since, until}]."""
        ...

    async def opt_out(self, wall: str, author: str, actor: str, days: float | None = None) -> Any: ...

    async def opt_in(self, wall: str, author: str, actor: str) -> Any: ...

    async def block_word(self, wall: str, word: str, actor: str) -> Any: ...

    async def unblock_word(self, wall: str, word: str, actor: str) -> Any: ...

    async def set_policy(self, wall: str, actor: str, mode: str, settings: dict[str, Any]) -> Any: ...

    async def correct_sentiment(self, wall: str, post_id: str, actor: str, label: str) -> Any: ...

    async def policy(self, wall: str) -> dict[str, Any]:
        """{"mode": "pre"|"post", "settings", "banned": [{author, reason, ...}], "blocked_words"}."""
        ...

    async def control_state(self, wall: str) -> dict[str, Any]:
        """The wall's stored live controls: paused, panic, scene, announcement, spotlight…"""
        ...

    async def labelled_lines(self, wall: str) -> list[dict[str, Any]]: ...

    async def sentiment_model(self, wall: str) -> dict[str, Any]: ...

    async def roll_back_model(self, wall: str, actor: str) -> dict[str, Any]: ...

    async def polls(self, wall: str) -> list[dict[str, Any]]:
        """The wall's polls, the newest first, with their votes per option (docs/polls.md)."""
        ...

    async def create_poll(self, wall: str, actor: str, question: str,
                          options: list[dict[str, Any]]) -> dict[str, Any]:
        """Prepare a poll (opened with the control op poll_open and its id)."""
        ...

    async def polls_csv(self, wall: str) -> str: ...

    async def control(self, wall: str, actor: str, op: str, value: str | None = None) -> dict[str, Any]:
        """One of CONTROLS, audited with `actor`; the wall's control state afterwards. The console's
        presenter page and the control API (wall/web/control_api.py) both call this."""
        ...

    async def rundown(self, wall: str) -> list[dict[str, Any]]:
        """The wall's rundown items in order, speaker notes included (console only)."""
        ...

    async def edit_rundown(self, wall: str, actor: str, change: str, item_id: int | None = None,
                           fields: dict[str, Any] | None = None,
                           position: int | None = None) -> dict[str, Any]:
        """add, edit, remove or move one rundown item, audited; the items afterwards."""
        ...

    async def qa_queue(self, wall: str) -> list[dict[str, Any]]:
        """The wall's Q&A questions in the queue's order (docs/qa.md)."""
        ...

    async def qa_act(self, wall: str, actor: str, number: int, action: str,
                     into: int | None = None) -> dict[str, Any]:
        """One of QA_MODERATE or QA_PRESENT on question `number`, audited; the question afterwards."""
        ...


ACTIONS = web.AppKey("actions", Moderation)
