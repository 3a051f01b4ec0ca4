"""The `infer0` command: serve | admin | users | apps | providers | tokens | kek | backup | restore.

Every face calls the same services. Commands print their result as JSON on stdout (CSV where
asked); a failure prints one line, `infer0: error: …`, on stderr and exits with EXIT_CODES' rule.
"""

from __future__ import annotations

import argparse
import sys

from . import __version__
from .commands import COMMAND_NAMES, load
from .commands.common import EXIT_CODES, CommandError, build_version_string


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The whole parser; given `argv` that names a command, a parser with that command only
    (same options, same errors for it), so the call imports only the modules it runs."""
    wanted = _named_command(argv)
    parser = argparse.ArgumentParser(
        prog="infer0", description="Bring-your-own-provider AI inference over OAuth 2.0, in one binary.",
        epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=build_version_string())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_NAMES:
        if wanted in (None, name):
            load(name).register(sub)
    return parser


def _named_command(argv: list[str] | None) -> str | None:
    """The command `argv` runs, when it is a known one; None (load every command) for no argv,
    `--help`, `--version`, or an unknown name (argparse then lists the choices)."""
    if argv is None:
        return None
    first = next((arg for arg in argv if not arg.startswith("-")), None)
    return first if first in COMMAND_NAMES else None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CommandError as exc:
        print(f"infer0: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except OSError as exc:  # a path the command cannot create, read or write (backup PATH, --data-dir)
        where = f": {exc.filename}" if exc.filename else ""
        print(f"infer0: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover - `python -m infer0app.cli`
    sys.exit(main())

__all__ = ["main", "build_parser", "__version__"]
