"""Populate a real database through the services: a user, a provider connection, an app, a grant, tokens."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from infer0app.services import accounts, apps, grant_views, grants, providers
from infer0app.services.secrets_util import new_token, sha256_hex

_counter = itertools.count(1)


@dataclass
class Seeded:
    user_id: int
    email: str
    provider_id: int
    app_id: int
    client_id: str
    client_secret: str | None
    grant_id: int
    access_token: str
    refresh_token: str


def seed_grant(store, vault, *, kind: str, base_url: str = "", api_key: str | None = None, model: str = "",
               options: dict | None = None, email: str | None = None) -> Seeded:
    n = next(_counter)
    email = email or f"user{n}@example.com"
    user = accounts.create_user(store, email, None, actor="cli:test")
    conn = providers.add_connection(store, vault, user.id, kind=kind, base_url=base_url, api_key=api_key,
                                    model=model, options=options)
    dev = accounts.create_user(store, f"dev{n}-{email}", None, actor="cli:test")
    app, secret = apps.create_app(store, dev.id, name=f"Test app {n}", redirect_uris=["http://127.0.0.1:9/cb"],
                                  actor="cli:test")
    code = grants.approve(store, user_id=user.id, app_id=app.id, provider_id=conn.id, model=conn.default_model,
                          scope="", redirect_uri="http://127.0.0.1:9/cb", code_challenge=None,
                          code_challenge_method=None)
    access, refresh = new_token("i0_at_"), new_token("i0_rt_")
    grants.redeem_code(store, sha256_hex(code), access_token=access, refresh_token=refresh, scope="",
                       access_ttl=3600, refresh_ttl=86400)
    grant = grant_views.active_grant_for(store, user.id, app.id)
    return Seeded(user.id, email, conn.id, app.id, app.client_id, secret, grant.id, access, refresh)
