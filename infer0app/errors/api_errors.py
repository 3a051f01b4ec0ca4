"""The /v1 API's errors: one row per OpenAI error `code` infer0 can answer.

Each row: the `code`, the HTTP `status`, OpenAI's error `type`, a description for app
developers (what happened, what to do), and `where` it can be met:

- an operation, named "METHOD /path" as in `/openapi.json` (`CHAT`, `RESPONSES`, `MESSAGES`,
  `EMBEDDINGS`, `MODELS`, `ME`; `CALLS` = the four that call the user's provider);
- `UNROUTED`: a /v1 path or method that no operation serves (404, 405);
- `DASHBOARD`: only the dashboard's "Test connection" (never answered to an app).

`sdk_retries` says whether the official OpenAI SDKs retry the status on their own
(openai-python `_should_retry`: 408, 409, 429 and every 5xx, unless `x-should-retry` says
otherwise); the unit tests check it against the installed SDK.

`reserved_for` marks a code that is decided but that no code emits yet (it names the issue
that will). Reserved rows are left out of `/openapi.json` and `/dev/docs`, and the tests
fail if one gains a raise site while still reserved, or if an unreserved row has none.

Why 424 for the user's provider account (and not 401/502): see gateway/errors.py.
"""

from __future__ import annotations

from dataclasses import dataclass

CHAT = "POST /v1/chat/completions"
RESPONSES = "POST /v1/responses"
MESSAGES = "POST /v1/messages"  # answered in Anthropic's shape: anthropic_errors.py gives each code its type
MODELS = "GET /v1/models"
ME = "GET /v1/me"
EMBEDDINGS = "POST /v1/embeddings"
CALLS = (CHAT, EMBEDDINGS, RESPONSES, MESSAGES)  # every operation that calls the user's provider
BEARER = (*CALLS, MODELS, ME)  # every bearer-protected operation
UNROUTED = "unrouted"
DASHBOARD = "dashboard"

# OpenAI's error types (the `type` field)
INVALID_REQUEST = "invalid_request_error"
RATE_LIMIT = "rate_limit_error"
INSUFFICIENT_QUOTA = "insufficient_quota"
API_ERROR = "api_error"
SERVER_ERROR = "server_error"
PROVIDER_ERROR = "provider_error"  # infer0's own: the user's provider account needs the user


def sdk_retries(status: int) -> bool:
    """Whether openai-python retries an answer with this status by itself (no x-should-retry)."""
    return status in (408, 409, 429) or status >= 500


@dataclass(frozen=True)
class ApiError:
    code: str
    status: int
    type: str
    description: str
    where: tuple[str, ...]
    reserved_for: str | None = None

    @property
    def sdk_retries(self) -> bool:
        return sdk_retries(self.status)


