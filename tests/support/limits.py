"""Shared by the limits tests: a long fake reply, 50 calls at once, the counters' totals."""

from __future__ import annotations

import asyncio
import time

import openai

LONG_REPLY = " ".join(f"w{i}" for i in range(3000))  # the fake cuts it at max_tokens words

# 50 calls of {"Count."} with max_tokens 1000: each reserves 1,000 output tokens + its body's
# bytes / 4 (~20) and, with the fake's LONG_REPLY cut at max_tokens, really uses 1,000 + 4.
# 10,700 fits 10 reservations, not 11, and what 10 settled calls give back (~10 x 15) never
# makes room for another: exactly 10 answers, however the calls interleave.
TOKEN_CAP = 10_700


async def away_from_minute_edge(margin: float = 15.0) -> None:
    """Requests-per-minute windows are calendar minutes: start a run well inside one, so every
    call of the test lands in the same window."""
    into = time.time() % 60
    if into > 60 - margin:
        await asyncio.sleep(60 - into + 0.05)


def counter(store_or_db, metric: str) -> int:
    """Settled use of `metric` over every limit counter (a Store, or a sqlite3 connection)."""
    db = getattr(store_or_db, "db", store_or_db)
    run = getattr(db, "execute_sql", None) or db.execute
    row = run('SELECT COALESCE(SUM("used"), 0) FROM "limit_counter" WHERE "metric" = ?', (metric,)).fetchone()
    return int(row[0])


async def fifty_at_once(client: openai.AsyncOpenAI) -> tuple[list, list]:
    """(answers, refusals) of 50 calls sent at once; closes the client."""
    async def one():
        try:
            return await client.chat.completions.create(model="x", messages=[{"role": "user", "content": "Count."}],
                                                        max_tokens=1000)
        except openai.APIStatusError as exc:
            return exc
    async with client:
        outcomes = await asyncio.gather(*(one() for _ in range(50)))
    refused = [o for o in outcomes if isinstance(o, openai.APIStatusError)]
    return [o for o in outcomes if not isinstance(o, openai.APIStatusError)], refused
