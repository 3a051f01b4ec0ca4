"""Numbered schema migrations, applied on start.

Each module `mNNNN_name.py` defines `up(store)`; the applied numbers are recorded in
`schema_migration`. A database from a newer infer0 (a number we do not know) is refused
with a clear message rather than touched.

The statements are SQLite DDL; on PostgreSQL `execute_all` runs each through
`store.postgres.pg_ddl`, and `apply_pending` holds a session advisory lock from its first read
of `schema_migration` to its last migration, so instances starting together apply each
migration exactly once (the others wait, then find nothing left to do).
"""

from __future__ import annotations

import contextlib
import importlib
import pkgutil
from types import ModuleType

from ..models import SchemaMigration


def execute_all(store, statements) -> None:
    """Run a migration's frozen statements, translated for PostgreSQL when that is the engine."""
    if store.is_postgres:
        from ..postgres import pg_ddl
        statements = [pg_ddl(sql) for sql in statements]
    for sql in statements:
        store.db.execute_sql(sql)


def discover() -> list[tuple[int, str, ModuleType]]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("m") and info.name[1:5].isdigit():
            module = importlib.import_module(f"{__name__}.{info.name}")
            found.append((int(info.name[1:5]), info.name, module))
    return sorted(found)


class SchemaTooNew(RuntimeError):
    pass


def applied_numbers(store) -> set[int]:
    if not store.db.table_exists("schema_migration"):
        return set()
    return {row.number for row in SchemaMigration.select(SchemaMigration.number)}


def check_version(store) -> None:
    known = {n for n, _, _ in discover()}
    applied = applied_numbers(store)
    newer = applied - known
    if newer:
        raise SchemaTooNew(
            f"The database {store.label} was written by a newer infer0 (schema {max(newer)}; "
            f"this build knows up to {max(known)}). Upgrade infer0 or restore a backup.")
    if known - applied:
        raise SchemaTooNew(f"The database {store.label} needs migrations; start `infer0 serve` once to apply them.")


def apply_pending(store, upto: int | None = None) -> list[int]:
    with _migration_lock(store):
        return _apply_pending(store, upto)


@contextlib.contextmanager
def _migration_lock(store):
    if not store.is_postgres:
        yield  # SQLite: as before, one IMMEDIATE transaction per migration
        return
    from ..postgres import MIGRATION_LOCK
    store.db.execute_sql("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
    try:
        yield
    finally:
        store.db.execute_sql("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))


def _apply_pending(store, upto: int | None) -> list[int]:
    with store.write():
        store.db.create_tables([SchemaMigration], safe=True)
    applied = applied_numbers(store)
    known = discover()
    newer = applied - {n for n, _, _ in known}
    if newer:
        raise SchemaTooNew(
            f"The database {store.label} was written by a newer infer0 (schema {max(newer)}). "
            "Upgrade infer0 or restore a backup.")
    done = []
    for number, name, module in known:
        if number in applied or (upto is not None and number > upto):
            continue
        with store.write():
            module.up(store)
            SchemaMigration.create(number=number, name=name)
        done.append(number)
    return done
