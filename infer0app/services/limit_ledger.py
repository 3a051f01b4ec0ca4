"""The database side of limits: configured caps, shared counters and leases (m0008).

Everything here is a plain synchronous function of the Store. The read-modify-write
(`sync_leases`) must run inside the store's write path (`store.write()` or
`store.run_grouped`, both a `BEGIN IMMEDIATE` transaction on SQLite), so every process that
shares the database sees each counter change atomically: a cap holds across
`serve --workers N`, the CLI and the TUI.

A counter row holds `used` (settled consumption, reported by processes) for one window of
one metric; `limit_lease` rows hold the budget each process has taken out of it and not yet
reported or returned. What is free for a process is `cap - used - every live lease`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from ..store.models import ConnectionLimit, ConnectionPrice, GrantLimit, non_key_fields, now
from .limit_periods import window
from .pricing import Price

# (column of grant_limit / connection_limit, metric, period)
GRANT_COLUMNS = (
    ("requests_per_minute", "requests", "minute"),
    ("tokens_per_day", "tokens", "day"),
    ("spend_per_day_micro_usd", "spend", "day"),
    ("spend_per_week_micro_usd", "spend", "week"),
    ("spend_per_month_micro_usd", "spend", "month"),
)
CONNECTION_COLUMNS = GRANT_COLUMNS[2:]


@dataclass(frozen=True, slots=True)
class LimitRule:
    """One cap: `cap` units of `metric` per `period` window, on a grant or a whole connection."""

    scope: str  # "grant" | "connection"
    owner_id: int  # grant id | provider connection id
    metric: str  # "requests" | "tokens" | "spend" (micro-dollars)
    period: str  # "minute" | "day" | "week" | "month"
    cap: int

    @property
    def name(self) -> str:
        """The setting's name as /v1/me and error messages use it, e.g. `spend_per_month`."""
        return f"{self.metric}_per_{self.period}"

    def key(self, at: float) -> tuple:
        """The counter row this rule charges at time `at`: (scope, owner, metric, period, start, end)."""
        start, end = window(self.period, at)
        return (self.scope, self.owner_id, self.metric, self.period, start, end)


@dataclass(frozen=True, slots=True)
class LimitConfig:
    """What applies to one grant's calls: its rules, its connection's rules, the user's prices."""

    rules: tuple[LimitRule, ...] = ()
    connection_prices: tuple[tuple[str, Price], ...] = ()

    @property
    def unlimited(self) -> bool:
        return not self.rules


NO_LIMITS = LimitConfig()


def load_config(store, grant_id: int, provider_id: int | None) -> LimitConfig:
    """The grant's and its connection's caps and prices (a few primary-key reads)."""
    rules: list[LimitRule] = []
    row = GrantLimit.get_or_none(GrantLimit.grant == grant_id)
    if row is not None:
        rules += [LimitRule("grant", grant_id, metric, period, getattr(row, column))
                  for column, metric, period in GRANT_COLUMNS if getattr(row, column) is not None]
    prices: list[tuple[str, Price]] = []
    if provider_id is not None:
        crow = ConnectionLimit.get_or_none(ConnectionLimit.provider == provider_id)
        if crow is not None:
            rules += [LimitRule("connection", provider_id, metric, period, getattr(crow, column))
                      for column, metric, period in CONNECTION_COLUMNS if getattr(crow, column) is not None]
        prices = [(p.model, Price(input=p.input_usd_per_mtok, output=p.output_usd_per_mtok,
                                  cached_input=p.cached_input_usd_per_mtok))
                  for p in ConnectionPrice.select().where(ConnectionPrice.provider == provider_id)]
    if not rules and not prices:
        return NO_LIMITS
    return LimitConfig(tuple(rules), tuple(prices))


def _check_caps(caps: dict, allowed: Iterable[str]) -> dict:
    allowed = set(allowed)
    unknown = set(caps) - allowed
    if unknown:
        raise ValueError(f"unknown limit {sorted(unknown)[0]!r}; expected some of {sorted(allowed)}")
    for name, value in caps.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ValueError(f"{name} must be a whole number >= 0 or None (no limit)")
    return caps


def set_grant_limits(store, grant_id: int, **caps: int | None) -> None:
    """Replace a grant's caps (keyword per GRANT_COLUMNS; None = no limit). Spend in micro-dollars."""
    values = {column: None for column, _, _ in GRANT_COLUMNS}
    values.update(_check_caps(caps, values))
    with store.write():
        (GrantLimit.insert(grant=grant_id, updated_at=now(), **values)
         .on_conflict(conflict_target=[GrantLimit.grant], preserve=non_key_fields(GrantLimit)).execute())


def set_connection_limits(store, provider_id: int, **caps: int | None) -> None:
    """Replace a connection's spend caps (micro-dollars per day/week/month; None = no limit)."""
    values = {column: None for column, _, _ in CONNECTION_COLUMNS}
    values.update(_check_caps(caps, values))
    with store.write():
        (ConnectionLimit.insert(provider=provider_id, updated_at=now(), **values)
         .on_conflict(conflict_target=[ConnectionLimit.provider], preserve=non_key_fields(ConnectionLimit)).execute())


def set_connection_price(store, provider_id: int, model: str, price: Price | None) -> None:
    """The user's price for `model` on a connection ('' = any model); None removes it."""
    with store.write():
        ConnectionPrice.delete().where((ConnectionPrice.provider == provider_id)
                                       & (ConnectionPrice.model == model)).execute()
        if price is not None:
            ConnectionPrice.create(provider=provider_id, model=model, input_usd_per_mtok=price.input,
                                   output_usd_per_mtok=price.output,
                                   cached_input_usd_per_mtok=price.cached_input)


