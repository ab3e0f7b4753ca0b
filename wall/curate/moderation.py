"""What the curation writer and the console read from the store: a wall's policy and curators' decisions.

The store is the system of record; the config's `[walls.W.moderation]` is the initial policy, in force
until a curator stores one from the console.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from wall.curate import rules
from wall.store import Store
from wall.store.decisions import Decision


def initial_policy(moderation: Mapping[str, Any], where: str = "moderation") -> tuple[str, dict[str, Any]]:
    """(mode, settings) of a wall's config table, checked (ValueError names the key)."""
    settings = dict(moderation)
    mode = str(settings.pop("mode", "post"))
    return mode, rules.policy_from(mode, settings, where).settings()


async def stored_mode(store: Store | None, wall: str,
                      moderation: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The wall's (mode, settings): the store's once the console set one, else the config's."""
    saved = None if store is None else await store.rules.stored_policy(wall)
    if saved is None:
        return initial_policy(moderation)
    return ("pre" if saved.mode == "pre" else "post"), dict(saved.settings)


async def load_policy(store: Store | None, wall: str, moderation: Mapping[str, Any]) -> rules.Policy:
    """The policy the writer applies: mode and settings, with the store's bans and blocked words."""
    mode, settings = await stored_mode(store, wall, moderation)
    try:
        policy = rules.policy_from(mode, settings)
    except ValueError:  # a stored policy from a newer release: fall back to the config's, say nothing worse
        policy = rules.policy_from(*initial_policy(moderation))
    if store is None:
        return policy
    return dataclasses.replace(policy, banned=frozenset(await store.bans.banned_authors(wall)),
                               blocked_words=tuple(await store.rules.blocked_words(wall)))


async def stored_decisions(store: Store | None, wall: str,
                           post_ids: Iterable[str]) -> dict[str, rules.Stored]:
    """Curators' decisions on these posts, as the rules apply them."""
    if store is None:
        return {}
    return {pid: as_stored(d) for pid, d in (await store.decisions.get_many(wall, post_ids)).items()}


def as_stored(d: Decision) -> rules.Stored:
    return rules.Stored(d.status, d.pinned, d.sentiment_label, d.version, d.decided_by, d.decided_at,
                        d.spotlight_until)
