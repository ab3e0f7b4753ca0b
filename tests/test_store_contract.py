"""The store's contract, one suite run against both databases: SQLite in a temporary directory and a real
PostgreSQL the session starts on a free port. Time-dependent behaviour gets `now` instead of sleeping."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import dataclasses
import io
import itertools
import sqlite3
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from argon2 import PasswordHasher

from tests.postgres_server import MISSING, PostgresServer, binaries
from wall.bus.base import BUCKETS_KEPT, Commit, Message, writer_lease
from wall.bus.memory import MemoryEngine
from wall.models import frame, id_key
from wall.store import Store, connect, open_store
from wall.store.audit import AuditFilter, Event
from wall.store.box import TakenOver
from wall.store.control_tokens import NameTaken
from wall.store.controls import ControlState
from wall.store.decisions import KEEP, Conflict
from wall.store.engine import StoreURLError, create_engine
from wall.store.kiosks import (
    MAX_PENDING,
    PENDING_PER_NETWORK,
    ClaimState,
    CodeExpired,
    UnknownCode,
    normalise_code,
)
from wall.store.logins import Reservation
from wall.store.migrate import current, head, upgrade
from wall.store.schema import metadata
from wall.store.users import UnknownUser, UserExists

# Cheap argon2 parameters keep the suite fast; production uses argon2-cffi's defaults.
FAST = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
T0 = 1_800_000_000.0
MIN = 60.0
databases = itertools.count()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    if binaries() is None:
        pytest.fail(MISSING, pytrace=False)
    server = PostgresServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(name="url", params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database on each backend."""
    if request.param == "sqlite":
        (tmp_path / "state").mkdir()
        return f"sqlite+aiosqlite:///{tmp_path}/state/wall.db"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database(f"wall_test_{next(databases)}")


@pytest.fixture(name="store")
async def fresh_store(url: str) -> AsyncIterator[Store]:
    """A fresh store on SQLite, then on PostgreSQL (other modules import `fresh_store, empty_database`)."""
    async with connect(url, hasher=FAST) as s:
        yield s


async def schema_differences(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), metadata))
    finally:
        await engine.dispose()


async def test_migrations_build_the_schema_on_an_empty_database_and_running_again_changes_nothing(
        url: str) -> None:
    assert await current(url) is None
    await upgrade(url)
    assert await current(url) == head()
    assert await schema_differences(url) == []  # schema.py and the migrations describe the same tables
    await upgrade(url)
    async with connect(url, hasher=FAST) as s:  # opening migrates once more: still nothing to do
        assert await s.ping()
    assert await current(url) == head()


async def test_nodes_starting_together_migrate_once(url: str) -> None:
    script = f"import asyncio; from wall.store.migrate import upgrade; asyncio.run(upgrade({url!r}))"
    nodes = [await asyncio.create_subprocess_exec(sys.executable, "-c", script,
                                                  stderr=asyncio.subprocess.PIPE) for _ in range(3)]
    for node in nodes:
        _, err = await node.communicate()
        assert node.returncode == 0, err.decode()
    await asyncio.gather(upgrade(url), upgrade(url))  # and within one process
    assert await current(url) == head()
    assert await schema_differences(url) == []


async def test_an_admin_adds_accounts_that_log_in_with_their_password_only(store: Store) -> None:
    ana = await store.users.add("Ana", "correct horse battery", "curator", now=T0)
    await store.users.add("bo", "presenter password", "presenter")
    assert ana.username == "ana" and ana.role == "curator" and ana.created_at == T0
    assert await store.users.verify("ANA", "correct horse battery") == ana
    assert await store.users.verify("ana", "correct horse batterY") is None
    assert await store.users.verify("nobody", "correct horse battery") is None
    with pytest.raises(UserExists):
        await store.users.add(" ana ", "another password", "admin")
    with pytest.raises(ValueError, match="role"):
        await store.users.add("cy", "password password", "root")  # type: ignore[arg-type]
    accounts = [(u.username, u.role) for u in await store.users.list()]
    assert accounts == [("ana", "curator"), ("bo", "presenter")]

    await store.users.passwd("ana", "a brand new password")
    assert await store.users.verify("ana", "correct horse battery") is None
    assert await store.users.verify("ana", "a brand new password") == ana

    await store.users.set_disabled("ana", True)
    assert await store.users.verify("ana", "a brand new password") is None
    await store.users.set_disabled("ana", False)

    await store.users.remove("ana")
    assert await store.users.verify("ana", "a brand new password") is None
    with pytest.raises(UnknownUser):
        await store.users.remove("ana")
    with pytest.raises(UnknownUser):
        await store.users.passwd("ana", "whatever password")


async def test_a_hash_made_with_older_parameters_is_upgraded_at_the_next_good_login(url: str) -> None:
    old = PasswordHasher(time_cost=1, memory_cost=4 * 1024, parallelism=1)
    async with connect(url, hasher=old) as s:
        await s.users.add("ana", "correct horse battery", "admin")
    async with connect(url, hasher=FAST) as s:
        assert await s.users.verify("ana", "wrong") is None
        async with s.engine.connect() as conn:
            before = (await conn.exec_driver_sql("SELECT password_hash FROM users")).scalar_one()
        assert "m=4096" in before
        assert await s.users.verify("ana", "correct horse battery") is not None
        async with s.engine.connect() as conn:
            after = (await conn.exec_driver_sql("SELECT password_hash FROM users")).scalar_one()
        assert "m=8192" in after and not FAST.check_needs_rehash(after)
        assert await s.users.verify("ana", "correct horse battery") is not None


