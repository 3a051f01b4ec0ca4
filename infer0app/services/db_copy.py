"""`infer0 db copy`: move a deployment's rows from one engine to the other (issue 15).

SQLite -> PostgreSQL is the upgrade from one VPS to N instances; PostgreSQL -> SQLite is the
way back. What the copy guarantees:

- a consistent snapshot of a running source: SQLite is first copied with its online backup
  API to a private temporary file (the server keeps writing meanwhile); PostgreSQL is read in
  one REPEATABLE READ READ ONLY transaction;
- the target gets the schema from the same numbered migrations as `infer0 serve` would apply,
  then every table in foreign-key order, all in ONE transaction: a failure leaves it as it was;
- row counts are compared per table before the commit (a mismatch rolls back);
- secrets are bytes moved as they are: sealed provider keys stay sealed under the same KEKs
  (the keyring is NOT in the database: every instance needs a copy of it), hashes stay hashes;
- a target that already holds rows is refused unless `replace=True`, which empties it first;
- PostgreSQL's id sequences are set past the copied ids, so the next INSERT does not collide.

Rows of `server_instance` (heartbeats of the source's live servers) are not copied: they
describe processes on the old host, and KEK rotation would wait for them to go stale.
`schema_migration` and `cache_epoch` are the target's own (made by its migrations).

Engine-neutral: no peewee model is bound here; the source and target are plain DB-API
connections (sqlite3, psycopg), because a process binds its models to one database at a time.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import peewee

from ..store import models, postgres, sqlite_copy
from ..store.database import Store, StoreError
from ..store.migrations import SchemaTooNew
from .errors import Conflict, ValidationError

# Not copied: the target's own bookkeeping, and the source's process heartbeats (see above).
SKIPPED_TABLES = ("schema_migration", "cache_epoch", "server_instance")
BATCH_ROWS = 5000  # rows read and written at a time (usage_event can be millions)


@dataclass(frozen=True)
class Endpoint:
    """One end of a copy: an SQLite file or a PostgreSQL URL (with its password, if given apart)."""
    kind: str  # "sqlite" | "postgres"
    path: Path | None = None
    url: str = ""
    password: str | None = None

    @property
    def label(self) -> str:
        return str(self.path) if self.kind == "sqlite" else postgres.redact(self.url)


@dataclass
class CopyResult:
    source: str
    target: str
    tables: dict[str, int] = field(default_factory=dict)  # table -> rows copied (= rows in source)
    replaced: bool = False

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    def as_json(self) -> dict:
        return {"from": self.source, "to": self.target, "tables": self.tables, "rows": self.rows,
                "replaced_existing_rows": self.replaced, "skipped_tables": list(SKIPPED_TABLES)}


def parse_endpoint(text: str, password: str | None = None) -> Endpoint:
    """`sqlite:///path/infer0.sqlite3` (everything after `sqlite://` is the path, so three
    slashes give an absolute one), a bare file path, or `postgresql://user@host:port/db`.
    ValidationError for anything else."""
    text = (text or "").strip()
    if postgres.is_postgres_url(text):
        return Endpoint("postgres", url=text, password=password)
    if text.startswith("sqlite://"):
        text = text[len("sqlite://"):]
    elif "://" in text:
        raise ValidationError(f"unsupported database URL {postgres.redact(text)!r}: use sqlite:///PATH or "
                              "postgresql://USER@HOST:PORT/DB")
    if not text:
        raise ValidationError("no database given: use sqlite:///PATH or postgresql://USER@HOST:PORT/DB")
    return Endpoint("sqlite", path=Path(text).expanduser().resolve())


def copy_database(source: Endpoint, target: Endpoint, *, replace: bool = False) -> CopyResult:
    """Copy every row of `source` into `target` (engines must differ). Returns per-table counts.

    Errors: ValidationError (same engine, missing source file, source schema newer than this
    build), Conflict (target holds rows and not `replace`), StoreError (cannot connect/open;
    the message names the database, never its password), RuntimeError (counts differ after
    the copy; nothing was committed)."""
    if source.kind == target.kind:
        raise ValidationError(f"both ends are {source.kind}: db copy moves data between SQLite and PostgreSQL")
    if source.kind == "sqlite" and not source.path.is_file():
        raise ValidationError(f"no SQLite database at {source.path}")
    created = target.kind == "sqlite" and not target.path.exists()
    if created:
        _create_private(target.path)
    try:
        return _copy(source, target, replace)
    except BaseException:
        if created:  # leave no half-made file behind (the copy itself is one transaction)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{target.path}{suffix}").unlink(missing_ok=True)
        raise


def _copy(source: Endpoint, target: Endpoint, replace: bool) -> CopyResult:
    with tempfile.TemporaryDirectory(prefix="infer0-dbcopy-") as scratch:
        os.chmod(scratch, 0o700)  # the snapshot holds sealed keys and token hashes
        _migrate(target, Path(scratch))
        if source.kind == "sqlite":
            snapshot = _sqlite_snapshot(source.path, Path(scratch))
            src = sqlite3.connect(str(snapshot))
        else:
            _check_current(source, Path(scratch))
            src = _pg_connect(source)
            src.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            dst = _sqlite_target(target.path) if target.kind == "sqlite" else _pg_connect(target)
            try:
                result = CopyResult(source.label, target.label, replaced=False)
                _copy_all(src, dst, target.kind, replace, result)
            finally:
                dst.close()
        finally:
            src.close()
    return result


# -- preparing both ends ---------------------------------------------------------------------
def _create_private(path: Path) -> None:
    """A new SQLite target holds sealed keys and token hashes: 0600 in a 0700 directory if new,
    whatever the umask (as `infer0 backup` writes its copies)."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
        os.chmod(path.parent, 0o700)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    os.chmod(path, 0o600)

