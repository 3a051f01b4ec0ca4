"""Prices of provider models, and what a call costs.

Prices are USD per million tokens, as providers publish them. Costs are integer
micro-dollars (1 USD = 1,000,000): since 1 USD per million tokens is exactly 1 micro-dollar
per token, a cost is `tokens x price` with no unit conversion, rounded up once per call.

Where a price comes from, first match wins:
1. the user's own prices for a connection (`connection_price` rows; model '' = any model),
   e.g. for a custom endpoint or a local server;
2. the operator's `prices.json` in the data dir (same shape as the shipped file; an entry set
   to `null` removes a shipped model, making its price unknown);
3. the table shipped in `infer0app/data/prices.json` (list prices, dated inside the file).

Within a table, a model is looked up by its exact name, then by its base name when the
suffix is a date or `-latest` (`gpt-4o-2024-08-06` -> `gpt-4o`, `claude-sonnet-4-5-20250929`
-> `claude-sonnet-4-5`), then under `*` (every model of that kind, e.g. Ollama = 0). No match:
`None`, i.e. spend is unknown (token and request limits still apply).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ..paths import resource_path

PRICES_FILENAME = "prices.json"
_VERSION_SUFFIX = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8}|latest)$")


class PriceFileError(ValueError):
    """A prices.json that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million tokens. `cached_input` None = cache hits are billed as input."""

    input: float
    output: float
    cached_input: float | None = None
    default_output_tokens: int | None = None  # the output estimate when a request sets no max

    def cost_micro_usd(self, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0) -> int:
        """Cost of one call in micro-dollars, rounded up. `prompt_tokens` includes the cached
        ones (OpenAI's `usage.prompt_tokens` convention); those are billed at `cached_input`."""
        cached = max(0, min(cached_tokens, prompt_tokens))
        cached_rate = self.input if self.cached_input is None else self.cached_input
        return math.ceil((prompt_tokens - cached) * self.input + cached * cached_rate
                         + completion_tokens * self.output - 1e-9)


def _price_from(raw: Any, where: str) -> Price:
    if not isinstance(raw, dict):
        raise PriceFileError(f"{where}: expected an object with input and output prices")
    try:
        values = {k: raw[k] for k in ("input", "output")}
        if raw.get("cached_input") is not None:
            values["cached_input"] = raw["cached_input"]
        for k, v in values.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 or not math.isfinite(v):
                raise PriceFileError(f"{where}: {k} must be a number >= 0 (USD per million tokens)")
        default_out = raw.get("default_output_tokens")
        if default_out is not None and (not isinstance(default_out, int) or default_out <= 0):
            raise PriceFileError(f"{where}: default_output_tokens must be a positive integer")
    except KeyError as exc:
        raise PriceFileError(f"{where}: missing {exc.args[0]}") from None
    return Price(input=float(values["input"]), output=float(values["output"]),
                 cached_input=None if "cached_input" not in values else float(values["cached_input"]),
                 default_output_tokens=default_out)


def _read(path: Path) -> dict[str, dict[str, Price | None]]:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PriceFileError(f"{path}: cannot read prices ({exc.__class__.__name__}: {exc})") from None
    kinds = doc.get("kinds") if isinstance(doc, dict) else None
    if not isinstance(kinds, dict):
        raise PriceFileError(f"{path}: expected {{\"kinds\": {{kind: {{model: {{input, output}}}}}}}}")
    table: dict[str, dict[str, Price | None]] = {}
    for kind, models in kinds.items():
        if not isinstance(models, dict):
            raise PriceFileError(f"{path}: kinds.{kind} must map model names to prices")
        table[kind] = {model: None if raw is None else _price_from(raw, f"{path}: {kind}/{model}")
                       for model, raw in models.items()}
    return table


class PriceTable:
    """(provider kind, model) -> Price. Built once per process; lookups are dict hits."""

    def __init__(self, kinds: Mapping[str, Mapping[str, Price]]):
        self._kinds = {kind: dict(models) for kind, models in kinds.items()}

    @classmethod
    def load(cls, data_dir: Path | None = None) -> "PriceTable":
        """The shipped table, overlaid with `<data_dir>/prices.json` if present.
        Raises PriceFileError for a malformed file (the operator should hear, not guess)."""
        merged = _read(resource_path("infer0app", "data", PRICES_FILENAME))
        override = Path(data_dir) / PRICES_FILENAME if data_dir is not None else None
        if override is not None and override.exists():
            for kind, models in _read(override).items():
                merged.setdefault(kind, {}).update(models)
        return cls({kind: {m: p for m, p in models.items() if p is not None} for kind, models in merged.items()})

    def lookup(self, kind: str, model: str) -> Price | None:
        models = self._kinds.get(kind)
        if not models:
            return None
        return _match(models, model)

    def kinds(self) -> dict[str, dict[str, Price]]:
        return {kind: dict(models) for kind, models in self._kinds.items()}


def _match(models: Mapping[str, Price], model: str) -> Price | None:
    hit = models.get(model)
    if hit is None:
        base = _VERSION_SUFFIX.sub("", model)
        hit = models.get(base) if base != model else None
    if hit is None:
        hit = models.get("*")
    return hit


def price_for(table: PriceTable, kind: str, model: str,
              connection_prices: Mapping[str, Price] | None = None) -> Price | None:
    """The price that applies to a call: the user's connection prices first (exact model, base
    name, then '' = any model), else the table. None = unknown."""
    if connection_prices:
        hit = _match(connection_prices, model) or connection_prices.get("")
        if hit is not None:
            return hit
    return table.lookup(kind, model)
