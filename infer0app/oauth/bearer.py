"""Bearer access tokens on /v1 (RFC 6750, header only): `await authenticate(request) -> AccessContext`.

Resolved tokens are cached in memory, keyed by the token's SHA-256 (never the token itself),
so the hot path rarely touches SQLite. The cache is dropped whenever the database's cache
epoch moves (runtime/cache_watch.py, polled every 0.25 s; triggers bump it on any revocation or
disable, from any process), so a revocation made by the CLI or the admin TUI still bites
within a second; the TTL only bounds memory. Failures raise an
aiohttp HTTP error whose body is OpenAI's error object (code, status and type from
infer0app/errors/api_errors.py) and whose WWW-Authenticate header follows RFC 6750
(`BEARER_CHALLENGES` in infer0app/errors/oauth_errors.py), so the /v1 error middleware (and
OpenAI SDKs) handle it as is.
"""

from __future__ import annotations

import json
import re
import time

from aiohttp import web
from cachetools import TTLCache

from .. import keys
from ..errors.api_errors import api_error
from ..errors.oauth_errors import BEARER_CHALLENGES
from ..services import grants as grants_svc
from ..services.grants import AccessContext
from ..services.secrets_util import sha256_hex

CACHE_TTL = 30.0  # runtime/cache_watch.py clears it within 0.25 s of any revocation
CACHE_MAX = 50_000  # live tokens remembered (least recently used dropped first)
NEGATIVE_MAX = 5_000  # unknown tokens remembered, in their own cache
REALM = "infer0"
#: RFC 6750 §2.1 b64token: anything else (non-ASCII, controls, spaces) is no token of ours.
B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


class TokenCache:
    """token hash -> AccessContext (known) or None (unknown), each for CACHE_TTL seconds at most.

    Two LRU+TTL caches (cachetools.TTLCache): known tokens in one, unknown tokens in a small
    one of their own, so a flood of made-up tokens only churns the negative cache and never
    evicts a real token (which would push every real request to SQLite). `get` answers
    `(hit, ctx)`; `clear` empties both (cache epoch moved: runtime/cache_watch.py).
    """

    def __init__(self, ttl: float = CACHE_TTL, max_entries: int = CACHE_MAX, clock=time.monotonic,
                 negative_entries: int = NEGATIVE_MAX):
        self.ttl = ttl
        self.max_entries = max_entries
        self._known: TTLCache = TTLCache(max_entries, ttl, timer=clock)
        self._unknown: TTLCache = TTLCache(min(negative_entries, max_entries), ttl, timer=clock)

    def get(self, token_hash: str) -> tuple[bool, AccessContext | None]:
        try:  # `cache[key]`, not `.get`: Mapping.get runs `in` and then `[]`, each a TTL check (~1 µs)
            return True, self._known[token_hash]
        except KeyError:
            pass
        if token_hash in self._unknown:
            return True, None
        return False, None

    def put(self, token_hash: str, ctx: AccessContext | None) -> None:
        if ctx is None:
            self._unknown[token_hash] = True
        else:
            self._known[token_hash] = ctx

    def __len__(self) -> int:
        return len(self._known) + len(self._unknown)

    def clear(self) -> None:
        self._known.clear()
        self._unknown.clear()


def _answer(code: str, challenge: str | None, message: str, resource_metadata: str = "") -> dict:
    """The keyword arguments of an aiohttp HTTP error: OpenAI's error object for `code` (from the
    /v1 error table) and the RFC 6750 §3.1 challenge `challenge` (from the Bearer table), naming
    the RFC 9728 protected-resource metadata URL when given (RFC 9728 §5.1). `challenge=None`
    (the request carried no Bearer credentials at all): RFC 6750 §3.1 says the challenge SHOULD
    NOT then carry an error code or description, so it names only the realm (and metadata)."""
    row = api_error(code)
    body = json.dumps({"error": {"message": message, "type": row.type, "code": code, "param": None}})
    header = f'Bearer realm="{REALM}"'
    if challenge is not None:
        BEARER_CHALLENGES[challenge]  # KeyError: a code missing from its table
        header += f', error="{challenge}", error_description="{message}"'
    if resource_metadata:
        header += f', resource_metadata="{resource_metadata}"'
    return {"text": body, "content_type": "application/json",
            "headers": {"WWW-Authenticate": header, "Cache-Control": "no-store"}}


