"""Reserve/settle against a grant's caps on a real SQLite file (services/limits.py)."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from infer0app.services import limit_ledger as ledger
from infer0app.services.datadir import open_data_dir
from infer0app.services.limit_periods import openai_duration, window
from infer0app.services.limits import LimitGate, Refusal, Reservation, estimate
from infer0app.services.pricing import Price, PriceTable
from tests.support.seed import seed_grant

MANAGE = "https://infer0.example/connections"
BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 100}
SIZE = 400  # -> 100 prompt tokens + 100 output tokens: 200 tokens per call


def utc(*args) -> float:
    return dt.datetime(*args, tzinfo=dt.timezone.utc).timestamp()


class Clock:
    def __init__(self, t: float):
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def env(tmp_path):
    store, vault = open_data_dir(tmp_path / "d")
    seeded = seed_grant(store, vault, kind="sandbox")
    yield store, seeded
    store.close()


def gate_for(store, clock, **kw) -> LimitGate:
    return LimitGate(store, PriceTable.load(), clock=clock, **kw)


async def reserve(gate, seeded, body=BODY, size=SIZE, kind="sandbox", model="sandbox-echo-1"):
    return await gate.reserve(seeded.grant_id, seeded.provider_id, kind, model, body, size)


def counter(store, metric):
    row = store.db.execute_sql('SELECT SUM("used") FROM "limit_counter" WHERE "metric" = ?', (metric,)).fetchone()
    return row[0] or 0


def leased(store):
    return store.db.execute_sql('SELECT COALESCE(SUM("amount"), 0) FROM "limit_lease"').fetchone()[0]


def test_estimate_uses_body_size_and_the_output_cap():
    assert estimate(BODY, 401, None) == estimate(BODY, 404, None)
    est = estimate({"max_completion_tokens": 50, "max_tokens": 999, "n": 2}, 8, Price(input=1.0, output=2.0))
    assert (est.prompt_tokens, est.completion_tokens, est.spend) == (2, 100, 2 + 200)
    assert estimate({}, 4, Price(1.0, 1.0, default_output_tokens=77)).completion_tokens == 77


async def test_a_grant_without_limits_never_touches_the_database(env):
    store, seeded = env
    gate = gate_for(store, Clock(utc(2026, 5, 6, 12, 0, 30)))
    for _ in range(20):
        res = await reserve(gate, seeded)
        assert isinstance(res, Reservation) and res.headers() == {}
        gate.settle(res, 10, 10)
    assert gate.stats.syncs == 0
    assert await gate.flush() == 0


async def test_requests_per_minute_lets_exactly_n_through_until_the_minute_turns(env):
    store, seeded = env
    ledger.set_grant_limits(store, seeded.grant_id, requests_per_minute=5)
    clock = Clock(utc(2026, 5, 6, 12, 0, 25))
    gate = gate_for(store, clock)
    results = []
    for _ in range(7):
        res = await reserve(gate, seeded)
        results.append(res)
        if isinstance(res, Reservation):
            gate.settle(res, 10, 10)
    assert [isinstance(r, Reservation) for r in results] == [True] * 5 + [False] * 2
    assert results[0].headers() == {"x-ratelimit-limit-requests": "5", "x-ratelimit-remaining-requests": "4",
                                    "x-ratelimit-reset-requests": "35s"}
    refusal = results[5]
    assert (refusal.status, refusal.code, refusal.retry_after) == (429, "grant_rate_limited", 35)
    text = refusal.message(MANAGE)
    assert "5 requests per minute" in text and "2026-05-06T12:01:00Z" in text and MANAGE in text
    clock.t = utc(2026, 5, 6, 12, 1, 0)
    assert isinstance(await reserve(gate, seeded), Reservation)
    await gate.flush()
    assert counter(store, "requests") == 5  # the refused calls were not counted


async def test_fifty_concurrent_calls_against_a_budget_for_ten(env):
    store, seeded = env
    ledger.set_grant_limits(store, seeded.grant_id, tokens_per_day=10 * 200 + 150)
    gate = gate_for(store, Clock(utc(2026, 5, 6, 12, 0, 0)))
    outcomes = await asyncio.gather(*(reserve(gate, seeded) for _ in range(50)))
    granted = [r for r in outcomes if isinstance(r, Reservation)]
    refused = [r for r in outcomes if isinstance(r, Refusal)]
    assert len(granted) == 10 and len(refused) == 40
    assert all(r.status == 402 and r.code == "grant_budget_exceeded" for r in refused)
    assert "tokens per day" in refused[0].message(MANAGE)
    for r in granted:
        gate.settle(r, 100, 100)
    await gate.flush(final=True)
    assert counter(store, "tokens") == 2000 <= 2150
    assert leased(store) == 0


async def test_fifty_concurrent_calls_from_two_gates_on_one_database(env):
    """Two holders (as two worker processes are) share the cap through the database."""
    store, seeded = env
    ledger.set_grant_limits(store, seeded.grant_id, tokens_per_day=10 * 200)
    clock = Clock(utc(2026, 5, 6, 12, 0, 0))
    a, b = gate_for(store, clock), gate_for(store, clock)
    outcomes = await asyncio.gather(*(reserve(g, seeded) for _ in range(25) for g in (a, b)))
    assert sum(isinstance(r, Reservation) for r in outcomes) == 10


async def test_settling_less_than_reserved_gives_the_rest_back(env):
    store, seeded = env
    ledger.set_grant_limits(store, seeded.grant_id, tokens_per_day=300)
    gate = gate_for(store, Clock(utc(2026, 5, 6, 12, 0, 0)))
    first = await reserve(gate, seeded)
    assert isinstance(first, Reservation)
    assert isinstance(await reserve(gate, seeded), Refusal)  # 200 held, 100 left
    gate.settle(first, 50, 5)  # the answer was short: 55 tokens used, 245 left
    second = await reserve(gate, seeded)
    assert isinstance(second, Reservation)
    gate.settle(second, None, None, streamed_chars=21)  # stream cut before its usage: 100 + ceil(21/4)
    gate.settle(second, 999, 999)  # a second settle is ignored
    await gate.flush()
    assert counter(store, "tokens") == 55 + 106


async def test_day_week_and_month_windows_reset_on_utc_boundaries(env):
    assert window("day", utc(2026, 5, 6, 23, 59, 59)) == (utc(2026, 5, 6), utc(2026, 5, 7))
    assert window("week", utc(2026, 5, 10, 22)) == (utc(2026, 5, 4), utc(2026, 5, 11))  # Sunday -> Monday 4th
    assert window("week", utc(2026, 5, 11)) == (utc(2026, 5, 11), utc(2026, 5, 18))
    assert window("month", utc(2026, 12, 31, 23)) == (utc(2026, 12, 1), utc(2027, 1, 1))
    assert window("month", utc(2028, 2, 29, 5)) == (utc(2028, 2, 1), utc(2028, 3, 1))
    assert [openai_duration(s) for s in (0.02, 1, 59.2, 360, 47_000)] == ["20ms", "1s", "1m0s", "6m0s", "13h3m20s"]

    store, seeded = env
    ledger.set_connection_price(store, seeded.provider_id, "", Price(input=1.0, output=1.0))
    ledger.set_grant_limits(store, seeded.grant_id, spend_per_month_micro_usd=450)
    clock = Clock(utc(2026, 5, 31, 23, 59, 58))
    gate = gate_for(store, clock)
    first = await reserve(gate, seeded)  # 200 micro-USD each
    gate.settle(first, 100, 100)
    gate.settle(await reserve(gate, seeded), 100, 100)
    refused = await reserve(gate, seeded)
    assert isinstance(refused, Refusal) and refused.retry_after == 2 and "per month" in refused.message(MANAGE)
    assert "$0.000450" in refused.message(MANAGE) and "2026-06-01T00:00:00Z" in refused.message(MANAGE)
    clock.t = utc(2026, 6, 1, 0, 0, 0)
    assert isinstance(await reserve(gate, seeded), Reservation)


async def test_a_connection_cap_holds_across_apps(env, tmp_path):
    store, seeded = env
    ledger.set_connection_price(store, seeded.provider_id, "", Price(input=1.0, output=1.0))
    ledger.set_connection_limits(store, seeded.provider_id, spend_per_day_micro_usd=500)
    gate = gate_for(store, Clock(utc(2026, 5, 6, 9)))
    outcomes = [await reserve(gate, seeded) for _ in range(3)]
    assert [isinstance(r, Reservation) for r in outcomes] == [True, True, False]
    assert "provider connection" in outcomes[2].message(MANAGE)


async def test_unknown_price_skips_spend_caps_but_not_token_caps(env):
    store, seeded = env
    ledger.set_grant_limits(store, seeded.grant_id, spend_per_day_micro_usd=1, tokens_per_day=250)
    gate = gate_for(store, Clock(utc(2026, 5, 6, 9)))
    res = await reserve(gate, seeded, kind="openai", model="no-such-model")
    assert isinstance(res, Reservation) and res.spend_unknown
    refused = await reserve(gate, seeded, kind="openai", model="no-such-model")
    assert isinstance(refused, Refusal) and refused.rule.metric == "tokens"
    summary = await gate.usage_summary(seeded.grant_id, seeded.provider_id, "openai", "no-such-model")
    assert summary["spend_enforced"] is False
    # and a known price enforces the spend cap: 1 micro-dollar cannot pay for a gpt-4o-mini call
    priced = await reserve(gate, seeded, kind="openai", model="gpt-4o-mini")
    assert isinstance(priced, Refusal) and priced.rule.metric in ("spend", "tokens")


async def test_budget_is_leased_ahead_when_there_is_room_and_given_back_when_idle(env):
    store, seeded = env
    ledger.set_grant_limits(store, seeded.grant_id, tokens_per_day=1_000_000)
    clock = Clock(utc(2026, 5, 6, 9))
    gate = gate_for(store, clock)
    for _ in range(100):
        res = await reserve(gate, seeded)
        gate.settle(res, 100, 100)
    assert gate.stats.syncs == 1  # one lease served all hundred calls
    assert leased(store) > 100 * 200
    clock.t += 2  # idle past IDLE_RETURN
    await gate.flush()
    assert counter(store, "tokens") == 20_000 and leased(store) == 0
    summary = await gate.usage_summary(seeded.grant_id, seeded.provider_id, "sandbox", "sandbox-echo-1")
    assert summary["limits"] == [{"name": "tokens_per_day", "scope": "grant", "period": "day", "unit": "tokens",
                                  "limit": 1_000_000, "used": 20_000, "reserved": 0, "remaining": 980_000,
                                  "resets_at": int(utc(2026, 5, 7))}]


async def test_a_crashed_holders_lease_frees_itself(env):
    store, seeded = env
    ledger.set_grant_limits(store, seeded.grant_id, tokens_per_day=100_000)
    clock = Clock(utc(2026, 5, 6, 9))
    crashed, survivor = gate_for(store, clock), gate_for(store, clock)
    assert isinstance(await reserve(crashed, seeded), Reservation)  # leases ~12k ahead, then dies
    big = dict(BODY, max_tokens=99_000)
    assert isinstance(await reserve(survivor, seeded, body=big), Refusal)
    clock.t += 31  # past LEASE_TTL
    assert isinstance(await reserve(survivor, seeded, body=big), Reservation)


async def test_lowered_limits_apply_after_clear(env):
    store, seeded = env
    ledger.set_grant_limits(store, seeded.grant_id, requests_per_minute=100)
    gate = gate_for(store, Clock(utc(2026, 5, 6, 9, 0, 1)))
    assert isinstance(await reserve(gate, seeded), Reservation)
    ledger.set_grant_limits(store, seeded.grant_id, requests_per_minute=1)
    gate.clear()  # what the cache watch does when the epoch moves
    assert isinstance(await reserve(gate, seeded), Refusal)
    with pytest.raises(ValueError, match="unknown limit"):
        ledger.set_grant_limits(store, seeded.grant_id, requests_per_hour=3)


async def test_calls_after_an_idle_spell_are_still_reported_to_the_shared_counter(env):
    """Two idle flushes give the lease back and forget it; the grant's next calls must land on a
    lease the flusher knows, or their use never reaches the database (other workers, the CLI and
    /v1/me would not see it, and the lease row would never be renewed)."""
    store, seeded = env
    ledger.set_grant_limits(store, seeded.grant_id, tokens_per_day=1_000_000)
    clock = Clock(utc(2026, 5, 6, 9))
    gate = gate_for(store, clock)
    gate.settle(await reserve(gate, seeded), 100, 100)
    for _ in range(2):  # idle past IDLE_RETURN: the budget goes back, then the lease is dropped
        clock.t += 2
        await gate.flush()
    assert counter(store, "tokens") == 200 and leased(store) == 0
    for _ in range(3):
        gate.settle(await reserve(gate, seeded), 100, 100)
    clock.t += 0.5
    await gate.flush()
    assert counter(store, "tokens") == 800
