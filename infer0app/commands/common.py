"""Shared plumbing for CLI commands: the data-dir option, opening the store, JSON output, errors."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
from pathlib import Path

from .. import __version__
from ..config import SettingsError, load_settings
from ..services.errors import Conflict, NotFound, ServiceError, ValidationError
from ..services.row_ids import MAX_ROW_ID, parse_row_id
from ..store.database import StoreError
from ..store.migrations import SchemaTooNew
from ..vault.keyring import KeyringError


EXIT_CODES = """\
Exit status (every command):
  0  done; the result is on standard output (JSON, or CSV where --format csv asks for it)
  1  not found or refused: a user, app, grant or connection that does not exist, a data
     directory that is missing, locked or from a newer infer0, an action that did not finish
  2  bad input: an unknown command or option, a malformed or invalid value (email, URI,
     date, format), or a name that is already taken; nothing was changed
  130  interrupted (Ctrl-C)
Errors are one line on standard error, "infer0: error: ...", never a traceback."""


class CommandError(Exception):
    """A command failed; `exit_code` follows EXIT_CODES (1 not found/refused, 2 bad input)."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


def build_version_string() -> str:
    commit = os.environ.get("INFER0_BUILD_COMMIT", "")
    try:
        from .. import _build_info  # written by build/binary.sh into the bundle
        commit = commit or _build_info.COMMIT
    except ImportError:
        pass
    return f"infer0 {__version__}" + (f" (commit {commit})" if commit else "")


def add_data_dir(parser) -> None:
    parser.add_argument("--data-dir", metavar="DIR", default=None,
                        help="Directory with the database and keyring (env INFER0_DATA_DIR; default ./infer0-data).")
    parser.add_argument("--database-url", metavar="URL", default=None,
                        help="PostgreSQL database instead of SQLite in the data dir, postgresql://USER@HOST:PORT/DB "
                             "(env INFER0_DATABASE_URL).")
    parser.add_argument("--database-password-file", metavar="FILE", default=None,
                        help="File holding the PostgreSQL password (env INFER0_DATABASE_PASSWORD_FILE; "
                             "else PGPASSWORD).")
    parser.add_argument("--keyring-file", metavar="FILE", default=None,
                        help="The keyring file, when not DIR/keyring.json: one shared by every instance "
                             "(env INFER0_KEYRING_FILE; mode 0600 or 0400).")


def settings_from(args):
    try:
        return load_settings({name: getattr(args, name, None)
                              for name in ("data_dir", "database_url", "database_password_file", "keyring_file")})
    except SettingsError as exc:
        raise CommandError(str(exc), 2) from None


@contextlib.contextmanager
def opened(args, *, create: bool = False):
    """Open the data dir for a command; translate the known failures into one-line errors."""
    from ..services.datadir import open_configured

    settings = settings_from(args)
    try:
        store, vault = open_configured(settings, create=create)
    except (StoreError, KeyringError, SchemaTooNew) as exc:
        raise CommandError(str(exc), 1) from None
    try:
        with service_errors():
            yield store, vault
    finally:
        store.close()


@contextlib.contextmanager
def service_errors():
    try:
        yield
    except (ValidationError, Conflict) as exc:
        raise CommandError(exc.message, 2) from None
    except NotFound as exc:
        raise CommandError(exc.message, 1) from None
    except ServiceError as exc:
        raise CommandError(exc.message, 1) from None


def emit(obj) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, default=str) + "\n")


def read_secret_stdin(label: str) -> str:
    value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        raise CommandError(f"expected the {label} on standard input", 2)
    return value


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    import datetime as dt
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).isoformat(timespec="seconds")


def resolve(path: str) -> Path:
    return Path(path).expanduser().resolve()


def row_id(text: str) -> int:
    """argparse type of an `--id`/`--grant`: a row id, 1 to 2**63-1 (a longer number names no row;
    handed to the database it would be an overflow traceback). Bad input: exit 2."""
    ident = parse_row_id(text)
    if ident is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not an id (a whole number from 1 to {MAX_ROW_ID})")
    return ident


def int_between(low: int, high: int):
    """argparse type of a whole number from `low` to `high` (bad input: exit 2, never a traceback)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from {low} to {high}")
        return value
    return parse


def number_between(low: float, high: float):
    """argparse type of a finite number (seconds, say) from `low` to `high`; nan, inf and anything
    out of range: exit 2 with the range, never a traceback or an endless wait."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not low <= value <= high:  # False for nan
            raise argparse.ArgumentTypeError(f"{text!r} is not a number from {low:g} to {high:g}")
        return value
    return parse
