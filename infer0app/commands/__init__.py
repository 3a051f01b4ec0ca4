"""CLI subcommands: the module `infer0app.commands.<name>` offers `register(subparsers)` for the
command of its name. Modules load on demand (`load`): a call such as `infer0 users list` imports
its own command and the services it uses, not every command's (about a third of a short call's
start-up). `infer0app/cli.py` loads them all for `--help` and for an unknown command."""

import importlib

COMMAND_NAMES = ["serve", "users", "providers", "backup"]
COMMAND_NAMES += ["admin", "tokens", "kek"]  # operator faces (issue 5)
COMMAND_NAMES += ["apps"]  # OAuth clients (issue 3)
COMMAND_NAMES += ["usage"]  # usage by user and app (issue 13)
COMMAND_NAMES += ["restore"]  # restore drill (issue 18)
COMMAND_NAMES += ["audit", "errors"]  # audit export and recent errors for operators (issue 17)
COMMAND_NAMES += ["db"]  # db copy between SQLite and PostgreSQL (issue 15)


def load(name: str):
    """The command module `name` (one of COMMAND_NAMES), imported now if it was not yet."""
    return importlib.import_module(f"{__name__}.{name}")
