"""Fixed glibc malloc thresholds for the server process, so memory a big allocation used goes
back to the system when it is freed.

glibc starts by serving blocks over 128 KiB with mmap, but each time such a block is freed it
raises that threshold to the block's size (up to 32 MiB) and the heap-trim threshold to twice
that. A password check is one: Argon2id needs 19 MiB (accounts.py). After the first, every
later check gets its 19 MiB from the heap of the thread it runs on, and there it stays: a
burst of logins over the store's four threads left the server ~75 MiB bigger for good, and
more threads' heaps, more (measured: 32 -> 184 MiB after 20 checks on 4 threads; with these
settings it stays at 32).

Setting the thresholds explicitly turns the adjustment off: blocks of 1 MiB and more are
always mmapped and unmapped on free; smaller ones (asyncio's 256 KiB receive buffers, on every
request) stay on the heap, which is trimmed only beyond 8 MiB free at its top, so the hot path
makes no extra system calls. Off glibc (musl, macOS) this does nothing.
"""

from __future__ import annotations

import ctypes
import logging

log = logging.getLogger("infer0.server")

M_TRIM_THRESHOLD = -1  # <malloc.h>
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 1 << 20
TRIM_THRESHOLD = 8 << 20


def tune_malloc() -> bool:
    """Applies the fixed thresholds; True when glibc took them."""
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the process already runs on
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    ok = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
    if not ok:
        log.debug("mallopt refused the thresholds; keeping the allocator's defaults")
    return ok
