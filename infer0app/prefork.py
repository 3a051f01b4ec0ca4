"""`infer0 serve --workers N`: N server processes sharing one port (SO_REUSEPORT) and one database.

The parent opens the data directory once (migrations, keyring) before forking, so workers
never race to migrate; then it only supervises: SIGTERM/SIGINT are passed to every worker,
each of which drains its own requests within the shutdown timeout. Each worker has its own
caches and usage recorder (throttles and limits count in the database); cross-process changes
reach them through the database (cache epoch, heartbeat rows), exactly as with the CLI and the TUI.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Callable


def run_workers(count: int, serve_one: Callable[[], int]) -> int:
    """Fork `count` workers running `serve_one()`; return the worst exit status."""
    children: list[int] = []
    for _ in range(count):
        pid = os.fork()
        if pid == 0:  # worker
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            code = 1
            try:
                code = serve_one()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        children.append(pid)

    def forward(signum, _frame):
        for child in children:
            try:
                os.kill(child, signum)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    worst = 0
    remaining = set(children)
    while remaining:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if pid in remaining:
            remaining.discard(pid)
            code = os.waitstatus_to_exitcode(status)
            worst = max(worst, code if code > 0 else (1 if code < 0 else 0))
            if code != 0 and remaining:
                forward(signal.SIGTERM, None)  # one worker failed: stop the rest rather than limp on
    return worst
