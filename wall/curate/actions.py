"""The moderation service the console calls: every curator and presenter action, durable and audited.

Contract (what the console may rely on):
- Every state-changing method takes `actor` (a username), writes the store first (decisions with
  compare-and-set, bans, policy, blocked words, sentiment labels, live controls), then one audit record
  (who, when, what, before, after), then one entry in the wall's inbox. The curation writer, still the
  only writer of the display stream, applies inbox entries in order and emits post/update/retract/control
  events, so a decision reaches every screen of every web node. The entry tells the writer *what*
  changed; the writer reads the state from the store, so an entry applied twice (a lease move) or two
  quick decisions in a row end in the newest stored state.
- `decide(..., expected_version=v)` raises `wall.store.decisions.Conflict` when the post's decision is no
  longer at version `v` (0: no decision yet; None: overwrite). `Conflict.current` is the other decision,
  so the console can say who decided meanwhile instead of overwriting it. Nothing is written then.
- Unknown walls raise `UnknownWall`, posts the wall no longer keeps `UnknownPost`, bad arguments
  `ValueError` with a message fit for the curator (all three are the caller's 4xx, never a 5xx).
- If the inbox cannot be written (the bus is down) the method raises after the store was written: the
  decision stands and the writer applies it when it next leads the wall (it re-evaluates its recent
  posts and republishes the stored control state every time it takes the lease).
- Opt-outs (`opt_out`, `opt_in`; docs/optout.md) are an admin's: the console route requires the role;
  `wall optout` is for whoever runs the wall (it reads the config and the store).
- Reads (`queue`, `policy`, `control_state`, `labelled_lines`, `optouts`) write no audit record.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import time
from collections.abc import AsyncIterator
from typing import Any

import msgspec

from wall.bus.base import RECENT_KEPT, Engine
from wall.config import OPTOUT_MAX_DAYS, Config
from wall.curate import rules
from wall.curate.ballot import OPTIONS_MAX, OPTIONS_MIN, Ballot
from wall.curate.moderation import stored_mode
from wall.curate.stage import STAGE_OPS, rundown_check, stage_change
from wall.media.signing import MEDIA_SECRET, proxied
from wall.models import (
    InboxControl,
    InboxDecision,
    InboxModeration,
    InboxPoll,
    Post,
    RecentPost,
    decode_queue,
    decode_recent,
    encode,
)
from wall.screen import SCENES
from wall.store import Store
from wall.store.audit import Event
from wall.store.bans import EVERY_WALL
from wall.store.controls import ControlState
from wall.store.decisions import KEEP, Decision, Keep, Status
from wall.store.labels import LABELS
from wall.store.optouts import OptOut
from wall.store.polls import Option, Poll, State
from wall.store.qa import MOVES, Question

ACTIONS = ("approve", "reject", "hide", "unhide", "pin", "unpin", "spotlight", "unspotlight")
CONTROL_OPS = ("pause", "resume", "next", "scene", "clear_scene", "announce", "clear_announcement", "panic",
               "release", "spotlight_next", *STAGE_OPS, "qa_next", "poll_open", "poll_close", "poll_hide",
               "meter_on", "meter_off")
# What moderators and presenters do with a Q&A question (docs/qa.md); "merge" takes the number it joins.
QA_ACTIONS = ("approve", "reject", "show", "answered", "hide", "up", "down", "top", "merge")
POLL_OPS: dict[str, State] = {"poll_open": "open", "poll_close": "closed", "poll_hide": "hidden"}
QUESTION_MAX, LABEL_MAX, WORDS_MAX = 200, 60, 20
SPOTLIGHT_SECONDS = 20.0  # when the console does not say how long
SPOTLIGHT_MAX = 3600.0
TEXT_MAX = 280  # announcements and panic slide text
PANIC_TEXT = "We'll be right back."


class UnknownWall(LookupError):
    """No wall of that name in the config."""


class UnknownPost(LookupError):
    """The wall no longer keeps that post (it is older than its last RECENT_KEPT posts) or never had it."""


class Actions:
    """Curation and presenter actions over the store and the bus (see the module doc)."""

    def __init__(self, store: Store, engine: Engine, cfg: Config) -> None:
        self.store = store
        self.engine = engine
        self.cfg = cfg
        self._media_secret = cfg.media.secret

    async def _item(self, record: RecentPost, decided: Decision | None) -> dict[str, Any]:
        """item() with the post's images through the wall's own signed /media URLs, as screens get them:
        curators' browsers never fetch an original (docs/media.md)."""
        if self._media_secret is None:
            self._media_secret = await self.engine.shared_secret(MEDIA_SECRET)
        return item(msgspec.structs.replace(record, post=proxied(record.post, self._media_secret)), decided)

    # -- reads ----------------------------------------------------------------------------------------

    async def queue(self, wall: str, limit: int = 200, q: str | None = None,
                    status: str | None = None) -> list[dict[str, Any]]:
        """Recent posts of the wall, held/rejected/hidden ones too, newest first, each a queue item
        (see item()), with the store's current decision (so its version is the one to send back).
        `q` searches text, author name and handle (case-insensitive); `status` keeps one status."""
        self._wall(wall)
        records = [decode_recent(b) for b in await self.engine.recent(wall, RECENT_KEPT)]
        if q:
            needle = q.casefold()
            records = [r for r in records if needle in r.post.text.casefold()
                       or needle in r.post.author.name.casefold()
                       or needle in r.post.author.handle.casefold()]
        stored = await self.store.decisions.get_many(wall, [r.post.id for r in records])
        items = [await self._item(r, stored.get(r.post.id)) for r in records]
        if status:
            items = [i for i in items if i["status"] == status]
        return items[:max(0, limit)]

    async def subscribe_queue(self, wall: str) -> AsyncIterator[dict[str, Any]]:
        """Live queue messages from the wall's writer, whichever process runs it: a queue item (type
        "item") for each new post and each decision applied, the control state (type "control") when it
        changes, and {"type": "resync"} after the bus connection was lost (reload queue())."""
        self._wall(wall)
        async for body in self.engine.subscribe_queue(wall):
            if body is None:
                yield {"type": "resync"}
                continue
            try:
                message = decode_queue(body)
            except (msgspec.DecodeError, msgspec.ValidationError):
                continue
            if isinstance(message, RecentPost):
                yield await self._item(message, None)
            else:
                yield {"type": "control", **msgspec.to_builtins(message)}

    async def policy(self, wall: str) -> dict[str, Any]:
        """The wall's policy now: {"mode": "pre"|"post", "settings", "banned", "blocked_words"}."""
        self._wall(wall)
        mode, settings = await stored_mode(self.store, wall, self.cfg.walls[wall].moderation)
        bans = await self.store.bans.list(wall)
        words = await self.store.rules.blocked_words(wall)
        return {"mode": mode, "settings": settings, "blocked_words": words,
                "banned": [{"wall": b.wall, "author": b.author, "reason": b.reason, "by": b.by, "at": b.at}
                           for b in bans]}

    async def control_state(self, wall: str) -> dict[str, Any]:
        """The wall's stored live controls (what its next control event carries)."""
        self._wall(wall)
        return _control_dict(await self.store.controls.get(wall))

    async def labelled_lines(self, wall: str) -> list[dict[str, str | None]]:
        """Curators' corrected labels as {"text", "label", "lang"} lines for `wall sentiment fit`."""
        self._wall(wall)
        return [{"text": lab.text, "label": lab.label, "lang": lab.lang}
                for lab in await self.store.labels.list(wall, kinds=("correction",))]

    async def sentiment_model(self, wall: str) -> dict[str, Any]:
        """The wall's sentiment model as the console shows it ("v7, 1,240 labels, 0.71 on held-out
        corrections, German and English"), with the corrections stored so far."""
        self._wall(wall)
        current = await self.store.labels.current_model(wall)
        corrections = await self.store.labels.count(wall, ("correction",))
        if current is None:
            summary = "the shipped model (English), no version learned yet"
        else:
            names = sorted(current.languages)
            tongues = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
            summary = (f"v{current.version}, {current.labels:,} labels, {current.accuracy:.2f} on held-out "
                       f"corrections (was {current.baseline:.2f}), {tongues}")
        return {"version": current.version if current else None, "summary": summary,
                "corrections": corrections}

    async def roll_back_model(self, wall: str, actor: str) -> dict[str, Any]:
        """Stop using the wall's current sentiment model version: the one before it (or the shipped model)
        scores from the learner's next poll. ValueError when there is nothing to roll back."""
        before = await self.sentiment_model(wall)
        await self.store.labels.roll_back(wall, actor)
        after = await self.sentiment_model(wall)
        await self.store.audit.record(Event("sentiment.rollback", actor, wall, None,
                                            before={"version": before["version"]},
                                            after={"version": after["version"]}))
        return after

    # -- curation ---------------------------------------------------------------------------------------

    async def decide(self, wall: str, post_id: str, actor: str, action: str, expected_version: int | None,
                     seconds: float | None = None) -> dict[str, Any]:
        """Apply a curator's action on a post (approve, reject, hide, unhide, pin, unpin, spotlight for
        `seconds`, unspotlight); returns the queue item as it will be. Raises Conflict (module doc)."""
        self._wall(wall)
        if action not in ACTIONS:
            raise ValueError(f"action {action!r} is not one of {', '.join(ACTIONS)}")
        record = await self._recent(wall, post_id)
        before = await self.store.decisions.get(wall, post_id)
        now = time.time()
        status: Status | Keep = KEEP
        pinned: bool | Keep = KEEP
        until: float | Keep | None = KEEP
        match action:
            case "approve" | "unhide":
                status = "approved"
            case "reject":
                status, pinned = "rejected", False
            case "hide":
                status, pinned = "hidden", False
            case "pin":  # a pinned post is on screen: pinning approves it
                status, pinned = "approved", True
            case "unpin":
                pinned = False
            case "spotlight":  # shown big on every screen: the curator has looked, so it is approved
                length = SPOTLIGHT_SECONDS if seconds is None else float(seconds)
                if not 0 < length <= SPOTLIGHT_MAX:
                    raise ValueError(f"seconds: {seconds!r} is out of range; use 1 to {SPOTLIGHT_MAX:g}")
                status, until = "approved", now + length
            case "unspotlight":
                until = None
        if before is None and status is KEEP:  # a first decision keeps the status the post has now
            status = record.post.status
        decided = await self.store.decisions.decide(wall, post_id, status, actor, expected_version,
                                                    pinned=pinned, spotlight_until=until, now=now)
        if action in ("spotlight", "unspotlight"):
            await self.store.controls.change(wall, actor, lambda s: _spotlight(s, post_id, decided))
        await self.store.audit.record(Event("decide", actor, wall, post_id, before=_decision_dict(before),
                                            after={"action": action, **(_decision_dict(decided) or {})}))
        await self.engine.enqueue(wall, encode(InboxDecision(post_id)))
        if action in ("spotlight", "unspotlight"):
            await self.engine.enqueue(wall, encode(InboxControl(action)))
        await self._weak_label(wall, record.post, actor, action)
        return await self._item(record, decided)

    async def _weak_label(self, wall: str, post: Post, actor: str, action: str) -> None:
        """Approving leaves the post's label as it was: a weak confirmation of it; rejecting reads as a weak
        negative. Always kept (a correction outranks them); a wall learns from them only when its
        `[walls.W.enrich.learning] weak_labels` says so."""
        if action == "approve" and post.sentiment is not None:
            await self.store.labels.put(wall, post.id, post.text, post.sentiment.label, actor,
                                        kind="approval", lang=post.lang)
        elif action == "reject":
            await self.store.labels.put(wall, post.id, post.text, "negative", actor, kind="rejection",
                                        lang=post.lang)

    async def correct_sentiment(self, wall: str, post_id: str, actor: str, label: str) -> dict[str, Any]:
        """Store a curator's sentiment label for the post (shown on screens through an update, and kept
        with its text for `labelled_lines`)."""
        self._wall(wall)
        if label not in LABELS:
            raise ValueError(f"label {label!r} is not one of {', '.join(LABELS)}")
        record = await self._recent(wall, post_id)
        before = await self.store.decisions.get(wall, post_id)
        status: Status | Keep = KEEP if before is not None else record.post.status
        decided = await self.store.decisions.decide(wall, post_id, status, actor, None, sentiment_label=label)
        await self.store.labels.put(wall, post_id, record.post.text, label, actor, lang=record.post.lang)
        was = before.sentiment_label if before and before.sentiment_label else \
            (record.post.sentiment.label if record.post.sentiment else None)
        await self.store.audit.record(Event("sentiment", actor, wall, post_id, before={"label": was},
                                            after={"label": label}))
        await self.engine.enqueue(wall, encode(InboxDecision(post_id)))
        return await self._item(record, decided)

    async def ban(self, wall: str, author: str, actor: str, reason: str = "") -> dict[str, Any]:
        """Ban an author ("network:handle") on the wall, or on every wall with wall "*": their posts are
        retracted from every screen and new ones held."""
        walls = self._walls_of(wall)
        author = _author(author)
        before = await self._banned(wall, author)
        ban = await self.store.bans.ban(wall, author, reason[:500], actor)
        await self.store.audit.record(Event("ban", actor, wall, author, before=before,
                                            after={"reason": ban.reason}))
        for w in walls:
            await self.engine.enqueue(w, encode(InboxModeration("ban")))
        return {"wall": wall, "author": author, "reason": ban.reason, "by": actor, "at": ban.at}

    async def unban(self, wall: str, author: str, actor: str) -> dict[str, Any]:
        """Lift a ban (on exactly that wall, or "*"); the author's recent posts are re-evaluated."""
        walls = self._walls_of(wall)
        author = _author(author)
        before = await self._banned(wall, author)
        lifted = await self.store.bans.unban(wall, author)
        await self.store.audit.record(Event("unban", actor, wall, author, before=before, after=None))
        for w in walls:
            await self.engine.enqueue(w, encode(InboxModeration("unban")))
        return {"wall": wall, "author": author, "lifted": lifted}

    async def block_word(self, wall: str, word: str, actor: str) -> dict[str, Any]:
        """Hold the wall's posts containing `word` (on word boundaries, any case); on screen ones go."""
        return await self._words(wall, word, actor, block=True)

    async def unblock_word(self, wall: str, word: str, actor: str) -> dict[str, Any]:
        """Stop holding posts for `word`; posts it held come back (unless another rule holds them)."""
        return await self._words(wall, word, actor, block=False)

    async def _words(self, wall: str, word: str, actor: str, block: bool) -> dict[str, Any]:
        self._wall(wall)
        word = _word(word)
        before = await self.store.rules.blocked_words(wall)
        await (self.store.rules.block_word if block else self.store.rules.unblock_word)(wall, word)
        after = await self.store.rules.blocked_words(wall)
        action = "block_word" if block else "unblock_word"
        await self.store.audit.record(Event(action, actor, wall, word, before=before, after=after))
        await self.engine.enqueue(wall, encode(InboxModeration("words")))
        return {"wall": wall, "blocked_words": after}

    async def set_policy(self, wall: str, actor: str, mode: str,
                         settings: dict[str, Any] | None = None) -> dict[str, Any]:
        """Store the wall's moderation policy: mode "pre" or "post" and settings (hold_flags,
        min_sentiment, hold_links, hold_media, hold_unknown_authors, trusted_authors, allowed_words;
        ValueError names an unknown or bad key). The writer re-evaluates what is on screen."""
        self._wall(wall)
        checked = rules.policy_from(mode, settings or {}, where="policy")
        before_mode, before_settings = await stored_mode(self.store, wall, self.cfg.walls[wall].moderation)
        after = checked.settings()
        await self.store.rules.set_policy(wall, "pre" if mode == "pre" else "auto", after)
        await self.store.audit.record(Event("policy", actor, wall, None,
                                            before={"mode": before_mode, "settings": before_settings},
                                            after={"mode": mode, "settings": after}))
        await self.engine.enqueue(wall, encode(InboxModeration("policy")))
        return {"mode": mode, "settings": after}

    # -- opt-outs (docs/optout.md) ------------------------------------------------------------------------

    async def optouts(self, wall: str) -> list[dict[str, Any]]:
        """Who is opted out of the wall now, the newest first: author, reason ("tag": their own post
        carried the wall's opt-out tag; "request": an admin added them), by, since, until."""
        self._wall(wall)
        return [_optout_dict(o) for o in await self.store.optouts.current(wall)]

    async def opt_out(self, wall: str, author: str, actor: str, days: float | None = None) -> dict[str, Any]:
        """Opt an author ("network:handle") out of the wall at their request, for `days` (the wall's
        [walls.W.optout] days unless given; one already running longer stays): their posts are retracted
        from every screen at once and new ones are not shown or kept."""
        self._wall(wall)
        author = _author(author)
        days = self.cfg.walls[wall].optout.days if days is None else days
        if not 0 < days <= OPTOUT_MAX_DAYS:
            raise ValueError(f"days: more than 0 and at most {OPTOUT_MAX_DAYS:g}, got {days:g}")
        before = await self._opted_out(wall, author)
        optout = await self.store.optouts.add(wall, author, "request", actor, time.time() + days * 86_400)
        after = _optout_dict(optout)
        await self.store.audit.record(Event("optout.add", actor, wall, author, before=before, after=after))
        await self.engine.enqueue(wall, encode(InboxModeration("optout")))
        return after

    async def opt_in(self, wall: str, author: str, actor: str) -> dict[str, Any]:
        """End an author's opt-out of the wall early: their new posts may show again (what they posted
        while opted out was not kept, so nothing comes back)."""
        self._wall(wall)
        author = _author(author)
        removed = await self.store.optouts.remove(wall, author)
        await self.store.audit.record(Event("optout.remove", actor, wall, author,
                                            before=None if removed is None else _optout_dict(removed)))
        await self.engine.enqueue(wall, encode(InboxModeration("optout")))
        return {"wall": wall, "author": author, "removed": removed is not None}

    # -- presenter --------------------------------------------------------------------------------------

    async def control(self, wall: str, actor: str, op: str, value: str | None = None) -> dict[str, Any]:
        """A presenter's live control: pause, resume, next, scene VALUE (one of the page's SCENES),
        clear_scene (back to the run of show), announce VALUE, clear_announcement, panic [VALUE: the
        slide's text], release, spotlight_next (see spotlight_next()), meter_on / meter_off (the reaction
        meter's overlay), and the stage's ops (countdown, widgets, the rundown's steps:
        wall/curate/stage.py). Returns the new control state.
        The console's presenter page and the control API for stage hardware both come here."""
        self._wall(wall)
        if op not in CONTROL_OPS:
            raise ValueError(f"op {op!r} is not one of {', '.join(CONTROL_OPS)}")
        text = None if value is None else " ".join(str(value).split())[:TEXT_MAX]
        if op in ("scene", "announce") and not text:
            raise ValueError(f"{op} needs a value (the {'scene name' if op == 'scene' else 'text'})")
        if op == "scene" and text not in SCENES:
            raise ValueError(f"scene {text!r} is not a scene; use one of {', '.join(SCENES)}")
        if op == "scene" and text == "leaders" and not self.cfg.walls[wall].screen.show.leaderboard:
            raise ValueError(f"the leaders scene is off for wall {wall}; "
                             f"set [walls.{wall}.show] leaderboard = true")
        if op == "spotlight_next":
            await self.spotlight_next(wall, actor)
            return _control_dict(await self.store.controls.get(wall))
        if op == "qa_next":
            await self.qa_next(wall, actor)
            return _control_dict(await self.store.controls.get(wall))
        if op in POLL_OPS:
            poll = await self.set_poll(wall, actor, POLL_OPS[op], _poll_id(text) if text else None)
            return {**_control_dict(await self.store.controls.get(wall)), "poll": poll}
        if op in STAGE_OPS:  # countdown, widgets, the rundown's steps (wall/curate/stage.py)
            items = await self.store.rundown.items(wall) if op.startswith("rundown_") else []
            if op == "rundown_auto":
                text = (text or "").lower()
            fn = stage_change(op, text, items, time.time())
        else:
            def fn(s: ControlState) -> ControlState:
                return apply_op(s, op, text)
        before, after = await self.store.controls.change(wall, actor, fn)
        await self.store.audit.record(Event(f"control.{op}", actor, wall, None, before=before.state(),
                                            after=after.state()))
        await self.engine.enqueue(wall, encode(InboxControl(op)))
        return _control_dict(after)

    async def spotlight_next(self, wall: str, actor: str) -> dict[str, Any]:
        """Spotlight the next post of the wall's queue of picks, for SPOTLIGHT_SECONDS, as a curator's
        "spotlight" would (decide(), audited the same way): the oldest pinned post never spotlit yet,
        else the newest approved post never spotlit yet. Only posts already on screen qualify, so this
        approves nothing a curator has not seen. LookupError when none is left."""
        self._wall(wall)
        records = [decode_recent(b) for b in await self.engine.recent(wall, RECENT_KEPT)]
        stored = await self.store.decisions.get_many(wall, [r.post.id for r in records])
        picks: list[tuple[RecentPost, Decision | None]] = []
        for record in records:  # newest first
            decided = stored.get(record.post.id)
            status = decided.status if decided else record.post.status
            spotlit = decided.spotlight_until if decided else record.spotlight_until
            if status == "approved" and spotlit is None and not record.deleted and record.folded_into is None:
                picks.append((record, decided))
        pinned = [p for p in picks if (p[1].pinned if p[1] else p[0].post.pinned)]
        if not picks:
            raise LookupError(f"wall {wall} has no post on screen that was not spotlit yet")
        record, decided = pinned[-1] if pinned else picks[0]
        return await self.decide(wall, record.post.id, actor, "spotlight",
                                 decided.version if decided else 0)

    # -- the rundown (docs/rundown.md) ------------------------------------------------------------------

    async def rundown(self, wall: str) -> list[dict[str, Any]]:
        """The wall's rundown items in order, notes included (the console's: never a screen's)."""
        self._wall(wall)
        return [i.dict() for i in await self.store.rundown.items(wall)]

    async def edit_rundown(self, wall: str, actor: str, change: str, item_id: int | None = None,
                           fields: dict[str, Any] | None = None,
                           position: int | None = None) -> dict[str, Any]:
        """add (fields), edit (item_id, fields), remove (item_id) or move (item_id, position) one item;
        audited as rundown.CHANGE with the item before and after. LookupError: no such item."""
        self._wall(wall)
        items = self.store.rundown
        before: dict[str, Any] | None = None
        after: dict[str, Any] | None
        if change in ("edit", "remove", "move"):
            if item_id is None:
                raise ValueError(f"{change} needs the item's id")
            before = next((i.dict() for i in await items.items(wall) if i.id == item_id), None)
            if before is None:
                raise LookupError(f"wall {wall} has no rundown item {item_id}")
        match change:
            case "add" | "edit":
                scene, seconds, title, notes = rundown_check(fields or {})
                if item_id is None or change == "add":
                    after = (await items.add(wall, scene, seconds, title, notes, actor)).dict()
                else:
                    after = (await items.edit(wall, item_id, scene, seconds, title, notes, actor)).dict()
            case "remove":
                assert item_id is not None
                await items.remove(wall, item_id)
                after = None
            case "move":
                assert item_id is not None
                if position is None:
                    raise ValueError("move needs a position (0: first)")
                after = (await items.move(wall, item_id, position)).dict()
            case _:
                raise ValueError(f"change {change!r}: one of add, edit, remove, move")
        await self.store.audit.record(Event(f"rundown.{change}", actor, wall, None, before=before,
                                            after=after))
        return {"change": change, "item": after or before, "items": await self.rundown(wall)}

    # -- Q&A (docs/qa.md) --------------------------------------------------------------------------------

    async def qa_queue(self, wall: str) -> list[dict[str, Any]]:
        """The wall's questions in the queue's order: the one on screen, the open ones (new, approved),
        then answered and rejected; merged ones are listed under the question they joined."""
        self._wall(wall)
        found = await self.store.qa.questions(wall)
        merged: dict[int, list[int]] = {}
        for q in found:
            if q.merged_into is not None:
                merged.setdefault(q.merged_into, []).append(q.number)
        order = {"showing": 0, "new": 1, "approved": 1, "answered": 2, "rejected": 3}
        kept = sorted((q for q in found if q.status != "merged"), key=lambda q: order.get(q.status, 4))
        return [{**_question_dict(q), "merged": sorted(merged.get(q.number, []))} for q in kept]

    async def qa_act(self, wall: str, actor: str, number: int, action: str,
                     into: int | None = None) -> dict[str, Any]:
        """A moderator's or presenter's action on question `number`: approve, reject, show (on the "qa"
        scene, instead of the one shown before), answered (off the screen), hide (off the screen, back
        to approved), up, down, top (the queue's order), merge `into` another question (a duplicate: its
        voters count there). Returns the question as it is now."""
        self._wall(wall)
        if action not in QA_ACTIONS:
            raise ValueError(f"action {action!r} is not one of {', '.join(QA_ACTIONS)}")
        before = await self.store.qa.get(wall, number)
        qa = self.store.qa
        match action:
            case "approve" | "reject" | "answered":
                after = await qa.set_status(wall, number, "approved" if action == "approve" else
                                            "rejected" if action == "reject" else "answered")
            case "show":
                if before.status in ("rejected", "merged"):
                    raise ValueError(f"Q{number} is {before.status}: approve it first")
                after = await qa.set_status(wall, number, "showing")
            case "hide":
                if before.status != "showing":
                    raise ValueError(f"Q{number} is not on screen")
                after = await qa.set_status(wall, number, "approved")
            case "merge":
                if into is None:
                    raise ValueError("merge needs into: the number of the question it duplicates")
                after = await qa.merge(wall, number, into)
            case _:
                assert action in MOVES
                await qa.move(wall, number, action)
                after = await qa.get(wall, number)
        await self.store.audit.record(Event(f"qa.{action}", actor, wall, before.post_id,
                                            before={"number": number, "status": before.status},
                                            after={"number": after.number, "status": after.status}))
        if "showing" in (before.status, after.status) or action == "merge":  # what screens show changed
            await self.engine.enqueue(wall, encode(InboxControl(f"qa.{action}")))
        return _question_dict(after)

    async def qa_next(self, wall: str, actor: str) -> dict[str, Any]:
        """Show the first approved question of the queue; the one on screen is marked answered first.
        LookupError when no approved question is left."""
        self._wall(wall)
        waiting = await self.store.qa.questions(wall, ("approved",))
        if not waiting:
            raise LookupError(f"wall {wall} has no approved question left to show")
        showing = await self.store.qa.showing(wall)
        if showing is not None:
            await self.qa_act(wall, actor, showing.number, "answered")
        return await self.qa_act(wall, actor, waiting[0].number, "show")

    # -- polls (docs/polls.md) --------------------------------------------------------------------------

    async def polls(self, wall: str) -> list[dict[str, Any]]:
        """The wall's polls, the newest first, each with its votes per option."""
        self._wall(wall)
        return [await self._poll_dict(p) for p in await self.store.polls.of_wall(wall)]

    async def create_poll(self, wall: str, actor: str, question: str,
                          options: list[dict[str, Any]]) -> dict[str, Any]:
        """Prepare a poll: a question and 2-6 options, each {"label", "words": vote words, hashtags,
        emoji} (the label votes too). ValueError names what is wrong. It opens with set_poll()."""
        self._wall(wall)
        question = " ".join(str(question).split())
        if not 0 < len(question) <= QUESTION_MAX:
            raise ValueError(f"question: 1 to {QUESTION_MAX} characters")
        if not isinstance(options, list) or not OPTIONS_MIN <= len(options) <= OPTIONS_MAX:
            raise ValueError(f"options: a poll has {OPTIONS_MIN} to {OPTIONS_MAX} options")
        made: list[Option] = []
        for n, o in enumerate(options, 1):
            label = " ".join(str(o.get("label", "") if isinstance(o, dict) else "").split())
            if not 0 < len(label) <= LABEL_MAX:
                raise ValueError(f"options[{n}].label: 1 to {LABEL_MAX} characters")
            words = o.get("words", [])
            words = words.split(",") if isinstance(words, str) else words
            if not isinstance(words, list) or len(words) > WORDS_MAX:
                raise ValueError(f"options[{n}].words: a list of at most {WORDS_MAX} words")
            found = [w for w in (" ".join(str(w).split())[:LABEL_MAX] for w in words) if w]
            made.append(Option(label, tuple(dict.fromkeys([label, *found]))))
        Ballot([o.words for o in made])  # ValueError when two options share a word
        poll = await self.store.polls.create(wall, question, made, actor)
        after = await self._poll_dict(poll)
        await self.store.audit.record(Event("poll.create", actor, wall, str(poll.id), before=None,
                                            after={"question": question, "options": after["options"]}))
        return after

    async def set_poll(self, wall: str, actor: str, state: State,
                       poll_id: int | None = None) -> dict[str, Any]:
        """Open a poll (it counts from now on; screens show it, other polls leave the screen), close it
        (its result freezes on screen) or hide it (off the screen). Without `poll_id`: the shown poll
        (to open: the newest prepared one). LookupError when there is none."""
        self._wall(wall)
        poll = await self._poll_of(wall, state, poll_id)
        others = [p for p in await self.store.polls.of_wall(wall) if p.state == "open" and p.id != poll.id]
        after = await self.store.polls.set_state(wall, poll.id, state)
        verb = {"open": "open", "closed": "close", "hidden": "hide"}[state]
        await self.store.audit.record(Event(f"poll.{verb}", actor, wall, str(poll.id),
                                            before={"state": poll.state},
                                            after={"state": state, "question": poll.question}))
        for other in others if state == "open" else ():  # opening one hid them: they stop counting
            await self.engine.enqueue(wall, encode(InboxPoll(other.id, False)))
        await self.engine.enqueue(wall, encode(InboxPoll(poll.id, state == "open")))
        return await self._poll_dict(after)

    async def _poll_of(self, wall: str, state: State, poll_id: int | None) -> Poll:
        if poll_id is not None:
            found = await self.store.polls.get(wall, poll_id)
            if found is None:
                raise LookupError(f"wall {wall} has no poll {poll_id}")
            return found
        if state == "open":
            ready = [p for p in await self.store.polls.of_wall(wall) if p.state == "ready"]
            if not ready:
                raise LookupError(f"wall {wall} has no prepared poll to open")
            return ready[0]
        shown = await self.store.polls.shown(wall)
        if shown is None:
            raise LookupError(f"wall {wall} shows no poll")
        return shown

    async def polls_csv(self, wall: str) -> str:
        """The wall's polls' results as CSV: one row per option (no voter is named)."""
        out = io.StringIO()
        rows = csv.writer(out)
        rows.writerow(["poll", "question", "state", "opened_at", "closed_at", "option", "label", "votes"])
        for p in await self.polls(wall):
            for n, (o, votes) in enumerate(zip(p["options"], p["counts"], strict=True), 1):
                rows.writerow([p["id"], _cell(p["question"]), p["state"], _utc(p["opened_at"]),
                               _utc(p["closed_at"]), n, _cell(o["label"]), votes])
        return out.getvalue()

    async def _poll_dict(self, poll: Poll) -> dict[str, Any]:
        counts = await self.store.polls.tallies(poll)
        return {**poll.as_dict(), "counts": counts, "total": sum(counts)}

    # -- helpers ----------------------------------------------------------------------------------------

    def _wall(self, wall: str) -> None:
        if wall not in self.cfg.walls:
            raise UnknownWall(f"no wall named {wall!r}")

    def _walls_of(self, wall: str) -> list[str]:
        if wall == EVERY_WALL:
            return list(self.cfg.walls)
        self._wall(wall)
        return [wall]

    async def _recent(self, wall: str, post_id: str) -> RecentPost:
        found = (await self.engine.recent_of(wall, [post_id])).get(post_id)
        if found is None:
            raise UnknownPost(f"wall {wall} has no recent post {post_id!r}")
        return decode_recent(found)

    async def _opted_out(self, wall: str, author: str) -> dict[str, Any] | None:
        found = next((o for o in await self.store.optouts.current(wall) if o.author == author), None)
        return None if found is None else _optout_dict(found)

    async def _banned(self, wall: str, author: str) -> dict[str, Any] | None:
        found = next((b for b in await self.store.bans.list(wall) if b.wall == wall and b.author == author),
                     None)
        return None if found is None else {"reason": found.reason, "by": found.by, "at": found.at}


