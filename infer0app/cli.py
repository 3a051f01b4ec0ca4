"""The `infer0` command: serve | admin | users | apps | providers | tokens | kek | backup | restore.

Every face calls the same services. Commands that create things print JSON on stdout;
bad input prints one clear line on stderr and exits non-zero (2: bad input, 1: failure).
"""

from __future__ import annotations

import argparse
import sys

from . import __version__
from .commands import COMMAND_MODULES
from .commands.common import CommandError, build_version_string


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="infer0", description="Bring-your-own-provider AI inference over OAuth 2.0, in one binary.")
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


if __name__ == "__main__":  # pragma: no cover - `python -m infer0app.cli`
    sys.exit(main())

__all__ = ["main", "build_parser", "__version__"]
