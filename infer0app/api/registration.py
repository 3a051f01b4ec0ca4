"""Dynamic client registration endpoints (thin; services/client_registration.py does the work).

- `POST /v1/oauth/register` (RFC 7591 §3): 201 with the client information; 400
  `invalid_redirect_uri` / `invalid_client_metadata`; 403 `access_denied` when the operator
  closed registration (`--client-registration closed`); 429 `slow_down` past
  `--client-registration-rate` registrations per address per hour.
- `GET | PUT | DELETE /v1/oauth/register/{client_id}` (RFC 7592 §2, the client configuration
  endpoint) with `Authorization: Bearer <registration_access_token>`: 200, 200, 204; 401
  `invalid_token` with an RFC 6750 challenge for a missing or wrong token or an unknown client.

Answers carry `Cache-Control: no-store` (they hold secrets) and are RFC 6749 §5.2-shaped JSON
errors from the OAuth error table.
"""

from __future__ import annotations

import json

from aiohttp import web

from .. import keys
from ..http_common.client_address import client_ip
from ..services import client_registration as reg
from . import v1  # v1 imports this module: reach oauth_error through it at call time

MAX_BODY = 64 * 1024
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
WINDOW = 3600.0  # the registration rate limit counts per address per hour


def configuration_uri(request: web.Request, client_id: str) -> str:
    return f"{request.config_dict[keys.SETTINGS].issuer}/v1/oauth/register/{client_id}"


def _refused(exc: reg.RegistrationError) -> web.Response:
    return v1.oauth_error(400, exc.error, exc.description)


async def _metadata(request: web.Request) -> tuple[dict | None, reg.ClientMetadata | None, web.Response | None]:
    """(body, parsed metadata, None), or (None, None, the 400 to answer)."""
    if request.content_type != "application/json":
        return None, None, v1.oauth_error(400, "invalid_client_metadata",
                                       "Send the client metadata as JSON (Content-Type: application/json).")
    # request.read(), not request.content: a body that came after its headers (Expect:
    # 100-continue, a slow client) is read ahead by the front middleware, and the stream was
    # then empty ("not valid UTF-8 JSON" for a valid registration); read(n) may also stop short.
    raw = await request.read()
    if len(raw) > MAX_BODY:
        return None, None, v1.oauth_error(400, "invalid_client_metadata", f"The metadata is over {MAX_BODY} bytes.")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: nested too deep to read
        return None, None, v1.oauth_error(400, "invalid_client_metadata", "The request body is not valid UTF-8 JSON.")
    try:
        return body, reg.parse_metadata(body), None
    except reg.RegistrationError as exc:
        return None, None, _refused(exc)


async def register(request: web.Request) -> web.Response:
    """POST /v1/oauth/register (RFC 7591)."""
    settings = request.config_dict[keys.SETTINGS]
    if settings.client_registration != "open":
        return v1.oauth_error(403, "access_denied", "Dynamic client registration is closed on this server; ask its "
                                                 "operator to register your app.")
    address = client_ip(request)
    throttle, store = request.config_dict[keys.REGISTRATION_THROTTLE], request.config_dict[keys.STORE]
    if await store.run(throttle.attempt, address, address):  # every attempt counts, valid or not
        return v1.oauth_error(429, "slow_down", "Too many client registrations from your address; try again later.",
                           {"Retry-After": str(int(WINDOW))})
    _, metadata, problem = await _metadata(request)
    if problem is not None:
        return problem
    app, secret, token = await store.run(reg.register, metadata, address=address)
    info = reg.client_information(app, registration_client_uri=configuration_uri(request, app.client_id),
                                  registration_access_token=token, client_secret=secret)
    return web.json_response(info, status=201, headers=NO_STORE)


def _invalid_token(description: str, missing: bool = False) -> web.Response:
    """401 invalid_token; `missing` (no Bearer credentials sent): the challenge carries no error
    code (RFC 6750 §3.1 SHOULD NOT)."""
    challenge = 'Bearer realm="infer0"'
    if not missing:
        challenge += f', error="invalid_token", error_description="{description}"'
    return v1.oauth_error(401, "invalid_token", description, {"WWW-Authenticate": challenge})


async def _managed(request: web.Request):
    """(app, token) the registration access token manages, or (None, the 401 to answer)."""
    scheme, _, value = (request.headers.get("Authorization") or "").partition(" ")
    token = value.strip()
    if scheme.lower() != "bearer" or not token:
        return None, _invalid_token("Send Authorization: Bearer <registration_access_token>.", missing=True)
    app = await request.config_dict[keys.STORE].run(reg.authorized_app, request.match_info["client_id"], token)
    if app is None:
        return None, _invalid_token("The registration access token is not valid for this client.")
    return app, token


async def read(request: web.Request) -> web.Response:
    """GET /v1/oauth/register/{client_id} (RFC 7592 §2.1)."""
    app, token = await _managed(request)
    if app is None:
        return token
    info = reg.client_information(app, registration_client_uri=configuration_uri(request, app.client_id),
                                  registration_access_token=token)
    return web.json_response(info, headers=NO_STORE)


async def update(request: web.Request) -> web.Response:
    """PUT /v1/oauth/register/{client_id} (RFC 7592 §2.2): replaces the metadata."""
    app, token = await _managed(request)
    if app is None:
        return token
    body, metadata, problem = await _metadata(request)
    if problem is not None:
        return problem
    try:
        app = await request.config_dict[keys.STORE].run(reg.update, app, body, metadata)
    except reg.RegistrationError as exc:
        return _refused(exc)
    info = reg.client_information(app, registration_client_uri=configuration_uri(request, app.client_id),
                                  registration_access_token=token)
    return web.json_response(info, headers=NO_STORE)


async def delete(request: web.Request) -> web.Response:
    """DELETE /v1/oauth/register/{client_id} (RFC 7592 §2.3): the client and its tokens are gone."""
    app, token = await _managed(request)
    if app is None:
        return token
    await request.config_dict[keys.STORE].run(reg.delete, app)
    request.config_dict[keys.TOKEN_CACHE].clear()
    return web.Response(status=204, headers=NO_STORE)
