"""Read-only views for operators (TUI and CLI): counts, lists and details across tables.

Every function only reads; actions (disable, revoke, rotate) go through their own
services (accounts, apps, grants, kek_rotation), which write the audit log. Nothing here
returns a secret: provider keys appear only as their stored masked tail.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import peewee as pw

from ..store.models import AuditEvent, Grant, OAuthApp, ProviderConnection, Token, UsageEvent, User
from ..vault.keyring import KeyringError, Vault
from . import runtime

MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0


# -- overview -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Overview:
    users: int
    users_disabled: int
    apps: int
    apps_disabled: int
    active_grants: int
    requests_hour: int
    errors_hour: int
    requests_day: int
    errors_day: int
    per_minute: list[int]  # requests in each of the last 60 minutes, oldest first
    db_bytes: int
    kek_id: str
    kek_created: float | None
    servers: int
    secrets: int


def requests_per_minute(store, *, minutes: int = 60, now: float | None = None) -> list[int]:
    with store.read():
        now = time.time() if now is None else now
        start = now - minutes * MINUTE
        bucket = pw.Cast(pw.fn.FLOOR((UsageEvent.created_at - start) / MINUTE) if store.is_postgres
                         else (UsageEvent.created_at - start) / MINUTE, "INTEGER")  # PostgreSQL's cast rounds
        counts = [0] * minutes
        query = (UsageEvent.select(bucket.alias("b"), pw.fn.COUNT(UsageEvent.id).alias("n"))
                 .where(UsageEvent.created_at > start, UsageEvent.created_at <= now).group_by(pw.SQL('"b"')).tuples())  # by alias: PostgreSQL binds the
        # SELECT's and a repeated GROUP BY expression's parameters apart, then calls them different
        for b, n in query:
            if 0 <= b < minutes:
                counts[b] = n
        return counts


def _usage_counts(since: float) -> tuple[int, int]:
    row = (UsageEvent.select(pw.fn.COUNT(UsageEvent.id),
                             pw.fn.SUM(pw.Case(None, [(UsageEvent.status >= 400, 1)], 0)))
           .where(UsageEvent.created_at >= since).tuples().first())
    return (row[0] or 0, row[1] or 0) if row else (0, 0)


def overview(store, keyring_file: Path, *, now: float | None = None) -> Overview:
    now = time.time() if now is None else now
    with store.read():
        users = User.select().count()
        users_disabled = User.select().where(User.disabled).count()
        apps = OAuthApp.select().count()
        apps_disabled = OAuthApp.select().where(OAuthApp.disabled).count()
        active = (Grant.select().join(OAuthApp).switch(Grant).join(User)
                  .where(Grant.revoked_at.is_null(), ~OAuthApp.disabled, ~User.disabled).count())
        req_h, err_h = _usage_counts(now - HOUR)
        req_d, err_d = _usage_counts(now - DAY)
        per_minute = requests_per_minute(store, now=now)
        secrets = ProviderConnection.select().where(ProviderConnection.kek_id.is_null(False)).count()
    try:
        ring = Vault.load(keyring_file)
        kek_id, kek_created = ring.primary, ring.keys[ring.primary].created
    except KeyringError:
        kek_id, kek_created = "(keyring unreadable)", None
    return Overview(users, users_disabled, apps, apps_disabled, active, req_h, err_h, req_d, err_d, per_minute,
                    store.database_bytes(), kek_id, kek_created, len(runtime.live_servers(store, now=now)),
                    secrets)


# -- users --------------------------------------------------------------------------------
@dataclass(frozen=True)
class UserRow:
    id: int
    email: str
    disabled: bool
    created_at: float
    last_login_at: float | None
    providers: int
    apps: int  # apps with an active grant


@dataclass(frozen=True)
class ProviderRow:
    id: int
    kind: str
    name: str
    key_tail: str  # the stored masked hint, never the key
    model: str
    is_default: bool


@dataclass(frozen=True)
class AuthorizedApp:
    grant_id: int
    app_id: int
    client_id: str
    name: str
    created_at: float
    last_used_at: float | None


@dataclass(frozen=True)
class UserDetail:
    user: UserRow
    providers: list[ProviderRow]
    apps: list[AuthorizedApp]


def _provider_counts() -> dict[int, int]:
    q = (ProviderConnection.select(ProviderConnection.user, pw.fn.COUNT(ProviderConnection.id))
         .group_by(ProviderConnection.user).tuples())
    return dict(q)


def _active_app_counts_by_user() -> dict[int, int]:
    q = (Grant.select(Grant.user, pw.fn.COUNT(Grant.app.distinct()))
         .where(Grant.revoked_at.is_null()).group_by(Grant.user).tuples())
    return dict(q)


def list_users(store, search: str = "", *, limit: int = 500) -> list[UserRow]:
    with store.read():
        query = User.select().order_by(User.email).limit(limit)
        if search.strip():
            query = query.where(User.email.contains(search.strip().lower()))
        users = list(query)
        providers = _provider_counts()
        apps = _active_app_counts_by_user()
    return [UserRow(u.id, u.email, bool(u.disabled), u.created_at, u.last_login_at, providers.get(u.id, 0),
                    apps.get(u.id, 0)) for u in users]


def user_detail(store, user_id: int) -> UserDetail | None:
    with store.read():
        u = User.get_or_none(User.id == user_id)
        if u is None:
            return None
        providers = [ProviderRow(c.id, c.kind, c.name, c.key_tail or "", c.default_model, bool(c.is_default))
                     for c in ProviderConnection.select().where(ProviderConnection.user == user_id)
                     .order_by(ProviderConnection.is_default.desc(), ProviderConnection.id)]
        apps = [AuthorizedApp(g.id, g.app.id, g.app.client_id, g.app.name, g.created_at, g.last_used_at)
                for g in Grant.select(Grant, OAuthApp).join(OAuthApp)
                .where(Grant.user == user_id, Grant.revoked_at.is_null()).order_by(Grant.id)]
        row = UserRow(u.id, u.email, bool(u.disabled), u.created_at, u.last_login_at, len(providers),
                      len({a.app_id for a in apps}))
    return UserDetail(row, providers, apps)


# -- apps ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class AppRow:
    id: int
    client_id: str
    name: str
    owner_email: str
    is_public: bool
    redirect_uris: list[str]
    created_at: float
    disabled: bool
    users_connected: int  # distinct users with an active grant
    requests_day: int
    requests_total: int
    origin: str = "dashboard"  # "dashboard" | "dynamic" (RFC 7591 registration)
    verified: bool = False
    registered_from: str = ""  # address of a dynamic registration
    homepage_url: str = ""

    @property
    def type(self) -> str:
        return "public" if self.is_public else "confidential"

    @property
    def owner_label(self) -> str:
        return self.owner_email or "(registered dynamically)"


def _redirects(raw: str) -> list[str]:
    try:
        value = json.loads(raw or "[]")
    except ValueError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


def list_apps(store, search: str = "", *, now: float | None = None, limit: int = 500) -> list[AppRow]:
    now = time.time() if now is None else now
    with store.read():
        query = (OAuthApp.select(OAuthApp, User.email.alias("owner_email"))
                 .join(User, pw.JOIN.LEFT_OUTER, on=(OAuthApp.owner == User.id))
                 .order_by(OAuthApp.name, OAuthApp.id).limit(limit).objects())
        s = search.strip()
        if s:
            query = query.where(OAuthApp.name.contains(s) | OAuthApp.client_id.contains(s) | User.email.contains(s))
        apps = list(query)
        connected = dict(Grant.select(Grant.app, pw.fn.COUNT(Grant.user.distinct()))
                         .where(Grant.revoked_at.is_null()).group_by(Grant.app).tuples())
        day = dict(UsageEvent.select(UsageEvent.app_id, pw.fn.COUNT(UsageEvent.id))
                   .where(UsageEvent.created_at >= now - DAY).group_by(UsageEvent.app_id).tuples())
        total = dict(UsageEvent.select(UsageEvent.app_id, pw.fn.COUNT(UsageEvent.id))
                     .group_by(UsageEvent.app_id).tuples())
    return [AppRow(a.id, a.client_id, a.name, a.owner_email or "", bool(a.is_public), _redirects(a.redirect_uris),
                   a.created_at, bool(a.disabled), connected.get(a.id, 0), day.get(a.id, 0), total.get(a.id, 0),
                   a.origin, bool(a.verified), a.registered_from, a.homepage_url or "")
            for a in apps]


# -- grants -------------------------------------------------------------------------------
@dataclass(frozen=True)
class GrantRow:
    id: int
    user_id: int
    user_email: str
    app_id: int
    client_id: str
    app_name: str
    provider: str  # "kind/name" or "" when the connection was deleted
    model: str
    scope: str
    created_at: float
    last_used_at: float | None
    active_tokens: int


def list_active_grants(store, *, user_id: int | None = None, app_id: int | None = None, search: str = "",
                       now: float | None = None, limit: int = 1000) -> list[GrantRow]:
    """Active grants (services.grant_views.list_grants) with their live token counts, most recently used first."""
    from . import grant_views

    now = time.time() if now is None else now
    with store.read():
        views = grant_views.list_grants(store, user_id=user_id, app_id=app_id)
        live = (Token.revoked_at.is_null()
                & ((Token.access_expires_at > now) | (Token.refresh_expires_at > now)))
        tokens = dict(Token.select(Token.grant, pw.fn.COUNT(Token.id)).where(live).group_by(Token.grant).tuples())
    s = search.strip().lower()
    if s:
        views = [g for g in views if s in g.user_email.lower() or s in g.app_name.lower() or s in g.client_id.lower()]
    views.sort(key=lambda g: (g.last_used_at is not None, g.last_used_at or 0.0, g.id), reverse=True)
    return [GrantRow(g.id, g.user_id, g.user_email, g.app_id, g.client_id, g.app_name,
                     f"{g.provider_kind}/{g.provider_name}" if g.provider_id is not None else "", g.model, g.scope,
                     g.created_at, g.last_used_at, tokens.get(g.id, 0))
            for g in views[:limit]]


# -- audit --------------------------------------------------------------------------------
@dataclass(frozen=True)
class AuditRow:
    id: int
    created_at: float
    actor: str
    action: str
    target: str
    detail: str
    ip: str


def audit_log(store, *, text: str = "", action: str = "", since: float | None = None,
              until: float | None = None, limit: int | None = 500, oldest_first: bool = False) -> list[AuditRow]:
    """Newest first (or oldest first), at most `limit` rows (None: all). `text` matches actor,
    action, target or detail; `action` is exact or a prefix ending in '.'; `since` <= created_at
    < `until` (epoch seconds, either may be None)."""
    order = (AuditEvent.created_at, AuditEvent.id) if oldest_first else (
        AuditEvent.created_at.desc(), AuditEvent.id.desc())
    with store.read():
        query = AuditEvent.select().order_by(*order).limit(limit)
        if until is not None:
            query = query.where(AuditEvent.created_at < until)
        if action:
            query = query.where(AuditEvent.action.startswith(action) if action.endswith(".")
                                else AuditEvent.action == action)
        if since is not None:
            query = query.where(AuditEvent.created_at >= since)
        t = text.strip()
        if t:
            query = query.where(AuditEvent.actor.contains(t) | AuditEvent.action.contains(t)
                                | AuditEvent.target.contains(t) | AuditEvent.detail.contains(t))
        return [AuditRow(e.id, e.created_at, e.actor, e.action, e.target, e.detail, e.ip) for e in query]
