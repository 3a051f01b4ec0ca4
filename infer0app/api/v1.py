"""/v1: the OpenAI-compatible API and the OAuth token endpoints.

`add_v1_routes(app)` registers them on the main app (`create_app`). Not a sub-app: aiohttp
wraps every sub-app route in its parents' middlewares plus two bookkeeping layers and a
two-level config lookup, measurable on the hot path (bench/README.md). Instead the main
app's front middleware (infer0app/front_middleware.py) turns what a /v1 handler raises into
`v1_error_response`, so everything under /v1 answers JSON in its protocol's own language:

- /v1/oauth/*: RFC 6749 §5.2 errors (`{"error", "error_description"}`);
- /v1/messages: Anthropic's error shape (`{"type": "error", "error": {"type", "message"}}`,
  types from infer0app/errors/anthropic_errors.py), for apps on Anthropic's SDKs;
- everything else: OpenAI's error object (`{"error": {"message", "type", "code", "param"}}`),
  also for unknown paths (404), wrong methods (405), oversized bodies and unexpected
  exceptions (500, never a trace).

Codes, statuses and types come from the error tables in infer0app/errors/ (`api_errors`,
`oauth_errors`), the same tables /openapi.json and /dev/docs are generated from.

CORS: any origin may call /v1 (browser apps need to), without credentials (no cookies are
involved: clients authenticate with secrets, PKCE or bearer tokens). The HTML pages and
/oauth/authorize never send CORS headers.

API routes are listed in `add_api_routes`; add new /v1 endpoints there.
"""

from __future__ import annotations

import json
import logging

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from .. import keys
from ..errors.api_errors import api_error, for_status
from ..errors.oauth_errors import error_text, oauth_error_name
from ..store.faults import StorageUnavailable
from . import chat, embeddings, inbound_api, me, oauth_endpoints, registration

log = logging.getLogger("infer0.error")

CORS_ALLOW_METHODS = "GET, POST, PUT, DELETE, OPTIONS"  # PUT, DELETE: RFC 7592 client configuration
CORS_EXPOSE = ("WWW-Authenticate, Retry-After, X-Request-Id, x-infer0-provider, x-infer0-model, "
               "x-infer0-dropped-params, x-infer0-renamed-params, x-infer0-adjusted-params, x-ratelimit-limit-requests, x-ratelimit-remaining-requests, "
               "x-ratelimit-reset-requests, x-ratelimit-limit-tokens, x-ratelimit-remaining-tokens, "
               "x-ratelimit-reset-tokens")
#: The message of a bare HTTP error, by its code in the error table (api_errors.for_status).
GENERIC_MESSAGES = {
    "invalid_request": "The request could not be understood.",
    "invalid_token": "Authentication required.",
    "not_found": "Unknown API path {path}.",
    "method_not_allowed": "{method} is not allowed on {path}.",
    "request_too_large": "The request body is too large.",
    "request_timeout": "The request body did not arrive in time; the connection is closed.",
    "internal_error": "infer0 hit an unexpected error; it has been logged.",
}


PREFIX = "/v1/"


def is_v1_path(path: str) -> bool:
    return path.startswith(PREFIX)


def add_v1_routes(app: web.Application) -> None:
    add_oauth_routes(app)
    add_api_routes(app)


def add_oauth_routes(app: web.Application) -> None:
    r = app.router
    r.add_post("/v1/oauth/token", oauth_endpoints.token)
    r.add_post("/v1/oauth/refresh", oauth_endpoints.refresh)
    r.add_post("/v1/oauth/revoke", oauth_endpoints.revoke)
    r.add_post("/v1/oauth/introspect", oauth_endpoints.introspect)
    r.add_post("/v1/oauth/register", registration.register)
    r.add_get("/v1/oauth/register/{client_id}", registration.read)
    r.add_put("/v1/oauth/register/{client_id}", registration.update)
    r.add_delete("/v1/oauth/register/{client_id}", registration.delete)
    r.add_post("/v1/oauth/device_authorization", oauth_endpoints.device_authorization)


def add_api_routes(app: web.Application) -> None:
    """Bearer-protected API routes (the gateway adds /chat/completions and /models here)."""
    r = app.router
    r.add_get("/v1/me", me.me)
    r.add_post("/v1/chat/completions", chat.chat_completions)
    r.add_post("/v1/responses", inbound_api.create_response)
    r.add_post(inbound_api.MESSAGES_PATH, inbound_api.create_message)
    r.add_get("/v1/models", chat.list_models)
    r.add_post("/v1/embeddings", embeddings.embeddings)


# -- errors -------------------------------------------------------------------------------
def is_oauth_path(path: str) -> bool:
    return path.startswith("/v1/oauth/")


