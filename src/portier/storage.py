"""The device's SQLite database: settings document, data tables, migrations.

WAL mode and one transaction per save make every write atomic: a power cut or a
``kill -9`` leaves the previous or the new state, never a mix. The settings document
is stored as the values that differ from the factory defaults, so a new release's
better defaults reach devices whose owners never touched those settings.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

from .passwords import hash_password
from .settings.records import TABLES, FirewallRule, Record, UserLevel, WebUser

DB_NAME = "portier.db"
DEFAULT_ADMIN = ("admin", "admin")

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE settings (id INTEGER PRIMARY KEY CHECK (id = 1), document TEXT NOT NULL,
                           saved REAL NOT NULL);
    CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,
                        level TEXT NOT NULL CHECK (level IN ('admin', 'user')));
    CREATE TABLE call_log (id INTEGER PRIMARY KEY, started REAL NOT NULL, direction TEXT NOT NULL,
                           line TEXT NOT NULL, remote TEXT NOT NULL, name TEXT NOT NULL,
                           duration REAL NOT NULL);
    CREATE TABLE restricted_incoming (id INTEGER PRIMARY KEY, name TEXT NOT NULL, number TEXT NOT NULL,
                                      prefix INTEGER NOT NULL, line TEXT NOT NULL);
    CREATE TABLE restricted_outgoing (id INTEGER PRIMARY KEY, name TEXT NOT NULL, number TEXT NOT NULL,
                                      prefix INTEGER NOT NULL, line TEXT NOT NULL);
    CREATE TABLE web_filter (id INTEGER PRIMARY KEY, start_ip TEXT NOT NULL, end_ip TEXT NOT NULL);
    CREATE TABLE firewall_rules (id INTEGER PRIMARY KEY, direction TEXT NOT NULL, permit INTEGER NOT NULL,
                                 protocol TEXT NOT NULL, src_address TEXT NOT NULL, src_mask TEXT NOT NULL,
                                 dst_address TEXT NOT NULL, dst_mask TEXT NOT NULL,
                                 src_port_range TEXT NOT NULL, dst_port_range TEXT NOT NULL);
    CREATE TABLE time_plans (id INTEGER PRIMARY KEY, name TEXT NOT NULL, type INTEGER NOT NULL,
                             audio_file TEXT NOT NULL, repeat INTEGER NOT NULL, days TEXT NOT NULL,
                             date TEXT NOT NULL, start TEXT NOT NULL, "end" TEXT NOT NULL);
    CREATE TABLE files (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, content BLOB NOT NULL,
                        UNIQUE (kind, name));
    """,
)

R = TypeVar("R", bound=Record)


class StorageError(Exception):
    """A table refused a row (full, duplicate name...); the message says which and why."""


class Storage:
    """One SQLite file in the data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / DB_NAME
        data_dir.mkdir(parents=True, exist_ok=True)
        self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA foreign_keys=ON")
        self._migrate(db)
        return db

    @staticmethod
    def _migrate(db: sqlite3.Connection) -> None:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            db.executescript(f"BEGIN IMMEDIATE; {script}; PRAGMA user_version = {number}; COMMIT;")
        if db.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 0:
            name, password = DEFAULT_ADMIN
            db.execute(
                "INSERT INTO users (name, password_hash, level) VALUES (?, ?, ?)",
                (name, hash_password(password), UserLevel.ADMIN.value),
            )

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # settings document
    def load_settings(self) -> dict[str, Any] | None:
        row = self._db.execute("SELECT document FROM settings WHERE id = 1").fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def save_settings(self, document: dict[str, Any]) -> None:
        text = json.dumps(document, sort_keys=True)
        with self.transaction() as db:
            db.execute(
                "INSERT INTO settings (id, document, saved) VALUES (1, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET document = excluded.document, saved = excluded.saved",
                (text, time.time()),
            )

    # tables
    def add(self, record: Record) -> int:
        kind = type(record)
        row = {name: _column(value) for name, value in record.model_dump().items()}
        with self.transaction() as db:
            count = db.execute(f"SELECT COUNT(*) FROM {kind.table}").fetchone()[0]
            if kind.limit is not None and count >= kind.limit:
                raise StorageError(f"{kind.table} is full ({kind.limit} rows); delete one first")
            if isinstance(record, FirewallRule):
                same = db.execute(
                    "SELECT COUNT(*) FROM firewall_rules WHERE direction = ?", (record.direction.value,)
                ).fetchone()[0]
                if same >= FirewallRule.per_direction:
                    raise StorageError(f"at most {FirewallRule.per_direction} {record.direction.value} rules")
            columns = ", ".join(f'"{name}"' for name in row)
            marks = ", ".join("?" for _ in row)
            try:
                sql = f"INSERT INTO {kind.table} ({columns}) VALUES ({marks})"
                cursor = db.execute(sql, tuple(row.values()))
            except sqlite3.IntegrityError as exc:
                raise StorageError(f"{kind.table}: {exc}") from None
            return int(cursor.lastrowid or 0)

    def rows(self, kind: type[R]) -> list[tuple[int, R]]:
        cursor = self._db.execute(f"SELECT * FROM {kind.table} ORDER BY id")
        names = [column[0] for column in cursor.description]
        result = []
        for values in cursor.fetchall():
            data = dict(zip(names, values, strict=True))
            ident = int(data.pop("id"))
            result.append((ident, kind.model_validate(data)))
        return result

    def delete(self, kind: type[Record], ident: int) -> bool:
        with self.transaction() as db:
            return db.execute(f"DELETE FROM {kind.table} WHERE id = ?", (ident,)).rowcount > 0

    def update(self, ident: int, record: Record) -> bool:
        row = {name: _column(value) for name, value in record.model_dump().items()}
        assignments = ", ".join(f'"{name}" = ?' for name in row)
        with self.transaction() as db:
            cursor = db.execute(
                f"UPDATE {type(record).table} SET {assignments} WHERE id = ?", (*row.values(), ident)
            )
            return cursor.rowcount > 0

    def clear_tables(self, kinds: tuple[type[Record], ...] = TABLES) -> None:
        """System >> Configurations >> Clear Tables; clearing users restores the default admin."""
        with self.transaction() as db:
            for kind in kinds:
                db.execute(f"DELETE FROM {kind.table}")
        self._migrate(self._db)

    def user(self, name: str) -> WebUser | None:
        for _, user in self.rows(WebUser):
            if user.name == name:
                return user
        return None

    def factory_reset(self) -> None:
        """Delete the database and start a fresh one: defaults, default admin, empty tables."""
        self._db.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        self._db = self._open()


def _column(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Enum):
        return value.value
    return value
