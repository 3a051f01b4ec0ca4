"""Whole-answer deadlines without a timer per call: one sweep per event loop.

    with answer_within(seconds):                 # TimeoutError once `seconds` have passed
        async with http.request(...) as resp:
            raw = await resp.read()

A non-streaming provider call must finish within the upstream timeout (issue 18 §3: a provider
dripping bytes cannot hold a call open). aiohttp's `ClientTimeout(total=...)` does that with
a `TimerHandle` per call plus a timer context entered at each step of the call, and
`asyncio.timeout()` with a `TimerHandle` per call: on the chat path that was ~15 µs of CPU a
call (bench/README.md, "Trims of 2026-11-30 (third session)"). Here each call only enters a
dict; one sweep, scheduled while calls are in flight, cancels the tasks whose deadline has
passed, every `TICK` seconds (or sooner for a shorter timeout), and the block turns that
cancellation into `TimeoutError` exactly as `asyncio.timeout()` does (the task's own
cancellations still propagate as CancelledError). A deadline fires between 0 and one tick
late: at most 0.25 s, or a quarter of the timeout.
"""

from __future__ import annotations

import asyncio
import weakref
from types import TracebackType

TICK = 0.25  # seconds between two sweeps while calls are in flight


class _Sweep:
    """The in-flight deadlines of one event loop and the one timer that checks them. Holds no
    reference to its loop, not even through a TimerHandle (it is the value of a
    WeakKeyDictionary keyed by the loop): a timer found superseded (`gen`) just returns."""

    __slots__ = ("calls", "next_at", "gen", "__weakref__")

    def __init__(self) -> None:
        self.calls: dict[AnswerDeadline, None] = {}  # insertion-ordered set
        self.next_at: float | None = None  # when the sweep runs next; None: not scheduled
        self.gen = 0

    def add(self, deadline: AnswerDeadline, loop: asyncio.AbstractEventLoop, at: float) -> None:
        self.calls[deadline] = None
        if self.next_at is None or at < self.next_at:
            self.gen += 1
            self.next_at = at
            loop.call_at(at, self.sweep, self.gen)

    def sweep(self, gen: int) -> None:
        if gen != self.gen:
            return  # an earlier sweep was scheduled since
        loop = asyncio.get_running_loop()
        now = loop.time()
        tick = TICK
        for deadline in list(self.calls):
            if deadline.when <= now:
                del self.calls[deadline]
                deadline.expire()
            else:
                tick = min(tick, deadline.tick)
        if self.calls:
            self.next_at = now + tick
            loop.call_at(self.next_at, self.sweep, gen)
        else:
            self.next_at = None


_SWEEPS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Sweep] = weakref.WeakKeyDictionary()
# The last loop seen (weakly) and its sweep: a server runs one loop, and WeakKeyDictionary.get
# makes a new weak reference on every call.
_LAST: tuple = (None, None)


def _sweep_of(loop: asyncio.AbstractEventLoop) -> _Sweep:
    global _LAST
    ref, sweep = _LAST
    if ref is not None and ref() is loop:
        return sweep
    sweep = _SWEEPS.get(loop)
    if sweep is None:
        sweep = _SWEEPS[loop] = _Sweep()
    _LAST = (weakref.ref(loop), sweep)
    return sweep


class AnswerDeadline:
    """A context manager (plain `with`, inside a task): the enclosed block gets `seconds` (wall clock, from entry)
    before it is cancelled and TimeoutError is raised out of it. One per call; not reusable."""

    __slots__ = ("seconds", "when", "tick", "expired", "_task", "_cancelling", "_sweep")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.tick = min(TICK, seconds / 4)
        self.expired = False

    def expire(self) -> None:
        self.expired = True
        self._task.cancel()

    def __enter__(self) -> AnswerDeadline:
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("answer_within() must be used inside a task")
        loop = task.get_loop()
        sweep = _sweep_of(loop)
        self._task, self._sweep = task, sweep
        self._cancelling = task.cancelling()
        now = loop.time()
        self.when = now + self.seconds
        sweep.add(self, loop, now + self.tick)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self._sweep.calls.pop(self, None)
        if self.expired:
            # the same rule as asyncio.Timeout: only our own cancellation becomes a timeout
            if self._task.uncancel() <= self._cancelling and exc_type is asyncio.CancelledError:
                raise TimeoutError from exc


class _NoDeadline:
    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


_NO_DEADLINE = _NoDeadline()


def answer_within(seconds: float | None) -> AnswerDeadline | _NoDeadline:
    """`with answer_within(seconds):` raises TimeoutError out of the block once `seconds`
    (float) have passed; see the module docstring for the precision. None or <= 0: no bound."""
    return AnswerDeadline(seconds) if seconds is not None and seconds > 0 else _NO_DEADLINE
