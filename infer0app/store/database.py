"""One way into SQLite.

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

from . import models
from .group_commit import GroupCommit

T = TypeVar("T")

PRAGMAS = {
    "journal_mode": "wal",
    "busy_timeout": 5000,
    "foreign_keys": 1,
    "synchronous": "full",
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

    def __init__(self, path: Path, *, threads: int = 4):
        self.path = Path(path)
        current = Store._bound
        if current is not None and not current._closed and current.path.resolve() != self.path.resolve():
            raise StoreError(f"{current.path} is already open in this process; close it before opening "
                             f"{self.path} (one infer0 database per process).")
        self._closed = False
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
        self._write_lock = threading.RLock()
        self._group_commit = GroupCommit(self)
        #: Wall-clock "now" in seconds since the epoch, for the token lifecycle (codes, tokens,
        #: the bearer check): the one seam through which a test moves time forward
        #: (`create_app(settings, clock=...)`), instead of patching `time.time` in our modules.
        self.clock: Callable[[], float] = time.time

    # -- lifecycle -------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path, *, create: bool = True, migrate: bool = True) -> "Store":
        path = Path(path)
        if not create and not path.exists():
            raise StoreError(f"No infer0 database at {path}. Start `infer0 serve` once, or pass --data-dir.")
        path.parent.mkdir(parents=True, exist_ok=True)
        store = cls(path)
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
        except peewee.DatabaseError as exc:
            store.close()
            raise StoreError(f"Cannot open database {path}: {exc}") from None
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
        """The write path: an IMMEDIATE transaction (takes the write lock up front)."""
        with self._write_lock, self.db.atomic(lock_type="IMMEDIATE"):
            yield

    def read(self):
        """A read transaction: a consistent snapshot across several SELECTs."""
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
            raise StoreClosed(f"The database {self.path} is closed; nothing more can run on it.")

    def _call(self, fn, args, kwargs):
        # Each pool thread opens its own connection on first use (peewee autoconnect).
        return fn(self, *args, **kwargs)

    def ping(self) -> bool:
        self.db.execute_sql("SELECT 1").fetchone()
        return True

    def backup_to(self, target: Path) -> None:
        """A consistent online copy through SQLite's backup API (works while others write).

        The copy holds sealed provider keys and token hashes, so it is private whatever the
        umask: the file is exactly 0600, missing parent directories exactly 0700. An existing
        `target` is refused (FileExistsError): callers remove it first to replace it."""
        target = Path(target)
        _make_private_dirs(target.parent)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        os.chmod(target, 0o600)  # os.open's mode passes through the umask; chmod does not
        dest = sqlite3.connect(str(target))
        try:
            self.db.connection().backup(dest)
        finally:
            dest.close()


def _make_private_dirs(directory: Path) -> None:
    """Create `directory` and any missing parents with mode 0700 (existing ones are left alone)."""
    missing = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for d in reversed(missing):
        d.mkdir(mode=0o700, exist_ok=True)
        os.chmod(d, 0o700)  # mkdir's mode passes through the umask