async def test_sessions_open_with_their_token_until_logout_expiry_or_log_out_everywhere(store: Store) -> None:
    ana = await store.users.add("ana", "correct horse battery", "curator")
    bo = await store.users.add("bo", "presenter password", "presenter")
    token, session = await store.sessions.create(ana.id, now=T0)
    async with store.engine.connect() as conn:
        stored = (await conn.exec_driver_sql("SELECT id FROM sessions")).scalars().all()
    assert token not in stored and session.id in stored  # only the hash is kept

    got = await store.sessions.get(token, now=T0 + MIN)
    assert got is not None and (got.username, got.role) == ("ana", "curator")
    assert await store.sessions.get(token + "x", now=T0) is None

    # Idle sessions expire; activity slides the expiry, never past the absolute limit.
    assert await store.sessions.get(token, now=T0 + store.sessions.ttl + 1) is None
    await store.sessions.touch(token, now=T0 + 11 * 3600)
    assert await store.sessions.get(token, now=T0 + store.sessions.ttl + 1) is not None
    t = T0
    while t < T0 + store.sessions.max_age:
        t += 10 * 3600
        await store.sessions.touch(token, now=t)
    assert await store.sessions.get(token, now=T0 + store.sessions.max_age + 1) is None

    # Logout: the token is refused afterwards, even replayed.
    token, _ = await store.sessions.create(ana.id, now=T0)
    assert await store.sessions.revoke(token)
    assert await store.sessions.get(token, now=T0) is None
    assert not await store.sessions.revoke(token)
    await store.sessions.touch(token, now=T0)
    assert await store.sessions.get(token, now=T0) is None

    # Expired sessions can be deleted; a replayed token stays refused.
    assert await store.sessions.prune(T0 + store.sessions.max_age + 1) == 2
    assert await store.sessions.get(token, now=T0) is None

    # Log out everywhere ends the user's sessions and nobody else's.
    phone, _ = await store.sessions.create(ana.id, now=T0)
    laptop, _ = await store.sessions.create(ana.id, now=T0)
    other, _ = await store.sessions.create(bo.id, now=T0)
    assert len(await store.sessions.list_for_user(ana.id, now=T0)) == 2
    assert await store.sessions.revoke_all_for_user(ana.id) == 2
    assert await store.sessions.get(phone, now=T0) is None
    assert await store.sessions.get(laptop, now=T0) is None
    assert await store.sessions.get(other, now=T0) is not None

    # A disabled or removed user's session opens nothing.
    await store.users.set_disabled("bo", True)
    assert await store.sessions.get(other, now=T0) is None
    await store.users.set_disabled("bo", False)
    await store.users.remove("bo")
    assert await store.sessions.get(other, now=T0) is None


async def fail(store: Store, username: str, address: str, now: float,
               device: str | None = None) -> Reservation:
    """One wrong password as the console tries it: reserved, then settled as a failure."""
    held = await store.logins.reserve(username, address, device, now=now)
    await store.logins.settle(held, ok=False)
    return held


async def test_five_failures_from_one_address_start_a_delay_that_doubles(store: Store) -> None:
    for i in range(4):
        assert (await fail(store, "ana", "10.0.0.1", T0 + i)).allowed
    fifth = await fail(store, "Ana", "10.0.0.1", T0 + 4)
    assert fifth.allowed and "pair" in fifth.started  # the failure that starts a delay: audited
    refused = await store.logins.reserve("ana", "10.0.0.1", now=T0 + 4.5)
    assert not refused.allowed and refused.reason == "pair" and refused.retry_after == pytest.approx(0.5)
    assert not (await store.logins.reserve("ana", "10.0.0.1", now=T0 + 4.9)).allowed  # changes nothing
    assert (await fail(store, "ana", "10.0.0.1", T0 + 5)).allowed  # the 1 s delay ended on time
    assert (await store.logins.reserve("ana", "10.0.0.1", now=T0 + 6.9)).retry_after == pytest.approx(0.1)
    assert (await fail(store, "ana", "10.0.0.1", T0 + 7)).allowed  # after 2 s; then 4 s
    assert (await store.logins.reserve("ana", "10.0.0.1", now=T0 + 10.5)).retry_after == pytest.approx(0.5)
    # Another address is not slowed by these, and others' accounts neither.
    assert (await store.logins.reserve("ana", "10.0.0.2", now=T0 + 8)).allowed
    assert (await store.logins.reserve("bo", "10.0.0.1", now=T0 + 8)).allowed


async def test_a_good_login_clears_its_own_counter_and_an_hour_of_quiet_forgets(store: Store) -> None:
    for i in range(4):
        await fail(store, "ana", "10.0.0.1", T0 + i)
    good = await store.logins.reserve("ana", "10.0.0.1", now=T0 + 10)
    await store.logins.settle(good, ok=True)
    for i in range(4):
        await fail(store, "ana", "10.0.0.1", T0 + 20 + i)
    assert (await store.logins.reserve("ana", "10.0.0.1", now=T0 + 30)).allowed
    for i in range(6):
        await fail(store, "bo", "10.0.0.1", T0 + 100 + 1000 * i)  # spaced out past each delay
    assert not (await store.logins.reserve("bo", "10.0.0.1", now=T0 + 5101)).allowed
    assert (await store.logins.reserve("bo", "10.0.0.1", now=T0 + 5100 + 3601)).allowed


async def test_parallel_reservations_let_exactly_the_free_attempts_through(store: Store) -> None:
    held = await asyncio.gather(*(store.logins.reserve("ana", "10.0.0.1", now=T0) for _ in range(25)))
    assert sorted(h.allowed for h in held).count(True) == 5
    assert all(h.retry_after == pytest.approx(1.0) for h in held if not h.allowed)


async def test_a_reservation_given_back_counts_for_nothing(store: Store) -> None:
    for i in range(4):
        await fail(store, "ana", "10.0.0.1", T0 + i)
    fifth = await store.logins.reserve("ana", "10.0.0.1", now=T0 + 5)
    assert fifth.allowed and fifth.started  # its failure would start the delay …
    await store.logins.release(fifth)  # … but the server was too busy to check the password
    assert (await store.logins.reserve("ana", "10.0.0.1", now=T0 + 5)).allowed
    assert not (await store.logins.reserve("ana", "10.0.0.1", now=T0 + 5)).allowed  # counting goes on


