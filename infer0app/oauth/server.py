"""The authorization server: authlib's core, fed aiohttp requests, run on the store's threads.

Handlers stay thin: they call one of the async methods here with the aiohttp request.

- `authorization_request(request, user)` validates /oauth/authorize (raises AuthorizationError,
  which either carries a redirect back to the app or, for an unknown client or unregistered
  redirect URI, only a description for an error page: those never redirect);
- `authorization_response(pending, user, consent)` answers the consent form;
- `token_response(request)` (also for /v1/oauth/refresh), `endpoint_response(name, request)`
  for revocation and introspection: RFC 6749 §5.2 JSON errors, `Cache-Control: no-store`.

Client authentication failures are throttled per (client id, address), with a looser cap per
address: past the limit that pair (or address) gets 429 `slow_down` without its secret being
checked. Failures from one address never slow the same client elsewhere, so a stranger who
knows a public client_id cannot lock the real app out; a success clears its pair's count.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from aiohttp import web
from multidict import MultiDict

from authlib.common.security import is_secure_transport
from authlib.oauth2.rfc6749 import AuthorizationServer as _AuthorizationServer
from authlib.oauth2.rfc6749 import ClientAuthentication, OAuth2Error
from authlib.oauth2.rfc6749.errors import (InsecureTransportError, InvalidClientError, InvalidRequestError,
                                           UnsupportedGrantTypeError)
from authlib.oauth2.rfc6750 import BearerTokenGenerator

from ..errors.oauth_errors import error_text
from ..services import apps as apps_svc
from ..services import device_codes
from ..services import grants as grants_svc
from ..services.secrets_util import new_token
from ..services.throttle import Throttle
from .device import DeviceAuthorizationEndpoint, DeviceCodeGrant
from .endpoints import IntrospectionClientError, IntrospectionEndpoint, RevocationEndpoint
from .grants import AuthorizationCodeGrant, RefreshTokenGrant, S256CodeChallenge, record_consent, redirect_with
from .models import Client, EndUser
from .requests import FORM_TYPES, AiohttpOAuth2Request, MalformedBasicCredentials, basic_credentials, snapshot

#: Parameters that carry secrets: never accepted in a URL's query string.
SECRET_PARAMS = ("code", "code_verifier", "refresh_token", "client_secret", "token", "access_token", "device_code")
THROTTLE_WINDOW = 60.0
BASIC_CHALLENGE = ("WWW-Authenticate", 'Basic realm="infer0", error="invalid_client"')


@dataclass(frozen=True)
class Consent:
    """The user's choices on the consent page; `reuse_grant_id`: the page was skipped because this
    active grant already covers the request (services.consent_reuse), which is then left as it is."""

    provider_id: int | str | None
    model: str = ""  # picked from the list ('' = the connection's default)
    allow_model_choice: bool = False
    limits: object | None = None  # services.grant_limits.GrantLimits chosen on the consent page
    model_other: str = ""  # typed for a custom endpoint (wins over `model`)
    embedding_model: str = ""
    reuse_grant_id: int | None = None


@dataclass
class PendingAuthorization:
    """A validated authorization request, waiting for the user's decision."""

    grant: AuthorizationCodeGrant
    client: Client
    scope: str
    redirect_uri: str

    @property
    def app(self) -> apps_svc.AppView:
        return self.client.app


class AuthorizationError(Exception):
    """/oauth/authorize failed: `response` redirects back to the app, or is None (show `description`)."""

    def __init__(self, error: str, description: str, response: web.Response | None = None):
        super().__init__(description)
        self.error = error
        self.description = description
        self.response = response


def json_response(status: int, body, headers) -> web.Response:
    if isinstance(body, dict) and isinstance(body.get("error_description"), str):
        body = {**body, "error_description": error_text(body["error_description"])}
    text = json.dumps(body) if isinstance(body, dict) else (body or "")
    hdrs = MultiDict(headers or [])
    return web.Response(status=status, text=text, headers=hdrs)


