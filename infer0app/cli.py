"""The `infer0` command: serve | admin | users | apps | providers | tokens | kek | backup | restore.

Every face calls the same services. Commands print their result as JSON on stdout (CSV where
asked); a failure prints one line, `infer0: error: …`, on stderr and exits with EXIT_CODES' rule.
"""

from __future__ import annotations

import argparse
import sys

from . import __version__
from .commands import COMMAND_MODULES
from .commands.common import EXIT_CODES, CommandError, build_version_string


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="infer0", description="Bring-your-own-provider AI inference over OAuth 2.0, in one binary.",
        epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=build_version_string())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
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
