"""runtime/periodic.py: the background work of a running server runs every N seconds, survives a
failing run, and stops when the server cleans up."""

from __future__ import annotations

import asyncio
import logging

import pytest
from aiohttp import web

from infer0app.runtime.periodic import every, periodic_ctx

INTERVAL = 0.001  # small, so the test waits on events rather than on time


async def test_runs_again_after_a_failure_and_stops_on_exit(caplog: pytest.LogCaptureFixture) -> None:
    calls = 0
    third = asyncio.Event()

    async def tick() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database is locked")
        if calls == 3:
            third.set()

    with caplog.at_level(logging.ERROR, logger="infer0.test"):
        async with every(INTERVAL, tick, what="test tick", logger=logging.getLogger("infer0.test")) as task:
            await asyncio.wait_for(third.wait(), 10)
        assert task.done() and task.cancelled()
    stopped_at = calls
    await asyncio.sleep(INTERVAL * 20)
    assert calls == stopped_at  # nothing runs after the body
    failures = [r for r in caplog.records if r.name == "infer0.test"]
    assert [r.getMessage() for r in failures] == ["test tick failed"]
    assert failures[0].exc_info and "database is locked" in str(failures[0].exc_info[1])


async def test_wake_runs_before_the_interval() -> None:
    wake, ran = asyncio.Event(), asyncio.Event()

    async def tick() -> None:
        ran.set()

    async with every(3600, tick, what="woken", wake=wake):
        wake.set()
        await asyncio.wait_for(ran.wait(), 10)
        assert not wake.is_set()  # cleared before the call, so the next set wakes it again


async def test_exit_interrupts_a_run_in_progress() -> None:
    started, finished = asyncio.Event(), False

    async def tick() -> None:
        nonlocal finished
        started.set()
        await asyncio.Event().wait()  # never ends by itself
        finished = True

    async with every(INTERVAL, tick, what="slow") as task:
        await asyncio.wait_for(started.wait(), 10)
    assert task.cancelled() and not finished


async def test_periodic_ctx_runs_while_the_app_serves_and_stops_on_cleanup() -> None:
    app = web.Application()
    seen: list[web.Application] = []
    ran = asyncio.Event()

    def tick_for(a: web.Application):
        async def tick() -> None:
            seen.append(a)
            ran.set()
        return tick

    app.cleanup_ctx.append(periodic_ctx(INTERVAL, tick_for, what="ctx tick"))
    runner = web.AppRunner(app)
    await runner.setup()  # runs the startup half of every cleanup_ctx
    try:
        await asyncio.wait_for(ran.wait(), 10)
    finally:
        await runner.cleanup()
    stopped_at = len(seen)
    await asyncio.sleep(INTERVAL * 20)
    assert len(seen) == stopped_at and seen[0] is app
