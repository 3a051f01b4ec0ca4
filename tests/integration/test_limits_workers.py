"""Limits hold across `infer0 serve --workers 2`: both processes charge the same counters in the
database, so a cap is exact whichever worker a call lands on."""

from __future__ import annotations

import asyncio
import signal
import sqlite3

import openai

from infer0app.services.datadir import open_data_dir
from infer0app.services.grant_limits import GrantLimits, set_grant_limits
from tests.fakes import run_fake
from tests.support.limits import LONG_REPLY, TOKEN_CAP, away_from_minute_edge, counter, fifty_at_once
from tests.support.seed import seed_grant


def live_servers(data_dir) -> int:
    with sqlite3.connect(data_dir / "infer0.sqlite3") as db:
        return db.execute('SELECT COUNT(*) FROM "server_instance"').fetchone()[0]


async def test_caps_hold_across_two_workers(data_dir, serve_process):
    async with run_fake("openai", reply=LONG_REPLY, delay=0.2) as fake:
        store, vault = open_data_dir(data_dir)
        rated = seed_grant(store, vault, kind="openai", base_url=fake.base_url, api_key=fake.key)
        budgeted = seed_grant(store, vault, kind="openai", base_url=fake.base_url, api_key=fake.key)
        set_grant_limits(store, rated.grant_id, GrantLimits(requests_per_minute=4), actor="cli:test")
        set_grant_limits(store, budgeted.grant_id, GrantLimits(tokens_per_day=TOKEN_CAP), actor="cli:test")
        store.close()
        server = serve_process("--workers", "2")
        for _ in range(300):  # each worker announces itself in the database
            if live_servers(data_dir) == 2:
                break
            await asyncio.sleep(0.05)
        assert live_servers(data_dir) == 2

        def client(seeded, **kw) -> openai.AsyncOpenAI:
            return openai.AsyncOpenAI(base_url=server.url + "/v1", api_key=seeded.access_token, max_retries=0, **kw)

        await away_from_minute_edge()
        statuses = []
        for _ in range(8):  # a new connection each time, so the kernel spreads them over both workers
            async with client(rated) as c:
                try:
                    await c.chat.completions.create(model="x", messages=[{"role": "user", "content": "Hi"}],
                                                    max_tokens=5)
                    statuses.append(200)
                except openai.APIStatusError as exc:
                    statuses.append((exc.status_code, exc.code))
        assert statuses == [200] * 4 + [(429, "grant_rate_limited")] * 4

        answers, refused = await fifty_at_once(client(budgeted, timeout=60))
        assert len(answers) == 10 and {(r.status_code, r.code) for r in refused} == {(402, "grant_budget_exceeded")}
        assert server.stop(signal.SIGTERM) == 0  # each worker reports what it settled as it stops

    with sqlite3.connect(data_dir / "infer0.sqlite3") as db:
        assert counter(db, "tokens") == sum(a.usage.total_tokens for a in answers) <= TOKEN_CAP
        assert counter(db, "requests") == 4
        assert db.execute('SELECT COUNT(*) FROM "limit_lease"').fetchone()[0] == 0  # every lease given back