_ROWS = (
    # -- the request -----------------------------------------------------------------------
    ApiError("invalid_request", 400, INVALID_REQUEST,
             "The request is malformed (e.g. messages missing or empty), or the access token was sent in "
             "the URL (send it in the Authorization header). Fix the request; param names the field.",
             BEARER),
    ApiError("invalid_json", 400, INVALID_REQUEST, "The request body is not valid JSON.", CALLS),
    ApiError("unsupported_parameter", 400, INVALID_REQUEST,
             "The user's provider cannot honour a parameter the request relies on (param names it).",
             CALLS),
    ApiError("invalid_token", 401, INVALID_REQUEST,
             "The access token is missing, unknown, expired or revoked (WWW-Authenticate: Bearer "
             "error=\"invalid_token\"). Refresh it once; if that fails, send the user through authorization again.",
             BEARER),
    ApiError("request_too_large", 413, INVALID_REQUEST, "The request body is larger than infer0 accepts (8 MiB).",
             CALLS),
    ApiError("request_timeout", 408, INVALID_REQUEST,
             "The request body did not arrive within the server's body-read timeout (30 s unless the operator "
             "changed it); the connection is closed. Send the body at once.", CALLS),
    ApiError("not_found", 404, INVALID_REQUEST, "No API operation at this path.", (UNROUTED,)),
    ApiError("method_not_allowed", 405, INVALID_REQUEST, "The path exists but not with this method (see Allow).",
             (UNROUTED,)),
    ApiError("internal_error", 500, SERVER_ERROR,
             "infer0 hit an unexpected error; it has been logged with the answer's X-Request-Id.", BEARER),
    # -- the user's grant and connection -----------------------------------------------------
    ApiError("provider_not_configured", 409, INVALID_REQUEST,
             "The user removed the provider connection this app was authorized to use. Send them to "
             "/connections, or through authorization again. (OpenAI SDKs retry 409: the retries fail alike.)",
             (*CALLS, MODELS)),
    ApiError("embeddings_not_supported", 400, INVALID_REQUEST,
             "The user's provider has no embeddings API (e.g. Anthropic). The user can point the app at a "
             "connection that has one (OpenAI, Azure, Gemini, Mistral, Ollama, Together, Fireworks, custom).",
             (EMBEDDINGS,)),
    ApiError("embedding_model_not_chosen", 409, INVALID_REQUEST,
             "The user's connection (an Azure resource or a custom server) has no default embedding model and "
             "the user chose none for this app: send them to /connections to name one.", (EMBEDDINGS,)),
    ApiError("grant_budget_exceeded", 402, INSUFFICIENT_QUOTA,
             "The user's spend or token cap for this app is used up; the message says when it resets and "
             "where the user can raise it; Retry-After = seconds until that window resets.", CALLS),
    ApiError("grant_rate_limited", 429, RATE_LIMIT,
             "The user's request-rate cap for this app is reached; wait for Retry-After seconds.",
             CALLS),
    ApiError("limits_unavailable", 503, API_ERROR,
             "infer0 could not check the grant's limits just now (its database did not answer); a cap the "
             "user set is never skipped. Retry after Retry-After (1 s).", (*CALLS, ME)),
    # -- the user's provider account: 424, the user must act on their dashboard ---------------
    ApiError("provider_auth_failed", 424, PROVIDER_ERROR,
             "The user's provider rejected their API key. Send the user to their infer0 dashboard.",
             (*CALLS, DASHBOARD)),
    ApiError("provider_quota_exceeded", 424, PROVIDER_ERROR,
             "The user's provider account cannot pay for the request. Send the user to their provider.",
             (*CALLS, DASHBOARD)),
    ApiError("provider_model_not_found", 424, PROVIDER_ERROR,
             "The user's provider does not know the configured model. Send the user to their dashboard.",
             (*CALLS, DASHBOARD)),
    ApiError("provider_not_found", 424, PROVIDER_ERROR,
             "The provider has no model list at the configured address (the base URL is wrong).", (DASHBOARD,)),
    ApiError("provider_redirected", 424, PROVIDER_ERROR,
             "The user's provider answered with a redirect, which infer0 never follows (the base URL is "
             "wrong). Send the user to their dashboard.", (*CALLS, DASHBOARD)),
    ApiError("provider_destination_refused", 403, INVALID_REQUEST,
             "The user's provider address is on this machine or a private network (loopback, RFC 1918, "
             "link-local), which infer0 only connects to when its operator allows it with --upstream-allow. "
             "Nothing was sent. Send the user to their dashboard; retrying will not help.", (*CALLS, DASHBOARD)),
    # -- the provider's answer --------------------------------------------------------------
    ApiError("provider_rejected_request", 400, INVALID_REQUEST,
             "The user's provider refused the request as invalid; the message carries its words.",
             (*CALLS, DASHBOARD)),
    ApiError("provider_rate_limited", 429, RATE_LIMIT,
             "The user's provider account is rate limited; Retry-After is passed on when the provider sent it.",
             (*CALLS, DASHBOARD)),
    ApiError("provider_unavailable", 502, API_ERROR,
             "The user's provider failed (a 5xx, or overloaded). Retry later.", (*CALLS, DASHBOARD)),
    ApiError("provider_unreachable", 502, API_ERROR, "infer0 could not connect to the user's provider.",
             (*CALLS, DASHBOARD)),
    ApiError("provider_bad_response", 502, API_ERROR, "The user's provider sent an answer infer0 cannot read.",
             (*CALLS, DASHBOARD)),
    ApiError("provider_stream_ended", 502, API_ERROR,
             "The provider's stream ended before it was complete. After the first chunk this arrives as an "
             "error chunk inside the 200 stream.", CALLS),
    ApiError("provider_misconfigured", 502, API_ERROR,
             "The user's connection names a wire format this infer0 cannot speak.", (*CALLS, DASHBOARD)),
    ApiError("provider_timeout", 504, API_ERROR, "The user's provider did not answer in time.", (*CALLS, DASHBOARD)),
)

API_ERRORS: dict[str, ApiError] = {row.code: row for row in _ROWS}
assert len(API_ERRORS) == len(_ROWS), "a code appears twice"

#: The code answered for a bare HTTP error of this status (aiohttp's 404, 405, 413, ...).
BY_STATUS: dict[int, str] = {400: "invalid_request", 401: "invalid_token", 404: "not_found",
                             405: "method_not_allowed", 408: "request_timeout", 413: "request_too_large",
                             500: "internal_error"}


def api_error(code: str) -> ApiError:
    """The row for `code`; KeyError names a code missing from the table."""
    return API_ERRORS[code]


def for_status(status: int) -> ApiError:
    """The row answered for a bare HTTP error: by status; any other 5xx as internal_error,
    any other 4xx as invalid_request (no handler raises one today)."""
    return API_ERRORS[BY_STATUS.get(status) or ("internal_error" if status >= 500 else "invalid_request")]


def emitted(where: str) -> list[ApiError]:
    """The unreserved rows that can be met at `where` (an operation, UNROUTED or DASHBOARD)."""
    return [row for row in _ROWS if where in row.where and row.reserved_for is None]


def for_apps() -> list[ApiError]:
    """The unreserved rows an app can meet (everything but dashboard-only), by status then code."""
    rows = [row for row in _ROWS if row.reserved_for is None and set(row.where) - {DASHBOARD}]
    return sorted(rows, key=lambda row: (row.status, row.code))
