"""The store's pure parts: the login throttle's delays, CSV cells made safe, URL checks, ban keys."""

from __future__ import annotations

import pytest

from wall.store.audit import AuditRecord, csv_row
from wall.store.bans import author_key
from wall.store.engine import StoreURLError, check_url
from wall.store.logins import LoginPolicy, Throttle


def test_the_first_free_failures_cost_nothing_then_each_one_doubles_the_wait() -> None:
    five = Throttle(free=5, first=1.0, cap=900.0)
    assert [five.delay(n) for n in range(5)] == [0.0] * 5
    assert [five.delay(n) for n in range(5, 10)] == [1.0, 2.0, 4.0, 8.0, 16.0]


def test_the_wait_never_grows_past_its_cap_however_many_failures() -> None:
    five = Throttle(free=5, first=1.0, cap=900.0)
    assert five.delay(15) == 900.0
    assert five.delay(10**9) == 900.0


def test_a_known_device_counts_like_an_address_and_the_account_ceiling_only_slows() -> None:
    policy = LoginPolicy()
    assert policy.of("device") == policy.of("pair")
    assert policy.account.free > policy.pair.free and policy.account.cap <= 5 * 60


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
