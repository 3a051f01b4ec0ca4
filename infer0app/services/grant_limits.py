"""What a user lets an app (a grant) and a provider connection use, in the user's units.

The consent page, Connected apps, the dashboard's connection page and the CLI call these;
the chat path enforces them (services/limits.py) and /v1/me reports them (`me_limits`).

Units: requests per minute and tokens (input + output) per day as whole numbers; spend in US
dollars per day / ISO week / calendar month, given as a number or a decimal string ("5",
"12.50"), stored as integer micro-dollars (limit_ledger). `None` (or "" from a form) = no
limit. Windows are fixed UTC windows (limit_periods.py). Changing a limit bumps the cache
epoch (m0008 triggers), so every server uses the new caps within a poll.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from ..store.models import ConnectionLimit, GrantLimit
from . import audit, grant_views, limit_ledger, providers
from .errors import ValidationError

MICRO = 1_000_000
MAX_USD = Decimal(1_000_000)  # a cap beyond this is a typo, not a budget
MAX_COUNT = 10**12
SPEND_PERIODS = ("day", "week", "month")


@dataclass(frozen=True)
class ConnectionLimits:
    """Caps on one provider connection across all apps. USD; None = no limit."""

    spend_per_day_usd: Decimal | None = None
    spend_per_week_usd: Decimal | None = None
    spend_per_month_usd: Decimal | None = None


@dataclass(frozen=True)
class GrantLimits(ConnectionLimits):
    """Caps on one app's grant. USD for spend; None = no limit."""

    tokens_per_day: int | None = None
    requests_per_minute: int | None = None


def usd(value: Any, field: str) -> Decimal | None:
    """A dollar amount from a number or a form string: None/"" -> None; else 0 <= x <= MAX_USD,
    at most 6 decimals (micro-dollars). ValidationError names `field`."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValidationError("Enter an amount in US dollars, e.g. 5 or 12.50.", field)
    try:
        amount = Decimal(str(value).strip().lstrip("$").replace(",", ""))
    except InvalidOperation:
        raise ValidationError("Enter an amount in US dollars, e.g. 5 or 12.50.", field) from None
    if not amount.is_finite() or amount < 0 or amount > MAX_USD:
        raise ValidationError(f"Enter an amount between $0 and ${MAX_USD:,}.", field)
    if amount != amount.quantize(Decimal("0.000001")):
        raise ValidationError("Use at most 6 decimals (a millionth of a dollar).", field)
    return amount


def count(value: Any, field: str) -> int | None:
    """A whole-number cap from an int or a form string: None/"" -> None; 0 <= n <= 10**12."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValidationError("Enter a whole number.", field)
    try:
        n = int(str(value).strip().replace(",", "")) if not isinstance(value, int) else value
    except ValueError:
        raise ValidationError("Enter a whole number.", field) from None
    if n < 0 or n > MAX_COUNT:
        raise ValidationError("Enter a whole number of at least 0.", field)
    return n


def grant_limits_from(values: Mapping[str, Any]) -> GrantLimits:
    """GrantLimits from a form or JSON (keys = GrantLimits' field names; missing = no limit)."""
    return GrantLimits(**{f.name: (usd if f.name.endswith("_usd") else count)(values.get(f.name), f.name)
                          for f in fields(GrantLimits)})


def connection_limits_from(values: Mapping[str, Any]) -> ConnectionLimits:
    return ConnectionLimits(**{f.name: usd(values.get(f.name), f.name) for f in fields(ConnectionLimits)})


def _micro(amount: Decimal | None) -> int | None:
    return None if amount is None else int(amount * MICRO)


def _dollars(micro: int | None) -> Decimal | None:
    return None if micro is None else Decimal(micro) / MICRO


def _spend_columns(limits: ConnectionLimits) -> dict[str, int | None]:
    return {f"spend_per_{p}_micro_usd": _micro(getattr(limits, f"spend_per_{p}_usd")) for p in SPEND_PERIODS}


