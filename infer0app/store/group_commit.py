"""Group commit: many short write calls to one transaction, so one fsync serves them all.

The OAuth endpoints each end in a small write (claim a code, store a token) that must be
durable before the answer leaves: `synchronous=FULL` makes every commit an fsync, and a
revocation or a spent code must survive a power cut. Committing each call on its own made
the fsync, not the work, the endpoint's limit, and four pool threads fighting over one
write lock and the GIL cost more CPU than the calls themselves.

`GroupCommit.run(fn, *args)` queues `fn(store, *args)` for one dedicated thread. That thread
takes whatever is queued (up to `max_group` calls), runs the calls one after another inside
a single IMMEDIATE transaction, each in its own savepoint, commits once, and only then
hands each caller its result. So:

- a caller sees its result only after its writes are on disk (as with `store.write()`);
- a call that raises has its own writes rolled back (its savepoint); the others' stand;
- if the commit itself fails, every call of the group gets that error and nothing of the
  group is stored;
- calls run in arrival order and each sees the writes of those before it, exactly as if
  they had committed one by one.

Calls must be short and must not wait on the event loop. Nested `store.write()` blocks
inside them become savepoints of the group's transaction.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from typing import Any, Callable

from .faults import StorageUnavailable, storage_fault

log = logging.getLogger("infer0.store")

_STOP = object()


class GroupCommit:
    def __init__(self, store, *, max_group: int = 32):
        self._store = store
        self.max_group = max_group
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.groups = 0  # how many transactions ran (tests and the bench read these)
        self.calls = 0

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._ensure_thread()
        self._queue.put((fn, args, loop, future))
        return await future

    def _ensure_thread(self) -> None:
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name="infer0-group-commit", daemon=True)
                self._thread.start()

    def close(self) -> None:
        """Finish what is queued, then stop the thread."""
        with self._start_lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_STOP)
            thread.join()

    # -- the commit thread ---------------------------------------------------------------------
    def _serve(self) -> None:
        stopping = False
        while not stopping:
            item = self._queue.get()
            if item is _STOP:
                break
            group = [item]
            while len(group) < self.max_group:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                group.append(item)
            self._run_group(group)
        self._store.db.close()  # this thread's connection

    def _run_group(self, group: list) -> None:
        outcomes: list[tuple[bool, Any]] = []
        store = self._store
        try:
            with store.write():
                for fn, args, _loop, _future in group:
                    try:
                        with store.db.savepoint():
                            outcomes.append((True, fn(store, *args)))
                    except Exception as exc:  # this call's writes are undone; the group goes on
                        if isinstance(exc, StorageUnavailable) or storage_fault(exc):
                            # ...unless the storage refused it: then the group fails as a whole, so
                            # Store.write records the fault and drops this connection (one opened
                            # during a fault can stay read-only; inside a savepoint it never would be)
                            raise
                        outcomes.append((False, exc))
        except Exception as exc:  # BEGIN or COMMIT failed: none of the group's writes stand
            log.error("group commit failed: %s", exc.__class__.__name__)
            outcomes = [(False, exc)] * len(group)
        self.groups += 1
        self.calls += len(group)
        for (_fn, _args, loop, future), outcome in zip(group, outcomes):
            try:
                loop.call_soon_threadsafe(_settle, future, outcome)
            except RuntimeError:  # the caller's loop has closed: nobody is waiting any more
                pass


def _settle(future: asyncio.Future, outcome: tuple[bool, Any]) -> None:
    if future.done():  # the caller was cancelled (client went away); its writes stand regardless
        return
    ok, value = outcome
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)