class AuthorizationServer(_AuthorizationServer):
    def __init__(self, store, settings, *, throttle_pepper: bytes = b""):
        super().__init__(scopes_supported=list(grants_svc.SCOPES))
        self.store = store
        self.settings = settings
        self.issuer = settings.issuer
        # "Accounts" here are (client id, address) pairs: see _client_key; the address cap is looser.
        # Counted in the database (shared by all processes), inside each call's grouped transaction.
        self.throttle = Throttle("client_auth", per_pair=10, per_address=30, window=THROTTLE_WINDOW,
                                 pepper=throttle_pepper)
        self._client_auth = ClientAuthentication(self.query_client)
        self._client_auth.register("client_secret_basic", self._authenticate_basic)
        self.register_token_generator("default", BearerTokenGenerator(
            access_token_generator=lambda **_: new_token(grants_svc.ACCESS_PREFIX),
            refresh_token_generator=lambda **_: new_token(grants_svc.REFRESH_PREFIX),
            expires_generator=lambda client, grant_type: settings.access_token_ttl))
        self.register_grant(AuthorizationCodeGrant, [S256CodeChallenge(required=True)])
        self.register_grant(RefreshTokenGrant)
        self.register_grant(DeviceCodeGrant)
        self.register_endpoint(DeviceAuthorizationEndpoint)
        self.register_endpoint(RevocationEndpoint)
        self.register_endpoint(IntrospectionEndpoint)
        if not is_secure_transport(self.issuer):
            logging.getLogger("infer0.oauth").warning(
                "public URL %s is neither https nor loopback: OAuth requests will be refused "
                "(insecure_transport). Put infer0 behind TLS and set --public-url https://…", self.issuer)

    # -- authlib's integration points --------------------------------------------------------
    def query_client(self, client_id):
        found = apps_svc.find_client(self.store, client_id) if client_id else None
        if found is None or found[0].disabled:
            return None
        return Client(found[0], self.store, found[1])

    def _authenticate_basic(self, query_client, request):
        """client_secret_basic with RFC 6749 §2.3.1's decoding (authlib's parser crashes on non-UTF-8)."""
        client_id, client_secret = basic_credentials(request.headers)
        if not client_id or not client_secret:
            return None
        client = query_client(client_id)
        if client is None:
            raise InvalidClientError(status_code=401, description="The client does not exist on this server.")
        return client if client.check_client_secret(client_secret) else None

    def save_token(self, token, request):  # pragma: no cover - each grant saves its own
        raise NotImplementedError

    def create_oauth2_request(self, request):
        return request  # always an AiohttpOAuth2Request built on the event loop

    def create_json_request(self, request):  # pragma: no cover - no JSON endpoints use it
        raise NotImplementedError

    def send_signal(self, name, *args, **kwargs):
        pass

    def handle_response(self, status, body, headers):
        return json_response(status, body, headers)

    def handle_error_response(self, request, error):
        request.oauth_error = error
        if error.redirect_uri:
            return self._error_redirect(error)
        status, body, headers = error(self.get_error_uri(request, error))
        headers = [(k, v) for k, v in headers if k.lower() != "www-authenticate"]
        if isinstance(error, InvalidClientError):
            # RFC 6749 §5.2: 401 + WWW-Authenticate when the client tried HTTP Basic, else 400;
            # RFC 7662 §2.3: always 401 at the introspection endpoint.
            if _uses_basic(request.headers) or isinstance(error, IntrospectionClientError):
                status = 401
                headers.append(BASIC_CHALLENGE)
            else:
                status = 400
        return json_response(status, body, headers)

    def authenticate_client(self, request, methods, endpoint="token"):
        """One mechanism per request (RFC 6749 §2.3): Basic, or a form secret, or neither."""
        basic_id, _ = basic_credentials(request.headers)
        form_secret = request.form.get("client_secret")
        if _uses_basic(request.headers) and form_secret:
            raise InvalidRequestError("Use one client authentication method: HTTP Basic or client_secret, not both.")
        if _uses_basic(request.headers):
            form_id = request.form.get("client_id")
            if form_id and form_id != basic_id:
                raise InvalidRequestError("client_id in the body does not match the Basic credentials.")
            used = "client_secret_basic"
        elif form_secret:
            used = "client_secret_post"
        else:
            used = "none"
        allowed = [m for m in methods if m == used]
        if not allowed:
            raise InvalidClientError(description="Client authentication failed (wrong method for this endpoint).")
        return self._client_auth(request, allowed, endpoint)

    # -- the authorization endpoint ------------------------------------------------------------
    def _error_redirect(self, error: OAuth2Error) -> web.Response:
        params = [(k, error_text(v) if k == "error_description" else v) for k, v in error.get_body()
                  if k in ("error", "error_description", "error_uri", "state")]
        params.append(("iss", self.issuer))
        return web.Response(status=303, headers={"Location": redirect_with(error.redirect_uri, params)})

    def _authorization_error(self, error: OAuth2Error) -> AuthorizationError:
        response = self._error_redirect(error) if error.redirect_uri else None
        return AuthorizationError(error.error, error.description or error.get_error_description() or error.error,
                                  response)

    def _check_client_and_redirect(self, oauth_request) -> None:
        """RFC 6749 §4.1.2.1: with no valid client or redirect URI, tell the user, never redirect."""
        client_id = oauth_request.payload.client_id
        if not client_id:
            raise AuthorizationError("invalid_client", "The link has no client_id, so infer0 cannot tell which "
                                                       "app sent you.")
        client = self.query_client(client_id)
        if client is None:
            raise AuthorizationError("invalid_client", "No app with this client_id is registered on this server "
                                                       "(or it has been disabled).")
        redirect_uri = oauth_request.payload.redirect_uri
        if redirect_uri and not client.check_redirect_uri(redirect_uri):
            raise AuthorizationError("invalid_request", f"The redirect_uri is not registered for "
                                                        f"{client.app.name}, so infer0 will not send you there.")
        if not redirect_uri and not client.get_default_redirect_uri():
            raise AuthorizationError("invalid_request", f"{client.app.name} registered several redirect URIs "
                                                        "and the link names none of them.")

    def _check_response_type(self, oauth_request) -> None:
        """RFC 6749 §4.1.2.1, checked before authlib: a missing response_type is invalid_request
        (authlib says unsupported_response_type), and an unknown one is refused without quoting
        it (authlib quotes it into a description, and a non-ASCII value then raised a 500)."""
        payload = oauth_request.payload
        response_type = payload.data.get("response_type")
        if response_type == "code":
            return
        redirect_uri = payload.redirect_uri or self.query_client(payload.client_id).get_default_redirect_uri()
        if not response_type:
            raise InvalidRequestError("Missing 'response_type' in request.", state=payload.state,
                                      redirect_uri=redirect_uri)
        raise OAuth2Error("Only response_type=code is supported.", error="unsupported_response_type",
                          state=payload.state, redirect_uri=redirect_uri)

    def _validate_authorization(self, data, user):
        try:
            oauth_request = AiohttpOAuth2Request(data, from_query=True)
        except InsecureTransportError as error:
            raise AuthorizationError(error.error, "This server's public URL is not https, so it cannot take "
                                                  "part in OAuth. Ask its operator to set --public-url.") from None
        self._check_client_and_redirect(oauth_request)
        try:
            self._check_response_type(oauth_request)
            grant = self.get_consent_grant(request=oauth_request, end_user=user)
        except OAuth2Error as error:
            raise self._authorization_error(error) from None
        return PendingAuthorization(grant, oauth_request.client, oauth_request.scope, grant.redirect_uri)

    async def authorization_request(self, request: web.Request, user: EndUser | None) -> PendingAuthorization:
        """Validate the query of GET or POST /oauth/authorize; raises AuthorizationError."""
        data = snapshot(request, self.issuer)
        return await self.store.run(lambda _s: self._validate_authorization(data, user))

    def _respond(self, pending: PendingAuthorization, user, consent):
        pending.grant.request.consent = consent
        return self.create_authorization_response(request=pending.grant.request, grant_user=user,
                                                  grant=pending.grant)

    async def authorization_response(self, pending: PendingAuthorization, user: EndUser | None,
                                     consent: Consent | None) -> web.Response:
        """Approve (user and consent given) or deny (user None): a 303 back to the app.

        May raise services' ValidationError (a connection that is not the user's)."""
        return await self.store.run(lambda _s: self._respond(pending, user, consent))

    def prompt_error(self, pending: PendingAuthorization, error: str, description: str) -> web.Response:
        """OpenID Connect Core §3.1.2.6 for `prompt=none`: `login_required` / `consent_required`
        sent back to the app's redirect URI (with state and iss), no page shown."""
        state = pending.grant.request.payload.state
        return self._error_redirect(OAuth2Error(description, error=error, state=state,
                                                redirect_uri=pending.redirect_uri))

    # -- the device authorization grant (RFC 8628) -----------------------------------------------
    async def device_decision(self, device: device_codes.PendingDevice, user: EndUser,
                              consent: Consent | None) -> None:
        """The user's decision at /device: approve (consent given) or deny (None).

        Raises services' DeviceCodeGone (expired or decided meanwhile) or ValidationError."""
        client = self.query_client(device.client_id)
        if client is None:
            raise device_codes.DeviceCodeGone("This app has been disabled.")

        def decide(_s):
            if consent is None:
                return device_codes.deny(self.store, device.id, user_id=user.id)
            return device_codes.approve(self.store, device.id, user_id=user.id, make_code=lambda: record_consent(
                self.store, user, client.app.id, consent, scope=device.scope, redirect_uri=""))
        await self.store.run(decide)

    async def device_authorization_response(self, request: web.Request) -> web.Response:
        """POST /v1/oauth/device_authorization (RFC 8628 §3.1): device_code, user_code, verification URIs."""
        return await self._client_endpoint(request, lambda req: self.create_endpoint_response(
            DeviceAuthorizationEndpoint.ENDPOINT_NAME, req))

    # -- token, revocation, introspection --------------------------------------------------------
    async def _read(self, request: web.Request) -> tuple[object, MultiDict | None]:
        """The form body, or an InvalidRequestError explaining what is wrong with the request."""
        bad = [name for name in SECRET_PARAMS if name in request.query]
        if bad:
            return InvalidRequestError(f"Send {bad[0]} in the form-encoded request body, never in the URL."), None
        if request.body_exists and request.content_type not in FORM_TYPES:
            return InvalidRequestError("Send the parameters form-encoded (Content-Type: "
                                       "application/x-www-form-urlencoded)."), None
        if request.body_exists and (request.charset or "utf-8").lower() not in ("utf-8", "utf8"):
            return InvalidRequestError("Send the form in UTF-8 (RFC 6749 Appendix B): charset=utf-8 or none."), None
        try:
            posted = await request.post()
        except (ValueError, LookupError):  # UnicodeDecodeError is a ValueError
            return InvalidRequestError("The form body could not be decoded."), None
        if not all(isinstance(v, str) for v in posted.values()):
            return InvalidRequestError("File uploads are not accepted here."), None
        if any("\ufffd" in k or "\ufffd" in v for k, v in posted.items()):
            # aiohttp decodes bad %-escapes to U+FFFD: the body was not UTF-8 after all.
            return InvalidRequestError("The form body is not valid UTF-8 (RFC 6749 Appendix B)."), None
        # Line breaks around values are dropped, so the brief's body works pasted as printed
        # (one parameter per line); no code, token, secret or URI of ours contains whitespace.
        form = MultiDict((k.strip(), v.strip()) for k, v in posted.items())
        repeated = sorted({k for k in form.keys() if len(form.getall(k)) > 1})
        if repeated:
            return InvalidRequestError(f"Parameter {error_text(repeated[0], 60)} was sent more than once."), None
        return None, form

    def _client_key(self, data) -> str:
        """The throttle's key: the client named by the request, on the address it came from."""
        basic_id, _ = basic_credentials(data.headers)
        client_id = basic_id or data.form.get("client_id") or ""
        return f"c:{client_id[:200]}@{data.remote}"

    def _error_json(self, error: OAuth2Error, status: int | None = None, extra=()) -> web.Response:
        code, body, headers = error()
        headers = [(k, v) for k, v in headers if k.lower() != "www-authenticate"] + list(extra)
        return json_response(status or code, body, headers)

    async def _client_endpoint(self, request: web.Request, run, *, default_grant: str | None = None,
                               only_grant: str | None = None) -> web.Response:
        problem, form = await self._read(request)
        if problem is not None:
            return self._error_json(problem)
        try:
            basic_credentials(request.headers)
        except MalformedBasicCredentials as exc:  # RFC 6749 §5.2: the header was tried, so 401 + Basic challenge
            return self._error_json(InvalidClientError(description=str(exc)), 401, [BASIC_CHALLENGE])
        if default_grant and "grant_type" not in form:
            form["grant_type"] = default_grant
        if run == self.create_token_response and not form.get("grant_type"):
            # RFC 6749 §5.2: a missing parameter is invalid_request (authlib says unsupported_grant_type).
            return self._error_json(InvalidRequestError("Missing 'grant_type' in request."))
        if only_grant and form.get("grant_type") != only_grant:
            return self._error_json(UnsupportedGrantTypeError(form.get("grant_type")))
        data = snapshot(request, self.issuer, form)
        key, address = self._client_key(data), data.remote
        try:
            oauth_request = AiohttpOAuth2Request(data, from_query=False)
        except InsecureTransportError as error:
            return self._error_json(error)

        def throttled_run(store):
            # Check, run and count in the one transaction, so the count is exact across processes.
            verdict = self.throttle.check(store, key, address)
            if verdict.wait:
                return None
            response = run(oauth_request)
            if isinstance(oauth_request.oauth_error, InvalidClientError):
                self.throttle.failed(store, key, address)
            elif oauth_request.client is not None:
                self.throttle.succeeded(store, key, address, verdict)  # writes only if it has failures to clear
            return response

        # Every call here ends in a small durable write (or none): grouped, they share one fsync.
        response = await self.store.run_grouped(throttled_run)
        if response is None:
            error = OAuth2Error("Too many failed client authentications; wait a minute and try again.",
                                error="slow_down", status_code=429)
            return self._error_json(error, extra=[("Retry-After", str(int(THROTTLE_WINDOW)))])
        return response

    async def token_response(self, request: web.Request, *, refresh_only: bool = False) -> web.Response:
        """POST /v1/oauth/token, and /v1/oauth/refresh (the hosted original's refresh endpoint)."""
        if refresh_only:
            return await self._client_endpoint(request, self.create_token_response,
                                               default_grant="refresh_token", only_grant="refresh_token")
        return await self._client_endpoint(request, self.create_token_response)

    async def endpoint_response(self, name: str, request: web.Request) -> web.Response:
        """POST /v1/oauth/revoke ("revocation") and /v1/oauth/introspect ("introspection")."""
        return await self._client_endpoint(request, lambda req: self.create_endpoint_response(name, req))

    # -- discovery ---------------------------------------------------------------------------
    def metadata(self) -> dict:
        """RFC 8414 authorization server metadata (with RFC 9207's iss parameter)."""
        base = self.issuer
        auth_methods = ["client_secret_basic", "client_secret_post", "none"]
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}/oauth/authorize",
            "token_endpoint": f"{base}/v1/oauth/token",
            "revocation_endpoint": f"{base}/v1/oauth/revoke",
            "introspection_endpoint": f"{base}/v1/oauth/introspect",
            "refresh_endpoint": f"{base}/v1/oauth/refresh",
            "device_authorization_endpoint": f"{base}/v1/oauth/device_authorization",
            "api_base_url": f"{base}/v1",
            "service_documentation": f"{base}/dev/docs",
            **({"registration_endpoint": f"{base}/v1/oauth/register"}
               if self.settings.client_registration == "open" else {}),
            "scopes_supported": list(grants_svc.SCOPES),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token", DeviceCodeGrant.GRANT_TYPE],
            "token_endpoint_auth_methods_supported": auth_methods,
            "revocation_endpoint_auth_methods_supported": auth_methods,
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": True,
        }


def _uses_basic(headers) -> bool:
    return (headers.get("Authorization") or "").lower().startswith("basic ")
