"""How provider failures become infer0's OpenAI-shaped errors (DESIGN.md §3.8).

Status codes infer0 answers, and why:

* provider rejected the user's key (upstream 401/403, or Gemini's 400 API_KEY_INVALID)
  -> **424 Failed Dependency**, code `provider_auth_failed`. Not 401: a 401 from infer0
  means the *app's* infer0 access token is bad, and OpenAI SDKs would treat it that way.
  Not 502: OpenAI SDKs retry 5xx automatically, and retrying a revoked key is pointless.
  424 says "the request failed because something it depends on failed", is not retried,
  and the distinct code tells the app to send its user to the infer0 dashboard.
  Upstream 402 / quota exhausted and 404 (model or deployment missing) are also the
  user's configuration, so they are 424 too (`provider_quota_exceeded`,
  `provider_model_not_found`).
* upstream 429 -> 429 `provider_rate_limited`, with `retry-after` passed on.
* upstream 5xx (and Anthropic's 529 overloaded) -> 502 `provider_unavailable`.
* connect or read timeout -> 504 `provider_timeout`; connection refused/reset -> 502
  `provider_unreachable`; an unreadable 2xx body -> 502 `provider_bad_response`.
* upstream 400/409/413/422 -> 400 `provider_rejected_request`, with the provider's own
  message in plain words.
* upstream 3xx -> 424 `provider_redirected`: redirects are never followed (one could point
  at a refused address), and a provider API that redirects means a wrong base URL.
* the egress policy refused the provider's address (loopback, private, link-local ... not
  allowed by the operator's `--upstream-allow`) -> **403** `provider_destination_refused`,
  always the one sentence `REFUSED_MESSAGE`: nothing was sent, and the answer says nothing
  about the target (open or closed port, which rule). 403, not 424: infer0's own policy
  refused, no provider failed; and SDKs do not retry it.

Status and OpenAI `type` come from the one error table (infer0app/errors/api_errors.py):
build errors with `gateway_error(code, message)` (providers/base.py), never with literal statuses.
Messages are run through `redact()` so a key echoed by a provider never leaks.
"""

from __future__ import annotations

from collections.abc import Mapping

from infer0app.egress.connector import REFUSED_MESSAGE
from infer0app.gateway.providers.base import GatewayError, Route, UpstreamFailure, gateway_error, redact

#: The code of `destination_refused_error` (a literal there, for the error-table test's walk);
#: the dashboard's Test button shows its message bare.
DESTINATION_REFUSED = "provider_destination_refused"

DASHBOARD_HINT = "Send the user to their infer0 dashboard to check their provider settings."

_PASSED_HEADERS = ("retry-after", "retry-after-ms")


def upstream_error(
    route: Route,
    status: int | None,
    failure: UpstreamFailure,
    headers: Mapping[str, str] | None = None,
    *,
    for_user: bool = False,
) -> GatewayError:
    """Map a provider failure (`status` None: an error event inside a 200 stream).

    Messages address the app ("the user's key ... send the user to the dashboard");
    `for_user=True` words them for the user on the dashboard itself ("Test connection").
    """
    label = route.provider_label
    if status is not None and 300 <= status < 400:
        # Redirects are never followed (one could lead to a refused address), and a provider
        # that redirects its API is misconfigured: the user's base URL needs fixing.
        return gateway_error(
            "provider_redirected",
            f"{label} answered with a redirect (HTTP {status}), which infer0 does not follow. "
            "Check the connection's base URL.",
        )
    said = redact(failure.message.strip(), route.api_key)[:1000]
    detail = f" ({label} said: {said})" if said else ""
    whose, hint = ("This", "") if for_user else ("The user's", f" {DASHBOARD_HINT}")
    cat = failure.category
    if cat == "auth":
        return gateway_error("provider_auth_failed", f"{whose} {label} API key was rejected by {label}{detail}.{hint}")
    if cat == "payment":
        return gateway_error(
            "provider_quota_exceeded",
            f"{whose} {label} account cannot pay for this request{detail}.{hint}",
        )
    if cat == "not_found":
        return gateway_error(
            "provider_model_not_found",
            f"{label} does not know the configured model {route.model!r}{detail}.{hint}",
        )
    if cat == "rate_limit":
        lowered = {k.lower(): v for k, v in (headers or {}).items()}
        passed = {name: lowered[name] for name in _PASSED_HEADERS if lowered.get(name)}
        return gateway_error(
            "provider_rate_limited",
            f"{whose} {label} account is rate limited{detail}. Retry later.",
            headers=passed,
        )
    if cat == "server":
        return gateway_error(
            "provider_unavailable",
            f"{label} failed to answer{f' (upstream status {status})' if status else ''}{detail}.",
        )
    return gateway_error(
        "provider_rejected_request",
        f"{label} rejected the request: {said or f'upstream status {status}'}",
    )


def timeout_error(route: Route) -> GatewayError:
    return gateway_error("provider_timeout", f"{route.provider_label} did not answer in time.")


def unreachable_error(route: Route) -> GatewayError:
    return gateway_error("provider_unreachable", f"Could not reach {route.provider_label}.")


def destination_refused_error() -> GatewayError:
    """The egress policy refused the provider's address before any packet left (see
    `infer0app.egress`). The same answer whatever the target was."""
    return gateway_error("provider_destination_refused", REFUSED_MESSAGE)


def bad_response_error(route: Route, what: str = "an unreadable response") -> GatewayError:
    return gateway_error("provider_bad_response", f"{route.provider_label} sent {what}.")


def too_large_error(route: Route) -> GatewayError:
    """A non-streaming answer past gateway/bounded_read.py's MAX_ANSWER_BYTES: abandoned unread."""
    return bad_response_error(route, "an answer larger than infer0 accepts (16 MiB)")


def stream_error(route: Route, category: str, message: str) -> GatewayError:
    """An error event that arrived inside a 200 stream (e.g. Anthropic `overloaded_error`)."""
    return upstream_error(route, None, UpstreamFailure(category, message))