def openai_error(code: str, message: str, *, status: int | None = None, headers=None) -> web.Response:
    """OpenAI's error object for `code`; status (unless given) and type from the error table."""
    row = api_error(code)
    body = {"error": {"message": message, "type": row.type, "code": code, "param": None}}
    return web.json_response(body, status=status or row.status, headers=headers)


def oauth_error(status: int, error: str, description: str, headers=None) -> web.Response:
    """RFC 6749 §5.2 JSON; `error` must be in the OAuth error table (KeyError otherwise);
    `description` is cut to §5.2's error_description character set (error_text)."""
    error = oauth_error_name(error)
    hdrs = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    hdrs.update(headers or {})
    return web.json_response({"error": error, "error_description": error_text(description)}, status=status,
                             headers=hdrs)


#: A body aiohttp cannot read (a Content-Encoding that does not decode, a broken chunked
#: encoding): request.read() raises RequestPayloadError, and every route answered 500.
UNDECODABLE_BODY = ("The request body could not be read: it does not decode as its Content-Encoding says. "
                    "Send it uncompressed, or compressed as declared.")


def _generic(request: web.Request, status: int, headers) -> web.Response:
    if is_oauth_path(request.path):
        if status == 404:
            return oauth_error(404, "invalid_request", f"No OAuth endpoint at {request.path}.")
        if status == 405:
            return oauth_error(405, "invalid_request", f"{request.method} is not allowed here; use POST.", headers)
        if status >= 500:
            return oauth_error(status, "server_error", "infer0 hit an unexpected error; it has been logged.")
        return oauth_error(status, "invalid_request", "The request could not be understood.", headers)
    code = for_status(status).code
    message = GENERIC_MESSAGES[code].format(path=request.path, method=request.method)
    return openai_error(code, message, status=status, headers=headers)


def v1_error_response(request: web.Request, exc: Exception) -> web.Response:
    """The answer, in the protocol's own language, for what a /v1 handler raised (Anthropic's
    shape on /v1/messages). Redirects and other sub-400 HTTP exceptions are raised again:
    aiohttp answers them as they are."""
    response = _v1_error_response(request, exc)
    if inbound_api.is_messages_path(request.path):
        return inbound_api.as_anthropic(response)
    return response


def _v1_error_response(request: web.Request, exc: Exception) -> web.Response:
    if isinstance(exc, web.HTTPException):
        if exc.status < 400:
            raise exc
        passed = {k: v for k, v in exc.headers.items() if k in ("Allow", "Retry-After", "WWW-Authenticate")}
        if exc.content_type == "application/json" and exc.text:
            headers = {k: v for k, v in exc.headers.items() if k.lower() not in ("content-length", "content-type")}
            return web.Response(status=exc.status, text=exc.text, content_type="application/json", headers=headers)
        return _generic(request, exc.status, passed)
    if isinstance(exc, StorageUnavailable) and is_oauth_path(request.path):  # nothing was changed
        log.error("storage fault on %s: %s", request.path, exc.reason)
        return oauth_error(503, "temporarily_unavailable", f"infer0 cannot save anything right now ({exc.reason}); "
                           "nothing was changed. Retry after Retry-After seconds.", {"Retry-After": "5"})
    if isinstance(exc, (web.RequestPayloadError, HttpProcessingError)) and getattr(exc, "code", 400) < 500:
        if is_oauth_path(request.path):
            return oauth_error(400, "invalid_request", UNDECODABLE_BODY)
        return openai_error("invalid_request", UNDECODABLE_BODY, status=400)
    if isinstance(exc, json.JSONDecodeError):
        if is_oauth_path(request.path):
            return oauth_error(400, "invalid_request", "The request body is not valid.")
        return openai_error("invalid_json", "The request body is not valid JSON.")
    log.error("unhandled error", exc_info=exc, extra={"fields": {"rid": request.get(keys.REQUEST_ID),
                                                                 "path": request.path}})
    return _generic(request, 500, {})


def last_resort_error(path: str) -> web.Response:
    """The 500 answered when turning an error into an answer failed itself: built from the
    path alone, in the protocol's own language."""
    message = GENERIC_MESSAGES["internal_error"]
    if is_oauth_path(path):
        return oauth_error(500, "server_error", message)
    if inbound_api.is_messages_path(path):
        return inbound_api.anthropic_response("internal_error", 500, message)
    return openai_error("internal_error", message)


# -- CORS ---------------------------------------------------------------------------------
def cors_preflight(request: web.Request) -> web.Response:
    allow_headers = request.headers.get("Access-Control-Request-Headers") or "Authorization, Content-Type"
    return web.Response(status=204, headers={
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Methods": CORS_ALLOW_METHODS,
        "Access-Control-Allow-Headers": allow_headers[:1000],
        "Access-Control-Max-Age": "600",
    })


#: On every /v1 answer (the front middleware adds them, unless the handler set its own).
CORS_HEADERS = (("Access-Control-Allow-Origin", "*"), ("Access-Control-Expose-Headers", CORS_EXPOSE))