async def test_a_stranger_slows_the_account_but_never_its_known_device(store: Store) -> None:
    ana = await store.users.add("ana", "correct horse battery", "admin")
    device = await store.logins.remember_device(ana.id, None, now=T0)
    assert await store.logins.remember_device(ana.id, device, now=T0 + 1) == device  # the same browser
    assert await store.logins.remember_device(ana.id, "forged", now=T0 + 1) != "forged"
    for i in range(40):  # 40 addresses: no (account, address) counter gets near its limit, the account's
        await fail(store, "ana", f"203.0.113.{i}", T0 + 10 + i * 0.01)  # does after 20 (then refuses)
    at_desk = await store.logins.reserve("ana", "198.51.100.7", now=T0 + 11)
    assert not at_desk.allowed and at_desk.reason == "account"  # a new browser is slowed …
    assert at_desk.retry_after <= 5 * MIN  # … never locked
    assert (await store.logins.reserve("ana", "198.51.100.7", device, now=T0 + 11)).allowed
    assert not await store.logins.known_device("bo", device, now=T0 + 11)
    assert not await store.logins.known_device("ana", device, now=T0 + 1 + 181 * 24 * 60 * MIN)

    [notice] = await store.logins.throttled(now=T0 + 12)
    # 20 addresses and the desk's device (its reservation above was never settled)
    assert (notice.username, notice.failures, notice.sources) == ("ana", 20, 21)
    assert await store.logins.unlock("ANA") > 0
    assert (await store.logins.reserve("ana", "198.51.100.7", now=T0 + 12)).allowed
    assert await store.logins.throttled(now=T0 + 13) == []


async def test_one_address_trying_many_usernames_is_slowed(store: Store) -> None:
    for i in range(20):
        await fail(store, f"user{i}", "203.0.113.7", T0 + i)
    verdict = await store.logins.reserve("ana", "203.0.113.7", now=T0 + 19.5)
    assert not verdict.allowed and verdict.reason == "address"
    assert (await store.logins.reserve("ana", "198.51.100.1", now=T0 + 19.5)).allowed


async def test_a_decision_on_a_post_someone_else_just_decided_is_refused(store: Store) -> None:
    ana_sees = await store.decisions.get("lobby", "mastodon:1")
    assert ana_sees is None
    approved = await store.decisions.decide("lobby", "mastodon:1", "approved", "ana", 0, now=T0)
    assert (approved.status, approved.version, approved.decided_by) == ("approved", 1, "ana")

    with pytest.raises(Conflict) as refused:  # bo's screen still showed the post undecided
        await store.decisions.decide("lobby", "mastodon:1", "rejected", "bo", 0, now=T0 + 1)
    assert refused.value.current == approved
    assert "ana" in str(refused.value)

    rejected = await store.decisions.decide("lobby", "mastodon:1", "rejected", "bo", 1, now=T0 + 2)
    assert (rejected.status, rejected.version, rejected.decided_by) == ("rejected", 2, "bo")
    with pytest.raises(Conflict) as stale:
        await store.decisions.decide("lobby", "mastodon:1", "approved", "ana", 1, now=T0 + 3)
    assert stale.value.current == rejected

    # Pin and spotlight leave the status alone; None as the expected version overwrites (system actions).
    pinned = await store.decisions.decide("lobby", "mastodon:1", KEEP, "ana", 2, pinned=True,
                                          spotlight_until=T0 + 30, now=T0 + 4)
    assert (pinned.status, pinned.pinned, pinned.spotlight_until) == ("rejected", True, T0 + 30)
    assert pinned.version == 3
    hidden = await store.decisions.decide("lobby", "mastodon:1", "hidden", "system", None, now=T0 + 5)
    assert (hidden.status, hidden.pinned, hidden.version) == ("hidden", True, 4)
    fresh = await store.decisions.decide("lobby", "bsky:2", "approved", "system", None,
                                         sentiment_label="positive")
    assert fresh.version == 1 and fresh.sentiment_label == "positive"

    assert [d.post_id for d in await store.decisions.pinned("lobby")] == ["mastodon:1"]
    assert [d.post_id for d in await store.decisions.spotlit("lobby", now=T0 + 10)] == ["mastodon:1"]
    assert await store.decisions.spotlit("lobby", now=T0 + 31) == []
    assert [d.post_id for d in await store.decisions.labelled()] == ["bsky:2"]
    many = await store.decisions.get_many("lobby", ["bsky:2", "mastodon:1", "none:3"])
    assert sorted(many) == ["bsky:2", "mastodon:1"] and many["mastodon:1"] == hidden
    assert await store.decisions.get_many("stage", ["bsky:2"]) == {}
    with pytest.raises(ValueError, match="status"):
        await store.decisions.decide("lobby", "x:1", "deleted", "ana", 0)  # type: ignore[arg-type]


async def test_of_curators_deciding_the_same_post_at_once_exactly_one_wins(store: Store) -> None:
    async def attempt(who: str) -> str:
        try:
            await store.decisions.decide("lobby", "x:9", "approved", who, 0)
            return "won"
        except Conflict:
            return "refused"

    outcomes = await asyncio.gather(*(attempt(f"curator{i}") for i in range(6)))
    assert sorted(outcomes) == ["refused"] * 5 + ["won"]
    decided = await store.decisions.get("lobby", "x:9")
    assert decided is not None and decided.version == 1


