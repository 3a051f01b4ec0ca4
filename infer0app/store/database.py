"""One way into the database: SQLite (the embedded default) or PostgreSQL (store/postgres.py).

`Store` opens the database with the house pragmas (WAL, busy_timeout, foreign keys,
synchronous=FULL), binds the models, applies migrations, and offers:

- `store.write()`: the one write path, a `BEGIN IMMEDIATE` transaction, so read-modify-write
  sequences (code redemption, refresh rotation, rewrap) cannot interleave across processes;
- `await store.run(fn, *args)`: runs blocking service code on a small thread pool so the
  aiohttp event loop never waits on SQLite. Peewee keeps one connection per thread;
- `await store.run_grouped(fn, *args)`: for the OAuth endpoints' short writes, many calls to
  one transaction and one fsync (group_commit.py).

Services are plain synchronous functions taking the Store; the CLI and the TUI call them
directly, the server through `store.run`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, TypeVar

import peewee

from . import models, postgres
from .faults import StorageUnavailable, storage_fault
from . import sqlite_copy
from .group_commit import GroupCommit

T = TypeVar("T")

PRAGMAS = {
    "journal_mode": "wal",
    "busy_timeout": 5000,
    "foreign_keys": 1,
    "synchronous": "full",
    # Deleted content is overwritten with zeros, so an erased provider key leaves no copy in
    # freed space (services/erasure.py, issue 17).
    "secure_delete": "on",
}


class StoreError(RuntimeError):
    """The database cannot be used; the message says why and names the file."""


class StoreClosed(StoreError):
    """`run` or `run_grouped` was called after `close()`: a bug in shutdown ordering (e.g. a
    background task outliving the store), reported instead of silently reopening a pool."""


class Store:
    # Peewee binds models to a database class-wide, so one process can serve one database at
    # a time. Opening a second one while the first is open would silently point the first
    # one's queries at it (and deadlock its write lock): refuse that loudly instead.
    _bound: "Store | None" = None

    def __init__(self, path: Path, *, threads: int = 4, database_url: str = "", password: str | None = None):
        """`path`: the SQLite file, or with `database_url` (postgresql://…) only where the data
        dir is (the keyring lives there); `password` overrides the URL's (never logged)."""
        self.path = Path(path)
        self.data_dir = self.path.parent
        self.is_postgres = bool(database_url)
        self.label = postgres.redact(database_url) if database_url else str(self.path)
        current = Store._bound
        if current is not None and not current._closed and current._identity() != self._identity():
            raise StoreError(f"{current.label} is already open in this process; close it before opening "
                             f"{self.label} (one infer0 database per process).")
        self._closed = False
        if database_url:
            try:
                self.db = postgres.connect_database(database_url, password)
            except RuntimeError as exc:
                raise StoreError(str(exc)) from None
        else:
            self.db = peewee.SqliteDatabase(str(self.path), pragmas=PRAGMAS, check_same_thread=False)
        self.db.bind(models.ALL_MODELS, bind_refs=False, bind_backrefs=False)
        Store._bound = self
        self._executor: ThreadPoolExecutor | None = None
        self._threads = threads
        # Threads of this process take turns at the write lock here, in order, instead of in
        # SQLite's busy handler, which sleeps 1, 2, 5, 10… ms between retries: with a commit's
        # fsync held under the lock, that back-off (not the work) capped the token endpoint.
        # Re-entrant: a write() inside a write() is a savepoint of the outer transaction.
        # Other processes (CLI, TUI, --workers) still meet at SQLite's lock with busy_timeout.
        # (PostgreSQL: writers queue in the server, at the advisory lock write() takes.)
        self._write_lock = threading.RLock()
        self._group_commit = GroupCommit(self)
        self.write_fault: str | None = None  # the last write's storage fault, until a write commits
        # Bumped when a fault clears: a connection (re)opened during the fault may have been opened
        # read-only by SQLite (it falls back to that when the file cannot be written) and would
        # refuse its next write; each thread reopens its connection once when it sees a new value.
        self._recoveries = 0
        self._thread_seen = threading.local()
        #: Wall-clock "now" in seconds since the epoch, for the token lifecycle (codes, tokens,
        #: the bearer check): the one seam through which a test moves time forward
        #: (`create_app(settings, clock=...)`), instead of patching `time.time` in our modules.
        self.clock: Callable[[], float] = time.time

    def _identity(self) -> str:
        return self.label if self.is_postgres else str(self.path.resolve())

    # -- lifecycle -------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path, *, create: bool = True, migrate: bool = True, database_url: str = "",
             password: str | None = None) -> "Store":
        """Open (and by default migrate) the SQLite file `path`, or the PostgreSQL database at
        `database_url` (then `path` only says where the data dir is). StoreError says why not."""
        path = Path(path)
        if not database_url and not create and not path.exists():
            raise StoreError(f"No infer0 database at {path}. Start `infer0 serve` once, or pass --data-dir.")
        path.parent.mkdir(parents=True, exist_ok=True)
        store = cls(path, database_url=database_url, password=password)
        try:
            store.db.connect(reuse_if_open=True)
            if migrate:
                from .migrations import apply_pending
                apply_pending(store)
            else:
                from .migrations import check_version
                check_version(store)
        except sqlite3.DatabaseError as exc:
            store.close()
            raise StoreError(f"Cannot open database {path}: {exc}") from None
        except (peewee.DatabaseError, peewee.InterfaceError) as exc:
            store.close()
            raise StoreError(postgres.open_failure(store.label, database_url, password, exc)) from None
        except BaseException:  # e.g. SchemaTooNew: never leave a half-opened store bound
            store.close()
            raise
        return store

    def close(self) -> None:
        self._closed = True
        self._group_commit.close()
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        if not self.db.is_closed():
            self.db.close()

    # -- access ----------------------------------------------------------------------
    @contextlib.contextmanager
    def write(self):
        """The write path: an IMMEDIATE transaction (takes the write lock up front). On
        PostgreSQL, a transaction holding the database-wide write advisory lock, the same
        one-writer-at-a-time guarantee across every process and host (store/postgres.py).

        A storage fault (disk full, read-only file, I/O error) raises StorageUnavailable and is
        remembered in `write_fault` (a short reason for /healthz) until a write commits again."""
        try:
            if self.is_postgres:
                # Only the transaction's outermost write takes the lock: a write() nested in a
                # group-committed call is a savepoint, which peewee does not count in
                # transaction_depth(), so testing the depth inside would lock again (a round trip).
                outermost = self.db.transaction_depth() == 0
                with self.db.atomic():
                    if outermost:
                        self.db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (postgres.WRITE_LOCK,))
                    yield
            else:
                if getattr(self._thread_seen, "recoveries", 0) != self._recoveries and not self.db.in_transaction():
                    self.db.close()  # may have been opened during the fault, read-only: reopen it
                    self._thread_seen.recoveries = self._recoveries
                with self._write_lock, self.db.atomic(lock_type="IMMEDIATE"):
                    yield
        except (sqlite3.Error, peewee.DatabaseError, StorageUnavailable) as exc:
            reason = exc.reason if isinstance(exc, StorageUnavailable) else storage_fault(exc)
            if reason is None:
                raise
            self.write_fault = reason
            if not self.db.in_transaction():
                # After a failed write SQLite can keep this connection in an error state (it kept
                # answering "read-only" after the file was writable again): start afresh next time.
                self.db.close()
            if isinstance(exc, StorageUnavailable):
                raise
            raise StorageUnavailable(reason) from exc
        if self.write_fault is not None:
            self.write_fault = None
            self._recoveries += 1
            self._thread_seen.recoveries = self._recoveries  # this connection has just written

    def read(self):
        """A read transaction: a consistent snapshot across several SELECTs."""
        if self.is_postgres:
            return self.db.atomic(isolation_level="REPEATABLE READ")
        return self.db.atomic()

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`fn(store, *args, **kwargs)` on the store's thread pool; its result or its exception.

        Raises StoreClosed after `close()` (a closed store never starts a new pool)."""
        self._check_open()
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=self._threads, thread_name_prefix="infer0-db")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(self._call, fn, args, kwargs))

    async def run_grouped(self, fn: Callable[..., T], *args: Any) -> T:
        """Like `run`, for a short call that writes: it shares one transaction and one fsync with
        whatever other such calls are waiting (store/group_commit.py), and returns once committed.
        Raises StoreClosed after `close()`."""
        self._check_open()
        return await self._group_commit.run(fn, *args)

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosed(f"The database {self.label} is closed; nothing more can run on it.")

    def _call(self, fn, args, kwargs):
        # Each pool thread opens its own connection on first use (peewee autoconnect).
        return fn(self, *args, **kwargs)

    def raw(self):
        """A DB-API connection for the services' hand-written statements (SQLite dialect, `?`
        parameters): `.execute(sql, params)` -> cursor, `.executemany(sql, seq)`. On SQLite the
        sqlite3 connection itself (no wrapper on the hot path); on PostgreSQL a translating one."""
        if self.is_postgres:
            return postgres.RawConnection(self.db)
        return self.db.connection()

    def utc_day(self, column):
        """A peewee expression: the UTC day (YYYY-MM-DD) of an epoch-seconds column."""
        if self.is_postgres:
            return peewee.fn.to_char(peewee.fn.timezone("UTC", peewee.fn.to_timestamp(column)), "YYYY-MM-DD")
        return peewee.fn.date(column, "unixepoch")

    def database_bytes(self) -> int:
        """Size of the database on disk (SQLite: the file with its WAL and shared memory)."""
        if self.is_postgres:
            return int(self.db.execute_sql("SELECT pg_database_size(current_database())").fetchone()[0])
        total = 0
        for suffix in ("", "-wal", "-shm"):
            try:
                total += os.path.getsize(f"{self.path}{suffix}")
            except OSError:  # no WAL or shm file right now (checkpointed, or no open connection)
                pass
        return total

    def ping(self) -> bool:
        self.db.execute_sql("SELECT 1").fetchone()
        return True

    def backup_to(self, target: Path) -> None:
        """A consistent online copy through SQLite's backup API (works while others write).

        The copy holds sealed provider keys and token hashes, so it is private whatever the
        umask: the file is exactly 0600, missing parent directories exactly 0700. An existing
        `target` is refused (FileExistsError): callers remove it first to replace it."""
        if self.is_postgres:
            raise StoreError("This infer0 runs on PostgreSQL: back it up with pg_dump (e.g. "
                             "`pg_dump --format=custom --file infer0.dump DBNAME`), and keep a copy of the keyring.")
        target = Path(target)
        _make_private_dirs(target.parent)
        sqlite_copy.backup_connection(self.db.connection(), target)


def _make_private_dirs(directory: Path) -> None:
    """Create `directory` and any missing parents with mode 0700 (existing ones are left alone)."""
    missing = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for d in reversed(missing):
        d.mkdir(mode=0o700, exist_ok=True)
        os.chmod(d, 0o700)  # mkdir's mode passes through the umask
