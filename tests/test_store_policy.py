"""The store's pure parts: the login lockout policy, CSV cells made safe, URL checks, ban keys."""

from __future__ import annotations

import pytest

from wall.store.audit import AuditRecord, csv_row
from wall.store.bans import author_key
from wall.store.engine import StoreURLError, check_url
from wall.store.logins import Limit, LoginPolicy, limited, locked_until

FIVE_IN_15 = Limit(failures=5, window=900, lockout=900)


def test_fewer_failures_than_the_limit_lock_nothing() -> None:
    assert locked_until([], FIVE_IN_15) == 0
    assert locked_until([1, 2, 3, 4], FIVE_IN_15) == 0


def test_the_fifth_failure_within_the_window_locks_from_that_moment() -> None:
    assert locked_until([10, 20, 30, 40, 50], FIVE_IN_15) == 50 + 900
    assert locked_until([50, 10, 40, 20, 30], FIVE_IN_15) == 950  # order does not matter


def test_failures_spread_wider_than_the_window_never_lock() -> None:
    every_five_minutes = [i * 300.0 for i in range(12)]  # any five of them span 1,200 s
    assert locked_until(every_five_minutes, FIVE_IN_15) == 0


def test_the_latest_burst_decides_when_the_lockout_ends() -> None:
    assert locked_until([0, 1, 2, 3, 4, 5000, 5001, 5002, 5003, 5004], FIVE_IN_15) == 5004 + 900


def test_verdict_names_the_limit_that_applies_and_the_wait() -> None:
    policy = LoginPolicy()
    user = [100.0, 101, 102, 103, 104]
    assert limited(user, [], now=200, policy=policy).allowed is False
    assert limited(user, [], now=200, policy=policy).retry_after == 804
    assert limited(user, [], now=200, policy=policy).reason == "username"
    assert limited(user, [], now=1004, policy=policy).allowed
    ip = [float(i) for i in range(20)]
    verdict = limited([], ip, now=30, policy=policy)
    assert (verdict.allowed, verdict.reason, verdict.retry_after) == (False, "ip", 19 + 900 - 30)
    assert limited([], ip[:19], now=30, policy=policy).allowed


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_audit_csv_cells_never_start_a_formula(text: str) -> None:
    row = csv_row(AuditRecord(1, 2.0, text, "decide", "lobby", text, {"t": text}, None))
    assert row[2] == "'" + text and row[5] == "'" + text
    assert row[6].startswith("{")


def test_audit_csv_keeps_ordinary_text_and_unicode_as_is() -> None:
    row = csv_row(AuditRecord(7, 1.5, "ana", "ban", None, "bsky:zoë", None, {"reason": "スパム"}))
    assert row == ["7", "1.500", "ana", "ban", "", "bsky:zoë", "", '{"reason": "スパム"}']


@pytest.mark.parametrize("url", ["sqlite+aiosqlite:////var/lib/wall/wall.db",
                                 "postgresql+asyncpg://wall:secret@db.example:5432/wall"])
def test_supported_store_urls(url: str) -> None:
    assert check_url(url).drivername in ("sqlite+aiosqlite", "postgresql+asyncpg")


@pytest.mark.parametrize("url", ["sqlite:///wall.db", "postgresql://db/wall", "mysql+aiomysql://db/wall",
                                 "not a url"])
def test_other_urls_are_refused_with_an_example(url: str) -> None:
    with pytest.raises(StoreURLError, match="sqlite\\+aiosqlite:///"):
        check_url(url)


def test_ban_keys_are_network_and_handle_lowercased() -> None:
    assert author_key("Mastodon", "Troll@Example.Social") == "mastodon:troll@example.social"
