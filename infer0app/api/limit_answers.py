"""How the chat path speaks about limits (services/limits.py) in OpenAI's language.

- a call that does not fit a cap: **429** `grant_rate_limited` (type `rate_limit_error`, the
  requests-per-minute cap) or **402** `grant_budget_exceeded` (type `insufficient_quota`, a
  token or spend cap), both with `Retry-After` (whole seconds until the cap's window resets)
  and a message naming the limit, its reset time and the page where the user raises it;
- the database cannot be reached to check the caps: **503** `limits_unavailable` with
  `Retry-After: 1` (fail closed: a cap the user set is never skipped);
- successful answers carry OpenAI's `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`
  (`Reservation.headers()`), so SDKs' retry logic works unchanged.

The codes and statuses come from the one /v1 error table (infer0app/errors/api_errors.py).
"""

from __future__ import annotations

import re

from ..gateway.providers.base import GatewayError, gateway_error
from ..services.limits import Refusal

MANAGE_PATH = "/connections"  # where the user sees and changes what each app may use

# Text a stream carries in OpenAI chunks: message content, tool-call arguments, refusals and
# reasoning. A stream cut before its usage chunk is charged by these characters (4 a token).
_STREAMED_TEXT = re.compile(rb'"(?:content|arguments|refusal|reasoning_content)"\s*:\s*"((?:[^"\\]|\\.)*)"')


def refusal_error(refusal: Refusal, issuer: str) -> GatewayError:
    """The 402 / 429 answer for a refused reservation."""
    message = refusal.message(issuer + MANAGE_PATH)
    headers = {"Retry-After": str(refusal.retry_after)}
    if refusal.code == "grant_rate_limited":
        return gateway_error("grant_rate_limited", message, headers=headers)
    return gateway_error("grant_budget_exceeded", message, headers=headers)


def limits_unavailable_error() -> GatewayError:
    return gateway_error("limits_unavailable", "infer0 could not check this app's usage limits just now (its "
                         "database did not answer). Retry in a moment.", headers={"Retry-After": "1"})


def streamed_text_chars(frame: bytes) -> int:
    """Characters of generated text in one OpenAI SSE chunk frame (JSON-escaped, so a little
    high for non-ASCII text: the safe side for a cap)."""
    return sum(len(m) for m in _STREAMED_TEXT.findall(frame))
