"""The two grants infer0 offers, on authlib's classes, and PKCE restricted to S256.

Where authlib's defaults differ from our contract, the subclass says so:

- codes are generated and stored by `services.grants.approve` (256 bits, with the user's
  provider choice), and the redirect keeps the registered URI byte for byte and adds `iss`;
- a code is claimed in the same transaction that stores its tokens (authlib would look it
  up, issue, then delete: two concurrent redemptions could both win); a used code coming
  back revokes the tokens issued from it;
- refresh tokens always rotate, and a spent one coming back revokes the whole grant: authlib
  has no reuse detection, so `validate_token_request` is ours (the operator may allow the same
  client a short grace, --refresh-reuse-interval: see services.grants.rotate_refresh);
- PKCE: S256 only (plain, or a challenge without a method, is refused), and public clients
  must use it at the authorization endpoint already, not only at the token endpoint.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlencode

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import AccessDeniedError, InvalidGrantError, InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge, create_s256_code_challenge

from ..services import consent_reuse
from ..services import grants as grants_svc
from .models import AuthorizationCode, EndUser, Token

TOKEN_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


def redirect_with(redirect_uri: str, params: list[tuple[str, str]]) -> str:
    """Add parameters to a registered redirect URI without re-encoding what it already has."""
    query = urlencode(params)
    if "?" not in redirect_uri:
        return f"{redirect_uri}?{query}"
    if redirect_uri.endswith(("?", "&")):
        return redirect_uri + query
    return f"{redirect_uri}&{query}"


def _s256_matches(verifier: str, challenge: str) -> bool:
    return hmac.compare_digest(create_s256_code_challenge(verifier).encode(), (challenge or "").encode())


class S256CodeChallenge(CodeChallenge):
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    CODE_CHALLENGE_METHODS = {"S256": _s256_matches}

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        challenge, method = data.get("code_challenge"), data.get("code_challenge_method")
        if not challenge and not method:
            if grant.request.client.is_public:
                raise InvalidRequestError("Public clients must use PKCE: send code_challenge and "
                                          "code_challenge_method=S256.")
            return
        if method != "S256":
            raise InvalidRequestError("Unsupported 'code_challenge_method': only S256 is accepted (plain is not).")
        super().validate_code_challenge(grant, redirect_uri)


def record_consent(store, user, app_id: int, consent, *, scope: str, redirect_uri: str, remember_uri: str = "",
                   code_challenge: str | None = None, code_challenge_method: str | None = None) -> str:
    """The user's decision on the consent page (server.Consent) as a new code: for the grant they
    already have when `consent.reuse_grant_id` is set (the page was skipped: provider, model and
    limits stay as they are), else recorded by services.grants.approve. Shared by the
    authorization code grant and the device grant (redirect_uri "" there). ValidationError for
    a connection that is not the user's; GrantGone if a reused grant was revoked meanwhile.
    `remember_uri`: the redirect URI the code goes to (the registered one when the request named
    none), remembered so the next request with it may skip the page (services.consent_reuse)."""
    actor = f"user:{user.email}" if user.email else ""
    if consent.reuse_grant_id is not None:
        return consent_reuse.issue_code(store, consent.reuse_grant_id, user_id=user.id, redirect_uri=redirect_uri,
                                        scope=scope, code_challenge=code_challenge,
                                        code_challenge_method=code_challenge_method, actor=actor)
    with store.write():
        code = grants_svc.approve(store, user_id=user.id, app_id=app_id, provider_id=consent.provider_id,
                                  model=consent.model, scope=scope, redirect_uri=redirect_uri,
                                  code_challenge=code_challenge, code_challenge_method=code_challenge_method,
                                  actor=actor, allow_model_choice=consent.allow_model_choice,
                                  model_other=consent.model_other, embedding_model=consent.embedding_model,
                                  limits=consent.limits)
        if remember_uri:
            consent_reuse.remember(store, user_id=user.id, app_id=app_id, redirect_uri=remember_uri)
    return code


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS

    @property
    def store(self):
        return self.server.store

    def create_authorization_response(self, redirect_uri: str, grant_user):
        if not grant_user:
            raise AccessDeniedError(redirect_uri=redirect_uri)
        request = self.request
        request.user = grant_user
        data = request.payload.data
        code = record_consent(self.store, grant_user, request.client.app.id, request.consent, scope=request.scope,
                              redirect_uri=request.payload.redirect_uri or "", remember_uri=redirect_uri,
                              code_challenge=data.get("code_challenge") or None,
                              code_challenge_method=data.get("code_challenge_method") or None)
        params = [("code", code)]
        if request.payload.state:
            params.append(("state", request.payload.state))
        params.append(("iss", self.server.issuer))
        return 303, "", [("Location", redirect_with(redirect_uri, params))]

    def save_authorization_code(self, code, request):  # pragma: no cover - approve() stores codes
        raise NotImplementedError("codes are stored by services.grants.approve")

    def query_authorization_code(self, code, client):
        record = grants_svc.find_code(self.store, code)
        if record is None:
            return None
        if record.used_at is not None:
            grants_svc.revoke_code_tokens(self.store, record.code_hash, actor=f"client:{client.client_id}")
            return None
        if record.client_id != client.client_id or not record.usable or record.expires_at <= self.store.clock():
            return None
        return AuthorizationCode(record)

    def delete_authorization_code(self, authorization_code):
        """Nothing to do: `save_token` claimed the code atomically (used codes are kept to catch replays)."""

    def authenticate_user(self, authorization_code):
        return EndUser(authorization_code.record.user_id)

    def save_token(self, token):
        record = self.request.authorization_code.record
        settings = self.server.settings
        try:
            grants_svc.redeem_code(self.store, record.code_hash, access_token=token["access_token"],
                                   refresh_token=token.get("refresh_token"), scope=token.get("scope", ""),
                                   access_ttl=settings.access_token_ttl, refresh_ttl=settings.refresh_token_ttl,
                                   actor=f"client:{self.request.client.client_id}")
        except grants_svc.CodeAlreadyUsed:
            raise InvalidGrantError("This code was already used; the tokens issued from it are revoked.") from None
        except grants_svc.GrantGone as exc:
            raise InvalidGrantError(exc.message) from None


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation: every refresh spends the old refresh token

    @property
    def store(self):
        return self.server.store

    def validate_token_request(self):
        client = self._validate_request_client()
        self.request.client = client
        value = self.request.form.get("refresh_token")
        if not value:
            raise InvalidRequestError("Missing 'refresh_token' in request.")
        record = grants_svc.find_refresh_token(self.store, value)
        if record is None or record.client_id != client.client_id:
            raise InvalidGrantError("Invalid 'refresh_token'.")
        if record.refresh_used and not self.server.settings.refresh_reuse_interval:
            grants_svc.refresh_reused(self.store, record, actor=f"client:{client.client_id}")
            raise InvalidGrantError("This refresh token was already used; the authorization has been revoked. "
                                    "Send the user through /oauth/authorize again.")
        # With a reuse interval, rotate_refresh decides about a spent token, atomically.
        if (record.revoked and not record.refresh_used) or (record.refresh_expires_at or 0) <= self.store.clock():
            raise InvalidGrantError("The refresh token is expired or revoked.")
        token = Token(record, self.store.clock)
        self._validate_token_scope(token)
        self.request.refresh_token = token

    def authenticate_user(self, refresh_token):
        return EndUser(refresh_token.record.user_id)

    def save_token(self, token):
        old = self.request.refresh_token.record
        settings = self.server.settings
        try:
            grants_svc.rotate_refresh(self.store, old.id, access_token=token["access_token"],
                                      refresh_token=token["refresh_token"], scope=token.get("scope", ""),
                                      access_ttl=settings.access_token_ttl, refresh_ttl=settings.refresh_token_ttl,
                                      actor=f"client:{self.request.client.client_id}",
                                      reuse_interval=settings.refresh_reuse_interval)
        except grants_svc.RefreshTokenReused:
            raise InvalidGrantError("This refresh token was already used; the authorization has been revoked. "
                                    "Send the user through /oauth/authorize again.") \
                from None
        except grants_svc.GrantGone:
            raise InvalidGrantError("The refresh token is expired or revoked.") from None

    def revoke_old_credential(self, refresh_token):
        """Nothing to do: `save_token` spent the old token in the transaction that stored the new one."""
