"""Runs the `infer0` command, optionally on uvloop, so the bench can try an event loop
without touching the application:

    python -m bench.launch [--uvloop] [--experiment NAME ...] -- serve --data-dir D --port P
"""

from __future__ import annotations

import sys


def main() -> int:
    argv = sys.argv[1:]
    if "--" in argv:
        ours, argv = argv[:argv.index("--")], argv[argv.index("--") + 1:]
    else:
        ours = []
    if "--uvloop" in ours:
        import asyncio

        import uvloop
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    experiments = [ours[i + 1] for i, a in enumerate(ours) if a == "--experiment"]
    if experiments:
        from .experiments import apply
        apply(experiments)
    from infer0app.cli import main as infer0_main
    return infer0_main(argv)


if __name__ == "__main__":
    sys.exit(main())