class InvalidTokenError(web.HTTPUnauthorized):
    """401: unknown, expired or revoked token (WWW-Authenticate: Bearer error="invalid_token"), or
    no Bearer credentials at all (`missing=True`: a bare `Bearer realm=...` challenge, RFC 6750 §3.1)."""

    def __init__(self, message: str, resource_metadata: str = "", missing: bool = False):
        challenge = None if missing else "invalid_token"
        super().__init__(**_answer("invalid_token", challenge, message, resource_metadata))


class TokenInURLError(web.HTTPBadRequest):
    """400: a token sent in the URL is refused outright (RFC 6750 §2.3 is not supported)."""

    def __init__(self):
        message = "Send the access token in the Authorization header (Bearer), never in the URL."
        super().__init__(**_answer("invalid_request", "invalid_request", message))


def resource_metadata_url(request: web.Request) -> str:
    """RFC 9728 §5.1: a 401 names where clients find the authorization server for /v1."""
    return request.app[keys.SETTINGS].issuer + "/.well-known/oauth-protected-resource/v1"


def bearer_token(request: web.Request) -> str:
    if request.query_string and "access_token" in request.query:  # no query: none parsed
        raise TokenInURLError()
    scheme, _, value = (request.headers.get("Authorization") or "").partition(" ")
    token = value.strip()
    if scheme.lower() != "bearer" or not token:
        raise InvalidTokenError("Missing access token: send Authorization: Bearer <access_token>.",
                                resource_metadata_url(request), missing=True)
    if len(token) > 200 or not B64TOKEN.fullmatch(token):
        raise InvalidTokenError("The access token is invalid, expired or revoked.", resource_metadata_url(request))
    return token


async def authenticate(request: web.Request, token: str | None = None) -> AccessContext:
    """The live token's context, or InvalidTokenError / TokenInURLError. The token is read from
    `Authorization: Bearer` unless the caller found it elsewhere (`token`, e.g. /v1/messages'
    `x-api-key`), which gets the same shape check (RFC 6750 §2.1 b64token, at most 200 chars).
    The hot path writes it out (`authenticate_now(r) or await load_context(r)`): no coroutine
    for a cached token. Either way the cache is looked up once (the metrics count lookups)."""
    return authenticate_now(request, token) or await load_context(request, token)


def authenticate_now(request: web.Request, token: str | None = None) -> AccessContext | None:
    """`authenticate` without an await when the token is in the cache (nearly every call): its
    context, or the same 401s raised; None when the database must be asked: then
    `await load_context` (not `authenticate`, which would look the cache up a second time)."""
    hit, ctx = request.app[keys.TOKEN_CACHE].get(_token_hash(request, token))
    return _live(request, ctx) if hit else None


async def load_context(request: web.Request, token: str | None = None) -> AccessContext:
    """The token's context from the database (and into the cache), after `authenticate_now`
    missed; the same 401s."""
    token_hash = _token_hash(request, token)
    ctx = await request.app[keys.STORE].run(grants_svc.resolve_access_token_hash, token_hash)
    request.app[keys.TOKEN_CACHE].put(token_hash, ctx)
    return _live(request, ctx)


def _token_hash(request: web.Request, token: str | None) -> str:
    if token is None:
        token = bearer_token(request)
    elif len(token) > 200 or not B64TOKEN.fullmatch(token):
        raise InvalidTokenError("The access token is invalid, expired or revoked.", resource_metadata_url(request))
    if not token.startswith(grants_svc.ACCESS_PREFIX):
        raise InvalidTokenError("The access token is invalid, expired or revoked.", resource_metadata_url(request))
    return sha256_hex(token)


def _live(request: web.Request, ctx: AccessContext | None) -> AccessContext:
    if ctx is None or ctx.expires_at <= request.app[keys.STORE].clock():
        raise InvalidTokenError("The access token is invalid, expired or revoked.", resource_metadata_url(request))
    return ctx
