"""Usage figures for people: per day, by app, by model, by user, with a spend estimate.

Reads both raw `usage_event` rows and the daily roll-ups (`usage_daily`, services/usage_rollup.py)
so figures do not change when old rows are compacted. Days are UTC dates ("YYYY-MM-DD");
ranges are [since, until] inclusive. Spend is an estimate in integer micro-dollars
(1 USD = 10**6) from the price table (services/pricing.py, the user's connection prices
first, priced by the grant's current connection); a bucket whose model has no price counts
in `spend_unknown` requests instead, and is never guessed.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, Iterable

from ..store.models import ConnectionPrice, Grant, OAuthApp, User
from .errors import ValidationError
from .limit_status import CAP_REFUSAL_CODES
from .pricing import Price, PriceTable, price_for

DEFAULT_DAYS = 30
MAX_DAYS = 3660


@dataclass(frozen=True)
class UsageBucket:
    """Requests of one day, user, app, grant, provider kind, model and HTTP status (ids 0 = none)."""

    day: str
    user_id: int
    app_id: int
    grant_id: int
    provider_kind: str
    model: str
    status: int
    requests: int
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    spend_micro_usd: int | None = None  # None: no price known for this model
    cap_refusals: int = 0  # of `requests`, those a limit refused (not the provider's own 402/429)

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class Totals:
    """Sums over some buckets. `spend_unknown`: requests whose spend could not be estimated."""

    key: str
    label: str
    requests: int = 0
    tokens: int = 0
    spend_micro_usd: int = 0
    spend_unknown: int = 0
    errors: int = 0  # answers with status >= 400
    refused: int = 0  # calls a limit refused (grant_budget_exceeded / grant_rate_limited)
    users: int = 0  # distinct users
    errors_by_status: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class UsageReport:
    since: str
    until: str
    total: Totals
    days: list[Totals] = field(default_factory=list)  # one per day, oldest first, zeros included
    by_app: list[Totals] = field(default_factory=list)
    by_model: list[Totals] = field(default_factory=list)
    by_user: list[Totals] = field(default_factory=list)


#: The days a range may name. Python's dates end at 9999-12-31 and start at 0001-01-01, and a
#: range reaches a day past its end and up to DEFAULT_DAYS before its start, so the extremes
#: would overflow (a 500, a traceback); no usage exists outside these years anyway.
FIRST_DAY, LAST_DAY = dt.date(1970, 1, 1), dt.date(9998, 12, 31)


def parse_day(value: str | None, name: str) -> dt.date | None:
    """'YYYY-MM-DD' between FIRST_DAY and LAST_DAY -> date; None/'' -> None; else
    ValidationError naming `name`."""
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(f"{name} must be a date like 2025-01-31.", name) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationError(f"{name} must be a date from {FIRST_DAY} to {LAST_DAY}.", name)
    return day


def day_range(since: dt.date | None, until: dt.date | None, *, days: int = DEFAULT_DAYS,
              now: float | None = None) -> tuple[dt.date, dt.date]:
    """[since, until] defaulting to the last `days` days up to today (UTC)."""
    today = dt.datetime.fromtimestamp(now if now is not None else time.time(), dt.timezone.utc).date()
    until = until or today
    since = since or until - dt.timedelta(days=days - 1)
    if since > until:
        raise ValidationError("The start date is after the end date.", "since")
    if (until - since).days >= MAX_DAYS:
        raise ValidationError(f"Ask for at most {MAX_DAYS} days at a time.", "since")
    return since, until


def _epoch(day: dt.date) -> float:
    return dt.datetime.combine(day, dt.time(), dt.timezone.utc).timestamp()


_BUCKETS = (
    'SELECT day, user_id, app_id, grant_id, provider_kind, model, status, SUM(n), SUM(p), SUM(c), SUM(k), SUM(r) FROM ('
    'SELECT date("created_at", \'unixepoch\') AS day, "user_id" AS user_id, COALESCE("app_id", 0) AS app_id, '
    'COALESCE("grant_id", 0) AS grant_id, "provider_kind" AS provider_kind, "model" AS model, "status" AS status, '
    '1 AS n, "prompt_tokens" AS p, "completion_tokens" AS c, "cached_tokens" AS k, '
    'CASE WHEN "error_code" IN (?, ?) THEN 1 ELSE 0 END AS r '
    'FROM "usage_event" WHERE "created_at" >= ? AND "created_at" < ? {raw} '
    'UNION ALL SELECT "day", "user_id", "app_id", "grant_id", "provider_kind", "model", "status", "requests", '
    '"prompt_tokens", "completion_tokens", "cached_tokens", "cap_refusals" FROM "usage_daily" '
    'WHERE "day" >= ? AND "day" <= ? {daily}'
    ') AS b GROUP BY day, user_id, app_id, grant_id, provider_kind, model, status ORDER BY day')


def _connection_prices(grant_ids: Iterable[int]) -> dict[int, dict[str, Price]]:
    """grant id -> the user's prices on the grant's current connection (only grants that have some)."""
    ids = [g for g in set(grant_ids) if g]
    if not ids:
        return {}
    providers = dict(Grant.select(Grant.id, Grant.provider).where(Grant.id.in_(ids)).tuples())
    by_provider: dict[int, dict[str, Price]] = {}
    for p in ConnectionPrice.select().where(ConnectionPrice.provider.in_([v for v in providers.values() if v])):
        by_provider.setdefault(p.provider_id, {})[p.model] = Price(
            input=p.input_usd_per_mtok, output=p.output_usd_per_mtok, cached_input=p.cached_input_usd_per_mtok)
    return {gid: by_provider[pid] for gid, pid in providers.items() if pid in by_provider}


def buckets(store, prices: PriceTable, since: dt.date, until: dt.date, *, user_id: int | None = None,
            app_id: int | None = None) -> list[UsageBucket]:
    """Usage buckets of the days [since, until], optionally of one user and/or one app, priced."""
    raw, daily, raw_args, daily_args = "", "", [], []
    for column, value in (("user_id", user_id), ("app_id", app_id)):
        if value is not None:
            raw += f' AND "{column}" = ?'
            daily += f' AND "{column}" = ?'
            raw_args.append(value)
            daily_args.append(value)
    sql = _BUCKETS.format(raw=raw, daily=daily)
    args = [*CAP_REFUSAL_CODES, _epoch(since), _epoch(until + dt.timedelta(days=1)), *raw_args, since.isoformat(), until.isoformat(),
            *daily_args]
    with store.read():
        rows = store.db.execute_sql(sql, args).fetchall()
        own_prices = _connection_prices(r[3] for r in rows)
    out = []
    for day, uid, aid, gid, kind, model, status, n, p, c, k, r in rows:
        price = price_for(prices, kind, model, own_prices.get(gid))
        spend = price.cost_micro_usd(int(p), int(c), int(k)) if price is not None else None
        out.append(UsageBucket(day, uid, aid, gid, kind, model, status, int(n), int(p), int(c), int(k), spend,
                               int(r or 0)))
    return out


def total(key: str, label: str, items: Iterable[UsageBucket]) -> Totals:
    items = list(items)
    errors: dict[int, int] = {}
    for b in items:
        if b.status >= 400:
            errors[b.status] = errors.get(b.status, 0) + b.requests
    return Totals(
        key=key, label=label, requests=sum(b.requests for b in items), tokens=sum(b.tokens for b in items),
        spend_micro_usd=sum(b.spend_micro_usd or 0 for b in items),
        spend_unknown=sum(b.requests for b in items if b.spend_micro_usd is None and b.tokens),
        errors=sum(errors.values()), refused=sum(b.cap_refusals for b in items),
        users=len({b.user_id for b in items}), errors_by_status=tuple(sorted(errors.items())))


def group(items: list[UsageBucket], key: Callable[[UsageBucket], object], label: Callable[[object], str]) -> list[Totals]:
    """Totals per key, the busiest first."""
    groups: dict[object, list[UsageBucket]] = {}
    for b in items:
        groups.setdefault(key(b), []).append(b)
    out = [total(str(k), label(k), bs) for k, bs in groups.items()]
    return sorted(out, key=lambda t: (-t.spend_micro_usd, -t.requests, t.label))


def per_day(items: list[UsageBucket], since: dt.date, until: dt.date) -> list[Totals]:
    by_day: dict[str, list[UsageBucket]] = {}
    for b in items:
        by_day.setdefault(b.day, []).append(b)
    days = []
    d = since
    while d <= until:
        days.append(total(d.isoformat(), d.isoformat(), by_day.get(d.isoformat(), [])))
        d += dt.timedelta(days=1)
    return days


def names(store, app_ids: Iterable[int] = (), user_ids: Iterable[int] = ()) -> tuple[dict[int, tuple[str, str]], dict[int, str]]:
    """({app id: (name, client_id)}, {user id: email}) for labels."""
    with store.read():
        apps = {i: (n, c) for i, n, c in OAuthApp.select(OAuthApp.id, OAuthApp.name, OAuthApp.client_id)
                .where(OAuthApp.id.in_(list(set(app_ids)) or [0])).tuples()}
        users = dict(User.select(User.id, User.email).where(User.id.in_(list(set(user_ids)) or [0])).tuples())
    return apps, users


def report(store, prices: PriceTable, *, user_id: int | None = None, app_id: int | None = None,
           since: dt.date | None = None, until: dt.date | None = None, days: int = DEFAULT_DAYS,
           now: float | None = None) -> UsageReport:
    """Everything the Usage page, the developer page, the CLI and the TUI show."""
    since, until = day_range(since, until, days=days, now=now)
    items = buckets(store, prices, since, until, user_id=user_id, app_id=app_id)
    apps, users = names(store, (b.app_id for b in items), (b.user_id for b in items))
    return UsageReport(
        since=since.isoformat(), until=until.isoformat(), total=total("all", "All", items),
        days=per_day(items, since, until),
        by_app=group(items, lambda b: b.app_id, lambda a: apps.get(a, ("(no app)", ""))[0]),
        by_model=group(items, lambda b: f"{b.provider_kind}/{b.model}", str),
        by_user=group(items, lambda b: b.user_id, lambda u: users.get(u, f"user {u}")))


def usd_text(micro: int | None) -> str | None:
    """Micro-dollars as a decimal string of dollars with 6 places ('0.012345'); None stays None."""
    return None if micro is None else str((Decimal(micro) / 1_000_000).quantize(Decimal("0.000001")))


EXPORT_FIELDS = ("day", "app_client_id", "app_name", "provider_kind", "model", "status", "requests",
                 "prompt_tokens", "completion_tokens", "cached_tokens", "spend_usd")


def export_rows(store, prices: PriceTable, *, user_id: int | None = None, app_id: int | None = None,
                since: dt.date | None = None, until: dt.date | None = None, days: int = DEFAULT_DAYS,
                now: float | None = None) -> list[dict]:
    """One dict per bucket with EXPORT_FIELDS (spend_usd a decimal string, or None if unknown);
    with `user_id` None a `user` (email) field is added (the operator's export)."""
    since, until = day_range(since, until, days=days, now=now)
    items = buckets(store, prices, since, until, user_id=user_id, app_id=app_id)
    apps, users = names(store, (b.app_id for b in items), (b.user_id for b in items))
    out = []
    for b in items:
        name, client_id = apps.get(b.app_id, ("", ""))
        row = {"day": b.day, "app_client_id": client_id, "app_name": name, "provider_kind": b.provider_kind,
               "model": b.model, "status": b.status, "requests": b.requests, "prompt_tokens": b.prompt_tokens,
               "completion_tokens": b.completion_tokens, "cached_tokens": b.cached_tokens,
               "spend_usd": usd_text(b.spend_micro_usd)}
        if user_id is None:
            row = {"user": users.get(b.user_id, ""), **row}
        out.append(row)
    return out
