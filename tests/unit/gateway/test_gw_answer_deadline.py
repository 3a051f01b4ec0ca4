"""gateway/deadline.py: the whole-answer bound of a non-streaming provider call, kept by one
sweep per event loop instead of a timer per call. What the pipeline relies on: a call past its
deadline ends with TimeoutError (answered 504 `provider_timeout`), a call in time is left
alone (no cancellation left pending on the handler's task), and a cancellation that is not the
deadline's (the app hung up) stays a cancellation."""

from __future__ import annotations

import asyncio

import pytest

from infer0app.gateway import deadline
from infer0app.gateway.deadline import answer_within


async def test_a_block_past_its_deadline_raises_timeout_and_leaves_the_task_usable():
    with pytest.raises(TimeoutError):
        with answer_within(0.05):
            await asyncio.sleep(30)
    task = asyncio.current_task()
    assert task.cancelling() == 0  # our cancellation was taken back
    await asyncio.sleep(0)  # and none is still pending


async def test_a_block_in_time_is_not_cancelled_later():
    with answer_within(0.2) as bound:
        await asyncio.sleep(0)
    assert not bound.expired
    await asyncio.sleep(0.4)  # past the old deadline: nothing fires into this task
    sweep = deadline._SWEEPS[asyncio.get_running_loop()]
    assert bound not in sweep.calls


async def test_a_cancellation_from_outside_is_not_turned_into_a_timeout():
    started = asyncio.Event()

    async def call():
        with answer_within(30):
            started.set()
            await asyncio.sleep(30)

    task = asyncio.create_task(call())
    await started.wait()
    task.cancel()  # the app hung up
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_only_calls_past_their_own_deadline_time_out():
    async def call(seconds: float, takes: float) -> str:
        try:
            with answer_within(seconds):
                await asyncio.sleep(takes)
            return "answered"
        except TimeoutError:
            return "timed out"

    outcomes = await asyncio.gather(call(0.05, 30), call(30, 0.1), call(0.05, 30), call(30, 0))
    assert outcomes == ["timed out", "answered", "timed out", "answered"]


async def test_no_bound_is_a_no_op():
    for seconds in (None, 0):
        with answer_within(seconds):
            await asyncio.sleep(0)


def test_a_closed_event_loop_is_not_kept_alive_by_its_sweep():
    import gc
    import weakref

    async def one_call():
        with answer_within(30):
            await asyncio.sleep(0)

    loop = asyncio.new_event_loop()
    loop.run_until_complete(one_call())
    loop.close()
    gone = weakref.ref(loop)
    del loop
    gc.collect()
    assert gone() is None