async def test_two_presenters_pressing_next_at_once_move_it_twice(store: Store) -> None:
    assert (await store.controls.get("lobby")).version == 0  # no row yet: the default state

    def press(state: ControlState) -> ControlState:
        return dataclasses.replace(state, next_seq=state.next_seq + 1)

    results = await asyncio.gather(*(store.controls.change("lobby", f"pia{i}", press) for i in range(4)))
    assert sorted(after.next_seq for _, after in results) == [1, 2, 3, 4]
    before, after = await store.controls.change(
        "lobby", "pia", lambda s: dataclasses.replace(s, panic=True, panic_text="Back soon"), now=T0)
    assert (before.panic, after.panic, after.version, after.updated_by) == (False, True, 5, "pia")
    kept = await store.controls.get("lobby")
    assert (kept.panic, kept.panic_text, kept.next_seq, kept.updated_at) == (True, "Back soon", 4, T0)
    assert (await store.controls.get("stage")).next_seq == 0


async def test_a_rundown_keeps_its_order_through_moves_edits_and_removals(store: Store) -> None:
    rundown = store.rundown
    a = await rundown.add("lobby", "stats", 60, "Welcome", "thank the sponsors", "ana", now=T0)
    b = await rundown.add("lobby", "countdown", 600, "Break", "", "ana")
    c = await rundown.add("lobby", "mosaic", 300, "Posts", "", "ana")
    await rundown.add("stage", "agora", 60, "Another wall's", "", "ana")
    assert [(i.title, i.position) for i in await rundown.items("lobby")] == \
        [("Welcome", 0), ("Break", 1), ("Posts", 2)]
    assert (a.notes, a.updated_at, a.seconds) == ("thank the sponsors", T0, 60.0)
    await rundown.move("lobby", c.id, 0)
    await rundown.move("lobby", a.id, 99)  # past the end: last
    assert [i.title for i in await rundown.items("lobby")] == ["Posts", "Break", "Welcome"]
    edited = await rundown.edit("lobby", b.id, "spotlight", 120, "Coffee", "ten minutes", "pia")
    assert (edited.scene, edited.title, edited.position, edited.updated_by) == \
        ("spotlight", "Coffee", 1, "pia")
    await rundown.remove("lobby", c.id)
    assert [(i.title, i.position) for i in await rundown.items("lobby")] == [("Coffee", 0), ("Welcome", 1)]
    for attempt in (rundown.remove("stage", a.id), rundown.move("lobby", c.id, 0),
                    rundown.edit("stage", b.id, "agora", 60, "x", "", "ana")):
        with pytest.raises(LookupError):
            await attempt
    assert [i.title for i in await rundown.items("stage")] == ["Another wall's"]


async def test_sentiment_labels_keep_the_text_they_label(store: Store) -> None:
    await store.labels.put("lobby", "p1", "Great, it broke again", "negative", "ana", now=T0)
    await store.labels.put("lobby", "p2", "Fine \x00phone", "neutral", "ana", now=T0 + 1)
    await store.labels.put("lobby", "p1", "Great, it broke again", "positive", "bo", now=T0 + 2)
    assert [(lab.post_id, lab.text, lab.label, lab.by) for lab in await store.labels.list("lobby")] == [
        ("p2", "Fine phone", "neutral", "ana"), ("p1", "Great, it broke again", "positive", "bo")]
    assert await store.labels.list("stage") == []
    with pytest.raises(ValueError, match="not one of positive, neutral, negative"):
        await store.labels.put("lobby", "p3", "x", "angry", "ana")


async def test_bans_hold_an_author_on_one_wall_or_on_every_wall(store: Store) -> None:
    await store.bans.ban("lobby", "Mastodon:Troll@example.social", "spam", "ana", now=T0)
    await store.bans.ban("*", "bsky:nasty.bsky.social", "abuse", "ana", now=T0 + 1)
    assert await store.bans.is_banned("lobby", "mastodon:troll@example.social")
    assert not await store.bans.is_banned("stage", "mastodon:troll@example.social")
    assert await store.bans.is_banned("stage", "bsky:nasty.bsky.social")
    assert await store.bans.banned_authors("lobby") == {"mastodon:troll@example.social",
                                                         "bsky:nasty.bsky.social"}
    await store.bans.ban("lobby", "mastodon:troll@example.social", "spam again", "bo", now=T0 + 2)
    assert [(b.wall, b.reason, b.by) for b in await store.bans.list("lobby")] == [
        ("lobby", "spam again", "bo"), ("*", "abuse", "ana")]
    assert await store.bans.unban("lobby", "mastodon:troll@example.social")
    assert not await store.bans.unban("lobby", "mastodon:troll@example.social")
    assert not await store.bans.is_banned("lobby", "mastodon:troll@example.social")


async def test_policies_rules_and_blocked_words_per_wall(store: Store) -> None:
    assert (await store.rules.policy("lobby")).mode == "auto"
    await store.rules.set_policy("lobby", "pre", {"min_sentiment": -0.5, "trusted": ["mastodon:ceo@corp"]})
    policy = await store.rules.policy("lobby")
    assert policy.mode == "pre"
    assert policy.settings == {"min_sentiment": -0.5, "trusted": ["mastodon:ceo@corp"]}
    await store.rules.set_policy("lobby", "auto")
    assert (await store.rules.policy("lobby")).settings == {}
    with pytest.raises(ValueError):
        await store.rules.set_policy("lobby", "off")  # type: ignore[arg-type]

    links = await store.rules.add("lobby", "hold_links", "true", "ana", now=T0)
    await store.rules.add("lobby", "min_sentiment", "-0.5", "ana", now=T0)
    await store.rules.add("stage", "hold_media", "true", "bo")
    assert [(r.kind, r.value) for r in await store.rules.list("lobby")] == [
        ("hold_links", "true"), ("min_sentiment", "-0.5")]
    assert await store.rules.remove(links.id) and not await store.rules.remove(links.id)
    assert [r.kind for r in await store.rules.list("lobby")] == ["min_sentiment"]

    await store.rules.block_word("lobby", " Scam ")
    await store.rules.block_word("lobby", "scam")
    await store.rules.block_word("lobby", "crypto")
    assert await store.rules.blocked_words("lobby") == ["crypto", "scam"]
    assert await store.rules.unblock_word("lobby", "SCAM")
    assert await store.rules.blocked_words("lobby") == ["crypto"]
    assert await store.rules.blocked_words("stage") == []


