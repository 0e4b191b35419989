"""SQLite storage: migrations, tables and their limits, users, factory reset."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from portier.passwords import hash_password, verify_password
from portier.settings.records import (
    CallRecord,
    Direction,
    FileKind,
    FirewallDirection,
    FirewallRule,
    RestrictedIncoming,
    StoredFile,
    TimePlan,
    UserLevel,
    WebFilterRange,
    WebUser,
)
from portier.storage import MIGRATIONS, Storage, StorageError


@pytest.fixture
def storage(tmp_path: Path) -> Storage:
    return Storage(tmp_path)


def test_database_is_wal_and_migrated(storage: Storage, tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "portier.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {
        "settings",
        "users",
        "call_log",
        "restricted_incoming",
        "restricted_outgoing",
        "web_filter",
        "firewall_rules",
        "time_plans",
        "files",
    } <= tables


def test_reopening_does_not_migrate_twice_or_duplicate_admin(tmp_path: Path) -> None:
    Storage(tmp_path).close()
    again = Storage(tmp_path)
    assert [user.name for _, user in again.rows(WebUser)] == ["admin"]


def test_default_admin_password_is_hashed_and_verifies(storage: Storage) -> None:
    admin = storage.user("admin")
    assert admin is not None and admin.level is UserLevel.ADMIN
    assert "admin" not in admin.password_hash
    assert verify_password("admin", admin.password_hash)
    assert not verify_password("Admin", admin.password_hash)
    assert not verify_password("admin", "not-a-hash")


def test_users_have_unique_names(storage: Storage) -> None:
    storage.add(WebUser(name="guard", password_hash=hash_password("pw"), level=UserLevel.USER))
    with pytest.raises(StorageError, match="UNIQUE"):
        storage.add(WebUser(name="guard", password_hash=hash_password("x")))


def test_tables_round_trip_rows(storage: Storage) -> None:
    rows = [
        CallRecord(started=1.5, direction=Direction.MISSED, line="SIP1", remote="sip:100@127.0.0.1"),
        RestrictedIncoming(number="0900", prefix=True),
        WebFilterRange(start_ip="127.0.0.1", end_ip="127.0.0.9"),
        TimePlan(name="nightly reboot", type=0, repeat=1, start="03:00", end="03:05"),
        StoredFile(kind=FileKind.RINGTONE, name="bell.wav", content=b"RIFF\x00\x01"),
    ]
    for row in rows:
        ident = storage.add(row)
        assert storage.rows(type(row)) == [(ident, row)]


def test_firewall_allows_ten_rules_per_direction(storage: Storage) -> None:
    for _ in range(10):
        storage.add(FirewallRule(direction=FirewallDirection.INPUT))
    with pytest.raises(StorageError, match="at most 10 input rules"):
        storage.add(FirewallRule(direction=FirewallDirection.INPUT))
    storage.add(FirewallRule(direction=FirewallDirection.OUTPUT, permit=True, dst_address="127.0.0.8"))
    assert len(storage.rows(FirewallRule)) == 11


def test_full_table_is_refused(storage: Storage) -> None:
    for i in range(WebFilterRange.limit or 0):
        storage.add(WebFilterRange(start_ip=f"127.0.0.{i}", end_ip=f"127.0.0.{i}"))
    with pytest.raises(StorageError, match="web_filter is full"):
        storage.add(WebFilterRange(start_ip="127.0.1.1", end_ip="127.0.1.1"))


def test_rows_are_validated_before_storage() -> None:
    with pytest.raises(ValueError):
        WebFilterRange(start_ip="999.1.1.1", end_ip="127.0.0.1")
    with pytest.raises(ValueError):
        StoredFile(kind=FileKind.RINGTONE, name="../../etc/passwd", content=b"")


def test_update_and_delete(storage: Storage) -> None:
    ident = storage.add(RestrictedIncoming(number="123"))
    assert storage.update(ident, RestrictedIncoming(number="456"))
    assert storage.rows(RestrictedIncoming)[0][1].number == "456"
    assert storage.delete(RestrictedIncoming, ident)
    assert not storage.delete(RestrictedIncoming, ident)


def test_clear_tables_keeps_a_way_in(storage: Storage) -> None:
    storage.add(CallRecord(started=1, direction=Direction.INCOMING, line="SIP1", remote="100"))
    storage.add(WebUser(name="guard", password_hash=hash_password("pw")))
    storage.clear_tables()
    assert storage.rows(CallRecord) == []
    assert [user.name for _, user in storage.rows(WebUser)] == ["admin"]


def test_factory_reset_deletes_everything(storage: Storage) -> None:
    storage.save_settings({"lines": {"sip1": {"username": "1001"}}})
    storage.add(CallRecord(started=1, direction=Direction.INCOMING, line="SIP1", remote="100"))
    storage.factory_reset()
    assert storage.load_settings() is None
    assert storage.rows(CallRecord) == []
    assert storage.user("admin") is not None
