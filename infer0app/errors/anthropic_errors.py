"""The Anthropic-shaped errors of `POST /v1/messages`: each /v1 code's Anthropic error `type`.

`/v1/messages` serves apps built on Anthropic's SDKs, so it answers every error - a bad
request, a missing or revoked token, a limits refusal, a provider failure - in Anthropic's
shape: `{"type": "error", "error": {"type": <type>, "message": <text>}}`.

The codes and HTTP statuses are those of the one /v1 table (api_errors.py), so a condition has
the same status on every endpoint; this table only names the Anthropic error `type` each code
is answered with (Anthropic's types: invalid_request_error 400, authentication_error 401,
billing_error 402, permission_error 403, not_found_error 404, request_too_large 413,
rate_limit_error 429, api_error 500, timeout_error 504, overloaded_error 529). Where
Anthropic has no status of its own (405, 408, 409, 424, 502, 503), infer0's status stays and the
type is the nearest in meaning; Anthropic's SDKs raise by status, so an app sees the same
exception class it would for that status elsewhere. The infer0 `code` itself is not in
Anthropic's shape; the message names what to do.
"""

from __future__ import annotations

INVALID_REQUEST = "invalid_request_error"

#: infer0 code -> Anthropic error type.
ANTHROPIC_TYPES: dict[str, str] = {
    "invalid_request": INVALID_REQUEST,
    "invalid_json": INVALID_REQUEST,
    "unsupported_parameter": INVALID_REQUEST,
    "invalid_token": "authentication_error",
    "request_too_large": "request_too_large",
    "request_timeout": INVALID_REQUEST,  # the app's body came too slowly: the app's to fix, like a 400
    "not_found": "not_found_error",
    "method_not_allowed": INVALID_REQUEST,
    "internal_error": "api_error",
    "provider_not_configured": INVALID_REQUEST,
    "embeddings_not_supported": INVALID_REQUEST,  # /v1/embeddings only: typed for completeness
    "embedding_model_not_chosen": INVALID_REQUEST,
    "grant_budget_exceeded": "billing_error",
    "grant_rate_limited": "rate_limit_error",
    "limits_unavailable": "api_error",
    "provider_auth_failed": "permission_error",  # the user's provider key, not the app's token: not 401
    "provider_quota_exceeded": "billing_error",
    "provider_model_not_found": "not_found_error",
    "provider_redirected": "api_error",  # the provider answered with a redirect infer0 does not follow
    "provider_destination_refused": "permission_error",  # the egress policy refused the address (403)
    "provider_rejected_request": INVALID_REQUEST,
    "provider_rate_limited": "rate_limit_error",
    "provider_unavailable": "api_error",
    "provider_unreachable": "api_error",
    "provider_bad_response": "api_error",
    "provider_stream_ended": "api_error",
    "provider_misconfigured": "api_error",
    "provider_timeout": "timeout_error",
}


#: HTTP status -> Anthropic error type, for an error without an infer0 code (Anthropic's own statuses).
STATUS_TYPES: dict[int, str] = {400: INVALID_REQUEST, 401: "authentication_error", 402: "billing_error",
                                403: "permission_error", 404: "not_found_error", 413: "request_too_large",
                                429: "rate_limit_error", 500: "api_error", 504: "timeout_error",
                                529: "overloaded_error"}


def anthropic_type(code: str | None, status: int) -> str:
    """The Anthropic error type for an infer0 `code` (by `status` for a code-less error)."""
    if code in ANTHROPIC_TYPES:
        return ANTHROPIC_TYPES[code]
    return STATUS_TYPES.get(status) or (INVALID_REQUEST if status < 500 else "api_error")


def anthropic_error_body(code: str | None, status: int, message: str) -> dict:
    """Anthropic's error object for one error."""
    return {"type": "error", "error": {"type": anthropic_type(code, status), "message": message}}