async def test_a_revoked_display_key_stops_opening_its_wall(store: Store) -> None:
    raw, key = await store.display_keys.issue("board", "boardroom screen", now=T0)
    other, _ = await store.display_keys.issue("board", "lobby screen")
    async with store.engine.connect() as conn:
        assert raw not in (await conn.exec_driver_sql("SELECT key_hash FROM display_keys")).scalars().all()
    assert await store.display_keys.check("board", raw) == key
    assert await store.display_keys.check("lobby", raw) is None  # a key opens only its own wall
    assert await store.display_keys.check("board", raw[:-1]) is None
    revoked = await store.display_keys.revoke(key.id, now=T0 + 5)
    assert revoked is not None and revoked.revoked_at == T0 + 5
    assert await store.display_keys.check("board", raw) is None
    assert await store.display_keys.revoke(key.id) is None
    assert await store.display_keys.check("board", other) is not None
    assert [(k.label, k.revoked_at is None) for k in await store.display_keys.list("board")] == [
        ("boardroom screen", False), ("lobby screen", True)]


async def test_a_control_token_acts_until_it_expires_or_is_revoked_and_its_name_is_its_own(
        store: Store) -> None:
    tokens = store.control_tokens
    raw, deck = await tokens.issue("lobby", "  stage   left deck ", "presenter", "root", T0 + 3600, now=T0)
    assert raw.startswith("wallctl_") and deck.name == "stage left deck"
    async with store.engine.connect() as conn:
        stored = (await conn.exec_driver_sql("SELECT token_hash FROM control_tokens")).scalars().all()
    assert raw not in stored
    assert await tokens.find(raw) == deck and deck.usable(T0 + 1)
    assert await tokens.find(raw[:-1]) is None
    assert not deck.usable(T0 + 3600)  # expired: still found, so the refusal can say so
    with pytest.raises(NameTaken, match="already has a live token named 'stage left deck'"):
        await tokens.issue("lobby", "stage left deck", "panic-only", "root", None, now=T0 + 1)
    with pytest.raises(ValueError, match="name: 1 to 48 characters"):
        await tokens.issue("lobby", " ", "presenter", "root", None)
    await tokens.issue("board", "stage left deck", "presenter", "root", None)  # another wall's name
    await tokens.used(deck.id, now=T0 + 2)
    revoked = await tokens.revoke(deck.id, "ana", now=T0 + 5)
    assert revoked is not None and (revoked.revoked_at, revoked.revoked_by, revoked.last_used_at) == \
        (T0 + 5, "ana", T0 + 2)
    assert await tokens.revoke(deck.id, "ana") is None
    found = await tokens.find(raw)
    assert found is not None and not found.usable(T0 + 6)
    await tokens.issue("lobby", "stage left deck", "presenter", "root", None)  # the name is free again
    assert [(t.name, t.revoked_at is None) for t in await tokens.list("lobby")] == [
        ("stage left deck", True), ("stage left deck", False)]  # newest first


async def test_a_kiosk_pairs_by_code_reports_takes_commands_once_and_is_revoked(store: Store) -> None:
    poll, req = await store.kiosks.enroll("kiosk-lobby-1", "10.0.0.7", ttl=15 * MIN, now=T0)
    assert normalise_code(req.code.lower().replace("-", " ")) == req.code
    assert [p.code for p in await store.kiosks.pending(now=T0 + 1)] == [req.code]
    assert (await store.kiosks.claim(poll, now=T0 + 1)).state is ClaimState.WAITING
    assert (await store.kiosks.claim("no such poll token", now=T0 + 1)).state is ClaimState.UNKNOWN
    with pytest.raises(UnknownCode):
        await store.kiosks.approve("AA-AAA" if req.code != "AA-AAA" else "CC-CCC", "lobby", 1, 1, "ada",
                                   now=T0 + 2)

    kiosk = await store.kiosks.approve(req.code, "lobby", 2, 3, "ada", now=T0 + 2)
    assert (kiosk.name, kiosk.wall, kiosk.screen, kiosk.screens) == ("kiosk-lobby-1", "lobby", 2, 3)
    assert await store.kiosks.pending(now=T0 + 3) == []
    first = await store.kiosks.claim(poll, now=T0 + 3)
    again = await store.kiosks.claim(poll, now=T0 + 4)  # the first reply was lost
    assert first.state is again.state is ClaimState.APPROVED and first.token != again.token
    assert first.token is not None and again.token is not None
    assert await store.kiosks.authenticate(first.token) is None  # replaced
    assert (found := await store.kiosks.authenticate(again.token)) is not None and found.id == kiosk.id

    await store.kiosks.command(kiosk.id, "reload", "ada", now=T0 + 5)
    await store.kiosks.command(kiosk.id, "reload", "ada", now=T0 + 5)
    await store.kiosks.assign(kiosk.id, "board", 1, 2, "ada", now=T0 + 6)
    shot = b"\xff\xd8\xff" + bytes(range(256)) * 4
    ops = await store.kiosks.report(kiosk.id, {"state": "healthy", "uptime": 60.0}, shot, now=T0 + 7)
    assert ops == ["reload", "assign"]
    assert await store.kiosks.report(kiosk.id, {"state": "healthy"}, b"\xff\xd8\xffnew", now=T0 + 8) == []
    assert await store.kiosks.screenshot(kiosk.id) == (T0 + 8, b"\xff\xd8\xffnew")
    [listed] = await store.kiosks.all()
    assert (listed.wall, listed.screen, listed.last_seen, listed.status) == ("board", 1, T0 + 8,
                                                                             {"state": "healthy"})
    assert listed.screenshot_at == T0 + 8

    assert (await store.kiosks.revoke(kiosk.id, "ada", now=T0 + 9)) is not None
    revoked = await store.kiosks.authenticate(again.token)
    assert revoked is not None and revoked.revoked_at == T0 + 9  # known, and refused by the caller
    assert await store.kiosks.revoke(kiosk.id, "ada") is None
    with pytest.raises(ValueError, match="unknown kiosk command"):
        await store.kiosks.command(kiosk.id, "format-disk", "ada")


