"""Grants (a user's authorization of an app), authorization codes and tokens.

A grant is one user's standing authorization of one app, with the provider connection and
model the app's calls go to. Codes and tokens hang off it; only SHA-256 hashes are stored.

Rules kept here (the OAuth layer in `oauth/` calls these; pages and the CLI call them too):

- a code is single use, lives at most CODE_TTL seconds, and redeeming it twice fails and
  revokes every token issued from it (RFC 6749 §4.1.2, §10.5);
- redemption and rotation are compare-and-set updates inside one IMMEDIATE transaction,
  so two concurrent redemptions of one code cannot both win, even across processes;
- refresh tokens rotate; presenting an already-used one revokes the whole grant (RFC 9700
  §4.14.2, reuse detection);
- tokens issued from one code (and their rotations) form a family, remembered by the
  code's hash: revoking a refresh token (RFC 7009) revokes its family.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..gateway.providers.kinds import KINDS
from ..store.models import AuthorizationCode, Grant, ProviderConnection, Token
from . import audit, device_codes, grant_claims, grant_limits
from .providers import connection_models
from .row_ids import parse_row_id
from .errors import ServiceError, ValidationError
from .grant_models import models_for
from .grant_views import GrantView, get_user_grant
from .secrets_util import new_token, sha256_hex

ACCESS_PREFIX = "i0_at_"
REFRESH_PREFIX = "i0_rt_"
CODE_TTL = 600  # seconds; RFC 6749 §4.1.2 recommends at most 10 minutes
#: What each scope lets an app do, in words for the consent page.
SCOPES = {
    "inference": "Send chat requests to the AI provider and model you choose below, on your account "
                 "with that provider. It never sees your API key.",
}
DEFAULT_SCOPE = "inference"
# Rows kept this long after they can no longer be used (replays of old codes are still caught).
RETENTION = 24 * 3600


class CodeAlreadyUsed(ServiceError):
    """The code was redeemed before; the tokens issued from it have been revoked."""


class RefreshTokenReused(ServiceError):
    """An already-rotated refresh token was presented; the whole grant has been revoked."""


class GrantGone(ServiceError):
    """The grant was revoked (or the user or app disabled) while the request was in flight."""


@dataclass(frozen=True)
class AccessContext:
    """Who an access token acts for. Holds no secret: safe to cache and to log."""

    token_id: int
    grant_id: int
    user_id: int
    user_email: str
    app_id: int
    client_id: str
    app_name: str
    provider_id: int | None
    provider_kind: str | None
    model: str
    scope: str
    expires_at: float
    allow_model_choice: bool = False  # the app may pick another of the connection's models
    embedding_model: str = ""  # for /v1/embeddings: the grant's choice, else the kind's default ('' = none)
    fallback_ids: tuple[int, ...] = ()  # connections tried in order when this one fails (issue 14 §3)


@dataclass(frozen=True)
class CodeRecord:
    code_hash: str
    grant_id: int
    app_id: int
    client_id: str
    user_id: int
    redirect_uri: str
    scope: str
    code_challenge: str | None
    code_challenge_method: str | None
    expires_at: float
    used_at: float | None
    usable: bool  # grant not revoked, user and app enabled


@dataclass(frozen=True)
class TokenRecord:
    id: int
    kind: str  # "access_token" or "refresh_token": which of the row's two secrets was presented
    grant_id: int
    app_id: int
    client_id: str
    user_id: int
    scope: str
    access_expires_at: float
    refresh_expires_at: float | None
    created_at: float
    code_hash: str | None
    revoked: bool  # the row, its grant, its user or its app
    refresh_used: bool

    @property
    def expires_at(self) -> float:
        if self.kind == "refresh_token":
            return self.refresh_expires_at or 0.0
        return self.access_expires_at


def normalize_scope(scope: str | None) -> str | None:
    """The scope to grant: the default when none is asked for, None when something unknown is."""
    wanted = (scope or "").split()
    if not wanted:
        return DEFAULT_SCOPE
    if any(s not in SCOPES for s in wanted):
        return None
    return " ".join(s for s in SCOPES if s in wanted)


def _own_connection(user_id: int, provider_id) -> ProviderConnection:
    pid = parse_row_id(provider_id)  # a form value: 99999999999999999999 must be "not yours", not an overflow
    conn = None if pid is None else ProviderConnection.get_or_none(
        (ProviderConnection.id == pid) & (ProviderConnection.user == user_id))
    if conn is None:
        raise ValidationError("Choose one of your provider connections.", field="provider")
    return conn


# -- consent and codes ----------------------------------------------------------------------
def approve(store, *, user_id: int, app_id: int, provider_id, model: str, scope: str, redirect_uri: str,
            code_challenge: str | None, code_challenge_method: str | None, actor: str = "",
            allow_model_choice: bool = False, model_other: str = "", embedding_model: str | None = None,
            limits=None) -> str:
    """Record the user's approval (creating or updating their grant) and return a fresh code.

    `model` is the model picked from the list ('' = the connection's default), `model_other` one
    typed for a custom endpoint; both are checked against the chosen connection
    (services/grant_models.py: a model left over from another connection becomes the default,
    a typed one the connection cannot serve raises ValidationError). `embedding_model` None keeps
    the grant's current one. `limits` (services.grant_limits.GrantLimits, or None to keep the
    grant's) are saved in the same transaction as the grant, so an approved grant never runs
    without the caps chosen."""
    with store.write():
        conn = _own_connection(user_id, provider_id)
        grant = Grant.get_or_none((Grant.user == user_id) & (Grant.app == app_id) & Grant.revoked_at.is_null())
        chosen = models_for(grant, conn, connection_models(conn), model=model, model_other=model_other,
                            embedding_model=embedding_model)
        model = chosen["model"]
        if grant is None:
            grant = Grant.create(user=user_id, app=app_id, provider=conn.id, scope=scope,
                                 allow_model_choice=allow_model_choice, **chosen)
        else:
            Grant.update(provider=conn.id, scope=scope, allow_model_choice=allow_model_choice,
                         **chosen).where(Grant.id == grant.id).execute()
        if limits is not None:
            grant_limits.set_grant_limits(store, grant.id, limits, actor=actor or audit.user_actor(user_id))
        code = create_code(grant.id, app_id, redirect_uri=redirect_uri, scope=scope, code_challenge=code_challenge,
                           code_challenge_method=code_challenge_method, now=store.clock())
    audit.record(store, actor or audit.user_actor(user_id), "grant.approve", f"grant:{grant.id}", app_id=app_id,
                 provider_id=conn.id, model=model)
    return code


def create_code(grant_id: int, app_id: int, *, redirect_uri: str, scope: str, code_challenge: str | None,
                code_challenge_method: str | None, now: float) -> str:
    """A new authorization code (256 bits) for a grant, stored hashed, valid CODE_TTL seconds from
    `now` (the store's clock). Call inside `store.write()`."""
    code = new_token(nbytes=32)
    AuthorizationCode.create(code_hash=sha256_hex(code), grant=grant_id, app=app_id, redirect_uri=redirect_uri or "",
                             scope=scope, code_challenge=code_challenge, code_challenge_method=code_challenge_method,
                             created_at=now, expires_at=now + CODE_TTL)
    return code


# The token endpoint's statements are written out in SQL (prepared once per connection by the
# sqlite3 module) rather than built by peewee on every call: building them was two thirds of an
# exchange's CPU (bench/README.md). Peewee still defines the schema; the OAuth integration tests
# run every one of these statements against it.
_FIND_CODE = (
    'SELECT c.code_hash, c.grant_id, c.app_id, a.client_id, g.user_id, c.redirect_uri, c.scope, '
    'c.code_challenge, c.code_challenge_method, c.expires_at, c.used_at, '
    'g.revoked_at IS NULL AND NOT u.disabled AND NOT a.disabled '
    'FROM "authorization_code" c JOIN "grant" g ON g.id = c.grant_id JOIN "user" u ON u.id = g.user_id '
    'JOIN "oauth_app" a ON a.id = c.app_id WHERE c.code_hash = ?')


def find_code(store, code: str) -> CodeRecord | None:
    if not code or len(code) > 200:
        return None
    row = store.db.execute_sql(_FIND_CODE, (sha256_hex(code),)).fetchone()
    if row is None:
        return None
    return CodeRecord(*row[:11], usable=bool(row[11]))


def _revoke_family(code_hash: str, now: float) -> int:
    return (Token.update(revoked_at=now)
            .where((Token.code_hash == code_hash) & Token.revoked_at.is_null()).execute())


def revoke_code_tokens(store, code_hash: str, *, actor: str = "oauth") -> int:
    """A code came back a second time: revoke what was issued from it (RFC 6749 §4.1.2)."""
    with store.write():
        count = _revoke_family(code_hash, store.clock())
    audit.record(store, actor, "code.replay", f"code:{code_hash[:12]}", tokens_revoked=count)
    return count


_INSERT_TOKEN = ('INSERT INTO "token" (grant_id, access_hash, refresh_hash, scope, access_expires_at, '
                 'refresh_expires_at, code_hash, parent_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
_INSERT_TOKEN_RETURNING = _INSERT_TOKEN + ' RETURNING id'  # PostgreSQL's cursors have no lastrowid
# Claims a live code; the grant must be alive too (checked by _TOUCH_GRANT in the same transaction).
_CLAIM_CODE = ('UPDATE "authorization_code" SET used_at = ? '
               'WHERE code_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING grant_id, code_hash')
_TOUCH_GRANT = 'UPDATE "grant" SET last_used_at = ? WHERE id = ? AND revoked_at IS NULL'


def _insert_token(store, grant_id: int, *, access_token: str, refresh_token: str | None, scope: str,
                  access_ttl: int, refresh_ttl: int, code_hash: str | None, parent: int | None, now: float) -> int:
    cursor = store.db.execute_sql(_INSERT_TOKEN_RETURNING if store.is_postgres else _INSERT_TOKEN, (
        grant_id, sha256_hex(access_token), sha256_hex(refresh_token) if refresh_token else None, scope,
        now + access_ttl, (now + refresh_ttl) if refresh_token else None, code_hash, parent, now))
    return cursor.fetchone()[0] if store.is_postgres else cursor.lastrowid


def _touch_live_grant(store, grant_id: int, now: float) -> None:
    """Mark the grant used; GrantGone (rolling the transaction back) if it was revoked meanwhile."""
    if store.db.execute_sql(_TOUCH_GRANT, (now, grant_id)).rowcount != 1:
        raise GrantGone("This authorization was revoked.")


def _claim_and_issue(store, claim_sql: str, claim_params: tuple, *, access_token: str, refresh_token: str | None,
                     scope: str, access_ttl: int, refresh_ttl: int, parent: int | None, now: float):
    """Claim (`claim_sql` returns grant_id, code_hash), mark the grant used, store the new token:
    (grant_id, token id), None if nothing was claimed, GrantGone if the grant was revoked.
    On PostgreSQL one statement (grant_claims.py); inside the caller's store.write()."""
    if store.is_postgres:
        refresh_hash = sha256_hex(refresh_token) if refresh_token else None
        return grant_claims.claim_and_issue_pg(store, claim_sql, claim_params, (
            sha256_hex(access_token), refresh_hash, scope, now + access_ttl,
            (now + refresh_ttl) if refresh_token else None, parent, now), GrantGone)
    claimed = store.db.execute_sql(claim_sql, claim_params).fetchall()
    if not claimed:
        return None
    grant_id, code_hash = claimed[0]
    _touch_live_grant(store, grant_id, now)
    return grant_id, _insert_token(store, grant_id, access_token=access_token, refresh_token=refresh_token,
                                   scope=scope, access_ttl=access_ttl, refresh_ttl=refresh_ttl,
                                   code_hash=code_hash, parent=parent, now=now)


def redeem_code(store, code_hash: str, *, access_token: str, refresh_token: str | None, scope: str,
                access_ttl: int, refresh_ttl: int, actor: str = "oauth") -> int:
    """Claim the code and store the tokens issued for it, atomically; returns the token row id.

    Raises CodeAlreadyUsed (after revoking the code's tokens) when another redemption won,
    GrantGone when the grant died meanwhile.
    """
    now = store.clock()
    with store.write():
        issued = _claim_and_issue(store, _CLAIM_CODE, (now, code_hash, now), access_token=access_token,
                                  refresh_token=refresh_token, scope=scope, access_ttl=access_ttl,
                                  refresh_ttl=refresh_ttl, parent=None, now=now)
        if issued:
            return issued[1]
        used = AuthorizationCode.select().where((AuthorizationCode.code_hash == code_hash)
                                                & AuthorizationCode.used_at.is_null(False)).exists()
        revoked = _revoke_family(code_hash, now) if used else 0
    if not used:
        raise GrantGone("This code has expired.")
    audit.record(store, actor, "code.replay", f"code:{code_hash[:12]}", tokens_revoked=revoked)
    raise CodeAlreadyUsed("This code was already used.")


# -- tokens -------------------------------------------------------------------------------
_TOKEN_SELECT = (
    'SELECT t.id, t.grant_id, g.app_id, a.client_id, g.user_id, t.scope, t.access_expires_at, '
    't.refresh_expires_at, t.created_at, t.code_hash, '
    't.revoked_at IS NOT NULL OR g.revoked_at IS NOT NULL OR u.disabled OR a.disabled, '
    't.refresh_used_at IS NOT NULL '
    'FROM "token" t JOIN "grant" g ON g.id = t.grant_id JOIN "user" u ON u.id = g.user_id '
    'JOIN "oauth_app" a ON a.id = g.app_id ')
_TOKEN_BY = {"access_token": _TOKEN_SELECT + 'WHERE t.access_hash = ?',
             "refresh_token": _TOKEN_SELECT + 'WHERE t.refresh_hash = ?'}


def _token_row(store, kind: str, token_hash: str) -> TokenRecord | None:
    row = store.db.execute_sql(_TOKEN_BY[kind], (token_hash,)).fetchone()
    if row is None:
        return None
    (token_id, grant_id, app_id, client_id, user_id, scope, access_exp, refresh_exp, created_at, code_hash,
     revoked, refresh_used) = row
    return TokenRecord(token_id, kind, grant_id, app_id, client_id, user_id, scope, access_exp, refresh_exp,
                       created_at, code_hash, bool(revoked), bool(refresh_used))


def find_token(store, token: str, hint: str | None = None) -> TokenRecord | None:
    """An access or refresh token's row, whatever its state (callers decide what counts)."""
    if not token or len(token) > 200:
        return None
    h = sha256_hex(token)
    order = ["refresh_token", "access_token"] if hint == "refresh_token" else ["access_token", "refresh_token"]
    for kind in order:
        record = _token_row(store, kind, h)
        if record is not None:
            return record
    return None


def find_refresh_token(store, token: str) -> TokenRecord | None:
    if not token or not token.startswith(REFRESH_PREFIX) or len(token) > 200:
        return None
    return _token_row(store, "refresh_token", sha256_hex(token))


# Spends a live refresh token (and its access token) exactly once.
_SPEND_REFRESH = ('UPDATE "token" SET refresh_used_at = ?, revoked_at = ? '
                  'WHERE id = ? AND refresh_used_at IS NULL AND revoked_at IS NULL RETURNING grant_id, code_hash')
_REFRESH_USED = 'SELECT grant_id, refresh_used_at IS NOT NULL FROM "token" WHERE id = ?'
# A token spent at most `interval` seconds ago whose family is still alive: none of its successors
# spent yet (it is the one just rotated), some token of its family unrevoked, grant, user and app live.
_JUST_ROTATED = (
    'SELECT t.grant_id, t.code_hash FROM "token" t JOIN "grant" g ON g.id = t.grant_id '
    'JOIN "user" u ON u.id = g.user_id JOIN "oauth_app" a ON a.id = g.app_id '
    'WHERE t.id = ? AND t.refresh_used_at >= ? AND t.refresh_expires_at > ? AND g.revoked_at IS NULL '
    'AND NOT u.disabled AND NOT a.disabled '
    'AND NOT EXISTS (SELECT 1 FROM "token" c WHERE c.parent_id = t.id AND c.refresh_used_at IS NOT NULL) '
    'AND EXISTS (SELECT 1 FROM "token" f WHERE f.code_hash = t.code_hash AND f.revoked_at IS NULL)')


def rotate_refresh(store, token_id: int, *, access_token: str, refresh_token: str, scope: str,
                   access_ttl: int, refresh_ttl: int, actor: str = "oauth", reuse_interval: float = 0) -> int:
    """Spend a refresh token and store its successor, atomically; the old access token dies too.

    `reuse_interval` (seconds, the --refresh-reuse-interval setting): a token rotated at most
    that long ago, whose family is alive and whose successors are unspent, may be presented
    again; it then gets another successor in the same family (we keep only hashes, so the first
    pair cannot be handed out again) and the family stays alive. Otherwise, a spent token
    raises RefreshTokenReused after revoking the grant (reuse detection, RFC 9700 §4.14.2).
    """
    now = store.clock()
    reissued = None
    with store.write():
        new = dict(access_token=access_token, refresh_token=refresh_token, scope=scope, access_ttl=access_ttl,
                   refresh_ttl=refresh_ttl, parent=token_id, now=now)
        claimed = _claim_and_issue(store, _SPEND_REFRESH, (now, now, token_id), **new)
        if not claimed and reuse_interval > 0:
            claimed = _claim_and_issue(store, _JUST_ROTATED, (token_id, now - reuse_interval, now), **new)
            reissued = bool(claimed)
        if claimed:
            grant_id, new_id = claimed
        else:
            old = store.db.execute_sql(_REFRESH_USED, (token_id,)).fetchone()
    if claimed:
        if reissued:
            audit.record(store, actor, "refresh.reuse_within_interval", f"grant:{grant_id}", token=token_id)
        return new_id
    if old is None:
        raise GrantGone("This authorization was revoked.")
    grant_id, reused = old
    if reused:
        revoke_grant(store, grant_id, actor, reason="refresh_token_reuse")
        raise RefreshTokenReused("This refresh token was already used; the authorization has been revoked.")
    raise GrantGone("This refresh token was revoked.")


def refresh_reused(store, record: TokenRecord, *, actor: str = "oauth") -> None:
    """Called when a spent refresh token is presented: the family may be stolen, end the grant."""
    revoke_grant(store, record.grant_id, actor, reason="refresh_token_reuse")


def revoke_token(store, record: TokenRecord, *, actor: str = "oauth") -> int:
    """RFC 7009: an access token dies alone (with its row's refresh token); a refresh token takes
    every token of its family (issued from the same code) with it."""
    now = store.clock()
    with store.write():
        if record.kind == "refresh_token" and record.code_hash:
            count = _revoke_family(record.code_hash, now)
        else:
            count = Token.update(revoked_at=now).where((Token.id == record.id) & Token.revoked_at.is_null()).execute()
    audit.record(store, actor, "token.revoke", f"grant:{record.grant_id}", kind=record.kind, tokens_revoked=count)
    return count


def resolve_access_token(store, token: str) -> AccessContext | None:
    """The context of a live access token; None if unknown, expired, revoked, or its grant,
    user or app is revoked or disabled. Hot path: one indexed join, no writes."""
    if not token or not token.startswith(ACCESS_PREFIX) or len(token) > 200:
        return None
    return resolve_access_token_hash(store, sha256_hex(token))


_RESOLVE_ACCESS = (
    'SELECT t.id, t.scope, t.access_expires_at, t.revoked_at, g.id, g.revoked_at, g.model, g.allow_model_choice, '
    'u.id, u.email, u.disabled, a.id, a.client_id, a.name, a.disabled, p.id, p.kind, p.default_model, '
    'g.embedding_model, (SELECT group_concat(f.provider_id) FROM (SELECT provider_id FROM "grant_fallback" '
    'WHERE grant_id = g.id ORDER BY position) f) '
    'FROM "token" t JOIN "grant" g ON g.id = t.grant_id JOIN "user" u ON u.id = g.user_id '
    'JOIN "oauth_app" a ON a.id = g.app_id LEFT OUTER JOIN "provider_connection" p ON p.id = g.provider_id '
    'WHERE t.access_hash = ?')


def resolve_access_token_hash(store, token_hash: str) -> AccessContext | None:
    """resolve_access_token for a token already hashed (the bearer cache's key)."""
    row = store.db.execute_sql(_RESOLVE_ACCESS, (token_hash,)).fetchone()
    if row is None:
        return None
    (token_id, scope, expires_at, token_revoked, grant_id, grant_revoked, grant_model, choice, user_id, email,
     user_disabled, app_id, client_id, app_name, app_disabled, provider_id, kind, default_model, embedding_model,
     fallbacks) = row
    if (token_revoked is not None or grant_revoked is not None or user_disabled or app_disabled
            or expires_at <= store.clock()):
        return None
    k = KINDS.get(kind) if kind else None
    model = grant_model or default_model or (k.default_model if k else "")
    embedding = embedding_model or (k.embedding_model if k else "")
    fallback_ids = tuple(int(i) for i in str(fallbacks).split(",")) if fallbacks else ()
    return AccessContext(token_id, grant_id, user_id, email, app_id, client_id, app_name, provider_id, kind,
                         model, scope, expires_at, bool(choice), embedding, fallback_ids)


# -- grants ---------------------------------------------------------------------------------
def update_grant_choice(store, user_id: int, grant_id: int, *, provider_id, model: str,
                        actor: str = "", allow_model_choice: bool | None = None, model_other: str = "",
                        embedding_model: str | None = None) -> GrantView:
    """Point an authorized app at another of the user's connections or models; tokens keep working.
    The model rules are approve()'s (services/grant_models.py)."""
    get_user_grant(store, user_id, grant_id)
    with store.write():
        conn = _own_connection(user_id, provider_id)
        grant = Grant.get_by_id(grant_id)
        changes = {"provider": conn.id, **models_for(grant, conn, connection_models(conn), model=model,
                                                     model_other=model_other, embedding_model=embedding_model)}
        if allow_model_choice is not None:
            changes["allow_model_choice"] = allow_model_choice
        Grant.update(**changes).where(Grant.id == grant_id).execute()
    audit.record(store, actor or audit.user_actor(user_id), "grant.update", f"grant:{grant_id}", provider_id=conn.id,
                 model=changes["model"], allow_model_choice=allow_model_choice)
    return get_user_grant(store, user_id, grant_id)


def _revoke_grants(where, now: float) -> list[int]:
    ids = [g.id for g in Grant.select(Grant.id).where(where & Grant.revoked_at.is_null())]
    if ids:
        Grant.update(revoked_at=now).where(Grant.id.in_(ids)).execute()
        Token.update(revoked_at=now).where(Token.grant.in_(ids) & Token.revoked_at.is_null()).execute()
    return ids


def revoke_grant(store, grant_id: int, actor: str, *, reason: str = "") -> bool:
    """End one authorization: its tokens stop working at once (within the bearer cache's second)."""
    with store.write():
        ids = _revoke_grants(Grant.id == grant_id, store.clock())
    if ids:
        audit.record(store, actor, "grant.revoke", f"grant:{grant_id}", **({"reason": reason} if reason else {}))
    return bool(ids)


def revoke_user_grants(store, user_id: int, actor: str) -> int:
    with store.write():
        ids = _revoke_grants(Grant.user == user_id, store.clock())
    if ids:
        audit.record(store, actor, "grant.revoke_user", f"user:{user_id}", grants=len(ids))
    return len(ids)


def revoke_app_grants(store, app_id: int, actor: str) -> int:
    with store.write():
        ids = _revoke_grants(Grant.app == app_id, store.clock())
    if ids:
        audit.record(store, actor, "grant.revoke_app", f"app:{app_id}", grants=len(ids))
    return len(ids)


def revoke_user_grant(store, user_id: int, grant_id: int, *, actor: str = "") -> None:
    """The dashboard's Revoke: only the user's own grant."""
    get_user_grant(store, user_id, grant_id)
    revoke_grant(store, grant_id, actor or audit.user_actor(user_id), reason="user")


def purge_expired(store, now: float | None = None) -> int:
    """Delete codes, device authorizations and tokens that can no longer be used by anyone (kept a day for replay checks)."""
    cutoff = (now or store.clock()) - RETENTION
    with store.write():
        codes = AuthorizationCode.delete().where(AuthorizationCode.expires_at < cutoff).execute()
        # A spent refresh token is kept until it would have expired, so its reuse is still caught.
        dead_refresh = (Token.refresh_hash.is_null() | (Token.refresh_expires_at < cutoff)
                        | ((Token.revoked_at < cutoff) & Token.refresh_used_at.is_null()))
        tokens = Token.delete().where((Token.access_expires_at < cutoff) & dead_refresh).execute()
        devices = device_codes.purge_expired(cutoff)
    return codes + tokens + devices
