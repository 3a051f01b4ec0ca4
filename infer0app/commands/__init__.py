"""CLI subcommands; each module offers `register(subparsers)`."""

from . import backup, providers, serve, users
from . import admin, kek, tokens  # operator faces (issue 5)
from . import apps  # OAuth clients (issue 3)
from . import usage  # usage by user and app (issue 13)
from . import db  # db copy between SQLite and PostgreSQL (issue 15)

COMMAND_MODULES = [serve, users, providers, backup]
COMMAND_MODULES += [admin, tokens, kek]
COMMAND_MODULES += [apps]
COMMAND_MODULES += [usage]
from . import restore  # restore drill (issue 18)
COMMAND_MODULES += [restore]
from . import audit, errors  # audit export and recent errors for operators (issue 17)

COMMAND_MODULES += [audit, errors]
COMMAND_MODULES += [db]
