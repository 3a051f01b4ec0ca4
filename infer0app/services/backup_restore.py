"""Restoring a backup into a data directory, checked before anything is put in place.

`restore(backup, keyring, data_dir)` is what `infer0 restore` runs. Copying the files by hand
works too (README), but it is easy to get wrong: mix a restored database with an old `-wal`,
restore over a live data dir, pair a backup with the wrong keyring copy and only learn it when
users' calls fail. So this refuses, and changes nothing, unless:

- the target holds no database, WAL, shared-memory file or keyring (restore into a new or
  emptied data dir; a running server's data dir is never touched);
- the backup is a SQLite database whose `PRAGMA integrity_check` is `ok`, written by this
  infer0 or an older one (a newer schema is refused; an older one is migrated on first start);
- the keyring loads, and every sealed provider key in the backup opens with it (AES-GCM
  authenticates, so a wrong keyring copy is caught here, not by users).

The database is copied with SQLite's backup API into a private temporary file in the target
directory (so a backup's own `-wal` is folded in), checked there, then renamed into place
after the keyring copy; both files are 0600 and fsynced, the directory too.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from pathlib import Path

from ..paths import db_path
from ..store import sqlite_copy
from ..store.migrations import discover
from ..vault.envelope import SealError, Sealed, provider_aad
from ..vault.keyring import KeyringError, Vault
from .datadir import keyring_location


class RestoreError(RuntimeError):
    """The restore was refused; the message says why. Nothing in the target was changed."""


def _occupied(data_dir: Path, ring_target: Path) -> list[str]:
    db = db_path(data_dir)
    candidates = [db, Path(f"{db}-wal"), Path(f"{db}-shm")]
    return [p.name for p in candidates if p.exists()] + ([str(ring_target)] if ring_target.exists() else [])


def _copy_database(backup: Path, staged: Path) -> None:
    try:
        sqlite_copy.copy_file(backup, staged)
    except sqlite3.DatabaseError as exc:
        raise RestoreError(f"{backup} is not a readable SQLite database: {exc}") from None
    except sqlite3.Error as exc:
        raise RestoreError(f"{backup} cannot be opened as a database: {exc}") from None


def _check_database(conn: sqlite3.Connection, backup: Path) -> None:
    problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
    if problems != ["ok"]:
        raise RestoreError(f"{backup} fails SQLite's integrity check: {'; '.join(problems[:5])}")
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "schema_migration" not in tables or "provider_connection" not in tables:
        raise RestoreError(f"{backup} is not an infer0 database (no schema_migration table).")
    applied = {row[0] for row in conn.execute("SELECT number FROM schema_migration")}
    newer = applied - {number for number, _, _ in discover()}
    if newer:
        raise RestoreError(f"{backup} was written by a newer infer0 (schema {max(newer)}); "
                           "restore it with that version or a later one.")


def _check_secrets(conn: sqlite3.Connection, vault: Vault, backup: Path, keyring: Path) -> int:
    rows = conn.execute('SELECT id, uid, user_id, kek_id, wrapped_dek, key_ciphertext FROM "provider_connection" '
                        "WHERE kek_id IS NOT NULL").fetchall()
    failed = []
    for conn_id, uid, user_id, kek_id, wrapped, ciphertext in rows:
        try:
            vault.open(Sealed(kek_id, bytes(wrapped), bytes(ciphertext)), provider_aad(uid, user_id))
        except SealError:
            failed.append(conn_id)
    if failed:
        raise RestoreError(f"{len(failed)} of the {len(rows)} provider keys in {backup} do not open with the "
                           f"keyring {keyring}: it is not the keyring copy that goes with this backup "
                           "(take the copy made on the same day, after the last `infer0 kek rotate`).")
    return len(rows)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(str(directory), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def restore(backup: Path, keyring: Path, data_dir: Path, *, keyring_target: Path | None = None) -> dict:
    """Check `backup` + `keyring`, then place them as `data_dir`'s database and keyring (at
    `keyring_target`, the --keyring-file the instances will use, when given; it must not exist).

    Returns `{"database": path, "keyring": path, "integrity": "ok", "provider_keys_checked": n}`.
    Raises RestoreError (target unchanged) if the target is occupied, the backup is missing,
    damaged, not infer0's or from a newer infer0, or the keyring does not open its keys."""
    backup, keyring, data_dir = Path(backup), Path(keyring), Path(data_dir)
    ring_target = keyring_location(data_dir, str(keyring_target or ""))
    occupied = _occupied(data_dir, ring_target)
    if occupied:
        raise RestoreError(f"{data_dir} already holds {', '.join(occupied)}: restore into a new or empty data "
                           "directory (stop the server and move the old files aside first).")
    if not backup.is_file():
        raise RestoreError(f"No backup file at {backup}.")
    try:
        vault = Vault.load(keyring)
    except KeyringError as exc:
        raise RestoreError(str(exc)) from None
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    ring_target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    token = secrets.token_hex(4)
    staged_db = data_dir / f".restore-{token}.sqlite3"
    staged_ring = ring_target.parent / f".restore-{token}.keyring"  # renamed within its own directory
    try:
        _copy_database(backup, staged_db)
        conn = sqlite3.connect(str(staged_db))
        try:
            _check_database(conn, backup)
            checked = _check_secrets(conn, vault, backup, keyring)
        finally:
            conn.close()
        with open(staged_db, "rb+") as fh:
            os.fsync(fh.fileno())
        _write_private(staged_ring, vault.to_json())
        os.replace(staged_db, db_path(data_dir))
        os.replace(staged_ring, ring_target)
        _fsync_dir(data_dir)
        if ring_target.parent != data_dir:
            _fsync_dir(ring_target.parent)
    finally:
        for leftover in (staged_db, staged_ring):
            if leftover.exists():
                leftover.unlink()
    return {"database": str(db_path(data_dir)), "keyring": str(ring_target), "integrity": "ok",
            "provider_keys_checked": checked}
