"""Our rows seen through authlib's model mixins (ClientMixin, AuthorizationCodeMixin, TokenMixin)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, TokenMixin

from ..services import apps as apps_svc
from ..services import grants as grants_svc
from ..services.apps import AppView
from ..services.grants import CodeRecord, TokenRecord

CONFIDENTIAL_AUTH = ("client_secret_basic", "client_secret_post")
GRANT_TYPES = ("authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code")


@dataclass(frozen=True)
class EndUser:
    id: int
    email: str = ""

    def get_user_id(self):
        return self.id


class Client(ClientMixin):
    def __init__(self, app: AppView, store, secrets: apps_svc.SecretHashes | None = None):
        self.app = app
        self._store = store
        self._secrets = secrets or apps_svc.SecretHashes(None)  # read with the app row: no second query

    @property
    def client_id(self) -> str:
        return self.app.client_id

    @property
    def is_public(self) -> bool:
        return self.app.is_public

    def get_client_id(self):
        return self.app.client_id

    def get_default_redirect_uri(self):
        # Only unambiguous: with several registered URIs the request must name one.
        return self.app.redirect_uris[0] if len(self.app.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope):
        return grants_svc.normalize_scope(scope)

    def check_redirect_uri(self, redirect_uri):
        return apps_svc.redirect_uri_matches(self.app.redirect_uris, redirect_uri, is_public=self.app.is_public)

    def check_client_secret(self, client_secret):
        if self.app.is_public:
            return False
        return self._secrets.accepts(client_secret or "", time.time())

    def check_endpoint_auth_method(self, method, endpoint):
        if self.app.is_public:
            return method == "none"
        if self.app.token_endpoint_auth_method:
            return method == self.app.token_endpoint_auth_method  # registered via RFC 7591
        return method in CONFIDENTIAL_AUTH

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type in GRANT_TYPES


class AuthorizationCode(AuthorizationCodeMixin):
    def __init__(self, record: CodeRecord):
        self.record = record
        self.code_challenge = record.code_challenge
        self.code_challenge_method = record.code_challenge_method

    def get_redirect_uri(self):
        return self.record.redirect_uri

    def get_scope(self):
        return self.record.scope


class Token(TokenMixin):
    def __init__(self, record: TokenRecord, clock: Callable[[], float] = time.time):
        """`clock`: the store's (Store.clock), so expiry follows the same "now" as the services."""
        self.record = record
        self.clock = clock

    def check_client(self, client):
        return client is not None and self.record.client_id == client.get_client_id()

    def get_scope(self):
        return self.record.scope

    def get_expires_in(self):
        return max(0, int(self.record.expires_at - self.clock()))

    def is_expired(self):
        return self.record.expires_at <= self.clock()

    def is_revoked(self):
        if self.record.kind == "refresh_token" and self.record.refresh_used:
            return True
        return self.record.revoked

    def get_user(self):
        return EndUser(self.record.user_id)

    def get_client(self):
        return None
