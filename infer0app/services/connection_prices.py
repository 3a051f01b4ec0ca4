"""Prices a user sets for their own connections (custom or local endpoints), USD per million
tokens as providers publish them; model '' = every model of the connection. These win over the
price table (services/pricing.py). Ollama and other local servers cost 0 in the shipped table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

from ..store.models import ConnectionPrice
from . import audit, limit_ledger, providers
from .errors import ValidationError
from .pricing import Price

MAX_PRICE = 100_000.0  # USD per million tokens; beyond this is a typo


@dataclass(frozen=True)
class PriceView:
    model: str  # '' = any model
    input: float
    output: float
    cached_input: float | None


def _number(value: Any, field: str, *, optional: bool = False) -> float | None:
    text = (value or "").strip().lstrip("$") if isinstance(value, str) else value
    if text in ("", None):
        if optional:
            return None
        raise ValidationError("Enter a price in US dollars per million tokens, e.g. 0 or 2.50.", field)
    try:
        n = float(text)
    except (TypeError, ValueError):
        raise ValidationError("Enter a price in US dollars per million tokens, e.g. 0 or 2.50.", field) from None
    if not math.isfinite(n) or n < 0 or n > MAX_PRICE:
        raise ValidationError(f"Enter a price between 0 and {MAX_PRICE:,.0f} dollars per million tokens.", field)
    return n


def price_from(form: Mapping[str, Any]) -> tuple[str, Price]:
    """(model, Price) from a form with `model` ('' = any), `input`, `output`, optional
    `cached_input` (USD per million tokens). ValidationError names the bad field."""
    model = (form.get("model") or "").strip()
    if len(model) > 200 or any(ord(c) < 32 for c in model):
        raise ValidationError("The model name must be at most 200 characters, on one line.", "model")
    return model, Price(input=_number(form.get("input"), "input"), output=_number(form.get("output"), "output"),
                        cached_input=_number(form.get("cached_input"), "cached_input", optional=True))


def list_prices(store, provider_id: int) -> list[PriceView]:
    with store.read():
        rows = ConnectionPrice.select().where(ConnectionPrice.provider == provider_id).order_by(ConnectionPrice.model)
        return [PriceView(r.model, r.input_usd_per_mtok, r.output_usd_per_mtok, r.cached_input_usd_per_mtok)
                for r in rows]


def price_map(store, provider_id: int) -> dict[str, Price]:
    return {p.model: Price(p.input, p.output, p.cached_input) for p in list_prices(store, provider_id)}


def set_user_price(store, user_id: int, provider_id: int, model: str, price: Price | None, *, actor: str) -> None:
    """Set (or with None remove) the user's price for `model` on their connection. NotFound if not theirs."""
    providers.get_connection(store, user_id, provider_id)
    with store.write():
        limit_ledger.set_connection_price(store, provider_id, model, price)
        audit.record(store, actor, "connection.price", target=f"provider:{provider_id}", model=model,
                     input=None if price is None else price.input, output=None if price is None else price.output)
