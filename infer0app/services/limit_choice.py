"""Which limits a new grant starts with: the operator's defaults and maximum, the app's
suggestion, the user's choice (issue 13), and which of them infer0 can enforce.

Names are /v1/me's limit names: `spend_per_day`, `spend_per_week`, `spend_per_month` (USD),
`tokens_per_day` (input + output), `requests_per_minute`.

- Operator settings `--default-grant-limits` / `--max-grant-limits` are specs like
  "spend_per_month=5,requests_per_minute=60" (`parse_spec`).
- An app may suggest limits in the authorization request with one query parameter per limit,
  `limit_<name>=<value>` (e.g. `limit_spend_per_month=2&limit_requests_per_minute=20`);
  `suggested` reads them. The suggestion replaces the defaults on the consent page, clamped
  to the operator's maximum; the user may accept or lower it.
- With a maximum set for a limit, "no limit" is not available for it and larger values are
  refused (`check_within`) or lowered (`clamp`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Mapping

from .errors import ValidationError
from .grant_limits import GrantLimits, grant_limits_from
from .pricing import Price, PriceTable, price_for

#: /v1/me name -> GrantLimits field
FIELD_OF = {"spend_per_day": "spend_per_day_usd", "spend_per_week": "spend_per_week_usd",
            "spend_per_month": "spend_per_month_usd", "tokens_per_day": "tokens_per_day",
            "requests_per_minute": "requests_per_minute"}
NAME_OF = {v: k for k, v in FIELD_OF.items()}
SUGGEST_PREFIX = "limit_"
NONE_WORDS = ("none", "no limit", "unlimited")


def _clean(value: Any) -> Any:
    return "" if isinstance(value, str) and value.strip().lower() in NONE_WORDS else value


def form_limits(form: Mapping[str, Any], fallback: GrantLimits | None = None) -> GrantLimits:
    """GrantLimits from a page form whose inputs are named like GrantLimits' fields; an empty
    value or "none" = no limit; a field absent from the form takes `fallback`'s value (e.g. the
    operator's defaults for a client that posts no limits). ValidationError names the bad field."""
    chosen = grant_limits_from({f.name: _clean(form.get(f.name, "")) for f in fields(GrantLimits)})
    if fallback is None:
        return chosen
    return replace(chosen, **{f.name: getattr(fallback, f.name) for f in fields(GrantLimits) if f.name not in form})


def parse_spec(spec: str, setting: str = "limits") -> GrantLimits:
    """ "spend_per_month=5,requests_per_minute=60" -> GrantLimits. ValueError names `setting`
    and the bad part (unknown name, missing '=', bad number)."""
    values: dict[str, str] = {}
    for part in (spec or "").split(","):
        if not part.strip():
            continue
        name, eq, value = part.partition("=")
        name = name.strip()
        if not eq or name not in FIELD_OF:
            raise ValueError(f"{setting}: {part.strip()!r} is not name=value with a name among "
                             f"{', '.join(FIELD_OF)}")
        values[FIELD_OF[name]] = _clean(value)
    try:
        return grant_limits_from(values)
    except ValidationError as exc:
        raise ValueError(f"{setting}: {NAME_OF.get(exc.field, exc.field)}: {exc.message}") from None


def suggested(params: Mapping[str, str]) -> tuple[GrantLimits | None, list[str]]:
    """The app's suggestion from authorization-request parameters `limit_<name>`: (limits or
    None if it suggested nothing, notes on values that were ignored)."""
    values: dict[str, Any] = {}
    notes: list[str] = []
    for name, f in FIELD_OF.items():
        raw = params.get(SUGGEST_PREFIX + name)
        if raw is None:
            continue
        try:
            values[f] = getattr(grant_limits_from({f: _clean(raw)}), f)
        except ValidationError as exc:
            notes.append(f"The app suggested an unusable {name} ({exc.message}); it was ignored.")
    if not values:
        return None, notes
    return GrantLimits(**values), notes


def clamp(limits: GrantLimits, maximum: GrantLimits) -> tuple[GrantLimits, list[str]]:
    """Each limit lowered to the operator's maximum where one is set ("no limit" becomes the
    maximum); returns the names that were lowered."""
    changed = {}
    for f in fields(GrantLimits):
        cap, value = getattr(maximum, f.name), getattr(limits, f.name)
        if cap is not None and (value is None or value > cap):
            changed[f.name] = cap
    return replace(limits, **changed), [NAME_OF[k] for k in changed]


def check_within(limits: GrantLimits, maximum: GrantLimits) -> None:
    """ValidationError (naming the field) if a limit is above, or missing under, the maximum."""
    for f in fields(GrantLimits):
        cap, value = getattr(maximum, f.name), getattr(limits, f.name)
        if cap is not None and (value is None or value > cap):
            unit = f"${cap}" if f.name.endswith("_usd") else f"{cap:,}"
            raise ValidationError(f"This server allows at most {unit} for {NAME_OF[f.name].replace('_', ' ')}.",
                                  f.name)


def initial(defaults: GrantLimits, maximum: GrantLimits, suggestion: GrantLimits | None,
            existing: GrantLimits | None = None) -> tuple[GrantLimits, list[str]]:
    """What the consent form shows first: the grant's current limits when re-authorizing,
    else the app's suggestion (limit by limit, over the defaults), clamped to the maximum."""
    if existing is not None and existing != GrantLimits():
        start = existing
    elif suggestion is not None:
        start = replace(defaults, **{f.name: getattr(suggestion, f.name) for f in fields(GrantLimits)
                                     if getattr(suggestion, f.name) is not None})
    else:
        start = defaults
    return clamp(start, maximum)


@dataclass(frozen=True)
class Enforceable:
    """Whether spend limits can be enforced for one connection's model."""

    connection_id: int
    connection_name: str
    model: str
    price: Price | None  # None: unknown, spend limits do not apply to it

    @property
    def spend(self) -> bool:
        return self.price is not None


def enforceable(prices: PriceTable, connection_id: int, connection_name: str, kind: str, model: str,
                connection_prices: Mapping[str, Price] | None = None) -> Enforceable:
    return Enforceable(connection_id, connection_name, model,
                       price_for(prices, kind, model, connection_prices))
