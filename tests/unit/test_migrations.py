"""Schema migrations: applied on start, in order, to a database created by an older schema."""

from __future__ import annotations

import sqlite3

import pytest

from infer0app.store.database import Store
from infer0app.store.migrations import SchemaTooNew, apply_pending, discover
from infer0app.store.models import ALL_MODELS


def columns(path, table):
    con = sqlite3.connect(path)
    try:
        return {row[1] for row in con.execute(f'PRAGMA table_info("{table}")')}
    finally:
        con.close()


def test_older_schema_is_upgraded_and_keeps_its_data(tmp_path):
    path = tmp_path / "old.sqlite3"
    old = Store(path)
    apply_pending(old, upto=1)  # the schema as the first release wrote it
    old.db.execute_sql('INSERT INTO "user" (email, created_at, disabled) VALUES (?, 0, 0)', ("old@example.com",))
    old.close()
    assert "oauth_app" not in sqlite3.connect(path).execute(
        "SELECT group_concat(name) FROM sqlite_master WHERE type='table'").fetchone()[0]

    store = Store.open(path)  # what `infer0 serve` does on start
    try:
        numbers = [n for n, *_ in discover()]
        applied = [r[0] for r in store.db.execute_sql("SELECT number FROM schema_migration ORDER BY number")]
        assert applied == numbers
        assert store.db.execute_sql('SELECT email FROM "user"').fetchone()[0] == "old@example.com"
    finally:
        store.close()


def test_migrated_schema_matches_the_models(tmp_path):
    path = tmp_path / "fresh.sqlite3"
    Store.open(path).close()
    for model in ALL_MODELS:
        expected = {f.column_name for f in model._meta.sorted_fields}
        assert columns(path, model._meta.table_name) == expected, model.__name__


def make_future_database(path):
    """A database whose schema records a migration this build does not know."""
    Store.open(path).close()
    con = sqlite3.connect(path)
    con.execute("INSERT INTO schema_migration (number, name, applied_at) VALUES (9999, 'm9999_future', 0)")
    con.commit()
    con.close()


def test_database_from_a_newer_infer0_is_refused_untouched(tmp_path):
    path = tmp_path / "new.sqlite3"
    make_future_database(path)
    with pytest.raises(SchemaTooNew, match="newer infer0"):
        Store.open(path)


def test_pragmas(tmp_path):
    store = Store.open(tmp_path / "p.sqlite3")
    try:
        q = lambda sql: store.db.execute_sql(sql).fetchone()[0]  # noqa: E731
        assert q("PRAGMA journal_mode") == "wal"
        assert q("PRAGMA foreign_keys") == 1
        assert q("PRAGMA synchronous") == 2  # FULL
        assert q("PRAGMA busy_timeout") == 5000
    finally:
        store.close()


def test_a_second_database_in_one_process_is_refused_until_the_first_closes(tmp_path):
    from infer0app.store.database import StoreError
    first = Store.open(tmp_path / "a.sqlite3")
    try:
        with pytest.raises(StoreError, match="already open in this process"):
            Store.open(tmp_path / "b.sqlite3")
        Store.open(tmp_path / "a.sqlite3").close()  # the same file again is fine
    finally:
        first.close()
    Store.open(tmp_path / "b.sqlite3").close()


def test_a_refused_newer_database_leaves_nothing_open(tmp_path):
    path = tmp_path / "new.sqlite3"
    make_future_database(path)
    with pytest.raises(SchemaTooNew):
        Store.open(path)
    Store.open(tmp_path / "other.sqlite3").close()  # would be refused if the failed open had leaked


def test_usage_rows_are_indexed_for_their_readers_only(tmp_path):
    """Each index costs every usage insert: keep the ones a query uses (by grant, by app, by time)."""
    path = tmp_path / "fresh.sqlite3"
    Store.open(path).close()
    con = sqlite3.connect(path)
    try:
        indexes = {row[1] for row in con.execute('PRAGMA index_list("usage_event")')}
    finally:
        con.close()
    assert indexes == {"usage_event_created_at", "usage_event_app_id", "usage_event_grant_time"}
