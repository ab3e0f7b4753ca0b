"""How a post's status is decided (pure): the wall's moderation policy and a curator's stored decision.

A source can never set a status itself. `decide(post, seen, policy)` is one function of early returns:
the rules that always apply first (bans, content warnings, blocked words), then trusted authors, then
pre-moderation, then the holds the policy switches on. A curator's stored decision wins over all of it
(`effective()`), so a re-sent post never undoes "hide".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import msgspec

from wall.models import Moderation, Post, Sentiment, author_key

Mode = Literal["pre", "post"]
MODES: tuple[Mode, ...] = ("pre", "post")
# Enrichment's flags (ingest/enrich/safety.py); "spam" in a policy names all of the spam signals.
SPAM_FLAGS = ("link_only", "hashtag_stuffing", "repeated_text", "burst", "near_duplicate")
# Profanity only by default: the spam signals misfire on short posts that look alike (test sends,
# cross-posts), so a wall switches them on with hold_flags = ["profanity", "spam"].
DEFAULT_HOLD_FLAGS = ("profanity",)


@dataclass(frozen=True)
class Policy:
    """A wall's moderation policy as the writer applies it (config's initial one, then the store's)."""

    mode: Mode = "post"  # pre: nothing shows until approved; post: everything unless a rule holds it
    hold_flags: tuple[str, ...] = DEFAULT_HOLD_FLAGS  # enrichment flags that hold a post ("spam": all)
    min_sentiment: float | None = None  # hold a post scored below this (-1..1)
    hold_links: bool = False
    hold_media: bool = False
    hold_unknown_authors: bool = False  # hold authors never approved on this wall before
    trusted: frozenset[str] = frozenset()  # author keys ("network:handle") approved without review
    banned: frozenset[str] = frozenset()  # author keys, from the store's bans
    blocked_words: tuple[str, ...] = ()  # lowercased, from the store
    # Entries of the shipped profanity lists this wall lets through (casefolded): a post whose every
    # profanity hit is one of them is not held for profanity.
    allowed_words: frozenset[str] = frozenset()

    def settings(self) -> dict[str, Any]:
        """The console-editable settings as plain JSON (what the store keeps beside the mode)."""
        return {"hold_flags": list(self.hold_flags), "min_sentiment": self.min_sentiment,
                "hold_links": self.hold_links, "hold_media": self.hold_media,
                "hold_unknown_authors": self.hold_unknown_authors, "trusted_authors": sorted(self.trusted),
                "allowed_words": sorted(self.allowed_words)}


@dataclass(frozen=True)
class Seen:
    """What the writer knows about a post beyond the post itself."""

    known_author: bool = False  # the author had a post approved on this wall before
    opted_out: bool = False  # the author opted out of this wall (its tag, or by request): docs/optout.md


@dataclass(frozen=True)
class Verdict:
    status: Moderation
    reason: str | None = None  # why it is held, for the console ("links", "pre-moderation", ...)
    final: bool = False  # wins over a curator's earlier decision too (a ban is a curator's decision)


@dataclass(frozen=True)
class Stored:
    """A curator's decision on a post, as the writer applies it."""

    status: Moderation
    pinned: bool = False
    label: str | None = None  # corrected sentiment label
    version: int = 0
    decided_by: str | None = None
    decided_at: float | None = None
    spotlight_until: float | None = None


SETTINGS = {"hold_flags", "min_sentiment", "hold_links", "hold_media", "hold_unknown_authors",
            "trusted_authors", "allowed_words"}
MAX_ALLOWED_WORDS = 500


def policy_from(mode: str, settings: Mapping[str, Any], where: str = "moderation") -> Policy:
    """A Policy from a mode and plain settings (config or console); ValueError names the bad key."""
    if mode not in MODES:
        raise ValueError(f"{where}.mode: {mode!r} is not one of {', '.join(MODES)} "
                         "(pre: nothing shows until approved; post: everything unless a rule holds it)")
    for key in settings:
        if key not in SETTINGS:
            raise ValueError(f"{where}.{key}: unknown key; known keys: mode, {', '.join(sorted(SETTINGS))}")
    flags = settings.get("hold_flags", list(DEFAULT_HOLD_FLAGS))
    if not isinstance(flags, list | tuple) or not all(isinstance(f, str) for f in flags):
        raise ValueError(f"{where}.hold_flags: expected a list of flag names, e.g. [\"profanity\", \"spam\"]")
    minimum = settings.get("min_sentiment")
    if minimum is not None and (isinstance(minimum, bool) or not isinstance(minimum, int | float)
                                or not -1 <= minimum <= 1):
        raise ValueError(f"{where}.min_sentiment: expected a number from -1 to 1, got {minimum!r}")
    switches = {key: settings.get(key, False) for key in ("hold_links", "hold_media", "hold_unknown_authors")}
    for key, value in switches.items():
        if not isinstance(value, bool):
            raise ValueError(f"{where}.{key}: expected true or false, got {value!r}")
    trusted = settings.get("trusted_authors", [])
    if not isinstance(trusted, list | tuple) or not all(isinstance(a, str) and ":" in a for a in trusted):
        raise ValueError(f"{where}.trusted_authors: expected a list of \"network:handle\", "
                         "e.g. [\"mastodon:nordlys@social.example\"]")
    allowed = settings.get("allowed_words", [])
    if not isinstance(allowed, list | tuple) or len(allowed) > MAX_ALLOWED_WORDS \
            or not all(isinstance(w, str) and 0 < len(w.strip()) <= 100 for w in allowed):
        raise ValueError(f"{where}.allowed_words: expected at most {MAX_ALLOWED_WORDS} words of the shipped "
                         "profanity lists (1 to 100 characters each), e.g. [\"perkele\"]")
    return Policy(mode="pre" if mode == "pre" else "post", hold_flags=tuple(flags),
                  min_sentiment=None if minimum is None else float(minimum),
                  hold_links=switches["hold_links"],
                  hold_media=switches["hold_media"], hold_unknown_authors=switches["hold_unknown_authors"],
                  trusted=frozenset(a.lower() for a in trusted),
                  allowed_words=frozenset(" ".join(w.casefold().split()) for w in allowed))


