"""`infer0 db copy --from URL --to URL`: move a deployment between SQLite and PostgreSQL."""

from __future__ import annotations

import sys

from ..config import Settings, SettingsError
from ..services import db_copy
from ..store.database import StoreError
from .common import CommandError, emit, service_errors


def register(sub) -> None:
    p = sub.add_parser("db", help="Move the data between SQLite and PostgreSQL (db copy).")
    dbsub = p.add_subparsers(dest="db_command", metavar="COMMAND", required=True)
    c = dbsub.add_parser(
        "copy", help="Copy every table from one database to another (SQLite <-> PostgreSQL).",
        description="Copy every row from --from to --to in one transaction, tables in foreign-key order, "
        "checking row counts per table. Safe while a server runs on the source (a consistent snapshot is "
        "read). Provider keys are copied sealed: give every instance the same keyring. A target that "
        "already holds rows is refused unless --force.")
    c.add_argument("--from", dest="source", metavar="URL", required=True,
                   help="sqlite:///PATH/infer0.sqlite3 (or a file path), or postgresql://USER@HOST:PORT/DB.")
    c.add_argument("--to", dest="target", metavar="URL", required=True,
                   help="postgresql://USER@HOST:PORT/DB, or sqlite:///PATH (created if missing).")
    c.add_argument("--database-password-file", metavar="FILE", default=None,
                   help="File holding the PostgreSQL end's password (else the URL's, PGPASSWORD or ~/.pgpass).")
    c.add_argument("--force", action="store_true",
                   help="Replace the rows a non-empty target already holds (they are deleted first).")
    c.set_defaults(func=run)


def run(args) -> int:
    password = _password(args.database_password_file)
    with service_errors():
        source = db_copy.parse_endpoint(args.source, password)
        target = db_copy.parse_endpoint(args.target, password)
        try:
            result = db_copy.copy_database(source, target, replace=args.force)
        except StoreError as exc:
            raise CommandError(str(exc), 1) from None
        except RuntimeError as exc:  # counts differ: rolled back
            raise CommandError(str(exc), 1) from None
    emit(result.as_json())
    print(f"Copied {result.rows} rows in {len(result.tables)} tables from {result.source} to {result.target}.\n"
          "Provider keys were copied sealed: every instance on the new database needs the same keyring "
          "(one file shared by all, named with --keyring-file / INFER0_KEYRING_FILE, or a copy of "
          "<data-dir>/keyring.json in each instance's --data-dir; mode 0600).", file=sys.stderr)
    return 0


def _password(path: str | None) -> str | None:
    if not path:
        return None
    try:
        return Settings(database_password_file=path).database_password
    except SettingsError as exc:
        raise CommandError(str(exc), 2) from None