def _open_store(end: Endpoint, scratch: Path, *, migrate: bool) -> Store:
    path = end.path if end.kind == "sqlite" else scratch / "unused.sqlite3"
    return Store.open(path, create=True, migrate=migrate, database_url=end.url, password=end.password)


def _migrate(target: Endpoint, scratch: Path) -> None:
    """The target's schema, from the same migrations `infer0 serve` applies (advisory-locked on
    PostgreSQL, so a server starting meanwhile does not apply them twice)."""
    _open_store(target, scratch, migrate=True).close()


def _check_current(source: Endpoint, scratch: Path) -> None:
    """A PostgreSQL source is live and shared: it is read as it is, never migrated here."""
    try:
        _open_store(source, scratch, migrate=False).close()
    except SchemaTooNew as exc:  # newer than this build, or not yet migrated
        raise ValidationError(str(exc)) from None


def _sqlite_snapshot(path: Path, scratch: Path) -> Path:
    """A consistent copy of a possibly running SQLite database (backup API), brought to this
    build's schema by the usual migrations (the live file is never written)."""
    snapshot = scratch / "snapshot.sqlite3"
    try:
        sqlite_copy.copy_file(path, snapshot)
    except sqlite3.DatabaseError as exc:
        raise ValidationError(f"cannot read {path} as an SQLite database: {exc}") from None
    try:
        Store.open(snapshot, create=False, migrate=True).close()
    except (StoreError, SchemaTooNew) as exc:
        raise ValidationError(str(exc)) from None
    return snapshot


def _sqlite_target(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=5)
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _pg_connect(end: Endpoint):
    db = postgres.connect_database(end.url, end.password)
    try:
        conn = db._connect()  # a plain psycopg connection with the house settings and loaders
    except Exception as exc:  # peewee.DatabaseError, psycopg.OperationalError
        raise StoreError(postgres.open_failure(end.label, end.url, end.password, exc)) from None
    conn.autocommit = True  # transactions are begun explicitly below
    return conn


# -- the copy --------------------------------------------------------------------------------
def copy_order() -> list[str]:
    """Every copied table, parents before children (peewee's foreign-key sort of the models)."""
    ordered = peewee.sort_models(models.ALL_MODELS)
    return [m._meta.table_name for m in ordered if m._meta.table_name not in SKIPPED_TABLES]


