"""Telling a storage fault (disk full, read-only, I/O error) from every other database error.

A write that fails because the disk is full or the file cannot be written is not a bug to
log with a traceback and answer 500: nothing was changed, the operator has to act, and the
answer should say so (503 with a reason: the friendly page, OAuth's `temporarily_unavailable`,
/healthz). `Store.write()` raises `StorageUnavailable` for these and remembers the fault
until a later write succeeds (the server's heartbeat writes every second, so /healthz turns
green again within about a second of the fault clearing).
"""

from __future__ import annotations

import sqlite3

# SQLite's primary result codes (sqlite3.h) and what an operator should read for each.
_REASONS = {
    13: "disk full",  # SQLITE_FULL
    8: "database read-only",  # SQLITE_READONLY
    10: "disk I/O error (the file cannot be written)",  # SQLITE_IOERR (EPERM, EROFS, EIO on write)
    14: "database file cannot be opened",  # SQLITE_CANTOPEN
}
_MESSAGES = {
    "database or disk is full": 13,
    "attempt to write a readonly database": 8,
    "disk i/o error": 10,
    "unable to open database file": 14,
}


class StorageUnavailable(RuntimeError):
    """A write failed because of the storage, not the request. `reason` is short and safe to show
    (it names no path): one of "disk full", "database read-only", "disk I/O error (…)", …"""

    def __init__(self, reason: str):
        super().__init__(f"The database cannot be written: {reason}.")
        self.reason = reason


def storage_fault(exc: BaseException) -> str | None:
    """The reason, if `exc` (a sqlite3 error, or peewee's wrapper of one) is a storage fault."""
    for err in _chain(exc):
        if isinstance(err, sqlite3.Error):
            code = getattr(err, "sqlite_errorcode", None)
            if code is not None and (code & 0xFF) in _REASONS:
                return _REASONS[code & 0xFF]
        text = str(err).lower()
        for message, code in _MESSAGES.items():
            if message in text:
                return _REASONS[code]
    return None


def _chain(exc: BaseException | None):
    """`exc` and what it wraps, outermost first: peewee re-raises a driver's error as its own
    type with the original as first argument; otherwise __cause__, then __context__."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        wrapped = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else None
        exc = wrapped or exc.__cause__ or exc.__context__


def refused_value(exc: BaseException) -> bool:
    """Whether `exc` (or what it wraps) is the database refusing a value of the statement: a
    constraint, a number out of the column's range, a string too long (SQLite's IntegrityError or
    Python's OverflowError on binding; PostgreSQL's integrity errors and data errors, class 22/23),
    as opposed to a fault of the storage or the connection (locked, gone, restarting), after
    which the same statement may well succeed."""
    import peewee

    refused: tuple = (OverflowError, sqlite3.IntegrityError, sqlite3.DataError, peewee.IntegrityError,
                      peewee.DataError)
    try:
        import psycopg
        refused += (psycopg.IntegrityError, psycopg.DataError)
    except ImportError:  # pragma: no cover - psycopg is a dependency
        pass
    return any(isinstance(err, refused) for err in _chain(exc))
