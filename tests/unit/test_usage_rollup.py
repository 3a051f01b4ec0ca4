"""Rolling raw usage rows into daily rows keeps every total, by day, app, model and status."""

from __future__ import annotations

import datetime as dt

from infer0app.services import usage_report, usage_rollup
from infer0app.services.pricing import PriceTable
from infer0app.store.database import Store
from infer0app.store.models import UsageDaily, UsageEvent

NOW = dt.datetime(2025, 3, 31, 12, tzinfo=dt.timezone.utc).timestamp()
DAY = 86400


def test_roll_up_keeps_totals_and_deletes_only_old_raw_rows(tmp_path):
    store = Store.open(tmp_path / "db.sqlite3")
    try:
        with store.write():
            for age_days, status, app in [(40, 200, 1), (40, 200, 1), (40, 429, 1), (35, 200, 2), (31, 200, 1),
                                          (2, 200, 1), (0, 502, 2)]:
                UsageEvent.create(user_id=7, app_id=app, grant_id=app, provider_kind="openai", model="gpt-4o-mini",
                                  prompt_tokens=100, completion_tokens=10, cached_tokens=5, status=status,
                                  created_at=NOW - age_days * DAY)
            UsageEvent.create(user_id=8, app_id=None, grant_id=None, provider_kind="sandbox", model="x",
                              created_at=NOW - 50 * DAY)
        prices = PriceTable.load()
        since, until = dt.date(2025, 1, 1), dt.date(2025, 3, 31)
        before = usage_report.report(store, prices, since=since, until=until)
        assert usage_rollup.roll_up(store, raw_days=30, now=NOW) == 6
        after = usage_report.report(store, prices, since=since, until=until)
        assert after == before and after.total.requests == 8 and after.total.tokens == 770
        assert after.total.errors_by_status == ((429, 1), (502, 1))
        with store.read():
            assert UsageEvent.select().count() == 2  # the last 30 days stay raw
            forty = UsageDaily.get((UsageDaily.day == "2025-02-19") & (UsageDaily.status == 200))
            assert (forty.requests, forty.prompt_tokens, forty.cached_tokens) == (2, 200, 10)
        assert usage_rollup.roll_up(store, raw_days=30, now=NOW) == 0  # idempotent
        usage_rollup.roll_up(store, raw_days=0, now=NOW + DAY)  # everything, onto existing daily rows
        assert usage_report.report(store, prices, since=since, until=until) == before
    finally:
        store.close()


def test_refused_counts_only_calls_a_limit_refused_before_and_after_the_roll_up(tmp_path):
    """The Usage page's "N refused by a limit or rate cap": a provider's own 429 or 402 is not a
    limit's refusal, in raw rows and in rolled-up days alike."""
    store = Store.open(tmp_path / "db.sqlite3")
    try:
        with store.write():
            for age_days, status, code in [(40, 429, "grant_rate_limited"), (40, 402, "grant_budget_exceeded"),
                                           (40, 429, "rate_limit_exceeded"), (40, 402, "provider_error"),
                                           (1, 429, "grant_rate_limited"), (1, 429, "rate_limit_exceeded"),
                                           (1, 200, "")]:
                UsageEvent.create(user_id=7, app_id=1, grant_id=1, provider_kind="openai", model="gpt-4o-mini",
                                  status=status, error_code=code, created_at=NOW - age_days * DAY)
        prices = PriceTable.load()
        since, until = dt.date(2025, 1, 1), dt.date(2025, 3, 31)
        before = usage_report.report(store, prices, since=since, until=until)
        assert (before.total.requests, before.total.refused) == (7, 3)
        usage_rollup.roll_up(store, raw_days=30, now=NOW)
        after = usage_report.report(store, prices, since=since, until=until)
        assert after.total.refused == 3 and after == before
        usage_rollup.roll_up(store, raw_days=0, now=NOW + DAY)
        assert usage_report.report(store, prices, since=since, until=until).total.refused == 3
    finally:
        store.close()
