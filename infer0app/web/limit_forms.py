"""Limits in page forms: the fields of the shared limits form (templates/partials/limits_form.html),
their values as text, and the operator's defaults and maximum from Settings."""

from __future__ import annotations

from dataclasses import fields
from decimal import Decimal

from aiohttp import web

from .. import keys
from ..services.grant_limits import GrantLimits

#: (GrantLimits field, label, unit shown beside the input)
LIMIT_FIELDS = (
    ("spend_per_day_usd", "Spend per day", "US$"),
    ("spend_per_week_usd", "Spend per week", "US$"),
    ("spend_per_month_usd", "Spend per month", "US$"),
    ("tokens_per_day", "Tokens per day", "tokens (input + output)"),
    ("requests_per_minute", "Requests per minute", "requests"),
)
CONNECTION_FIELDS = LIMIT_FIELDS[:3]


def text(value) -> str:
    """A limit as the form shows it: '' for none, dollars without trailing zeros."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def values_of(limits) -> dict[str, str]:
    return {f.name: text(getattr(limits, f.name)) for f in fields(limits)}


def posted(form, names=None) -> dict[str, str]:
    """The posted limit fields as typed (to show the form again after an error)."""
    names = names or [f for f, _, _ in LIMIT_FIELDS]
    return {n: (form.get(n) if isinstance(form.get(n), str) else "")[:40] for n in names}


def defaults_and_maximum(request: web.Request) -> tuple[GrantLimits, GrantLimits]:
    settings = request.config_dict[keys.SETTINGS]
    return settings.grant_limit_defaults, settings.grant_limit_maximum
