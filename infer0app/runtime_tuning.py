"""How the server process sets up its allocator and garbage collector (`infer0 serve` calls
`tune_process()` first thing; forked workers inherit it). Each setting was measured with
`bench/run.sh --compare` (bench/README.md).

Malloc: fixed glibc thresholds, so the memory a big allocation used goes back to the system
when it is freed.

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
import gc

# The cyclic collector's young generation is collected after this many net allocations of
# container objects (CPython's default: 700). Each young pass walks every container still
# alive in that generation, which on a busy server is the state of every request in flight;
# at 700 that happened every couple of requests, re-walking the same objects each time: 6 % of
# the server's CPU by perf. At 20,000, the chat path's CPU per request fell 10 % (174 -> 157 µs,
# interleaved A/B). What it costs: garbage caught in reference cycles (rare here; requests are
# freed by reference counting) waits longer for its collection.
GC_YOUNG_THRESHOLD = 20_000

M_TRIM_THRESHOLD = -1  # <malloc.h>
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 1 << 20
TRIM_THRESHOLD = 8 << 20


def tune_malloc() -> bool:
    """Applies the fixed thresholds; True when glibc took them."""
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the process already runs on
    except Exception:  # no such symbol (macOS), or no CDLL(None) at all (Windows)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    # musl's mallopt is a stub that returns 0: then the defaults simply stay
    return mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1


def tune_gc() -> None:
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, older, oldest)


def freeze_startup_heap() -> None:
    """Once the app is built, just before serving: collect, then move every object alive (modules,
    routes, templates, the app: ~60k) to the collector's permanent generation (gc.freeze), so its
    oldest-generation passes stop walking them on every pass (a full pass was ~70 ms: a pause
    every request in flight waited out). They are still freed as usual when released; only
    garbage cycles among them are never collected, which start-up objects do not form.
    Measured: −1.5 % instructions per chat call (bench/README.md, fourth session). `infer0 serve`
    only: a test process that built many apps would keep their leftovers."""
    gc.collect()
    gc.freeze()


def tune_process() -> None:
    tune_malloc()
    tune_gc()
