"""The OAuth endpoints' errors (RFC 6749 §5.2 JSON, `{"error", "error_description"}`), and the
Bearer challenges of the /v1 API (RFC 6750 §3.1, in WWW-Authenticate).

Most OAuth errors are raised by authlib (its `error` names are these, including RFC 8628's
device-flow errors); infer0 raises `slow_down` itself (client-authentication throttle),
`login_required` / `consent_required` (prompt=none) and answers `invalid_request` /
`server_error` for unrouted paths, oversized bodies and unexpected failures (api/v1.py).

Each row: the `error`, the HTTP `statuses` it comes with, the RFC that defines it, a
description for app developers, and `where`: the operations (as named in `/openapi.json`),
`REDIRECT` (sent back to the app's redirect_uri from /oauth/authorize, RFC 6749 §4.1.2.1) or
`UNROUTED` (a /v1/oauth path or method no endpoint serves). The registration endpoints (RFC
7591/7592) answer the same JSON shape with their RFCs' codes.

Left out because infer0 cannot answer it: `unauthorized_client` (every app may use both
grant types and `code`, the one response type). `temporarily_unavailable` (RFC 6749 §4.1.2.1,
reused here with 503 as other servers do) answers a storage fault: disk full, database read-only.
"""

from __future__ import annotations

from dataclasses import dataclass

TOKEN = "POST /v1/oauth/token"
REFRESH = "POST /v1/oauth/refresh"
REVOKE = "POST /v1/oauth/revoke"
INTROSPECT = "POST /v1/oauth/introspect"
DEVICE = "POST /v1/oauth/device_authorization"  # RFC 8628
CLIENT_ENDPOINTS = (TOKEN, REFRESH, REVOKE, INTROSPECT, DEVICE)
REGISTER = "POST /v1/oauth/register"  # RFC 7591
CLIENT_READ = "GET /v1/oauth/register/{client_id}"  # RFC 7592 client configuration endpoint
CLIENT_UPDATE = "PUT /v1/oauth/register/{client_id}"
CLIENT_DELETE = "DELETE /v1/oauth/register/{client_id}"
CLIENT_CONFIGURATION = (CLIENT_READ, CLIENT_UPDATE, CLIENT_DELETE)
REGISTRATION_ENDPOINTS = (REGISTER,) + CLIENT_CONFIGURATION
REDIRECT = "redirect"
UNROUTED = "unrouted"


@dataclass(frozen=True)
class OAuthError:
    error: str
    statuses: tuple[int, ...]
    rfc: str
    description: str
    where: tuple[str, ...]


