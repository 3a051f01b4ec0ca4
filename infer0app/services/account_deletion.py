"""Deleting an account for good (issue 17 §2): the person's own "Delete my account", and the
operator's `infer0 users delete` / the admin TUI, through the same `delete_account`.

What goes, in one transaction:
- every app the user registered, with every grant and token of it (other people's too: their
  apps stop working, which the page and the TUI warn about first);
- every grant and token of the user;
- every provider connection, its key erased first (services/erasure.py: ciphertext and wrapped
  data key overwritten in place before the row is deleted, with SQLite's secure_delete on, then
  the WAL checkpointed and truncated, so the sealed bytes are in neither file afterwards);
- sessions, two-factor secret, recovery codes, reset links, device authorizations (cascade);
- the user's usage rows (raw and daily).

What stays: the audit log, without personal data: rows that named the account by email, as
actor or target, now name it `user:<id>`, their client addresses are blanked, and one
`user.delete` row records who deleted it and how much went, in counts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from peewee import fn

from ..store.models import AuditEvent, Grant, OAuthApp, ProviderConnection, Token, UsageDaily, UsageEvent, User
from . import audit
from .accounts import get_user_by_email, verify_password
from .erasure import checkpoint_wal, erase_connection_keys
from .errors import ValidationError


@dataclass(frozen=True)
class OwnedApp:
    name: str
    client_id: str
    other_users: int  # people besides the owner with a live grant: they lose the app


@dataclass(frozen=True)
class DeletionPreview:
    """What deleting the account takes with it, for the warning before it."""

    email: str
    apps: tuple[OwnedApp, ...]
    connections: int
    live_grants: int


@dataclass(frozen=True)
class DeletionResult:
    user_id: int
    apps_deleted: int
    grants_ended: int  # live grants revoked by the deletion: the user's own and their apps' users'
    connections_erased: int
    wal_truncated: bool  # False: a reader held the WAL; its frames are overwritten by later writes


def deletion_preview(store, user_id: int) -> DeletionPreview:
    with store.read():
        user = User.get_by_id(user_id)
        apps = []
        for app in OAuthApp.select().where(OAuthApp.owner == user_id).order_by(OAuthApp.name):
            others = (Grant.select(fn.COUNT(fn.DISTINCT(Grant.user)))
                      .where((Grant.app == app.id) & Grant.revoked_at.is_null() & (Grant.user != user_id)).scalar())
            apps.append(OwnedApp(app.name, app.client_id, int(others or 0)))
        connections = ProviderConnection.select().where(ProviderConnection.user == user_id).count()
        grants = Grant.select().where((Grant.user == user_id) & Grant.revoked_at.is_null()).count()
    return DeletionPreview(user.email, tuple(apps), connections, grants)


def _anonymize_audit(user_id: int, email: str) -> None:
    """Inside a write: the audit rows that named the account by email name it by id instead."""
    pseudonym = audit.user_actor(user_id)
    AuditEvent.update(actor=pseudonym, ip="").where(
        (AuditEvent.actor == audit.user_actor(email)) | (AuditEvent.actor == pseudonym)).execute()
    AuditEvent.update(target=pseudonym).where(AuditEvent.target == email).execute()
    for spelled in {email, json.dumps(email)[1:-1]}:  # as typed, and as JSON writes it
        AuditEvent.update(detail=fn.REPLACE(AuditEvent.detail, spelled, pseudonym)).where(
            AuditEvent.detail.contains(spelled)).execute()


def delete_account(store, user_id: int, *, actor: str) -> DeletionResult:
    """Delete the account `user_id` and everything above; `actor` is who asked (the user,
    `audit.user_actor(user_id)`, or an operator face). A missing id raises User.DoesNotExist:
    callers resolve the user first (`delete_user_by_email` does)."""
    with store.write():
        email = User.get_by_id(user_id).email
        app_ids = [a.id for a in OAuthApp.select(OAuthApp.id).where(OAuthApp.owner == user_id)]
        client_ids = [a.client_id for a in OAuthApp.select(OAuthApp.client_id).where(OAuthApp.id.in_(app_ids))]
        doomed = Grant.select(Grant.id).where((Grant.user == user_id) | Grant.app.in_(app_ids))
        live = Grant.select().where(Grant.id.in_(doomed) & Grant.revoked_at.is_null()).count()
        # Explicit, so tokens die even on a connection without foreign_keys=ON (as apps.delete_app does).
        Token.delete().where(Token.grant.in_(doomed)).execute()
        Grant.delete().where(Grant.id.in_(doomed)).execute()
        OAuthApp.delete().where(OAuthApp.id.in_(app_ids)).execute()
        erased = erase_connection_keys(ProviderConnection.user == user_id)
        ProviderConnection.delete().where(ProviderConnection.user == user_id).execute()
        UsageEvent.delete().where(UsageEvent.user_id == user_id).execute()
        UsageDaily.delete().where(UsageDaily.user_id == user_id).execute()
        _anonymize_audit(user_id, email)
        User.delete().where(User.id == user_id).execute()  # sessions, 2FA, resets, devices: cascade
    # No address on this row either: it would be the person's, and the audit keeps none of theirs.
    audit.record(store, actor, "user.delete", audit.user_actor(user_id),
                 apps_deleted=client_ids, grants_ended=live, connections_erased=erased)
    truncated = checkpoint_wal(store)
    return DeletionResult(user_id, len(app_ids), live, erased, truncated)


def delete_own_account(store, user_id: int, password: str) -> DeletionResult:
    """The person deletes their own account, confirming with their password (ValidationError,
    field "password", when it is wrong; nothing is deleted then)."""
    with store.read():
        stored = User.get_by_id(user_id).password_hash
    if not stored or not verify_password(password or "", stored):
        raise ValidationError("Your password is not right; nothing was deleted.", field="password")
    return delete_account(store, user_id, actor=audit.user_actor(user_id))


def delete_user_by_email(store, email: str, *, actor: str) -> DeletionResult:
    """The operator's delete (CLI, TUI). NotFound for an unknown email."""
    return delete_account(store, get_user_by_email(store, email).id, actor=actor)
