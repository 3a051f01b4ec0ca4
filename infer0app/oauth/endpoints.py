"""RFC 7009 token revocation and RFC 7662 token introspection on authlib's endpoints."""

from __future__ import annotations

from authlib.oauth2.rfc7009 import RevocationEndpoint as _RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint as _IntrospectionEndpoint

from ..services import grants as grants_svc
from .models import Token


def _query(server, token_string, hint):
    record = grants_svc.find_token(server.store, token_string, hint)
    return Token(record) if record is not None else None


class RevocationEndpoint(_RevocationEndpoint):
    # Public clients revoke with their client_id alone (RFC 7009 §2.1 allows it for them).
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def query_token(self, token_string, token_type_hint):
        return _query(self.server, token_string, token_type_hint)

    def revoke_token(self, token, request):
        grants_svc.revoke_token(self.server.store, token.record, actor=f"client:{request.client.client_id}")


class IntrospectionEndpoint(_IntrospectionEndpoint):
    # RFC 7662 §2.1: the caller must authenticate, so public clients cannot introspect.
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

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
