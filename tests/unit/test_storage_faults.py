"""Store.write() on a storage fault: StorageUnavailable with a short reason, remembered for
/healthz until a write commits again, the faulted connection dropped; other errors untouched.

SQLite's own `max_page_count` makes the database "full" without a small disk: the error is
SQLite's real SQLITE_FULL. (The loop-mounted disk-full test is
tests/integration/reliability/test_resource_faults.py.)
"""

from __future__ import annotations

import peewee
import pytest

from infer0app.store.database import Store
from infer0app.store.faults import StorageUnavailable, storage_fault


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "infer0.sqlite3")
    with s.write():
        s.db.execute_sql("CREATE TABLE scratch (id INTEGER PRIMARY KEY UNIQUE, body BLOB)")
    yield s
    s.close()


def test_a_full_database_raises_storage_unavailable_and_is_remembered_until_a_write_commits(store):
    pages = store.db.execute_sql("PRAGMA page_count").fetchone()[0]
    store.db.execute_sql(f"PRAGMA max_page_count = {pages}")  # this connection may not grow the file
    with pytest.raises(StorageUnavailable) as caught:
        with store.write():
            store.db.execute_sql("INSERT INTO scratch (body) VALUES (?)", (b"x" * 100_000,))
    assert caught.value.reason == "disk full" and store.write_fault == "disk full"
    assert "/" not in str(caught.value)  # safe to show: names no path
    # The faulted connection was dropped; the next one starts clean (the limit was per connection).
    with store.write():
        store.db.execute_sql("INSERT INTO scratch (body) VALUES (?)", (b"y",))
    assert store.write_fault is None
    assert store.db.execute_sql("SELECT count(*) FROM scratch").fetchone()[0] == 1


def test_errors_that_are_not_storage_faults_pass_through_unchanged(store):
    with store.write():
        store.db.execute_sql("INSERT INTO scratch (id, body) VALUES (1, x'00')")
    with pytest.raises(peewee.IntegrityError):
        with store.write():
            store.db.execute_sql("INSERT INTO scratch (id, body) VALUES (1, x'00')")
    assert store.write_fault is None


@pytest.mark.parametrize("message,reason", [
    ("database or disk is full", "disk full"),
    ("attempt to write a readonly database", "database read-only"),
    ("disk I/O error", "disk I/O error (the file cannot be written)"),
    ("UNIQUE constraint failed: scratch.id", None),
    ("database is locked", None),
])
def test_storage_fault_reads_peewee_wrapped_errors(message, reason):
    import sqlite3
    wrapped = peewee.OperationalError(sqlite3.OperationalError(message), message)
    assert storage_fault(wrapped) == reason
