"""What one call reserves against its grant's caps, and how it is answered (services/limits.py).

- `estimate(body, size, price)`: the reservation's size (see limits.py's module doc);
- `Reservation`: what a call holds, settled once; `headers()` gives OpenAI's x-ratelimit-*;
- `Refusal`: a call that does not fit, with the 402/429 text.

These run on every limited call, so they are plain slotted objects and tuples built with few
allocations (`bench/README.md`, "Limits: what enforcement costs per call"); a cap's header
names and limit value are built once per plan (`HeaderSpec`), not per answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, NamedTuple

from .limit_ledger import LimitRule
from .limit_periods import iso_utc, openai_duration
from .pricing import Price

CHARS_PER_TOKEN = 4
DEFAULT_OUTPUT_TOKENS = 1024
#: a rule's metric as an index into a call's (requests, tokens, spend) amounts
METRIC_INDEX = {"requests": 0, "tokens": 1, "spend": 2}


class Estimate(NamedTuple):
    prompt_tokens: int
    completion_tokens: int
    spend: int | None  # micro-dollars; None = the model's price is unknown

    def amount(self, metric: str) -> int | None:
        if metric == "requests":
            return 1
        if metric == "tokens":
            return self.prompt_tokens + self.completion_tokens
        return self.spend


def estimate(body: Mapping, body_size: int, price: Price | None) -> Estimate:
    """The reservation for a chat request whose JSON body is `body_size` bytes (see limits.py):
    prompt = bytes / 4 rounded up; output = `max_completion_tokens`, else `max_tokens` (positive
    integers only), else the price's `default_output_tokens`, else DEFAULT_OUTPUT_TOKENS, times
    `n`; spend in micro-dollars at `price` (None when it is unknown)."""
    prompt = -(-body_size // CHARS_PER_TOKEN)
    out = body.get("max_completion_tokens")
    if out.__class__ is not int or out <= 0:  # `is int`: a bool is no token count
        out = body.get("max_tokens")
        if out.__class__ is not int or out <= 0:
            out = (price.default_output_tokens if price is not None else None) or DEFAULT_OUTPUT_TOKENS
    n = body.get("n")
    if n.__class__ is int and n > 1:
        out *= n
    if price is None:
        return Estimate(prompt, out, None)
    # Price.cost_micro_usd(prompt, out) without its cached-token arithmetic (none here): same value
    return Estimate(prompt, out, math.ceil(prompt * price.input + out * price.output - 1e-9))


class HeaderSpec(NamedTuple):
    """OpenAI's header names for one of the grant's request or token caps, and its limit as text."""

    limit_name: str
    remaining_name: str
    reset_name: str
    limit: str
    metric: str

    @classmethod
    def of(cls, rule: LimitRule) -> "HeaderSpec | None":
        """For a grant's request or token cap; None for the others (no OpenAI header for them)."""
        if rule.scope != "grant" or rule.metric == "spend":
            return None
        m = rule.metric
        return cls(f"x-ratelimit-limit-{m}", f"x-ratelimit-remaining-{m}", f"x-ratelimit-reset-{m}", str(rule.cap), m)


class Reservation:
    """What one call holds: `parts` [(slot, lease, amount)] (services/limits.py), settled once."""

    __slots__ = ("parts", "estimate", "price", "at", "settled", "spend_unknown", "seen")

    def __init__(self, parts: list, estimate: Estimate | None, price: Price | None, at: float,
                 spend_unknown: bool = False, seen: tuple = (), settled: bool = False):
        self.parts = parts
        self.estimate = estimate
        self.price = price
        self.at = at
        self.settled = settled
        self.spend_unknown = spend_unknown  # a spend cap applies but the model's price is unknown
        self.seen = seen  # (HeaderSpec, remaining, window end) of the grant's request and token caps

    def headers(self) -> dict[str, str]:
        """OpenAI's x-ratelimit-{limit,remaining,reset}-{requests,tokens} for the grant's request
        and token caps (none when the grant has no such cap), as of the reservation. Remaining is
        as this process last saw the shared counter: like OpenAI's, an approximation."""
        out: dict[str, str] = {}
        at = self.at
        for spec, remaining, end in self.seen:
            out[spec[0]] = spec[3]
            out[spec[1]] = str(remaining) if remaining > 0 else "0"
            out[spec[2]] = openai_duration(end - at)
        return out

    def __repr__(self) -> str:
        return f"Reservation(parts={len(self.parts)}, settled={self.settled})"


UNLIMITED = Reservation([], None, None, 0.0, settled=True)


@dataclass(frozen=True, slots=True)
class Refusal:
    """A call that does not fit. 429 `grant_rate_limited` for the request rate, else 402
    `grant_budget_exceeded`; `retry_after` whole seconds until the cap's window resets."""

    rule: LimitRule
    needed: int
    remaining: int
    resets_at: int
    retry_after: int

    @property
    def status(self) -> int:
        return 429 if self.rule.metric == "requests" else 402

    @property
    def code(self) -> str:
        return "grant_rate_limited" if self.rule.metric == "requests" else "grant_budget_exceeded"

    def message(self, manage_url: str) -> str:
        """OpenAI-style text: which limit, when it resets, where the user can raise it."""
        whose = "this app's" if self.rule.scope == "grant" else "this provider connection's (all apps)"
        reset = f"It resets at {iso_utc(self.resets_at)} (in {openai_duration(self.retry_after)})."
        if self.rule.metric == "requests":
            return (f"Rate limit reached: {whose} limit of {self.rule.cap} requests per minute is used up. "
                    f"{reset} The account holder can raise it at {manage_url}.")
        what = describe(self.rule.metric, self.rule.cap)
        need = describe(self.rule.metric, self.needed)
        left = describe(self.rule.metric, self.remaining)
        return (f"Budget exceeded: {whose} limit of {what} per {self.rule.period} does not cover this request "
                f"(estimated {need}; {left} left). {reset} The account holder can raise it at {manage_url}.")


def describe(metric: str, amount: int) -> str:
    if metric == "spend":
        return f"${amount / 1_000_000:,.2f}" if amount >= 10_000 or amount == 0 else f"${amount / 1_000_000:.6f}"
    return f"{amount:,} {metric}"
