"""The PostgreSQL translation of the SQLite-dialect statements and migrations (store/postgres.py)."""

from __future__ import annotations

import pytest

from infer0app.config import SettingsError, load_settings
from infer0app.store.migrations import discover
from infer0app.store.postgres import BOOLEAN_COLUMNS, pg_ddl, pg_sql, redact


def test_statements_get_postgres_parameters_and_functions():
    assert pg_sql('SELECT a FROM "t" WHERE b = ? AND c LIKE \'x%\'') == \
        'SELECT a FROM "t" WHERE b = %s AND c LIKE \'x%%\''
    assert pg_sql("SELECT group_concat(f.provider_id) FROM x WHERE y = ?") == \
        "SELECT string_agg((f.provider_id)::text, ',') FROM x WHERE y = %s"
    assert "to_char(to_timestamp(\"created_at\") AT TIME ZONE 'UTC', 'YYYY-MM-DD')" in \
        pg_sql("SELECT date(\"created_at\", 'unixepoch') FROM u WHERE a < ?")


def test_ddl_keeps_sqlite_meanings():
    ddl = pg_ddl('CREATE TABLE "u" ("id" INTEGER NOT NULL PRIMARY KEY, "n" INTEGER, "at" REAL NOT NULL, '
                 '"k" BLOB, "disabled" INTEGER NOT NULL)')
    assert ddl == ('CREATE TABLE "u" ("id" BIGSERIAL NOT NULL PRIMARY KEY, "n" BIGINT, "at" DOUBLE PRECISION NOT NULL, '
                   '"k" BYTEA, "disabled" BOOLEAN NOT NULL)')
    assert pg_ddl('ALTER TABLE "grant" ADD COLUMN "allow_model_choice" INTEGER NOT NULL DEFAULT 0') == \
        'ALTER TABLE "grant" ADD COLUMN "allow_model_choice" BOOLEAN NOT NULL DEFAULT FALSE'
    trigger = pg_ddl('CREATE TRIGGER "epoch_user_update" AFTER UPDATE OF disabled ON "user" '
                     'BEGIN UPDATE "cache_epoch" SET "n" = "n" + 1 WHERE "id" = 1; END')
    assert trigger == ('CREATE TRIGGER "epoch_user_update" AFTER UPDATE OF disabled ON "user" FOR EACH ROW '
                       'EXECUTE FUNCTION "infer0_bump_cache_epoch"()')


def test_every_migration_statement_translates():
    """No SQLite-only DDL slips through untranslated (the schema test on a real server checks meaning)."""
    for _, _, module in discover():
        for sql in getattr(module, "STATEMENTS", []):
            out = pg_ddl(sql)
            assert " REAL" not in out and "BLOB" not in out and " BEGIN " not in out
            for column in BOOLEAN_COLUMNS:
                assert f'"{column}" INTEGER' not in out


def test_passwords_are_redacted():
    assert redact("postgresql://infer0:s3cret@db:5432/infer0") == "postgresql://infer0:***@db:5432/infer0"
    assert redact("postgresql://infer0@db/infer0") == "postgresql://infer0@db/infer0"


def test_database_url_setting_is_checked(tmp_path):
    with pytest.raises(SettingsError, match="--database-url"):
        load_settings({"database_url": "mysql://x"}, environ={})
    secret = tmp_path / "pw"
    secret.write_text("hunter2\n")
    s = load_settings({"database_password_file": str(secret)}, environ={"INFER0_DATABASE_URL": "postgresql://u@h/d"})
    assert s.database_url == "postgresql://u@h/d" and s.database_password == "hunter2"
    missing = load_settings({"database_password_file": str(tmp_path / "nope")}, environ={})
    with pytest.raises(SettingsError, match="--database-password-file"):
        missing.database_password
