"""What pages, the CLI and the TUI show of grants: an authorized app with its provider and model.

Read-only views; the rules for creating, changing and revoking grants are in services/grants.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import peewee as pw

from ..gateway.providers.kinds import KINDS
from ..store.models import Grant, OAuthApp, ProviderConnection, User
from .errors import NotFound


@dataclass(frozen=True)
class GrantView:
    id: int
    user_id: int
    user_email: str
    app_id: int
    client_id: str
    app_name: str
    app_homepage: str
    developer_email: str
    provider_id: int | None
    provider_name: str | None
    provider_kind: str | None
    model: str
    scope: str
    created_at: float
    last_used_at: float | None
    allow_model_choice: bool = False
    chosen_model: str = ""  # as stored: '' = the connection's default model
    embedding_model: str = ""  # resolved: the chosen one, else the kind's default ('' = none)
    chosen_embedding_model: str = ""  # as stored


def _grant_query():
    owner = User.alias("owner")
    return (Grant.select(Grant.id, Grant.user, User.email.alias("user_email"), Grant.app,
                         OAuthApp.client_id, OAuthApp.name.alias("app_name"), OAuthApp.homepage_url,
                         owner.email.alias("developer_email"), Grant.provider,
                         ProviderConnection.name.alias("provider_name"), ProviderConnection.kind,
                         ProviderConnection.default_model, Grant.model, Grant.scope, Grant.created_at,
                         Grant.last_used_at, Grant.allow_model_choice, Grant.embedding_model)
            .join(User, on=(Grant.user == User.id))
            .switch(Grant).join(OAuthApp, on=(Grant.app == OAuthApp.id))
            .join(owner, pw.JOIN.LEFT_OUTER, on=(OAuthApp.owner == owner.id))
            .switch(Grant).join(ProviderConnection, pw.JOIN.LEFT_OUTER, on=(Grant.provider == ProviderConnection.id))
            .where(Grant.revoked_at.is_null()))


def _grant_view(row: dict) -> GrantView:
    kind = row["kind"]
    model = row["model"] or row["default_model"] or (KINDS[kind].default_model if kind in KINDS else "")
    embedding = row["embedding_model"] or (KINDS[kind].embedding_model if kind in KINDS else "")
    return GrantView(row["id"], row["user"], row["user_email"], row["app"], row["client_id"], row["app_name"],
                     row["homepage_url"], row["developer_email"] or "", row["provider"], row["provider_name"], kind,
                     model, row["scope"], row["created_at"], row["last_used_at"], bool(row["allow_model_choice"]),
                     row["model"] or "", embedding, row["embedding_model"] or "")


def list_grants(store, user_id: int | None = None, app_id: int | None = None) -> list[GrantView]:
    """Active (unrevoked) grants, newest first."""
    with store.read():
        query = _grant_query().order_by(Grant.created_at.desc(), Grant.id.desc())
        if user_id is not None:
            query = query.where(Grant.user == user_id)
        if app_id is not None:
            query = query.where(Grant.app == app_id)
        return [_grant_view(row) for row in query.dicts()]


def get_user_grant(store, user_id: int, grant_id: int) -> GrantView:
    with store.read():
        row = _grant_query().where((Grant.id == grant_id) & (Grant.user == user_id)).dicts().first()
        if row is None:
            raise NotFound("That connected app does not exist (or is not yours).")
        return _grant_view(row)


def active_grant_for(store, user_id: int, app_id: int) -> GrantView | None:
    with store.read():
        row = _grant_query().where((Grant.user == user_id) & (Grant.app == app_id)).dicts().first()
        return _grant_view(row) if row is not None else None
