"""CLI subcommands; each module offers `register(subparsers)`."""

from . import backup, providers, serve, users

COMMAND_MODULES = [serve, users, providers, backup]
