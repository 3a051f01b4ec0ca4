"""The numbered migrations on PostgreSQL: the schema they make is the models' schema, and
instances starting at once apply each migration exactly once (the advisory lock)."""

from __future__ import annotations

import subprocess
import sys

from infer0app.store.database import Store
from infer0app.store.migrations import discover
from infer0app.store.models import ALL_MODELS
from infer0app.store.postgres import connect_database, import_psycopg
from tests.support.processes import ROOT, cli_env


def _columns(url: str) -> dict:
    with import_psycopg().connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_schema = 'public'").fetchall()
    return {(t, c): (ty, nullable) for t, c, ty, nullable in rows}


def _unique_indexes(url: str) -> set:
    with import_psycopg().connect(url) as conn:
        rows = conn.execute(
            "SELECT t.relname, array_agg(a.attname ORDER BY a.attname) FROM pg_index i "
            "JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace "
            "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(i.indkey) "
            "WHERE n.nspname = 'public' AND i.indisunique AND NOT i.indisprimary GROUP BY i.indexrelid, t.relname"
        ).fetchall()
    return {(t, tuple(cols)) for t, cols in rows}


def test_migrated_schema_matches_the_models(pg_cluster, tmp_path):
    migrated, modelled = pg_cluster.create_database("mig"), pg_cluster.create_database("mod")
    Store.open(tmp_path / "x", database_url=pg_cluster.database_url(migrated)).close()
    db = connect_database(pg_cluster.database_url(modelled), None)
    with db.bind_ctx(ALL_MODELS, bind_refs=False, bind_backrefs=False):
        db.create_tables(ALL_MODELS)
    db.close()

    got, want = _columns(pg_cluster.database_url(migrated)), _columns(pg_cluster.database_url(modelled))
    assert got.pop(("cache_epoch", "id")) and got.pop(("cache_epoch", "n"))  # no model: read by raw SQL
    assert got == want  # names, types (BIGINT, DOUBLE PRECISION, BOOLEAN, BYTEA…) and NULL-ability
    assert _unique_indexes(pg_cluster.database_url(migrated)) >= _unique_indexes(pg_cluster.database_url(modelled))


def test_instances_starting_at_once_apply_each_migration_exactly_once(pg_cluster, tmp_path):
    name = pg_cluster.create_database("race")
    env = cli_env({"INFER0_DATABASE_URL": pg_cluster.database_url(name)})
    procs = [subprocess.Popen([sys.executable, "-m", "infer0app", "users", "list", "--data-dir",
                               str(tmp_path / f"d{i}")], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i in range(6)]
    outcomes = [(p.wait(120), p.stderr.read()) for p in procs]
    assert [code for code, _ in outcomes] == [0] * 6, outcomes
    with import_psycopg().connect(pg_cluster.database_url(name)) as conn:
        applied = [r[0] for r in conn.execute("SELECT number FROM schema_migration ORDER BY number")]
        triggers = conn.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'epoch_%%'").fetchone()[0]
    assert applied == [n for n, _, _ in discover()]
    assert triggers == 10 + 9 + 4  # m0006, m0008, m0010: each created once