async def test_a_pairing_code_expires_and_floods_are_capped(store: Store) -> None:
    poll, req = await store.kiosks.enroll("slow", "10.0.0.8", ttl=60, now=T0)
    with pytest.raises(CodeExpired, match="expired"):
        await store.kiosks.approve(req.code, "lobby", 1, 1, "ada", now=T0 + 61)
    assert (await store.kiosks.claim(poll, now=T0 + 61)).state is ClaimState.EXPIRED


async def test_a_flood_of_pairing_requests_pushes_out_itself_not_a_kiosk_that_polls(store: Store) -> None:
    real_poll, real = await store.kiosks.enroll("lobby-tv", "192.0.2.7", ttl=900, now=T0)
    assert (await store.kiosks.claim(real_poll, now=T0 + 3)).state is ClaimState.WAITING
    flood = [await store.kiosks.enroll(f"f{i}", f"10.{i % 40}.0.1", ttl=900, now=T0 + 4 + i / 1000)
             for i in range(MAX_PENDING + 30)]
    live = await store.kiosks.pending(now=T0 + 5)
    assert len(live) == MAX_PENDING and len({p.code for p in live}) == MAX_PENDING  # codes are unique
    assert real.code in {p.code for p in live}  # it polled: the unpolled flood went first, oldest first
    assert (await store.kiosks.claim(flood[0][0], now=T0 + 5)).state is ClaimState.UNKNOWN
    assert (await store.kiosks.claim(flood[-1][0], now=T0 + 5)).state is ClaimState.WAITING

    cleared = await store.kiosks.clear_pending(now=T0 + 6)
    assert cleared == MAX_PENDING and await store.kiosks.pending(now=T0 + 6) == []
    assert (await store.kiosks.claim(real_poll, now=T0 + 7)).state is ClaimState.UNKNOWN


async def test_one_network_holds_at_most_its_share_of_the_pairing_table(store: Store) -> None:
    other_poll, _ = await store.kiosks.enroll("other", "198.51.100.9", ttl=900, now=T0)
    ours = [await store.kiosks.enroll(f"k{i}", f"203.0.113.{i % 250}", ttl=900, now=T0 + 1 + i)
            for i in range(PENDING_PER_NETWORK + 5)]
    live = await store.kiosks.pending(now=T0 + 100)
    assert len(live) == PENDING_PER_NETWORK + 1  # its own oldest went; the other network kept its one
    assert (await store.kiosks.claim(other_poll, now=T0 + 100)).state is ClaimState.WAITING
    assert (await store.kiosks.claim(ours[4][0], now=T0 + 100)).state is ClaimState.UNKNOWN
    assert (await store.kiosks.claim(ours[5][0], now=T0 + 100)).state is ClaimState.WAITING
    # IPv6: one /64 is one network, however many addresses it uses
    for i in range(PENDING_PER_NETWORK + 1):
        await store.kiosks.enroll(f"v6-{i}", f"2001:db8:0:1::{i + 1:x}", ttl=900, now=T0 + 200 + i)
    v6 = [p for p in await store.kiosks.pending(now=T0 + 300) if p.ip.startswith("2001:db8:0:1:")]
    assert len(v6) == PENDING_PER_NETWORK


async def test_admins_browse_filter_and_export_the_audit_log(store: Store) -> None:
    await store.audit.record(Event("decide", "ana", "lobby", "mastodon:1", {"status": "pending"},
                                   {"status": "approved"}, created=T0))
    await store.audit.record(Event("ban", "bo", "lobby", "=HYPERLINK(\"http://evil\")", None,
                                   {"reason": "spam, obviously"}, created=T0 + 60))
    await store.audit.record(Event("panic", "bo", "stage", created=T0 + 120))
    await store.audit.record(Event("user.add", "admin", None, "cy", None, {"role": "curator"},
                                   created=T0 + 180))

    everything = await store.audit.browse()
    assert [r.action for r in everything] == ["user.add", "panic", "ban", "decide"]
    assert everything[-1].before == {"status": "pending"} and everything[-1].after == {"status": "approved"}
    assert [r.action for r in await store.audit.browse(AuditFilter(wall="lobby"))] == ["ban", "decide"]
    assert [r.action for r in await store.audit.browse(AuditFilter(actor="bo"))] == ["panic", "ban"]
    assert [r.action for r in await store.audit.browse(AuditFilter(action="decide"))] == ["decide"]
    assert [r.action for r in await store.audit.browse(AuditFilter(since=T0 + 60, until=T0 + 180))] == [
        "panic", "ban"]
    page = await store.audit.browse(limit=2)
    assert [r.action for r in await store.audit.browse(limit=2, before_id=page[-1].id)] == ["ban", "decide"]

    out = io.StringIO()
    assert await store.audit.export_csv(out, AuditFilter(wall="lobby")) == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["action"] for r in rows] == ["decide", "ban"]
    assert rows[0]["after"] == '{"status": "approved"}' and rows[0]["at"] == f"{T0:.3f}"
    assert rows[1]["target"] == "'=HYPERLINK(\"http://evil\")"  # never a live formula in a spreadsheet
    assert rows[1]["after"] == '{"reason": "spam, obviously"}'


async def test_hostile_text_from_a_post_is_kept_in_the_audit_log_without_breaking_it(store: Store) -> None:
    record_id = await store.audit.record(Event("hide", "bo", "stage", "x:\x00" + "é" * 400,
                                               {"text": "<script>\x00</script> 🙂"}))
    [kept] = await store.audit.browse()
    assert kept.id == record_id and kept.target == "x:" + "é" * 253  # NUL dropped, cut to the column
    assert kept.before == {"text": "<script>\x00</script> 🙂"}  # JSON keeps it, escaped


