"""Micro-benchmark: what enforcing a grant's limits costs per call, three ways, on a real SQLite file.

    .venv/bin/python -m bench.limits_micro [--calls 20000] [--concurrency 32]

1. no limits: `LimitGate.reserve` + `settle` for a grant without caps (the default);
2. leases: the same for a grant with request, token and spend caps, served from leases
   (services/limits.py; background flushes included in the time);
3. one transaction per call: the alternative, each call's reservation written durably through
   group commit (`store.run_grouped(sync_leases, ...)`, i.e. BEGIN IMMEDIATE + fsync shared
   by whatever calls are waiting), with `concurrency` calls in flight.

Prints wall-clock microseconds per call and calls/s; CPU time per call beside it (process
utime+stime), since the chat path's budget is CPU on a busy server.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import tempfile
import time
from pathlib import Path

from infer0app.services import limit_ledger as ledger
from infer0app.services.datadir import open_data_dir
from infer0app.services.limits import LimitGate
from infer0app.services.pricing import Price, PriceTable

BODY = {"model": "m", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 64}
SIZE = 180


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _seed(store, vault):
    from tests.support.seed import seed_grant
    free = seed_grant(store, vault, kind="sandbox")
    limited = seed_grant(store, vault, kind="sandbox")
    ledger.set_connection_price(store, limited.provider_id, "", Price(input=0.15, output=0.6))
    ledger.set_grant_limits(store, limited.grant_id, requests_per_minute=10**9, tokens_per_day=10**12,
                            spend_per_month_micro_usd=10**12)
    return free, limited


async def _gate_loop(gate, seeded, calls: int, concurrency: int) -> None:
    async def worker(n):
        for _ in range(n):
            res = await gate.reserve(seeded.grant_id, seeded.provider_id, "sandbox", "x", BODY, SIZE)
            res.headers()
            await asyncio.sleep(0)  # the provider call: other calls interleave
            gate.settle(res, 40, 20)

    flusher = asyncio.ensure_future(gate.run_flusher())
    await asyncio.gather(*(worker(calls // concurrency) for _ in range(concurrency)))
    flusher.cancel()
    await gate.flush()


async def _per_call_transaction(store, seeded, calls: int, concurrency: int) -> None:
    rule = ledger.LimitRule("grant", seeded.grant_id, "tokens", "day", 10**12)

    async def worker(n):
        for _ in range(n):
            at = time.time()
            item = ledger.SyncItem(key=rule.key(at), cap=rule.cap, want=200)
            await store.run_grouped(ledger.sync_leases, "bench", at, [item], 30.0)
            item = ledger.SyncItem(key=rule.key(at), cap=rule.cap, report=60, give_back=140)
            await store.run_grouped(ledger.sync_leases, "bench", at, [item], 30.0)

    await asyncio.gather(*(worker(calls // concurrency) for _ in range(concurrency)))


async def _measure(name, coro_fn, calls) -> dict:
    t0, c0 = time.perf_counter(), _cpu()
    await coro_fn()
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    row = {"case": name, "calls": calls, "us_per_call": wall / calls * 1e6, "cpu_us_per_call": cpu / calls * 1e6,
           "calls_per_s": calls / wall}
    print(f"{name:28s} {row['us_per_call']:8.1f} µs/call  {row['cpu_us_per_call']:8.1f} µs CPU/call  "
          f"{row['calls_per_s']:10.0f} calls/s")
    return row


async def main(calls: int, concurrency: int) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        store, vault = open_data_dir(Path(tmp) / "d")
        try:
            free, limited = _seed(store, vault)
            gate = LimitGate(store, PriceTable.load())
            await gate.config(free.grant_id, free.provider_id)  # warm the config cache
            rows = [await _measure("no limits", lambda: _gate_loop(gate, free, calls, concurrency), calls)]
            rows.append(await _measure("leases (3 caps)", lambda: _gate_loop(gate, limited, calls, concurrency),
                                       calls))
            rows[-1]["syncs"] = gate.stats.syncs
            few = max(concurrency, calls // 10)
            rows.append(await _measure("transaction per call", lambda: _per_call_transaction(
                store, limited, few, concurrency), few))
            await gate.close()
        finally:
            store.close()
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    os.environ.setdefault("PYTHONHASHSEED", "0")
    asyncio.run(main(args.calls, args.concurrency))