# -- leases ------------------------------------------------------------------------------------
@dataclass(slots=True)
class SyncItem:
    """One counter's part of a sync: report consumption, give back budget, ask for more."""

    key: tuple  # LimitRule.key(): (scope, owner_id, metric, period, start, end)
    cap: int
    report: int = 0  # consumed since the last sync (settled calls)
    give_back: int = 0  # unneeded budget returned
    want: int = 0  # budget asked for now: all or nothing
    chunk: bool = False  # may the grant exceed `want` (a lease ahead of demand)?


@dataclass(frozen=True, slots=True)
class SyncResult:
    amount: int  # this holder's lease after the sync (its budget + in-flight + unreported)
    granted: int  # 0 if `want` did not fit
    free: int  # cap - used - all live leases, after the sync


# Lease ahead of demand only when at least this many more such asks would still fit, and then
# a 1/LEASE_DIVISOR share of what is free: near a cap every ask goes to the database, so the
# last units are handed out exactly and never stranded in another process's lease.
CHUNK_HEADROOM = 64
LEASE_DIVISOR = 8

_COUNTER_UPSERT = (
    'INSERT INTO "limit_counter" ("scope", "owner_id", "metric", "period", "period_start", "period_end", "used") '
    'VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT ("scope", "owner_id", "metric", "period", "period_start") '
    'DO UPDATE SET "used" = "limit_counter"."used" + excluded."used" RETURNING "id", "used"')
_LEASES = 'SELECT "holder", "amount" FROM "limit_lease" WHERE "counter_id" = ? AND "expires_at" >= ?'
_LEASE_EXPIRED = 'DELETE FROM "limit_lease" WHERE "counter_id" = ? AND "expires_at" < ?'
_LEASE_UPSERT = (
    'INSERT INTO "limit_lease" ("counter_id", "holder", "amount", "expires_at") VALUES (?, ?, ?, ?) '
    'ON CONFLICT ("counter_id", "holder") DO UPDATE SET "amount" = excluded."amount", '
    '"expires_at" = excluded."expires_at"')
_LEASE_DELETE = 'DELETE FROM "limit_lease" WHERE "counter_id" = ? AND "holder" = ?'


def sync_leases(store, holder: str, at: float, items: list[SyncItem], lease_ttl: float) -> list[SyncResult]:
    """Apply each item to its counter and this holder's lease; run it in the write path.

    Per item: `used += report`; the lease shrinks by `report` (not below 0: consumption beyond
    the lease is an overshoot already spent) and by `give_back`; then, if `want` fits in what
    is free, the lease grows by `want` (plus a share of the rest when `chunk` and there is
    ample room). The lease's expiry moves to `at + lease_ttl`.
    """
    conn = store.raw()
    results = []
    for item in items:
        scope, owner_id, metric, period, start, end = item.key
        counter_id, used = conn.execute(_COUNTER_UPSERT, (scope, owner_id, metric, period, start, end,
                                                          item.report)).fetchone()
        conn.execute(_LEASE_EXPIRED, (counter_id, at))
        mine = others = 0
        for who, amount in conn.execute(_LEASES, (counter_id, at)):
            if who == holder:
                mine = amount
            else:
                others += amount
        mine = max(0, max(0, mine - item.report) - item.give_back)
        free = item.cap - used - others - mine
        granted = 0
        if item.want > 0 and free >= item.want:
            granted = item.want
            if item.chunk and free - item.want >= CHUNK_HEADROOM * item.want:
                granted += (free - item.want) // LEASE_DIVISOR
        mine += granted
        free -= granted
        if mine > 0:
            conn.execute(_LEASE_UPSERT, (counter_id, holder, mine, at + lease_ttl))
        else:
            conn.execute(_LEASE_DELETE, (counter_id, holder))
        results.append(SyncResult(amount=mine, granted=granted, free=free))
    return results


def release_holder(store, holder: str) -> int:
    """Drop every lease of a holder (a server shutting down after its last report)."""
    return store.db.execute_sql('DELETE FROM "limit_lease" WHERE "holder" = ?', (holder,)).rowcount


def prune(store, at: float, keep_seconds: float = 2 * 86400) -> int:
    """Delete counters whose window ended more than `keep_seconds` ago (their leases cascade).
    History lives in usage_event; these rows only enforce the current windows."""
    return store.db.execute_sql('DELETE FROM "limit_counter" WHERE "period_end" < ?',
                                (int(at - keep_seconds),)).rowcount


def current_usage(store, rules: Iterable[LimitRule], at: float) -> list[dict]:
    """For each rule, its current window: used (reported), leased (held by running servers for
    calls in flight or ahead of demand), remaining = cap - used - leased (not below 0), and
    resets_at (the window's end, epoch seconds)."""
    out = []
    conn = store.raw()
    for rule in rules:
        scope, owner_id, metric, period, start, end = rule.key(at)
        row = conn.execute(
            'SELECT c."used", COALESCE((SELECT SUM(l."amount") FROM "limit_lease" l WHERE l."counter_id" = c."id" '
            'AND l."expires_at" >= ?), 0) FROM "limit_counter" c WHERE c."scope" = ? AND c."owner_id" = ? '
            'AND c."metric" = ? AND c."period" = ? AND c."period_start" = ?',
            (at, scope, owner_id, metric, period, start)).fetchone()
        used, leased = (int(row[0]), int(row[1])) if row else (0, 0)
        out.append({"rule": rule, "used": used, "leased": leased,
                    "remaining": max(0, rule.cap - used - leased), "resets_at": end})
    return out