async def restarted(store: Store, events: int = 100, recent: int = 100) -> MemoryEngine:
    """A memory engine as `wall serve` on a box without Redis starts one: kept in the store."""
    engine = MemoryEngine(stream_maxlen=events)
    await engine.keep(store.bus_state(events, recent), ["lobby"])
    return engine


async def held(engine: MemoryEngine) -> tuple[str, int]:
    """The wall's writer lease, as the curation writer holds it before it commits."""
    token = await engine.lease(writer_lease("lobby"), "writer", 60)
    assert token is not None
    return "writer", token


async def test_a_box_without_redis_restarted_goes_on_where_it_was(store: Store) -> None:
    box = await restarted(store)
    await box.set_cursor("source:lobby-rss", "round:7")
    assert (await box.admit("lobby", "rss:1", "d1", b'{"post":1}'))[0] == "new"
    assert (await box.admit("lobby", "rss:2", "d2", b'{"post":2}'))[0] == "new"
    assert await box.admit("lobby", "rss:1", "d1", b'{"post":1}') == ("duplicate", None)
    [first] = await box.read_inbox("lobby", "0-0", 1, timeout=0)
    [shown, control] = await box.commit("lobby", *await held(box), Commit(
        first.id, (b'{"type":"post","id":"rss:1"}', b'{"type":"control"}'), shown=("rss:1",),
        counts=(("rss:1", (("posts", 1), ("tag:x", 1))),), minute=100, recent=(("rss:1", b"recent 1"),),
        authors=("rss:ana",), control=True))
    epoch, secret = await box.epoch("lobby"), await box.shared_secret("media")
    # The process stops here, with rss:2 admitted and not yet committed by the writer.

    again = await restarted(store)
    assert await again.epoch("lobby") == epoch  # screens' saved ids stay good: they resume, no snapshot
    assert await again.latest("lobby", 10) == [Message(shown, b'{"type":"post","id":"rss:1"}'),
                                               Message(control, b'{"type":"control"}')]
    assert await again.latest_control("lobby") == frame(control, b'{"type":"control"}')
    assert await again.position("lobby") == first.id
    [waiting] = await again.read_inbox("lobby", first.id, 10, timeout=0)  # admitted, never committed
    assert waiting.body == b'{"post":2}'
    assert await again.admit("lobby", "rss:2", "d2", b'{"post":2}') == ("duplicate", None)
    assert await again.admit("lobby", "rss:1", "d1", b'{"post":1}') == ("duplicate", None)
    assert await again.get_cursor("source:lobby-rss") == "round:7"
    assert await again.shown("lobby", ["rss:1", "rss:2"]) == {"rss:1"}
    assert await again.counts("lobby", [100]) == {100: {"posts": 1, "tag:x": 1}}
    assert await again.total("lobby") == 1
    assert await again.recent("lobby", 10) == [b"recent 1"]
    assert await again.known_authors("lobby", ["rss:ana", "rss:bo"]) == {"rss:ana"}
    assert await again.shared_secret("media") == secret  # kept events' signed media URLs stay good
    later = await again.enqueue("lobby", b'{"delete":"rss:1"}')
    assert id_key(later) > id_key(waiting.id)  # new ids follow the kept ones

    # rss:1 deleted at its source: what it added comes off its minute, and stays off after a restart.
    await again.commit("lobby", *await held(again), Commit(later, (b'{"type":"retract"}',),
                                                           unshown=("rss:1",), uncounted=("rss:1",)))
    third = await restarted(store)
    assert await third.counts("lobby", [100]) == {} and await third.total("lobby") == 0
    assert await third.shown("lobby", ["rss:1"]) == set()
    assert await third.inbox_backlog("lobby") == 0
    assert (await third.admit("lobby", "rss:1", "d1b", b'{"post":"1 edited"}'))[0] == "updated"


async def test_a_kept_box_trims_its_history_and_recent_posts_and_forgets_old_counts(store: Store) -> None:
    box = await restarted(store, events=3, recent=2)
    for n in range(5):
        entry = await box.enqueue("lobby", b"{}")
        await box.commit("lobby", *await held(box), Commit(
            entry, (f"event {n}".encode(),), recent=((f"p{n}", b"r"),),
            counts=((f"p{n}", (("posts", 1),)),), minute=n * BUCKETS_KEPT))
    again = await restarted(store, events=3, recent=2)
    assert [m.body for m in await again.latest("lobby", 10)] == [b"event 2", b"event 3", b"event 4"]
    assert len(await again.recent("lobby", 10)) == 2
    async with store.engine.connect() as conn:  # trimmed in SQL too, not only when read back
        assert (await conn.execute(sa.text("SELECT count(*) FROM bus_events"))).scalar() == 3
        assert (await conn.execute(sa.text("SELECT count(*) FROM bus_recent"))).scalar() == 2
    # Buckets older than the kept window went with the commit that passed them, in memory as in SQL.
    assert set(await again.counts("lobby", [n * BUCKETS_KEPT for n in range(5)])) == {3 * BUCKETS_KEPT,
                                                                                      4 * BUCKETS_KEPT}
    assert await again.total("lobby") == 5
    # A post whose bucket went was forgotten with it: taking it back changes nothing (as with Redis).
    entry = await again.enqueue("lobby", b"{}")
    await again.commit("lobby", *await held(again), Commit(entry, uncounted=("p0",)))
    assert await again.total("lobby") == 5


