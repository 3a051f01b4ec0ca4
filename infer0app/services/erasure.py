"""Making deleted provider keys unrecoverable from the database files (issue 17 §2).

Deleting a row is not enough: SQLite leaves the bytes in the page until it is reused, and in
WAL mode every earlier version of the page stays in the `-wal` file until the log is restarted
and written over. So a connection's key is erased in three steps:

1. `erase_connection_keys` (inside the deleting transaction) overwrites the ciphertext and the
   wrapped data key in place with zeros of the same length, and the masked key hint with '',
   before the row is deleted;
2. the store runs with `PRAGMA secure_delete=ON` (store/database.py), so SQLite zeroes the
   space of every deleted or moved cell and every page it frees, ours and any earlier copy;
3. `checkpoint_wal` copies the WAL into the database file and truncates the WAL to zero bytes
   (`PRAGMA wal_checkpoint(TRUNCATE)`), so no older page image with the key survives in it.

Either half of a sealed key alone is useless without the keyring, but both are erased: a
database copy and an old keyring copy together must not reopen a deleted key.
"""

from __future__ import annotations

import logging

from ..store.models import ProviderConnection

log = logging.getLogger("infer0.erasure")
CHECKPOINT_TRIES = 3


def erase_connection_keys(where) -> int:
    """Inside a write: overwrite the sealed key of every connection matching `where` (a peewee
    expression on ProviderConnection) with zeros of its own length. Returns how many connections
    matched."""
    rows = list(ProviderConnection.select(ProviderConnection.id, ProviderConnection.key_ciphertext,
                                          ProviderConnection.wrapped_dek).where(where))
    for row in rows:
        # Zeros written from Python rather than SQLite's zeroblob(): the same statement runs on
        # PostgreSQL, where MVCC keeps the old tuple until VACUUM (README: erasure on PostgreSQL).
        ProviderConnection.update(
            key_ciphertext=bytes(len(row.key_ciphertext or b"")),
            wrapped_dek=bytes(len(row.wrapped_dek or b"")),
            key_tail="").where(ProviderConnection.id == row.id).execute()
    ids = [row.id for row in rows]
    return len(ids)


def checkpoint_wal(store) -> bool:
    """Outside any transaction: checkpoint the whole WAL into the database file and truncate it.
    SQLite waits (busy_timeout) for readers in other connections to finish; True when the WAL
    was emptied, False if a reader kept it busy every time (logged: its old frames are then
    overwritten as the next writes reuse the log)."""
    if getattr(store, "is_postgres", False):
        # No WAL file of ours: PostgreSQL's dead tuples are reclaimed by (auto)vacuum.
        return True
    for _ in range(CHECKPOINT_TRIES):
        busy, _log_frames, _done = store.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if not busy:
            return True
    log.warning("wal checkpoint stayed busy; erased pages leave the WAL as it is reused")
    return False