def get_grant_limits(store, grant_id: int) -> GrantLimits:
    row = GrantLimit.get_or_none(GrantLimit.grant == grant_id)
    if row is None:
        return GrantLimits()
    return GrantLimits(**{f"spend_per_{p}_usd": _dollars(getattr(row, f"spend_per_{p}_micro_usd"))
                          for p in SPEND_PERIODS},
                       tokens_per_day=row.tokens_per_day, requests_per_minute=row.requests_per_minute)


def get_connection_limits(store, provider_id: int) -> ConnectionLimits:
    row = ConnectionLimit.get_or_none(ConnectionLimit.provider == provider_id)
    if row is None:
        return ConnectionLimits()
    return ConnectionLimits(**{f"spend_per_{p}_usd": _dollars(getattr(row, f"spend_per_{p}_micro_usd"))
                               for p in SPEND_PERIODS})


def set_grant_limits(store, grant_id: int, limits: GrantLimits, *, actor: str) -> None:
    """Replace a grant's caps (no ownership check: for the operator's CLI/TUI and consent,
    where the grant was just made for the signed-in user)."""
    with store.write():
        limit_ledger.set_grant_limits(store, grant_id, tokens_per_day=limits.tokens_per_day,
                                      requests_per_minute=limits.requests_per_minute, **_spend_columns(limits))
        audit.record(store, actor, "grant.limits", target=f"grant:{grant_id}",
                     **{k: (str(v) if v is not None else None) for k, v in asdict(limits).items()})


def set_user_grant_limits(store, user_id: int, grant_id: int, limits: GrantLimits, *, actor: str = "") -> None:
    """The signed-in user changes one of their connected apps' caps. NotFound if the grant is
    not theirs or is revoked."""
    grant_views.get_user_grant(store, user_id, grant_id)
    set_grant_limits(store, grant_id, limits, actor=actor or audit.user_actor(user_id))


def set_user_connection_limits(store, user_id: int, provider_id: int, limits: ConnectionLimits, *,
                               actor: str = "") -> None:
    """The user caps one of their provider connections across all apps. NotFound if not theirs."""
    providers.get_connection(store, user_id, provider_id)
    with store.write():
        limit_ledger.set_connection_limits(store, provider_id, **_spend_columns(limits))
        audit.record(store, actor or audit.user_actor(user_id), "connection.limits", target=f"provider:{provider_id}",
                     **{k: (str(v) if v is not None else None) for k, v in asdict(limits).items()})


# -- /v1/me ------------------------------------------------------------------------------------
GRANT_LIMIT_NAMES = ("requests_per_minute", "tokens_per_day", "spend_per_day", "spend_per_week", "spend_per_month")
CONNECTION_LIMIT_NAMES = GRANT_LIMIT_NAMES[2:]


def me_limits(summary: dict) -> dict:
    """/v1/me's `limits`, `connection_limits` and `spend_enforced` from LimitGate.usage_summary.

    Each name maps to null (no such limit) or {"limit", "used", "reserved", "remaining",
    "unit", "resets_at"}: spend in USD (numbers), requests and tokens as integers, `reserved`
    held by servers for calls in flight, `resets_at` epoch seconds (UTC window end).
    `remaining` is null for a spend limit while the model's price is unknown (not enforced)."""
    grant = dict.fromkeys(GRANT_LIMIT_NAMES)
    connection = dict.fromkeys(CONNECTION_LIMIT_NAMES)
    enforced = summary["spend_enforced"]
    for row in summary["limits"]:
        entry = {k: row[k] for k in ("limit", "used", "reserved", "remaining", "unit", "resets_at")}
        if row["unit"] == "usd" and not enforced:
            entry["remaining"] = None
        (grant if row["scope"] == "grant" else connection)[row["name"]] = entry
    return {"limits": grant, "connection_limits": connection, "spend_enforced": enforced}
