"""Consent the user need not repeat (issue 16 §4; OpenID Connect Core §3.1.2.1's `prompt`).

A user who approved an app through a redirect is not asked again when the app comes back with
the same scope and the same redirect URI, while that grant is still active, its provider
connection still exists, and the app's registered redirect URIs are what they were at the
approval. The code is then issued for the existing grant unchanged: its provider, model and
limits stay as the user set them.
"""

from __future__ import annotations

from ..store.models import Grant, OAuthApp
from . import audit
from .grants import GrantGone, create_code, normalize_scope


def reusable_grant(store, *, user_id: int, app_id: int, scope: str, redirect_uri: str) -> int | None:
    """The id of the user's active grant of the app that already covers this request, or None.

    `scope` is the normalized scope (services.grants.normalize_scope); `redirect_uri` the one the
    request names (or the app's only registered one)."""
    if not redirect_uri:
        return None
    with store.read():
        row = (Grant.select(Grant.id, Grant.provider, Grant.scope, Grant.consent_redirect_uri,
                            Grant.consent_redirect_uris, OAuthApp.redirect_uris.alias("registered"))
               .join(OAuthApp, on=(Grant.app == OAuthApp.id))
               .where((Grant.user == user_id) & (Grant.app == app_id) & Grant.revoked_at.is_null())
               .dicts().first())
    if row is None or row["provider"] is None or normalize_scope(row["scope"]) != normalize_scope(scope):
        return None
    if row["consent_redirect_uri"] != redirect_uri or row["consent_redirect_uris"] != row["registered"]:
        return None
    return row["id"]


def remember(store, *, user_id: int, app_id: int, redirect_uri: str) -> None:
    """After an approval through a redirect: remember `redirect_uri` and the app's registered redirect
    URIs of the moment on the user's active grant of the app."""
    with store.write():
        registered = OAuthApp.select(OAuthApp.redirect_uris).where(OAuthApp.id == app_id)
        (Grant.update(consent_redirect_uri=redirect_uri, consent_redirect_uris=registered)
         .where((Grant.user == user_id) & (Grant.app == app_id) & Grant.revoked_at.is_null()).execute())


def issue_code(store, grant_id: int, *, user_id: int, redirect_uri: str, scope: str, code_challenge: str | None,
               code_challenge_method: str | None, actor: str = "") -> str:
    """A code for an existing grant, leaving the grant as it is; returns the code.

    Raises services.grants.GrantGone if the grant was revoked since `reusable_grant` saw it."""
    with store.write():
        grant = Grant.get_or_none((Grant.id == grant_id) & (Grant.user == user_id) & Grant.revoked_at.is_null())
        if grant is None:
            raise GrantGone("This authorization was revoked.")
        code = create_code(grant_id, grant.app_id, redirect_uri=redirect_uri, scope=scope,
                           code_challenge=code_challenge, code_challenge_method=code_challenge_method,
                           now=store.clock())
    audit.record(store, actor or audit.user_actor(user_id), "grant.reuse", f"grant:{grant_id}", app_id=grant.app_id)
    return code
