"""The read side of usage: requests and tokens per grant and per app (the gateway writes events)."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import peewee as pw

from ..store.models import UsageEvent

WINDOW_DAYS = 30


@dataclass(frozen=True)
class UsageTotals:
    requests: int = 0
    tokens: int = 0
    last_at: float | None = None


def _since(days: int, now: float | None) -> float:
    return (now or time.time()) - days * 86400


def _tokens():
    return pw.fn.COALESCE(pw.fn.SUM(UsageEvent.prompt_tokens + UsageEvent.completion_tokens), 0)


def by_grant(store, grant_ids: list[int], *, days: int = WINDOW_DAYS, now: float | None = None) -> dict[int, UsageTotals]:
    """Requests and tokens (prompt + completion) per grant over the last `days` days."""
    with store.read():
        if not grant_ids:
            return {}
        rows = (UsageEvent.select(UsageEvent.grant_id, pw.fn.COUNT(UsageEvent.id), _tokens(),
                                  pw.fn.MAX(UsageEvent.created_at))
                .where(UsageEvent.grant_id.in_(grant_ids) & (UsageEvent.created_at >= _since(days, now)))
                .group_by(UsageEvent.grant_id).tuples())
        return {gid: UsageTotals(int(n), int(tokens), last) for gid, n, tokens, last in rows}


def for_app(store, app_id: int, *, days: int = WINDOW_DAYS, now: float | None = None) -> UsageTotals:
    with store.read():
        row = (UsageEvent.select(pw.fn.COUNT(UsageEvent.id), _tokens(), pw.fn.MAX(UsageEvent.created_at))
               .where((UsageEvent.app_id == app_id) & (UsageEvent.created_at >= _since(days, now))).tuples().first())
        n, tokens, last = row or (0, 0, None)
        return UsageTotals(int(n or 0), int(tokens or 0), last)


def daily_for_app(store, app_id: int, *, days: int = 14, now: float | None = None) -> list[tuple[str, int, int]]:
    """(UTC date, requests, tokens) for each of the last `days` days, oldest first, zeros included."""
    with store.read():
        now = now or time.time()
        today = dt.datetime.fromtimestamp(now, dt.timezone.utc).date()
        first = dt.datetime.combine(today - dt.timedelta(days=days - 1), dt.time(), dt.timezone.utc).timestamp()
        day = store.utc_day(UsageEvent.created_at)
        rows = (UsageEvent.select(day.alias("d"), pw.fn.COUNT(UsageEvent.id), _tokens())
                .where((UsageEvent.app_id == app_id) & (UsageEvent.created_at >= first))
                .group_by(pw.SQL('"d"')).tuples())  # by alias, as admin_queries.requests_per_minute
        counts = {d: (int(n), int(t)) for d, n, t in rows}
        out = []
        for back in range(days - 1, -1, -1):
            d = (today - dt.timedelta(days=back)).isoformat()
            n, t = counts.get(d, (0, 0))
            out.append((d, n, t))
        return out
