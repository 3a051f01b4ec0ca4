"""Consistent copies of an SQLite database through SQLite's online backup API.

Used by `infer0 backup` (Store.backup_to), `infer0 restore` (staging a backup) and
`infer0 db copy` (a snapshot of a running server's file). A copy holds sealed provider keys
and token hashes, so it is always created private: exactly 0600 whatever the umask, and never
over an existing file.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path


def create_private_file(path: Path) -> None:
    """Create `path` empty with mode 0600; FileExistsError if it exists."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)  # os.open's mode passes through the umask; chmod does not


def backup_connection(source: sqlite3.Connection, target: Path) -> None:
    """Copy the database behind `source` into a new private file `target` (works while others
    write). Raises FileExistsError, or sqlite3.Error when the source cannot be read."""
    create_private_file(target)
    dest = sqlite3.connect(str(target))
    try:
        source.backup(dest)
    finally:
        dest.close()


def copy_file(source: Path, target: Path) -> None:
    """Copy the SQLite file `source` (opened read-only, never written) into a new private file
    `target`. Raises FileExistsError, or sqlite3.Error when `source` is no readable database."""
    conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        backup_connection(conn, target)
    finally:
        conn.close()
