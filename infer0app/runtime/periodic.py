"""The one helper for periodic background work: a coroutine run every N seconds in its own task
while the server runs, cancelled cleanly when it stops (DESIGN §3.2: lifetimes through
cleanup_ctx).

`every(...)` is an async context manager, so a cleanup context that also sets up and tears
down state wraps its `yield` in it; `periodic_ctx(...)` is the whole cleanup context for work
that needs nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from ..store.faults import StorageUnavailable

Tick = Callable[[], Awaitable[object]]
log = logging.getLogger("infer0.runtime")


@contextlib.asynccontextmanager
async def every(interval: float, tick: Tick, *, what: str, logger: logging.Logger = log,
                wake: asyncio.Event | None = None) -> AsyncIterator[asyncio.Task]:
    """Runs `await tick()` every `interval` seconds in a task named after `what`, for as long as
    the `async with` body runs; yields that task.

    The first call comes one interval after entry. With `wake`, a call also comes as soon as the
    event is set (the event is cleared before the call). An exception from `tick` is logged as
    "<what> failed" on `logger` (a storage fault in one line, once until a call succeeds) and the
    loop goes on; on exit the task is cancelled (a call in
    progress is interrupted at its next await) and awaited, so nothing runs after the body.
    """
    task = asyncio.get_running_loop().create_task(_loop(interval, tick, what, logger, wake),
                                                  name=f"infer0: {what}")
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def periodic_ctx(interval: float, tick_for: Callable[[web.Application], Tick], *, what: str,
                 logger: logging.Logger = log):
    """An aiohttp cleanup context that runs `tick_for(app)` every `interval` seconds while the
    app serves (see `every` for timing and errors)."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        async with every(interval, tick_for(app), what=what, logger=logger):
            yield

    return ctx


async def _loop(interval: float, tick: Tick, what: str, logger: logging.Logger,
                wake: asyncio.Event | None) -> None:
    stalled = False  # the last call met a storage fault (already reported)
    while True:
        if wake is None:
            await asyncio.sleep(interval)
        else:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(wake.wait(), interval)
            wake.clear()
        try:
            await tick()
        except StorageUnavailable as exc:  # disk full, read-only: one line per fault, not a traceback a tick
            if not stalled:
                logger.error("%s failed: %s; retrying", what, exc)
            stalled = True
        except Exception:  # a locked database, a bug: report, keep going (CancelledError passes)
            logger.exception("%s failed", what)
        else:
            stalled = False
