"""RFC 7009 token revocation and RFC 7662 token introspection on authlib's endpoints.

Where authlib's defaults differ from the RFCs, the subclasses here say so:

- `token_type_hint` is only a hint (RFC 7009 §2.1, RFC 7662 §2.1): an unknown value is
  ignored and the search always extends across both token types (authlib answers
  `unsupported_token_type`, and so left a refresh token sent with `hint=id_token` alive);
- a missing or empty `token` is `invalid_request` with a description (RFC 6749 §3.1: an
  empty parameter counts as omitted);
- failed client authentication at introspection is 401 (RFC 7662 §2.3), whatever method.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749.errors import InvalidClientError, InvalidRequestError
from authlib.oauth2.rfc7009 import RevocationEndpoint as _RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint as _IntrospectionEndpoint

from ..services import grants as grants_svc
from .models import Token


KNOWN_HINTS = ("access_token", "refresh_token")


def _query(server, token_string, hint):
    record = grants_svc.find_token(server.store, token_string, hint if hint in KNOWN_HINTS else None)
    return Token(record, server.store.clock) if record is not None else None


def _check_params(request) -> None:
    """`token` is required; `token_type_hint`, whatever its value, only orders the search."""
    if not request.form.get("token"):
        raise InvalidRequestError("Missing 'token' in request.")


class IntrospectionClientError(InvalidClientError):
    """RFC 7662 §2.3: invalid credentials at the introspection endpoint are always 401."""

    status_code = 401


class RevocationEndpoint(_RevocationEndpoint):
    # Public clients revoke with their client_id alone (RFC 7009 §2.1 allows it for them).
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def check_params(self, request, client):
        _check_params(request)

    def query_token(self, token_string, token_type_hint):
        return _query(self.server, token_string, token_type_hint)

    def revoke_token(self, token, request):
        grants_svc.revoke_token(self.server.store, token.record, actor=f"client:{request.client.client_id}")


class IntrospectionEndpoint(_IntrospectionEndpoint):
    # RFC 7662 §2.1: the caller must authenticate, so public clients cannot introspect.
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def authenticate_endpoint_client(self, request):
        try:
            return super().authenticate_endpoint_client(request)
        except InvalidClientError as error:
            raise IntrospectionClientError(description=error.description) from None

    def check_params(self, request, client):
        _check_params(request)

    def query_token(self, token_string, token_type_hint):
        return _query(self.server, token_string, token_type_hint)

    def check_permission(self, token, client, request):
        # An app may introspect its own tokens only; anything else reads as inactive.
        return token.check_client(client)

    def introspect_token(self, token):
        r = token.record
        return {
            "active": True,
            "client_id": r.client_id,
            "token_type": "Bearer" if r.kind == "access_token" else "refresh_token",
            "scope": r.scope,
            "sub": str(r.user_id),
            "aud": r.client_id,
            "iss": self.server.issuer,
            "exp": int(r.expires_at),
            "iat": int(r.created_at),
        }
