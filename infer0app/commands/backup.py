"""`infer0 backup PATH` — a consistent online copy of the database, safe while the server runs."""

from __future__ import annotations

import sys

from .common import CommandError, add_data_dir, emit, opened, resolve


def register(sub) -> None:
    p = sub.add_parser("backup", help="Copy the database consistently (SQLite backup API) to PATH, "
                       "readable by its owner only (file 0600, new directories 0700).",
                       description="Copy the database consistently (SQLite backup API) to PATH. The copy "
                       "holds sealed provider keys and token hashes: the file is written 0600 and "
                       "missing directories are created 0700, whatever the umask.")
    p.add_argument("path", metavar="PATH", help="Where to write the copy of the database (a file path).")
    p.add_argument("--force", action="store_true", help="Overwrite PATH if it exists.")
    add_data_dir(p)
    p.set_defaults(func=run)


def run(args) -> int:
    target = resolve(args.path)
    if target.exists() and not args.force:
        raise CommandError(f"{target} exists; choose another path or pass --force", 2)
    if target.is_dir():
        raise CommandError(f"{target} is a directory; give a file path such as {target}/infer0-backup.sqlite3", 2)
    with opened(args) as (store, vault):
        if store.is_postgres:  # before touching PATH: nothing of an SQLite backup applies
            raise CommandError(
                f"This infer0 uses PostgreSQL ({store.label}); `infer0 backup` copies the SQLite file only. "
                "Back PostgreSQL up with its own tool, e.g. `pg_dump --format=custom --file infer0.dump "
                "DBNAME`, and copy the keyring " + str(vault.path) + " separately "
                "(the dump's provider keys cannot be decrypted without it).", 2)
        if target.exists():
            target.unlink()
        store.backup_to(target)
        keyring = vault.path
    emit({"database_backup": str(target), "keyring": str(keyring)})
    print(f"Database copied to {target} (mode 0600: readable by its owner only).\n"
          f"The keyring is NOT inside it: copy {keyring} too and keep it somewhere separate and safe "
          "(mode 0600). Without the keyring the provider keys in the backup cannot be decrypted.\n"
          f"To restore: infer0 restore {target} --keyring <keyring copy> --data-dir <new or empty dir> "
          "(it checks both before putting them in place).", file=sys.stderr)
    return 0
