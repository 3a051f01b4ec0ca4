"""Keeping usage compact: raw `usage_event` rows older than a number of whole UTC days are
rolled up into `usage_daily` (one row per day, user, app, grant, provider kind, model and
status) and deleted, in one write transaction, so totals never change and the table of raw
events holds only recent days. Daily rows are kept (they are small: one per app and model
a day). Limits are not affected: they count in `limit_counter` (services/limit_ledger.py).
"""

from __future__ import annotations

import datetime as dt
import time

from .limit_status import CAP_REFUSAL_CODES

DEFAULT_RAW_DAYS = 30

_ROLL_UP = (
    'INSERT INTO "usage_daily" ("day", "user_id", "app_id", "grant_id", "provider_kind", "model", "status", '
    '"requests", "prompt_tokens", "completion_tokens", "cached_tokens", "cap_refusals") '
    'SELECT date("created_at", \'unixepoch\'), "user_id", COALESCE("app_id", 0), COALESCE("grant_id", 0), '
    '"provider_kind", "model", "status", COUNT(*), SUM("prompt_tokens"), SUM("completion_tokens"), '
    'SUM("cached_tokens"), SUM(CASE WHEN "error_code" IN (?, ?) THEN 1 ELSE 0 END) '
    'FROM "usage_event" WHERE "created_at" < ? '
    'GROUP BY 1, 2, 3, 4, 5, 6, 7 '
    'ON CONFLICT ("day", "user_id", "app_id", "grant_id", "provider_kind", "model", "status") DO UPDATE SET '
    '"requests" = "usage_daily"."requests" + excluded."requests", '
    '"prompt_tokens" = "usage_daily"."prompt_tokens" + excluded."prompt_tokens", '
    '"completion_tokens" = "usage_daily"."completion_tokens" + excluded."completion_tokens", '
    '"cached_tokens" = "usage_daily"."cached_tokens" + excluded."cached_tokens", '
    '"cap_refusals" = "usage_daily"."cap_refusals" + excluded."cap_refusals"')


def cutoff(raw_days: int, now: float | None = None) -> float:
    """Epoch seconds of the UTC midnight `raw_days` days before today: rows before it roll up."""
    today = dt.datetime.fromtimestamp(now if now is not None else time.time(), dt.timezone.utc).date()
    return dt.datetime.combine(today - dt.timedelta(days=raw_days), dt.time(), dt.timezone.utc).timestamp()


def roll_up(store, raw_days: int = DEFAULT_RAW_DAYS, now: float | None = None) -> int:
    """Roll raw events before `cutoff(raw_days, now)` into daily rows and delete them.
    Returns the number of raw rows rolled up. `raw_days` < 0 raises ValueError."""
    if raw_days < 0:
        raise ValueError("raw_days must be >= 0")
    before = cutoff(raw_days, now)
    with store.write():
        conn = store.raw()
        conn.execute(_ROLL_UP, (*CAP_REFUSAL_CODES, before))
        return conn.execute('DELETE FROM "usage_event" WHERE "created_at" < ?', (before,)).rowcount