def item(record: RecentPost, decided: Decision | None) -> dict[str, Any]:
    """A queue item: the post as the wall shows it, its status and decision, flags and why it is held.
    With `decided` (the store's decision) its fields win over the writer's last applied ones."""
    post = record.post
    status, pinned, version = post.status, post.pinned, record.version
    by, at, until = record.decided_by, record.decided_at, record.spotlight_until
    if decided is not None:
        status, pinned, version = decided.status, decided.pinned, decided.version
        by, at, until = decided.decided_by, decided.decided_at, decided.spotlight_until
    return {"type": "item", "post": msgspec.to_builtins(post), "status": status, "pinned": pinned,
            "version": version, "decided_by": by, "decided_at": at, "spotlight_until": until,
            "flags": list(post.flags), "reason": record.reason, "author": rules.author_of(post),
            "arrived": record.arrived, "folded_into": record.folded_into,
            "sentiment": None if post.sentiment is None else msgspec.to_builtins(post.sentiment)}


def apply_op(state: ControlState, op: str, value: str | None) -> ControlState:
    """The control state after a presenter's op (pure)."""
    match op:
        case "pause":
            return dataclasses.replace(state, paused=True)
        case "resume":
            return dataclasses.replace(state, paused=False)
        case "next":
            return dataclasses.replace(state, next_seq=state.next_seq + 1)
        case "scene":
            return dataclasses.replace(state, scene=value)
        case "clear_scene":
            return dataclasses.replace(state, scene=None)
        case "announce":
            return dataclasses.replace(state, announcement=value)
        case "clear_announcement":
            return dataclasses.replace(state, announcement=None)
        case "panic":
            return dataclasses.replace(state, panic=True, panic_text=value or PANIC_TEXT)
        case "release":
            return dataclasses.replace(state, panic=False)
        case "meter_on":
            return dataclasses.replace(state, meter=True)
        case "meter_off":
            return dataclasses.replace(state, meter=False)
    raise ValueError(f"op {op!r} is not one of {', '.join(CONTROL_OPS)}")