_ROWS = (
    OAuthError("invalid_request", (400, 413), "RFC 6749 §5.2",
               "A parameter is missing, repeated or malformed, sent in the URL instead of the form body, the body "
               "is too large, or PKCE is missing or not S256. Fix the request.",
               CLIENT_ENDPOINTS + (REDIRECT,)),
    OAuthError("invalid_request", (404, 405), "RFC 6749 §5.2",
               "No OAuth endpoint at this path, or not with this method (use POST).", (UNROUTED,)),
    OAuthError("invalid_client", (400, 401), "RFC 6749 §5.2",
               "Wrong client id or secret, a wrong authentication method, or the app was disabled: 401 with "
               "WWW-Authenticate when you used HTTP Basic, else 400. Check your credentials.", CLIENT_ENDPOINTS),
    OAuthError("invalid_grant", (400,), "RFC 6749 §5.2",
               "The code or refresh token is expired, used, revoked or not yours, or the PKCE verifier or "
               "redirect_uri does not match. Send the user through authorization again.",
               (TOKEN, REFRESH, REVOKE)),
    OAuthError("unsupported_grant_type", (400,), "RFC 6749 §5.2",
               "Use grant_type authorization_code, refresh_token or urn:ietf:params:oauth:grant-type:device_code "
               "(only refresh_token on /v1/oauth/refresh).",
               (TOKEN, REFRESH)),
    OAuthError("invalid_scope", (400,), "RFC 6749 §5.2", "Ask for no scope, or only the scopes the server offers.",
               (TOKEN, REFRESH, DEVICE, REDIRECT)),
    OAuthError("insecure_transport", (400,), "authlib (not an RFC code)",
               "The server's public URL is neither https nor loopback, so it refuses OAuth. Ask its operator to "
               "set --public-url.", CLIENT_ENDPOINTS),
    OAuthError("slow_down", (429,), "RFC 8628 §3.5 (reused)",
               "Too many failed client authentications: wait for Retry-After seconds.", CLIENT_ENDPOINTS),
    OAuthError("slow_down", (429,), "RFC 8628 §3.5 (reused)",
               "Too many registrations from your address: wait for Retry-After seconds.", (REGISTER,)),
    OAuthError("slow_down", (400,), "RFC 8628 §3.5",
               "Device flow: you polled sooner than `interval` seconds after the last poll. Keep polling, with the "
               "interval 5 seconds longer from now on.", (TOKEN,)),
    OAuthError("authorization_pending", (400,), "RFC 8628 §3.5",
               "Device flow: the user has not approved or denied yet. Poll again after `interval` seconds.",
               (TOKEN,)),
    OAuthError("expired_token", (400,), "RFC 8628 §3.5",
               "Device flow: the device code expired before the user approved. Stop polling; start a new device "
               "authorization when the user asks.", (TOKEN,)),
    OAuthError("server_error", (500,), "RFC 6749 §4.1.2.1",
               "infer0 hit an unexpected error; it has been logged. Try again.",
               CLIENT_ENDPOINTS + REGISTRATION_ENDPOINTS + (REDIRECT,)),
    OAuthError("temporarily_unavailable", (503,), "RFC 6749 §4.1.2.1 (reused)",
               "infer0 cannot write to its database just now (disk full, read-only); nothing was changed. "
               "Retry after Retry-After seconds.", CLIENT_ENDPOINTS + REGISTRATION_ENDPOINTS),
    OAuthError("invalid_redirect_uri", (400,), "RFC 7591 §3.2.2",
               "A redirect URI is missing or not allowed: https, http only on a loopback host, or for a public "
               "client (token_endpoint_auth_method none) a private-use scheme with a period such as "
               "com.example.app:/callback; exact strings, no fragments or wildcards.", (REGISTER, CLIENT_UPDATE)),
    OAuthError("invalid_client_metadata", (400,), "RFC 7591 §3.2.2",
               "A metadata field is missing or invalid (client_name required; client_uri, logo_uri, policy_uri, "
               "tos_uri must be https; grant_types authorization_code [+ refresh_token]; response_types code), "
               "the body is not a JSON object, or an update names another client_id or a wrong client_secret.",
               (REGISTER, CLIENT_UPDATE)),
    OAuthError("access_denied", (403,), "RFC 6749 §4.1.2.1 (reused)",
               "Dynamic client registration is closed on this server: ask its operator to register your app "
               "(infer0 apps create) or to start it with --client-registration open.", (REGISTER,)),
    OAuthError("invalid_token", (401,), "RFC 7592 §2, RFC 6750 §3.1",
               "The registration access token is missing, wrong, or its client was deleted "
               "(WWW-Authenticate: Bearer error=\"invalid_token\").", CLIENT_CONFIGURATION),
    OAuthError("access_denied", (), "RFC 6749 §4.1.2.1", "The user said no. Offer to try again later.",
               (REDIRECT,)),
    OAuthError("access_denied", (400,), "RFC 8628 §3.5",
               "Device flow: the user denied the authorization. Stop polling.", (TOKEN,)),
    OAuthError("login_required", (), "OpenID Connect Core §3.1.2.6",
               "prompt=none, and the user is not signed in to infer0: send them again without prompt=none.",
               (REDIRECT,)),
    OAuthError("consent_required", (), "OpenID Connect Core §3.1.2.6",
               "prompt=none, and the user has not yet approved this app with this scope and redirect URI (or your "
               "registered redirect URIs changed since): send them again without prompt=none.", (REDIRECT,)),
    OAuthError("unsupported_response_type", (), "RFC 6749 §4.1.2.1", "Use response_type=code.", (REDIRECT,)),
)

OAUTH_ERRORS: tuple[OAuthError, ...] = _ROWS
OAUTH_ERROR_NAMES: tuple[str, ...] = tuple(dict.fromkeys(row.error for row in _ROWS))


def oauth_error_name(error: str) -> str:
    """`error`, checked against the table (KeyError otherwise): use at every raise site."""
    if error not in OAUTH_ERROR_NAMES:
        raise KeyError(error)
    return error


def emitted(where: str) -> list[OAuthError]:
    """The rows that can be met at `where` (an operation, REDIRECT or UNROUTED)."""
    return [row for row in _ROWS if where in row.where]


@dataclass(frozen=True)
class BearerChallenge:
    """An RFC 6750 §3.1 error code for `WWW-Authenticate: Bearer error="…"` on the /v1 API."""

    error: str
    status: int
    description: str


BEARER_CHALLENGES: dict[str, BearerChallenge] = {row.error: row for row in (
    BearerChallenge("invalid_request", 400, "The request is malformed; infer0 sends this when the access token "
                                            "came in the URL (RFC 6750 §2.3 is not supported)."),
    BearerChallenge("invalid_token", 401, "The access token is missing, expired, revoked or malformed."),
)}


@dataclass(frozen=True)
class OAuthErrorSummary:
    """One error name as /dev/docs lists it: every status it comes with, and whether it can
    arrive on the redirect back from /oauth/authorize."""

    error: str
    statuses: tuple[int, ...]
    redirect: bool
    rfc: str
    description: str


def for_apps() -> list[OAuthErrorSummary]:
    """The table folded by error name, in table order."""
    out = []
    for name in OAUTH_ERROR_NAMES:
        rows = [row for row in _ROWS if row.error == name]
        out.append(OAuthErrorSummary(name, tuple(sorted({s for row in rows for s in row.statuses})),
                                     any(REDIRECT in row.where for row in rows), rows[0].rfc,
                                     " ".join(row.description for row in rows)))
    return out


def error_text(text: str, limit: int = 300) -> str:
    """Text fit for `error_description` (RFC 6749 §5.2: only %x20-21 / %x23-5B / %x5D-7E), so a
    description stays in the set whatever it holds: anything else becomes '?'."""
    return "".join(c if 0x20 <= ord(c) <= 0x7E and c not in '"\\' else "?" for c in text[:limit])
