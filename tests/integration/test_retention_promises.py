"""Retention promises of the README's "Data and security" section (issue 18 §7):

- raw usage rows are kept `--usage-raw-days` days, then the hourly housekeeping rolls them
  up into daily rows (totals unchanged);
- limit counters are pruned two days after their window ends, never while it may still count.
"""

from __future__ import annotations

import time

from infer0app import keys
from infer0app.runtime import usage_rollup as usage_rollup_task
from infer0app.services import limit_ledger
from infer0app.services.datadir import open_data_dir
from infer0app.store.models import UsageDaily, UsageEvent

DAY = 86400


async def test_the_hourly_rollup_keeps_raw_rows_for_the_configured_days(server, data_dir):
    store, _ = open_data_dir(data_dir)
    now = time.time()
    with store.write():
        for age_days in (1, 2, 5, 9):
            UsageEvent.create(user_id=1, app_id=1, grant_id=1, provider_kind="openai", model="m",
                              prompt_tokens=10, completion_tokens=1, status=200, created_at=now - age_days * DAY)
    store.close()
    srv = await server(usage_raw_days=3)
    await usage_rollup_task._tick(srv.app)()  # what the server runs every hour
    store = srv.app[keys.STORE]
    raw_ages = await store.run(lambda s: sorted(round((now - e.created_at) / DAY) for e in UsageEvent.select()))
    assert raw_ages == [1, 2]  # within 3 days: kept raw; 5 and 9 days old: rolled up
    daily = await store.run(lambda s: [(d.requests, d.prompt_tokens) for d in UsageDaily.select()])
    assert sorted(daily) == [(1, 10), (1, 10)]


def test_limit_counters_are_pruned_two_days_after_their_window(tmp_path):
    store, _ = open_data_dir(tmp_path / "d")
    now = time.time()
    try:
        with store.write():
            for ended_days_ago in (0.5, 1.9, 2.1, 10):
                end = int(now - ended_days_ago * DAY)
                store.db.execute_sql(
                    'INSERT INTO "limit_counter" ("scope", "owner_id", "metric", "period", "period_start", '
                    '"period_end", "used") VALUES (?, ?, ?, ?, ?, ?, ?)',
                    ("grant", 1, "tokens", "day", end - DAY, end, 5))
        with store.write():
            assert limit_ledger.prune(store, now) == 2
        left = [row[0] for row in store.db.execute_sql('SELECT "period_end" FROM "limit_counter"')]
        assert sorted(round((now - end) / DAY, 1) for end in left) == [0.5, 1.9]
    finally:
        store.close()