def _spotlight(state: ControlState, post_id: str, decided: Decision) -> ControlState:
    if decided.spotlight_until is not None:
        return dataclasses.replace(state, spotlight_post=post_id, spotlight_until=decided.spotlight_until)
    if state.spotlight_post == post_id:  # unspotlight ends it only if it is still this post's
        return dataclasses.replace(state, spotlight_post=None, spotlight_until=None)
    return state


def _control_dict(state: ControlState) -> dict[str, Any]:
    return {**state.state(), "version": state.version, "updated_by": state.updated_by,
            "updated_at": state.updated_at}


def _question_dict(q: Question) -> dict[str, Any]:
    return {"number": q.number, "post_id": q.post_id, "author": q.author, "name": q.name, "text": q.text,
            "lang": q.lang, "status": q.status, "merged_into": q.merged_into, "rank": q.rank,
            "asked_at": q.asked_at, "votes": q.votes}


def _optout_dict(o: OptOut) -> dict[str, Any]:
    return {"wall": o.wall, "author": o.author, "reason": o.reason, "by": o.by, "since": o.since,
            "until": o.until}


def _decision_dict(d: Decision | None) -> dict[str, Any] | None:
    if d is None:
        return None
    return {"status": d.status, "pinned": d.pinned, "spotlight_until": d.spotlight_until,
            "sentiment_label": d.sentiment_label, "decided_by": d.decided_by, "version": d.version}


def _poll_id(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"poll: {value[:40]!r} is not a poll id (a number; the console lists them)") \
            from None


def _cell(text: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _utc(epoch: float | None) -> str:
    return "" if epoch is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _author(author: str) -> str:
    author = author.strip().lower()
    if ":" not in author or len(author) > 255:
        raise ValueError(f"author {author[:80]!r}: expected \"network:handle\", as queue items name it")
    return author


def _word(word: str) -> str:
    word = " ".join(word.split()).lower()
    if not word or len(word) > 100:
        raise ValueError("word: expected a word or phrase of 1 to 100 characters")
    return word