def author_of(post: Post) -> str:
    """The post's author key, as bans and trusted authors name it ("network:handle", lowercased)."""
    return author_key(post)


def decide(post: Post, seen: Seen, policy: Policy) -> Verdict:
    """The status the wall's rules give a post (before any curator's decision)."""
    author = author_of(post)
    # Always: an author who opted out is never shown, whatever a curator decided before.
    if seen.opted_out:
        return Verdict("rejected", "opted out", final=True)
    # Always: a banned author is held, whatever else is true of the post.
    if author in policy.banned:  # even over posts a curator approved before the ban
        return Verdict("pending", "banned author", final=True)
    # Always: a content warning or sensitive media: a curator looks first, never shown blindly.
    if post.held:
        return Verdict("pending", post.held)
    # Always: a word the wall's curators blocked.
    if policy.blocked_words and (word := blocked_word(post.text, policy.blocked_words)):
        return Verdict("pending", f"blocked word: {word}")
    # Trusted authors skip the holds below, pre-moderation included.
    if author in policy.trusted:
        return Verdict("approved")
    # Pre-moderation: nothing shows until a curator approves it.
    if policy.mode == "pre":
        return Verdict("pending", "pre-moderation")
    # Enrichment's safety flags the policy holds (profanity, spam, ...); profanity the wall allowed is none.
    profane = [w for w in post.profanity if w.casefold() not in policy.allowed_words]
    if flagged := [f for f in post.flags
                   if (f in policy.hold_flags or ("spam" in policy.hold_flags and f in SPAM_FLAGS))
                   and (f != "profanity" or profane or not post.profanity)]:
        named = [f"{f} ({', '.join(profane)})" if f == "profanity" and profane else f for f in flagged]
        return Verdict("pending", "flagged: " + ", ".join(named))
    # Negative below the threshold.
    if policy.min_sentiment is not None and post.sentiment is not None \
            and post.sentiment.score < policy.min_sentiment:
        return Verdict("pending", f"sentiment {post.sentiment.score:+.2f} below {policy.min_sentiment:+.2f}")
    # Links, when the wall holds them.
    if policy.hold_links and any(e.kind == "link" for e in post.entities):
        return Verdict("pending", "links")
    # Media, when the wall holds them.
    if policy.hold_media and post.media:
        return Verdict("pending", "media")
    # Authors never approved here before, when the wall holds them.
    if policy.hold_unknown_authors and not seen.known_author:
        return Verdict("pending", "unknown author")
    return Verdict("approved")


def effective(post: Post, verdict: Verdict, stored: Stored | None) -> Post:
    """The post as the wall shows it: a curator's stored decision wins over the rules' verdict (except a
    final one: while its author is banned, no post of theirs shows)."""
    if stored is None or verdict.final:
        return msgspec.structs.replace(post, status=verdict.status, pinned=False)
    if stored.label:  # a curator's correction of the label (the score stays the model's)
        score = post.sentiment.score if post.sentiment is not None else 0.0
        post = msgspec.structs.replace(post, sentiment=Sentiment(score, stored.label))
    return msgspec.structs.replace(post, status=stored.status,
                                   pinned=stored.pinned and stored.status == "approved")


def blocked_word(text: str, words: tuple[str, ...]) -> str | None:
    """The first blocked word the text contains on word boundaries (case-insensitive), else None."""
    folded = f" {_words(text)} "
    for word in words:
        if f" {_words(word)} " in folded:
            return word
    return None


def _words(text: str) -> str:
    return " ".join("".join(c if c.isalnum() else " " for c in text.casefold()).split())

