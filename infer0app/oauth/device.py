"""RFC 8628 device authorization grant on authlib's `rfc8628` classes.

We use authlib's `DeviceAuthorizationEndpoint` (client authentication, scope check, the
response's shape) and `DeviceCodeGrant` (grant type, token endpoint client authentication,
the hooked token response with authlib's generator), and replace what does not fit:

- `validate_token_request`: authlib reads the credential, then asks `query_user_grant` and
  `should_slow_down` separately; here one IMMEDIATE transaction (services.device_codes.poll)
  decides pending / slow_down / denied / expired / approved and moves the interval, so two
  processes polling at once cannot both skip `slow_down`. An unknown device code, or one
  issued to another client, is `invalid_grant` (RFC 6749 §5.2; authlib says invalid_request
  and unauthorized_client);
- codes: `i0_dc_…` device codes (256 bits) and RFC 8628 §6.1 user codes, both stored hashed;
- tokens: the user's approval created an authorization code for their grant; the first
  successful poll redeems it (single use, services.grants.redeem_code), so a device code
  yields tokens once and a second success revokes the first one's (as a replayed code does).
"""

from __future__ import annotations

from authlib.oauth2.rfc6749.errors import AccessDeniedError, InvalidGrantError, InvalidRequestError
from authlib.oauth2.rfc8628 import (AuthorizationPendingError, DeviceAuthorizationEndpoint as _Endpoint,
                                    DeviceCodeGrant as _Grant, ExpiredTokenError, SlowDownError)

from ..services import device_codes
from ..services import grants as grants_svc
from .models import EndUser

DEVICE_PATH = "/device"


class DeviceCredential:
    """authlib's DeviceCredentialMixin over a poll's result."""

    def __init__(self, client_id: str, scope: str, code_hash: str):
        self.client_id, self.scope, self.code_hash = client_id, scope, code_hash

    def get_client_id(self):
        return self.client_id

    def get_scope(self):
        return self.scope


class DeviceAuthorizationEndpoint(_Endpoint):
    """POST /v1/oauth/device_authorization (RFC 8628 §3.1-3.2)."""

    EXPIRES_IN = device_codes.EXPIRES_IN
    INTERVAL = device_codes.INTERVAL

    def generate_device_code(self):
        return device_codes.new_device_code()

    def generate_user_code(self):
        return device_codes.new_user_code()

    def get_verification_uri(self):
        return self.server.issuer + DEVICE_PATH

    def save_device_credential(self, client_id, scope, data):
        client = self.server.query_client(client_id)
        scope = grants_svc.normalize_scope(scope)  # validate_requested_scope checked it
        # A user code still live for another device is drawn again (20^8 codes: a rare event).
        while not device_codes.create(self.server.store, app_id=client.app.id, scope=scope,
                                      device_code=data["device_code"], user_code=data["user_code"],
                                      expires_in=self.EXPIRES_IN, interval=self.INTERVAL):
            data["user_code"] = self.generate_user_code()
            data["verification_uri_complete"] = f"{data['verification_uri']}?user_code={data['user_code']}"


class DeviceCodeGrant(_Grant):
    """grant_type=urn:ietf:params:oauth:grant-type:device_code at /v1/oauth/token (RFC 8628 §3.4-3.5)."""

    @property
    def store(self):
        return self.server.store

    def validate_token_request(self):
        device_code = self.request.form.get("device_code")
        if not device_code:
            raise InvalidRequestError("Missing 'device_code' in request.")
        client = self.authenticate_token_endpoint_client()
        self.request.client = client
        result = device_codes.poll(self.store, device_code, client.client_id)
        if result.status == "invalid":
            raise InvalidGrantError("Invalid 'device_code' (unknown, or issued to another client).")
        if result.status == "expired":
            raise ExpiredTokenError("The device code has expired; start a new device authorization.")
        if result.status == "denied":
            raise AccessDeniedError("The user denied the authorization.")
        if result.status == "slow_down":
            raise SlowDownError(f"Polling too fast: wait at least {result.interval} seconds between requests.")
        if result.status == "pending":
            raise AuthorizationPendingError("The user has not approved or denied yet; keep polling.")
        self.request.credential = DeviceCredential(client.client_id, result.scope, result.code_hash)
        self.request.user = EndUser(result.user_id)

    def save_token(self, token):
        settings = self.server.settings
        try:
            grants_svc.redeem_code(self.store, self.request.credential.code_hash,
                                   access_token=token["access_token"], refresh_token=token.get("refresh_token"),
                                   scope=token.get("scope", ""), access_ttl=settings.access_token_ttl,
                                   refresh_ttl=settings.refresh_token_ttl,
                                   actor=f"client:{self.request.client.client_id}")
        except grants_svc.CodeAlreadyUsed:
            raise InvalidGrantError("This device code was already exchanged; the tokens issued for it "
                                    "are revoked.") from None
        except grants_svc.GrantGone as exc:
            raise InvalidGrantError(exc.message) from None
