"""A call that waits for the database to refill one of its caps is not refused because another
cap it fitted was spent meanwhile (the false 402s seen under valgrind, bench/README.md): the
gate asks the database again, and refuses only what the database refuses. Real database (SQLite
file or PostgreSQL); the store's write path is held at a seam so the interleaving is exact."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from infer0app.services import limit_ledger as ledger
from infer0app.services.limits import LimitGate, Refusal, Reservation
from infer0app.services.pricing import Price, PriceTable
from tests.support.backend import BACKENDS, open_data_dir
from tests.support.seed import seed_grant

BODY_SIZE = 40  # 10 prompt tokens


class HeldStore:
    """The real store; while `hold` is set, each write-path call waits until it is released."""

    def __init__(self, store):
        self._store = store
        self.hold = False
        self.waiting = asyncio.Event()
        self.release = asyncio.Event()

    def __getattr__(self, name):
        return getattr(self._store, name)

    async def run_grouped(self, fn, *args):
        if self.hold:
            self.waiting.set()
            await self.release.wait()
        return await self._store.run_grouped(fn, *args)


@pytest.fixture
def shared_connection(tmp_path, backend):
    store, vault = open_data_dir(tmp_path / "d")
    seeded = seed_grant(store, vault, kind="sandbox")
    yield store, seeded
    store.close()


def body(max_tokens: int) -> dict:
    return {"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": max_tokens}


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
async def test_a_cap_spent_by_another_app_while_a_call_waits_for_a_refill_is_asked_for_again(shared_connection):
    store, seeded = shared_connection
    # App X: 50 requests a minute (too few to lease ahead: every call asks the database for its
    # request). The connection: $1 a month across all apps, 1 USD per million tokens (1 micro-USD
    # a token). App Y (another grant on the same connection) has no caps of its own.
    ledger.set_connection_price(store, seeded.provider_id, "", Price(input=1.0, output=1.0))
    ledger.set_connection_limits(store, seeded.provider_id, spend_per_month_micro_usd=1_000_000)
    ledger.set_grant_limits(store, seeded.grant_id, requests_per_minute=50)
    app_x, app_y = seeded.grant_id, seeded.grant_id + 10_000
    held = HeldStore(store)
    gate = LimitGate(held, PriceTable.load(), clock=lambda: dt.datetime(2026, 5, 6, 12, 0, 20,
                                                                          tzinfo=dt.timezone.utc).timestamp())

    async def call(grant_id, max_tokens):
        return await gate.reserve(grant_id, seeded.provider_id, "sandbox", "m", body(max_tokens), BODY_SIZE)

    first = await call(app_x, 10)  # 20 micro-USD; the connection's budget is leased ahead
    assert isinstance(first, Reservation)
    gate.settle(first, 10, 10)
    spend_lease = next(lease for _, lease, _ in first.parts if lease.key[2] == "spend")
    room = spend_lease.budget

    held.hold = True
    x_waits = asyncio.ensure_future(call(app_x, 10))  # its request must come from the database
    await held.waiting.wait()
    # Meanwhile app Y's call spends all but 5 micro-USD of the connection's budget in this process.
    y_calls = asyncio.ensure_future(call(app_y, room - 10 - 5))
    await asyncio.sleep(0)
    held.release.set()
    x_outcome, y_outcome = await asyncio.gather(x_waits, y_calls)

    assert isinstance(x_outcome, Reservation), x_outcome.message("https://infer0.example/connections")
    assert isinstance(y_outcome, Reservation)
    gate.settle(x_outcome, 10, 10)
    gate.settle(y_outcome, 10, 10)
    await gate.flush()
    assert gate.stats.refusals == {}
    # and a call that really does not fit is still refused, by the database
    too_big = await call(app_y, 2_000_000)
    assert isinstance(too_big, Refusal) and too_big.rule.scope == "connection"
    await gate.close()


class Clock:
    def __init__(self, t: float):
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
async def test_budget_given_back_as_idle_while_a_call_waits_for_the_lock_is_asked_for_again(shared_connection):
    """The valgrind case (one grant, slow transactions): a call waits for the sync lock longer
    than IDLE_RETURN, the flush ahead of it gives back the token budget as idle, and the call,
    which had fitted its tokens when it arrived, must ask for them again rather than answer 402."""
    store, seeded = shared_connection
    ledger.set_grant_limits(store, seeded.grant_id, requests_per_minute=50, tokens_per_day=1_000_000)
    clock = Clock(dt.datetime(2026, 5, 6, 12, 0, 20, tzinfo=dt.timezone.utc).timestamp())
    held = HeldStore(store)
    gate = LimitGate(held, PriceTable.load(), clock=clock)

    async def call():
        return await gate.reserve(seeded.grant_id, seeded.provider_id, "sandbox", "m", body(10), BODY_SIZE)

    first = await call()
    gate.settle(first, 10, 10)
    held.hold = True
    in_sync = asyncio.ensure_future(call())  # its request comes from the database: holds the lock
    await held.waiting.wait()
    flush = asyncio.ensure_future(gate.flush())  # queued for the lock first
    for _ in range(3):
        await asyncio.sleep(0)
    waiting = asyncio.ensure_future(call())  # fits its tokens now; queued behind the flush
    for _ in range(3):
        await asyncio.sleep(0)
    clock.t += 2  # the transaction is slow: by the flush's turn the token budget looks idle
    held.release.set()
    outcomes = await asyncio.gather(in_sync, flush, waiting)
    assert isinstance(outcomes[0], Reservation) and isinstance(outcomes[2], Reservation), outcomes[2]
    assert gate.stats.refusals == {}
    await gate.close()
