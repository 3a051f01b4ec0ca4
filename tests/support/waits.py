"""Waiting on the real condition instead of sleeping a fixed time (issue 18 §7).

A fixed sleep either wastes time or, on a loaded machine, is too short; these poll the
condition the test needs and fail with a message after a generous bound (a bound, never a
measurement: no test asserts speed)."""

from __future__ import annotations

import asyncio
import inspect
import time

from infer0app import keys
from infer0app.runtime.cache_watch import WATCHED
from infer0app.services.cache_epoch import read_epoch

BOUND = 20.0  # seconds; only reached when the condition never comes


async def until(condition, what: str, *, timeout: float = BOUND, every: float = 0.01):
    """Poll `condition()` (plain or async) until it is truthy; returns its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(every)


async def caches_caught_up(app) -> None:
    """Wait until the server's cache watch has acted on every change committed so far (its
    caches were dropped after the cache epoch last moved): the path a revocation or an edit
    made by any process takes to reach a running server."""
    target = await app[keys.STORE].run(read_epoch)
    await until(lambda: app[WATCHED].epoch >= target, f"the cache watch to see cache epoch {target}")


async def usage_rows(store, grant_id: int, n: int, tries: int = 400) -> list:
    """The grant's usage_event rows once at least `n` are written (the recorder flushes every
    0.5 s), or what is there after `tries` polls 50 ms apart (the caller's assertion says what is missing)."""
    from infer0app.store.models import UsageEvent

    rows: list = []
    for _ in range(tries):
        rows = await store.run(lambda s: list(UsageEvent.select().where(UsageEvent.grant_id == grant_id)))
        if len(rows) >= n:
            return rows
        await asyncio.sleep(0.05)
    return rows