def _copy_all(src, dst, target_kind: str, replace: bool, result: CopyResult) -> None:
    tables = copy_order()
    dst.execute("BEGIN IMMEDIATE" if target_kind == "sqlite" else "BEGIN")
    try:
        if target_kind == "postgres":  # no server writes mid-copy (store.write()'s lock)
            dst.execute("SELECT pg_advisory_xact_lock(%s)", (postgres.WRITE_LOCK,))
        occupied = {t: n for t in tables if (n := _count(dst, t))}
        if occupied and not replace:
            raise Conflict("the target already holds rows (" + ", ".join(f"{t}: {n}" for t, n in occupied.items())
                           + "); pass --force to replace them")
        if occupied:
            _empty(dst, target_kind, tables)
            result.replaced = True
        for table in tables:
            columns = _shared_columns(src, dst, table)
            cursor = src.execute(f'SELECT {_cols(columns)} FROM "{table}"')
            result.tables[table] = 0
            while rows := cursor.fetchmany(BATCH_ROWS):
                _insert(dst, target_kind, table, columns, rows)
                result.tables[table] += len(rows)
        for table, copied in result.tables.items():
            expected, found = _count(src, table), _count(dst, table)  # src: the same snapshot
            if not expected == copied == found:
                raise RuntimeError(f"row count differs for {table}: source {expected}, copied {copied}, "
                                   f"target {found}; nothing was committed")
        if target_kind == "postgres":
            _reset_sequences(dst, tables)
        # Servers already running on the target drop what they cached (a --force replace may
        # have removed it); on PostgreSQL the trigger function also NOTIFYs them.
        dst.execute('UPDATE "cache_epoch" SET "n" = "n" + 1 WHERE "id" = 1')
        if target_kind == "postgres":
            dst.execute(f"SELECT pg_notify('{postgres.NOTIFY_CHANNEL}', '')")
        dst.execute("COMMIT")
    except BaseException:
        dst.execute("ROLLBACK")
        raise


def _count(conn, table: str) -> int:
    return int(conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0])


def _cols(columns: list[str]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def _columns(conn, table: str) -> list[str]:
    if isinstance(conn, sqlite3.Connection):
        return [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
    return [r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = %s ORDER BY ordinal_position", (table,))]


def _shared_columns(src, dst, table: str) -> list[str]:
    """Both ends are at the same migration, so their columns agree; a difference is a bug."""
    have, want = _columns(src, table), _columns(dst, table)
    if set(have) != set(want):
        raise RuntimeError(f"table {table} differs between source ({sorted(have)}) and target ({sorted(want)})")
    return want


def _boolean_columns(table: str) -> set[str]:
    model = next(m for m in models.ALL_MODELS if m._meta.table_name == table)
    return {f.column_name for f in model._meta.sorted_fields if isinstance(f, peewee.BooleanField)}


def _insert(dst, target_kind: str, table: str, columns: list[str], rows: list[tuple]) -> None:
    if not rows:
        return
    if target_kind == "sqlite":
        marks = ", ".join("?" for _ in columns)
        dst.executemany(f'INSERT INTO "{table}" ({_cols(columns)}) VALUES ({marks})', rows)
        return
    # SQLite keeps booleans as 0/1; PostgreSQL's BOOLEAN columns take True/False.
    flags = [i for i, c in enumerate(columns) if c in _boolean_columns(table)]
    with dst.cursor().copy(f'COPY "{table}" ({_cols(columns)}) FROM STDIN') as copy:
        for row in rows:
            if flags:
                row = list(row)
                for i in flags:
                    row[i] = None if row[i] is None else bool(row[i])
            copy.write_row(row)


def _empty(dst, target_kind: str, tables: list[str]) -> None:
    if target_kind == "postgres":
        dst.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
        return
    for table in reversed(tables):  # children first, for the foreign keys
        dst.execute(f'DELETE FROM "{table}"')


def _reset_sequences(dst, tables: list[str]) -> None:
    """Each BIGSERIAL's next value past the largest copied id (1 for an empty table)."""
    for table in tables:
        if "id" not in _columns(dst, table):
            continue
        seq = dst.execute("SELECT pg_get_serial_sequence(%s, 'id')", (f'"{table}"',)).fetchone()
        if seq and seq[0]:
            dst.execute(f'SELECT setval(%s, COALESCE(MAX("id"), 1), MAX("id") IS NOT NULL) FROM "{table}"',
                        (seq[0],))

