"""Micro-benchmark: the chat path's own steps, one at a time, in-process (no sockets, no aiohttp
client): what each costs per call, to know what is worth trimming.

    .venv/bin/python -m bench.path_micro [--loops 20000]

Each step runs `--loops` times, five times over; the *minimum* CPU µs per call is printed (the
minimum is what the code costs, the rest is other work on a shared machine). The body is the
bench's (bench/runner.py `_body`), the upstream answer the fake upstream's (bench/upstream.py).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import tempfile
import time
from pathlib import Path

from infer0app.gateway.deadline import answer_within
from infer0app.gateway.params import parse_body, prepare, validate
from infer0app.oauth.bearer import TokenCache
from infer0app.gateway.profiles.apply import apply_request_rules
from infer0app.gateway.providers.base import Route
from infer0app.gateway.providers.registry import get_adapter

from .upstream import OPENAI_JSON

RAW = json.dumps({"model": "bench-model", "messages": [{"role": "user", "content": "Say hello to the benchmark."}],
                  "max_tokens": 64}).encode()
ROUTE = Route(kind="openai-compatible", wire="openai", base_url="http://127.0.0.1:9/v1", api_key="sk-bench",
              model="bench-model")


def _time(fn, loops: int) -> float:
    best = float("inf")
    for _ in range(5):
        t0 = time.process_time_ns()
        for _ in range(loops):
            fn()
        best = min(best, (time.process_time_ns() - t0) / loops / 1000)
    return best


def steps() -> dict:
    """name -> zero-argument callable, each one step of a non-streaming chat call."""
    adapter = get_adapter(ROUTE.wire)
    body = parse_body(RAW)
    prepared = prepare(ROUTE, body, adapter)
    tokens = TokenCache()
    tokens.put(hashlib.sha256(b"token").hexdigest(), object())
    asked = hashlib.sha256(b"token").hexdigest()  # an equal string, not the same object: as per request
    return {
        "token cache hit (TokenCache.get)": lambda: tokens.get(asked),
        "decode body (request_shape.decode_json)": lambda: parse_body(RAW),
        "validate shape (check_chat_request)": lambda: validate(body),
        "profile pass (apply_request_rules)": lambda: apply_request_rules(ROUTE.kind, ROUTE.model, body),
        "params.prepare (all of the above but decode)": lambda: prepare(ROUTE, body, adapter),
        "build upstream request (body re-encoded)": lambda: adapter.build_request(ROUTE, prepared.body, stream=False),
        # api/chat.py passes the app's bytes, sent as they are when nothing in them changes
        "build upstream request (the app's bytes)": lambda: adapter.build_request(
            ROUTE, prepared.body, stream=False, app_json=(body, RAW)),
        "parse upstream answer": lambda: adapter.parse_response(ROUTE, OPENAI_JSON, created=0),
    }


async def _gate_steps(loops: int) -> dict:
    from infer0app.services import limit_ledger as ledger
    from infer0app.services.datadir import open_data_dir
    from infer0app.services.limits import LimitGate
    from infer0app.services.pricing import Price, PriceTable
    from tests.support.seed import seed_grant

    with tempfile.TemporaryDirectory() as tmp:
        store, vault = open_data_dir(Path(tmp) / "d")
        try:
            seeded = seed_grant(store, vault, kind="sandbox")
            ledger.set_connection_price(store, seeded.provider_id, "", Price(input=0.15, output=0.6))
            ledger.set_grant_limits(store, seeded.grant_id, requests_per_minute=10**9, tokens_per_day=10**12,
                                    spend_per_month_micro_usd=10**12)
            gate = LimitGate(store, PriceTable.load())
            body = parse_body(RAW)
            res = await gate.reserve(seeded.grant_id, seeded.provider_id, "sandbox", "x", body, len(RAW))
            gate.settle(res, 12, 7)

            async def cycle():
                for _ in range(loops):
                    # the hot path's own call (api/chat.py): no await while the leases cover it
                    r = gate.reserve_now(seeded.grant_id, seeded.provider_id, "sandbox", "x", body, len(RAW))
                    r.headers()
                    gate.settle(r, 12, 7)
            best = float("inf")
            for _ in range(5):
                t0 = time.process_time_ns()
                await cycle()
                best = min(best, (time.process_time_ns() - t0) / loops / 1000)
            await gate.close()
            return {"limits: reserve + headers + settle": best}
        finally:
            store.close()


async def _deadline_step(loops: int) -> dict:
    """The whole-answer bound of a non-streaming call (gateway/deadline.py) against
    asyncio.timeout, entered and left with nothing inside."""
    async def ours():
        for _ in range(loops):
            with answer_within(120.0):
                pass

    async def stdlib():
        for _ in range(loops):
            async with asyncio.timeout(120.0):
                pass
    rows = {}
    for name, fn in (("whole-answer deadline (answer_within)", ours), ("same with asyncio.timeout", stdlib)):
        best = float("inf")
        for _ in range(5):
            t0 = time.process_time_ns()
            await fn()
            best = min(best, (time.process_time_ns() - t0) / loops / 1000)
        rows[name] = best
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--loops", type=int, default=20000)
    args = p.parse_args()
    rows = {name: _time(fn, args.loops) for name, fn in steps().items()}
    rows.update(asyncio.run(_deadline_step(args.loops)))
    rows.update(asyncio.run(_gate_steps(args.loops)))
    for name, us in rows.items():
        print(f"{name:48s} {us:7.2f} µs CPU/call")


if __name__ == "__main__":
    main()
