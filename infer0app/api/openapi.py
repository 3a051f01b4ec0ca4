"""The OpenAPI 3.1 description of every /v1/* and OAuth endpoint, served at /openapi.json.

Schemas describe what infer0 really answers (tests/integration/test_openapi.py validates
live responses against them), so client generators and API fuzzers can work from it. Every
operation's error responses are generated from the error tables (infer0app/errors/): each
status lists the codes it can carry, and its schema admits only those.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache

from aiohttp import web

from .. import __version__, keys
from ..errors import api_errors, oauth_errors
from ..gateway.providers.embeddings_wire import MAX_DIMENSIONS
from . import openapi_inbound
from . import openapi_registration as registration


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema_name: str, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema_name)}}}


def _by_status(rows) -> dict[int, list]:
    grouped: dict[int, list] = {}
    for row in rows:
        for status in getattr(row, "statuses", None) or (row.status,):
            grouped.setdefault(status, []).append(row)
    return dict(sorted(grouped.items()))


def _retry_note(status: int) -> str:
    return "\n\nOpenAI SDKs retry this status by themselves." if api_errors.sdk_retries(status) else ""


def openai_error_responses(where: str) -> dict[str, dict]:
    """The error responses of one /v1 operation ("METHOD /path") or of api_errors.UNROUTED, by status,
    from the error table: each lists its codes, and its schema admits exactly those (code, type) pairs."""
    out = {}
    for status, rows in _by_status(api_errors.emitted(where)).items():
        pairs = [{"type": "object", "required": ["code", "type"],
                  "properties": {"code": {"const": r.code}, "type": {"const": r.type}}} for r in rows]
        schema = {"allOf": [_ref("OpenAIError"), {"properties": {"error": {"anyOf": pairs}}}]}
        text = "\n".join(f"- `{r.code}` ({r.type}): {r.description}" for r in rows)
        out[str(status)] = {"description": text + _retry_note(status),
                            "content": {"application/json": {"schema": schema}}}
    return out


def oauth_error_responses(where: str) -> dict[str, dict]:
    """The RFC 6749 §5.2 error responses of one OAuth operation (or oauth_errors.UNROUTED), by status."""
    out = {}
    for status, rows in _by_status(oauth_errors.emitted(where)).items():
        names = list(dict.fromkeys(r.error for r in rows))
        schema = {"allOf": [_ref("OAuthError"), {"properties": {"error": {"enum": names}}}]}
        text = "\n".join(f"- `{r.error}` ({r.rfc}): {r.description}" for r in rows)
        out[str(status)] = {"description": text, "content": {"application/json": {"schema": schema}}}
    return out


def _redirect_errors() -> str:
    return ", ".join(f"`{r.error}`" for r in oauth_errors.emitted(oauth_errors.REDIRECT))


# /v1/me: one limit (null = not set). Spend in USD, requests and tokens as counts.
LIMIT_USE = {"type": ["object", "null"],
             "required": ["limit", "used", "reserved", "remaining", "unit", "resets_at"],
             "properties": {"limit": {"type": "number"}, "used": {"type": "number"},
                            "reserved": {"type": "number", "description": "Held by servers for calls in flight."},
                            "remaining": {"type": ["number", "null"],
                                          "description": "null for a spend limit while the model's price is "
                                                         "unknown (not enforced)."},
                            "unit": {"type": "string", "enum": ["requests", "tokens", "usd"]},
                            "resets_at": {"type": "integer", "description": "Epoch seconds (UTC window end)."}}}
GRANT_LIMIT_NAMES = ("requests_per_minute", "tokens_per_day", "spend_per_day", "spend_per_week", "spend_per_month")

TOKEN_FORM = {
    "type": "object",
    "required": ["grant_type"],
    "properties": {
        "grant_type": {"type": "string", "enum": ["authorization_code", "refresh_token",
                                                  "urn:ietf:params:oauth:grant-type:device_code"]},
        "code": {"type": "string"},
        "device_code": {"type": "string", "description": "RFC 8628 §3.4: the device_code from "
                                                         "/v1/oauth/device_authorization."},
        "redirect_uri": {"type": "string"},
        "code_verifier": {"type": "string", "minLength": 43, "maxLength": 128},
        "refresh_token": {"type": "string"},
        "client_id": {"type": "string"},
        "client_secret": {"type": "string"},
        "scope": {"type": "string"},
    },
}
CLIENT_AUTH = [{"clientSecretBasic": []}, {}]

SCHEMAS: dict = {
    "OpenAIError": {
        "type": "object", "required": ["error"],
        "properties": {"error": {"type": "object", "required": ["message", "type"],
                                 "properties": {"message": {"type": "string"}, "type": {"type": "string"},
                                                "code": {"type": ["string", "null"]},
                                                "param": {"type": ["string", "null"]}}}},
    },
    "OAuthError": {
        "type": "object", "required": ["error"],
        "properties": {"error": {"type": "string", "enum": list(oauth_errors.OAUTH_ERROR_NAMES)},
            "error_description": {"type": "string"}, "error_uri": {"type": "string"}},
    },
    "TokenResponse": {
        "type": "object", "required": ["access_token", "token_type", "expires_in"],
        "properties": {"access_token": {"type": "string", "pattern": "^i0_at_"},
                       "token_type": {"const": "Bearer"}, "expires_in": {"type": "integer"},
                       "refresh_token": {"type": "string", "pattern": "^i0_rt_"},
                       "scope": {"type": "string"}},
    },
    "DeviceAuthorization": {
        "type": "object",
        "required": ["device_code", "user_code", "verification_uri", "verification_uri_complete", "expires_in",
                     "interval"],
        "properties": {"device_code": {"type": "string", "pattern": "^i0_dc_"},
                       "user_code": {"type": "string", "pattern": "^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$"},
                       "verification_uri": {"type": "string"}, "verification_uri_complete": {"type": "string"},
                       "expires_in": {"type": "integer"}, "interval": {"type": "integer"}},
    },
    "Introspection": {
        "type": "object", "required": ["active"],
        "properties": {"active": {"type": "boolean"}, "scope": {"type": "string"},
                       "client_id": {"type": "string"}, "username": {"type": "string"},
                       "token_type": {"type": "string"}, "exp": {"type": "integer"}, "iat": {"type": "integer"},
                       "sub": {"type": "string"}, "aud": {"type": ["string", "array"]}, "iss": {"type": "string"}},
    },
    "ServerMetadata": {
        "type": "object",
        "required": ["issuer", "authorization_endpoint", "token_endpoint", "response_types_supported",
                     "code_challenge_methods_supported"],
        "properties": {"issuer": {"type": "string"}, "authorization_endpoint": {"type": "string"},
                       "token_endpoint": {"type": "string"}, "revocation_endpoint": {"type": "string"},
                       "introspection_endpoint": {"type": "string"},
                       "registration_endpoint": {"type": "string"},
                       "device_authorization_endpoint": {"type": "string"},
                       "grant_types_supported": {"type": "array", "items": {"type": "string"}},
                       "response_types_supported": {"type": "array", "items": {"type": "string"}},
                       "token_endpoint_auth_methods_supported": {"type": "array", "items": {"type": "string"}},
                       "code_challenge_methods_supported": {"type": "array", "items": {"const": "S256"}}},
    },
    "Me": {
        "type": "object", "required": ["user_id", "client_id"],
        "properties": {"user_id": {"type": ["integer", "string"]}, "client_id": {"type": "string"},
                       "app": {}, "provider": {}, "model": {"type": ["string", "null"]},
                       "scope": {"type": ["string", "null"]},
                       "limits": {"type": "object", "description": "What the user lets this app use, and its use "
                                                               "in each limit's current window.",
                                  "properties": {n: LIMIT_USE for n in GRANT_LIMIT_NAMES}},
                       "connection_limits": {"type": "object", "description": "Caps on the user's provider "
                                                                          "connection across all apps.",
                                             "properties": {n: LIMIT_USE for n in GRANT_LIMIT_NAMES[2:]}},
                       "spend_enforced": {"type": "boolean", "description": "The model's price is known, so "
                                                                            "spend limits apply."}},
    },
    "ChatMessage": {
        "type": "object", "required": ["role"],
        "properties": {"role": {"type": "string", "enum": ["system", "developer", "user", "assistant", "tool"]},
                       "content": {"type": ["string", "array", "null"], "items": {
                           "type": "object", "required": ["type"], "properties": {"type": {"type": "string"}}}},
                       "name": {"type": ["string", "null"]},
                       "tool_calls": {"type": ["array", "null"], "items": {"type": "object"}},
                       "tool_call_id": {"type": ["string", "null"]}},
    },
    "ChatCompletionRequest": {
        "type": "object", "required": ["messages"],
        "description": "Validated before any provider is called (gateway/request_shape.py): a field of the "
                       "wrong type or out of range is a 400 invalid_request naming it in `param`; JSON that "
                       "is not UTF-8, has NaN/Infinity, duplicate names or nests past 100 levels is a 400 "
                       "invalid_json.",
        "properties": {
            "model": {"type": ["string", "null"], "description": "Ignored: the user's chosen model answers."},
            "messages": {"type": "array", "minItems": 1, "items": _ref("ChatMessage")},
            "stream": {"type": ["boolean", "null"]},
            "stream_options": {"type": ["object", "null"],
                               "properties": {"include_usage": {"type": ["boolean", "null"]}}},
            "tools": {"type": ["array", "null"], "items": {"type": "object"}},
            "tool_choice": {"type": ["string", "object", "null"]},
            "parallel_tool_calls": {"type": ["boolean", "null"]},
            "response_format": {"type": ["object", "null"], "properties": {
                "type": {"enum": ["text", "json_object", "json_schema"]}}},
            "temperature": {"type": ["number", "null"], "minimum": 0, "maximum": 2},
            "top_p": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
            "presence_penalty": {"type": ["number", "null"], "minimum": -2, "maximum": 2},
            "frequency_penalty": {"type": ["number", "null"], "minimum": -2, "maximum": 2},
            "max_tokens": {"type": ["integer", "null"], "minimum": 1, "maximum": 2**31 - 1},
            "max_completion_tokens": {"type": ["integer", "null"], "minimum": 1, "maximum": 2**31 - 1},
            "stop": {"type": ["string", "array", "null"], "items": {"type": "string"}},
            "seed": {"type": ["integer", "null"], "minimum": -2**63, "maximum": 2**63 - 1},
            "user": {"type": ["string", "null"]},
            "n": {"type": ["integer", "null"], "minimum": 1, "maximum": 128},
            "logprobs": {"type": ["boolean", "null"]},
            "top_logprobs": {"type": ["integer", "null"], "minimum": 0, "maximum": 20},
            "logit_bias": {"type": ["object", "null"],
                           "additionalProperties": {"type": "number", "minimum": -100, "maximum": 100}},
            "metadata": {"type": ["object", "null"]},
        },
    },
    "ChatCompletion": {
        "type": "object", "required": ["id", "object", "model", "choices"],
        "properties": {
            "id": {"type": "string"}, "object": {"const": "chat.completion"}, "created": {"type": "integer"},
            "model": {"type": "string"},
            "choices": {"type": "array", "items": {
                "type": "object", "required": ["index", "message"],
                "properties": {"index": {"type": "integer"},
                               "message": {"type": "object", "required": ["role"],
                                           "properties": {"role": {"const": "assistant"},
                                                          "content": {"type": ["string", "null"]},
                                                          "tool_calls": {"type": "array"}}},
                               "finish_reason": {"type": ["string", "null"]}}}},
            "usage": {"type": "object", "properties": {"prompt_tokens": {"type": "integer"},
                                                       "completion_tokens": {"type": "integer"},
                                                       "total_tokens": {"type": "integer"}}},
        },
    },
    "EmbeddingsRequest": {
        "type": "object", "required": ["input"],
        "properties": {
            "input": {"description": "A string, an array of strings, an array of token ids, or an array of "
                                     "token-id arrays (at most 2048 items).",
                      "anyOf": [{"type": "string", "minLength": 1},
                                {"type": "array", "minItems": 1, "maxItems": 2048, "items": {"type": "string"}},
                                {"type": "array", "minItems": 1, "items": {"type": "integer"}},
                                {"type": "array", "minItems": 1, "maxItems": 2048,
                                 "items": {"type": "array", "items": {"type": "integer"}}}]},
            "model": {"type": "string", "description": "Ignored: the grant's embedding model answers."},
            "encoding_format": {"enum": ["float", "base64"], "description": "base64: little-endian float32."},
            "dimensions": {"type": "integer", "minimum": 1, "maximum": MAX_DIMENSIONS},
            "user": {"type": "string"},
        },
    },
    "EmbeddingList": {
        "type": "object", "required": ["object", "data", "model"],
        "properties": {
            "object": {"const": "list"}, "model": {"type": "string"},
            "data": {"type": "array", "items": {
                "type": "object", "required": ["object", "index", "embedding"],
                "properties": {"object": {"const": "embedding"}, "index": {"type": "integer"},
                               "embedding": {"anyOf": [{"type": "array", "items": {"type": "number"}},
                                                       {"type": "string"}]}}}},
            "usage": {"type": "object", "properties": {"prompt_tokens": {"type": "integer"},
                                                       "total_tokens": {"type": "integer"}}},
        },
    },
    "ModelList": {
        "type": "object", "required": ["object", "data"],
        "properties": {"object": {"const": "list"}, "data": {"type": "array", "items": {
            "type": "object", "required": ["id", "object"],
            "properties": {"id": {"type": "string"}, "object": {"const": "model"},
                           "created": {"type": "integer"}, "owned_by": {"type": "string"}}}}},
    },
    "Health": {
        "type": "object", "required": ["status", "checks"],
        "properties": {"status": {"type": "string", "enum": ["ok", "unavailable"]}, "checks": {"type": "object"}},
    },
}


def _form_body(schema: dict) -> dict:
    return {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": schema}}}


PATHS: dict = {
    "/oauth/authorize": {"get": {
        "summary": "Send the end user here to authorize your app (HTML consent page).",
        "tags": ["OAuth"],
        "parameters": [
            {"name": n, "in": "query", "required": r, "schema": {"type": "string"}}
            for n, r in (("client_id", True), ("redirect_uri", True), ("response_type", True), ("state", False),
                         ("scope", False), ("code_challenge", False), ("code_challenge_method", False),
                         ("prompt", False))],
        "responses": {"200": {"description": "Sign-in or consent page.", "content": {"text/html": {}}},
                      "303": {"description": "Back to redirect_uri with code, state and iss, or with error "
                                             f"({_redirect_errors()}), error_description, state and iss."},
                      "400": {"description": "Unknown client or unregistered redirect_uri: an error page, "
                                             "never a redirect.", "content": {"text/html": {}}}}}},
    "/v1/oauth/token": {"post": {
        "summary": "Exchange an authorization code, or a refresh token, for tokens.", "tags": ["OAuth"],
        "security": CLIENT_AUTH, "requestBody": _form_body(TOKEN_FORM),
        "responses": {"200": _json("TokenResponse", "Access token (1 hour) and refresh token (30 days)."),
                      **oauth_error_responses(oauth_errors.TOKEN)}}},
    "/v1/oauth/refresh": {"post": {
        "summary": "Refresh an access token (the hosted original's endpoint; same as grant_type=refresh_token).",
        "tags": ["OAuth"], "security": CLIENT_AUTH, "requestBody": _form_body(TOKEN_FORM),
        "responses": {"200": _json("TokenResponse", "A new access token and a rotated refresh token."),
                      **oauth_error_responses(oauth_errors.REFRESH)}}},
    "/v1/oauth/revoke": {"post": {
        "summary": "Revoke an access or refresh token (RFC 7009).", "tags": ["OAuth"], "security": CLIENT_AUTH,
        "requestBody": _form_body({"type": "object", "required": ["token"],
                                   "properties": {"token": {"type": "string"},
                                                  "token_type_hint": {"type": "string"},
                                                  "client_id": {"type": "string"},
                                                  "client_secret": {"type": "string"}}}),
        "responses": {"200": {"description": "Revoked (or already invalid); the body is an empty JSON object.",
                              "content": {"application/json": {"schema": {
                                  "type": "object", "maxProperties": 0}}}},
                      **oauth_error_responses(oauth_errors.REVOKE)}}},
    "/v1/oauth/introspect": {"post": {
        "summary": "Introspect a token (RFC 7662); client authentication required.", "tags": ["OAuth"],
        "security": [{"clientSecretBasic": []}],
        "requestBody": _form_body({"type": "object", "required": ["token"],
                                   "properties": {"token": {"type": "string"},
                                                  "token_type_hint": {"type": "string"}}}),
        "responses": {"200": _json("Introspection", "Token state."),
                      **oauth_error_responses(oauth_errors.INTROSPECT)}}},
    "/v1/oauth/device_authorization": {"post": {
        "summary": "Start a device authorization (RFC 8628): show the user user_code and verification_uri, "
                   "then poll /v1/oauth/token with grant_type=urn:ietf:params:oauth:grant-type:device_code.",
        "tags": ["OAuth"], "security": CLIENT_AUTH,
        "requestBody": _form_body({"type": "object", "properties": {"client_id": {"type": "string"},
                                                                    "client_secret": {"type": "string"},
                                                                    "scope": {"type": "string"}}}),
        "responses": {"200": _json("DeviceAuthorization", "Codes for the device and the user (15 minutes)."),
                      **oauth_error_responses(oauth_errors.DEVICE)}}},
    "/.well-known/oauth-authorization-server": {"get": {
        "summary": "Authorization server metadata (RFC 8414).", "tags": ["OAuth"],
        "responses": {"200": _json("ServerMetadata", "Metadata.")}}},
    "/v1/me": {"get": {
        "summary": "Who this access token acts for: user, app, provider kind and model (never the key), and "
                   "the grant's limits with their use and what remains.",
        "tags": ["API"], "security": [{"bearerAuth": []}],
        "responses": {"200": _json("Me", "The token's grant."), **openai_error_responses(api_errors.ME)}}},
    "/v1/chat/completions": {"post": {
        "summary": "OpenAI-compatible chat completions, routed to the user's provider and model.",
        "tags": ["API"], "security": [{"bearerAuth": []}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("ChatCompletionRequest")}}},
        "responses": {
            "200": {"description": "A chat completion, or with stream=true Server-Sent Events ending in "
                                   "`data: [DONE]`. Headers x-infer0-provider and x-infer0-model name who "
                                   "answered (a fallback connection the user chose, when the grant's own "
                                   "failed before any byte was sent); x-infer0-dropped-params, "
                                   "x-infer0-renamed-params and x-infer0-adjusted-params list what infer0 "
                                   "dropped, renamed (old->new) or fitted to the user's provider. "
                                   "When the grant has a requests-per-minute or tokens-per-day limit, "
                                   "x-ratelimit-{limit,remaining,reset}-{requests,tokens} as OpenAI sends them.",
                    "content": {"application/json": {"schema": _ref("ChatCompletion")},
                                "text/event-stream": {"schema": {"type": "string"}}}},
            **openai_error_responses(api_errors.CHAT)}}},
    "/v1/embeddings": {"post": {
        "summary": "OpenAI-compatible embeddings, routed to the user's provider and the grant's embedding model "
                   "(the user's choice, else the provider's default embedding model).",
        "tags": ["API"], "security": [{"bearerAuth": []}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("EmbeddingsRequest")}}},
        "responses": {
            "200": {"description": "The embeddings. Headers x-infer0-provider and x-infer0-model name the "
                                   "connection kind and model that answered (a fallback connection when the "
                                   "grant's own failed first); x-infer0-dropped-params lists optional fields "
                                   "the provider does not take; x-ratelimit-* as for chat.",
                    "content": {"application/json": {"schema": _ref("EmbeddingList")}}},
            **openai_error_responses(api_errors.EMBEDDINGS)}}},
    "/v1/models": {"get": {
        "summary": "The models this token's grant may use: its chat model(s) and its embedding model, in "
                   "OpenAI's list format.", "tags": ["API"],
        "security": [{"bearerAuth": []}],
        "responses": {"200": _json("ModelList", "Models."), **openai_error_responses(api_errors.MODELS)}}},
    "/healthz": {"get": {
        "summary": "Database and keyring usable (for load balancers and systemd).", "tags": ["Operations"],
        "responses": {"200": _json("Health", "Healthy."), "503": _json("Health", "Not healthy.")}}},
}


@lru_cache(maxsize=8)
def _document_text(issuer: str) -> str:
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "infer0", "version": __version__,
                 "description": "Bring-your-own-provider AI inference over OAuth 2.0. Apps obtain a token "
                                "through the authorization code flow (PKCE for public clients) and call an "
                                "OpenAI-compatible API that routes to the end user's own provider."},
        "servers": [{"url": issuer}],
        "paths": {**copy.deepcopy(PATHS), **openapi_inbound.paths(openai_error_responses),
                  **registration.paths(oauth_error_responses)},
        "components": {
            "schemas": {**copy.deepcopy(SCHEMAS), **openapi_inbound.SCHEMAS, **copy.deepcopy(registration.SCHEMAS)},
            # Answers to a /v1 path or method no operation serves: OpenAI's shape, RFC 6749's under /v1/oauth/.
            "responses": {**{f"api_{k}": v for k, v in openai_error_responses(api_errors.UNROUTED).items()},
                          **{f"oauth_{k}": v for k, v in oauth_error_responses(oauth_errors.UNROUTED).items()}},
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "description": "An i0_at_ access token."},
                **openapi_inbound.SECURITY_SCHEMES,
                **registration.SECURITY_SCHEMES,
                "clientSecretBasic": {"type": "http", "scheme": "basic",
                                      "description": "client_id:client_secret (or send them in the form)."},
                "oauth2": {"type": "oauth2", "flows": {"authorizationCode": {
                    "authorizationUrl": f"{issuer}/oauth/authorize", "tokenUrl": f"{issuer}/v1/oauth/token",
                    "refreshUrl": f"{issuer}/v1/oauth/refresh", "scopes": {}}}},
            },
        },
    }
    return json.dumps(doc, indent=1)


def document(issuer: str) -> dict:
    return json.loads(_document_text(issuer))


async def openapi_json(request: web.Request) -> web.Response:
    issuer = request.config_dict[keys.SETTINGS].issuer
    return web.Response(text=_document_text(issuer), content_type="application/json",
                        headers={"Access-Control-Allow-Origin": "*"})
