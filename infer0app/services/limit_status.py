"""Where a user's grants and connections stand against their caps, for Connected apps and the
provider page: the current window of each cap (as servers last reported it, every few seconds),
whether it is reached, and the calls refused recently by a cap (usage rows whose error code is
`grant_budget_exceeded` or `grant_rate_limited`: a provider's own 429 or 402 is the provider's
limit, not the user's, and is not counted).
Spend in micro-dollars; `resets_at` epoch seconds (the UTC window's end).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Iterable

import peewee as pw

from ..store.models import UsageEvent
from .limit_ledger import LimitRule, current_usage, load_config

RECENT_SECONDS = 24 * 3600
#: the /v1 error codes of a call refused by one of the user's caps (api/limit_answers.py)
CAP_REFUSAL_CODES = ("grant_budget_exceeded", "grant_rate_limited")


@dataclass(frozen=True)
class CapStatus:
    name: str  # e.g. "spend_per_month", "requests_per_minute"
    scope: str  # "grant" | "connection"
    metric: str  # "requests" | "tokens" | "spend"
    cap: int
    used: int  # settled and reported by the servers (calls in flight not included)
    resets_at: int

    @property
    def reached(self) -> bool:
        return self.used >= self.cap


@dataclass(frozen=True)
class GrantStatus:
    grant_id: int
    caps: tuple[CapStatus, ...]
    connection_caps: tuple[CapStatus, ...]
    refused_recently: int  # calls refused by a cap in the last 24 hours

    @property
    def reached(self) -> tuple[CapStatus, ...]:
        return tuple(c for c in self.caps + self.connection_caps if c.reached)


def _status(rows: list[dict]) -> tuple[CapStatus, ...]:
    return tuple(CapStatus(r["rule"].name, r["rule"].scope, r["rule"].metric, r["rule"].cap,
                           r["used"], r["resets_at"])
                 for r in rows)


def connection_caps(store, provider_id: int, now: float | None = None) -> tuple[CapStatus, ...]:
    """The current windows of one connection's caps."""
    now = now if now is not None else time.time()
    with store.read():
        rules = [r for r in load_config(store, 0, provider_id).rules if r.scope == "connection"]
        return _status(current_usage(store, rules, now))


def grant_statuses(store, grants: Iterable[tuple[int, int | None]], now: float | None = None) -> dict[int, GrantStatus]:
    """{grant id: GrantStatus} for (grant id, provider id) pairs."""
    now = now if now is not None else time.time()
    grants = list(grants)
    out = {}
    with store.read():
        refused = dict(UsageEvent.select(UsageEvent.grant_id, pw.fn.COUNT(UsageEvent.id))
                       .where(UsageEvent.grant_id.in_([g for g, _ in grants] or [0])
                              & UsageEvent.error_code.in_(CAP_REFUSAL_CODES)
                              & (UsageEvent.created_at >= now - RECENT_SECONDS))
                       .group_by(UsageEvent.grant_id).tuples())
        for gid, pid in grants:
            rules: list[LimitRule] = list(load_config(store, gid, pid).rules)
            rows = current_usage(store, rules, now)
            mine = _status([r for r in rows if r["rule"].scope == "grant"])
            conn = _status([r for r in rows if r["rule"].scope == "connection"])
            out[gid] = GrantStatus(gid, mine, conn, int(refused.get(gid, 0)))
    return out
