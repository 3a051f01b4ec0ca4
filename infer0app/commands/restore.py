"""`infer0 restore BACKUP --keyring FILE` — put a backup in place, after checking it opens."""

from __future__ import annotations

import sys

from ..services.backup_restore import RestoreError, restore
from .common import CommandError, add_data_dir, emit, resolve, settings_from


def register(sub) -> None:
    p = sub.add_parser("restore", help="Restore a database backup and its keyring copy into an empty data dir, "
                       "after checking both (integrity, schema, every provider key opens).",
                       description="Restore a backup made by `infer0 backup` and the keyring copy that goes "
                       "with it into a new or empty data directory. Nothing is put in place unless the "
                       "backup passes SQLite's integrity check, was written by this or an older infer0, "
                       "and every sealed provider key in it opens with the keyring. A data directory that "
                       "already holds a database or a keyring is refused.")
    p.add_argument("backup", metavar="BACKUP", help="The database file written by `infer0 backup`.")
    p.add_argument("--keyring", metavar="FILE", required=True,
                   help="The copy of keyring.json taken with (or after) that backup.")
    add_data_dir(p)
    p.set_defaults(func=run)


def run(args) -> int:
    settings = settings_from(args)
    data_dir = settings.data_dir
    target = resolve(settings.keyring_file) if settings.keyring_file else None
    try:
        result = restore(resolve(args.backup), resolve(args.keyring), data_dir, keyring_target=target)
    except RestoreError as exc:
        raise CommandError(str(exc), 1) from None
    emit(result)
    print(f"Restored into {data_dir}: integrity ok, {result['provider_keys_checked']} provider key(s) open with "
          "the keyring. Start the server on this data directory; it applies any pending migrations.",
          file=sys.stderr)
    return 0