async def test_a_commit_the_store_refuses_changes_nothing_in_memory_or_in_sql(store: Store) -> None:
    box = await restarted(store)
    entry = await box.enqueue("lobby", b"{}")
    async with store.engine.begin() as conn:  # the store fails mid-commit (here: a table is gone)
        await conn.execute(sa.text("DROP TABLE bus_authors"))
    with pytest.raises(sa.exc.SQLAlchemyError):
        await box.commit("lobby", *await held(box), Commit(
            entry, (b"event",), shown=("p1",), authors=("rss:ana",),
            counts=(("p1", (("posts", 1),)),), minute=100))
    assert await box.position("lobby") == "0-0" and await box.latest("lobby", 5) == []
    assert await box.total("lobby") == 0 and await box.shown("lobby", ["p1"]) == set()
    assert await box.inbox_backlog("lobby") == 1  # the writer retries it
    async with store.engine.connect() as conn:
        assert (await conn.execute(sa.text("SELECT position, total FROM bus_walls"))).one() == ("0-0", 0)
        assert (await conn.execute(sa.text("SELECT count(*) FROM bus_events"))).scalar() == 0
        assert (await conn.execute(sa.text("SELECT count(*) FROM bus_inbox"))).scalar() == 1


async def test_a_second_memory_bus_process_on_the_same_store_takes_the_walls_and_the_first_is_refused(
        store: Store) -> None:
    first = await restarted(store)
    await first.admit("lobby", "rss:1", "d1", b"{}")
    second = await restarted(store)  # started by mistake beside it, on the same database
    with pytest.raises(TakenOver, match="only one may run on a store"):
        await first.admit("lobby", "rss:2", "d2", b"{}")
    with pytest.raises(TakenOver):
        await first.enqueue("lobby", b"{}")
    [entry] = await second.read_inbox("lobby", "0-0", 10, timeout=0)
    await second.commit("lobby", *await held(second), Commit(entry.id, (b"event",)))
    with pytest.raises(TakenOver):
        await first.commit("lobby", *await held(first), Commit(entry.id, (b"late",)))
    assert (await second.admit("lobby", "rss:2", "d2", b"{}"))[0] == "new"  # rss:2 was not recorded
    assert [m.body for m in await (await restarted(store)).latest("lobby", 5)] == [b"event"]


async def test_everything_survives_closing_and_reopening_the_store(url: str) -> None:
    async with connect(url, hasher=FAST) as s:
        ana = await s.users.add("ana", "correct horse battery", "curator")
        token, _ = await s.sessions.create(ana.id)
        out, _ = await s.sessions.create(ana.id)
        await s.sessions.revoke(out)
        await s.decisions.decide("lobby", "mastodon:1", "approved", "ana", 0)
        await s.bans.ban("*", "bsky:nasty", "abuse", "ana")
        raw, key = await s.display_keys.issue("board", "screen 1")
        await s.audit.record(Event("decide", "ana", "lobby", "mastodon:1"))
        await s.cursors.set("source:rss", "42")
        await s.rules.set_policy("lobby", "pre")

    async with connect(url, hasher=FAST) as s:
        assert await s.users.verify("ana", "correct horse battery") == ana
        assert await s.sessions.get(token) is not None and await s.sessions.get(out) is None
        decided = await s.decisions.get("lobby", "mastodon:1")
        assert decided is not None and (decided.status, decided.version) == ("approved", 1)
        with pytest.raises(Conflict):
            await s.decisions.decide("lobby", "mastodon:1", "rejected", "bo", 0)
        assert await s.bans.is_banned("lobby", "bsky:nasty")
        assert await s.display_keys.check("board", raw) == key
        assert [r.action for r in await s.audit.browse()] == ["decide"]
        assert await s.cursors.get("source:rss") == "42"
        assert (await s.rules.policy("lobby")).mode == "pre"


async def test_a_backup_taken_while_the_wall_runs_restores_everything_until_that_moment(
        url: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    async with connect(url, hasher=FAST) as s:
        ana = await s.users.add("ana", "correct horse battery", "curator")
        await s.decisions.decide("lobby", "mastodon:1", "approved", "ana", 0)
        await s.bans.ban("*", "bsky:nasty", "abuse", "ana")
        await s.audit.record(Event("decide", "ana", "lobby", "mastodon:1"))
        database = sa.make_url(url).database
        assert database is not None
        if url.startswith("sqlite"):  # docs/store.md: sqlite3 wall.db "VACUUM INTO 'backup.db'"
            backup = tmp_path / "backup.db"
            with contextlib.closing(sqlite3.connect(database)) as live:
                live.execute("VACUUM INTO ?", (str(backup),))
            restored = f"sqlite+aiosqlite:///{backup}"
        else:  # docs/store.md: pg_dump --format=custom, then pg_restore into a fresh database
            server: PostgresServer = request.getfixturevalue("postgres")
            dump = server.dump(database, f"{database}.dump")
            restored = server.create_database(f"{database}_restored")
            server.restore(dump, sa.make_url(restored).database or "")
        await s.decisions.decide("lobby", "mastodon:2", "rejected", "ana", 0)  # after the backup

    async with connect(restored, hasher=FAST) as r:
        assert await r.users.verify("ana", "correct horse battery") == ana
        assert (await r.decisions.get_many("lobby", ["mastodon:1", "mastodon:2"])).keys() == {"mastodon:1"}
        assert await r.bans.is_banned("stage", "bsky:nasty")
        assert [e.action for e in await r.audit.browse()] == ["decide"]
        await r.audit.record(Event("restore", "admin"))  # ids carry on after the restored ones
        assert [e.action for e in await r.audit.browse()] == ["restore", "decide"]


async def test_sqlite_runs_in_wal_mode_with_foreign_keys_on(tmp_path: Path) -> None:
    async with connect(f"sqlite+aiosqlite:///{tmp_path}/new/dir/wall.db", hasher=FAST) as s:
        async with s.engine.connect() as conn:
            assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
            assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
            assert (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar() == 5000
    assert (tmp_path / "new" / "dir" / "wall.db").exists()


@pytest.mark.parametrize("url", ["sqlite+aiosqlite://", "sqlite+aiosqlite:///:memory:"])
async def test_an_in_memory_sqlite_store_is_refused_since_processes_could_not_share_it(url: str) -> None:
    with pytest.raises(StoreURLError, match="names no file"):
        await open_store(url)
