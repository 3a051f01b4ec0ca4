"""The tables. Secrets are never stored in plaintext:

- provider keys: envelope-encrypted (`vault/`), bound to the row's `uid` and owner;
- passwords: Argon2id PHC strings;
- session ids, OAuth client secrets, codes, access and refresh tokens: SHA-256 hashes only.

Times are stored as UTC epoch seconds (floats): cheap to compare on the hot path.
"""

from __future__ import annotations

import time

import peewee as pw


def now() -> float:
    return time.time()


def non_key_fields(model) -> list:
    """The columns an upsert overwrites: `insert(...).on_conflict(conflict_target=[key],
    preserve=non_key_fields(Model))` (INSERT … ON CONFLICT DO UPDATE, which SQLite and PostgreSQL
    both speak; peewee's on_conflict_replace is SQLite's REPLACE only)."""
    return [f for f in model._meta.sorted_fields if not f.primary_key]


class BaseModel(pw.Model):
    class Meta:
        legacy_table_names = False


class User(BaseModel):
    email = pw.CharField(max_length=254, unique=True)
    password_hash = pw.CharField(max_length=200, null=True)  # null: no browser sign-in
    created_at = pw.FloatField(default=now)
    last_login_at = pw.FloatField(null=True)
    disabled = pw.BooleanField(default=False)


class WebSession(BaseModel):
    id_hash = pw.CharField(max_length=64, primary_key=True)
    user = pw.ForeignKeyField(User, on_delete="CASCADE", backref="sessions")
    created_at = pw.FloatField(default=now)
    expires_at = pw.FloatField()
    ip = pw.CharField(max_length=64, default="")
    user_agent = pw.CharField(max_length=200, default="")
    public_id = pw.CharField(max_length=32, default="")  # names the session on the Account page (m0016)
    last_seen_at = pw.FloatField(null=True)


class ProviderConnection(BaseModel):
    uid = pw.CharField(max_length=32, unique=True)  # bound into the ciphertext's associated data
    user = pw.ForeignKeyField(User, on_delete="CASCADE", backref="providers")
    kind = pw.CharField(max_length=40)
    name = pw.CharField(max_length=100)
    base_url = pw.CharField(max_length=500, default="")
    default_model = pw.CharField(max_length=200, default="")
    options = pw.TextField(default="{}")  # JSON, e.g. Azure's api_version
    is_default = pw.BooleanField(default=False)
    # Envelope: AES-256-GCM ciphertext under a per-secret data key, which is wrapped by a KEK.
    key_ciphertext = pw.BlobField(null=True)
    wrapped_dek = pw.BlobField(null=True)
    kek_id = pw.CharField(max_length=64, null=True, index=True)
    key_tail = pw.CharField(max_length=16, default="")  # masked hint, e.g. "a1b2"
    models_json = pw.TextField(default="[]")  # models found by the last successful test
    last_test_ok = pw.BooleanField(null=True)
    last_test_at = pw.FloatField(null=True)
    created_at = pw.FloatField(default=now)
    updated_at = pw.FloatField(default=now)


class OAuthApp(BaseModel):
    client_id = pw.CharField(max_length=64, unique=True)
    client_secret_hash = pw.CharField(max_length=64, null=True)  # null for public clients
    # null: registered dynamically (RFC 7591), owned by no user (m0011)
    owner = pw.ForeignKeyField(User, on_delete="CASCADE", backref="apps", null=True)
    name = pw.CharField(max_length=100)
    homepage_url = pw.CharField(max_length=500, default="")  # RFC 7591 client_uri
    redirect_uris = pw.TextField(default="[]")  # JSON list, exact strings
    is_public = pw.BooleanField(default=False)
    disabled = pw.BooleanField(default=False)
    created_at = pw.FloatField(default=now)
    origin = pw.CharField(max_length=12, default="dashboard")  # "dashboard" | "dynamic"
    verified = pw.BooleanField(default=False)  # set by an operator
    logo_uri = pw.CharField(max_length=500, default="")
    policy_uri = pw.CharField(max_length=500, default="")
    tos_uri = pw.CharField(max_length=500, default="")
    software_id = pw.CharField(max_length=100, default="")
    software_version = pw.CharField(max_length=100, default="")
    token_endpoint_auth_method = pw.CharField(max_length=30, default="")  # "": either secret method
    registration_token_hash = pw.CharField(max_length=64, null=True, unique=True)  # i0_rat_ (RFC 7592)
    registered_from = pw.CharField(max_length=64, default="")  # address of a dynamic registration
    previous_secret_hash = pw.CharField(max_length=64, null=True)  # still valid during a rotation's overlap
    previous_secret_expires_at = pw.FloatField(null=True)

    class Meta:
        table_name = "oauth_app"


class Grant(BaseModel):
    """One user's authorization of one app: which provider connection and model it uses."""

    user = pw.ForeignKeyField(User, on_delete="CASCADE", backref="grants")
    app = pw.ForeignKeyField(OAuthApp, on_delete="CASCADE", backref="grants")
    provider = pw.ForeignKeyField(ProviderConnection, null=True, on_delete="SET NULL", backref="grants")
    model = pw.CharField(max_length=200, default="")
    scope = pw.CharField(max_length=200, default="")
    created_at = pw.FloatField(default=now)
    last_used_at = pw.FloatField(null=True)
    revoked_at = pw.FloatField(null=True, index=True)
    # The app may name another of the connection's models in `model` (else it is ignored).
    allow_model_choice = pw.BooleanField(default=False)
    # POST /v1/embeddings uses this model ('' = the kind's default embedding model; m0010).
    embedding_model = pw.CharField(max_length=200, default="")
    # What the user approved through a redirect (m0012): the consent is not asked again for the
    # same scope and redirect URI while the app's registered URIs (JSON list) stay the same.
    consent_redirect_uri = pw.TextField(null=True)
    consent_redirect_uris = pw.TextField(null=True)


class GrantFallback(BaseModel):
    """A connection a grant's calls move on to, in `position` order, when the ones before failed
    before any byte reached the app (m0010)."""

    grant = pw.ForeignKeyField(Grant, on_delete="CASCADE", backref="fallbacks", index=False)
    provider = pw.ForeignKeyField(ProviderConnection, on_delete="CASCADE", backref="fallback_of")
    position = pw.IntegerField()


class AuthorizationCode(BaseModel):
    code_hash = pw.CharField(max_length=64, primary_key=True)
    grant = pw.ForeignKeyField(Grant, on_delete="CASCADE", backref="codes")
    app = pw.ForeignKeyField(OAuthApp, on_delete="CASCADE")
    redirect_uri = pw.TextField()
    scope = pw.CharField(max_length=200, default="")
    code_challenge = pw.CharField(max_length=128, null=True)
    code_challenge_method = pw.CharField(max_length=10, null=True)
    created_at = pw.FloatField(default=now)
    expires_at = pw.FloatField()
    used_at = pw.FloatField(null=True)


class Token(BaseModel):
    grant = pw.ForeignKeyField(Grant, on_delete="CASCADE", backref="tokens")
    access_hash = pw.CharField(max_length=64, unique=True)
    refresh_hash = pw.CharField(max_length=64, unique=True, null=True)
    scope = pw.CharField(max_length=200, default="")
    access_expires_at = pw.FloatField()
    refresh_expires_at = pw.FloatField(null=True)
    code_hash = pw.CharField(max_length=64, null=True, index=True)  # the code it was issued from
    parent = pw.ForeignKeyField("self", null=True, on_delete="SET NULL")  # rotated from
    refresh_used_at = pw.FloatField(null=True)
    revoked_at = pw.FloatField(null=True)
    created_at = pw.FloatField(default=now)


class UsageEvent(BaseModel):
    created_at = pw.FloatField(default=now, index=True)
    user_id = pw.IntegerField()  # not indexed: nothing reads usage by user (m0007)
    app_id = pw.IntegerField(null=True, index=True)
    grant_id = pw.IntegerField(null=True)  # indexed with created_at (m0003)
    provider_kind = pw.CharField(max_length=40)
    model = pw.CharField(max_length=200, default="")
    prompt_tokens = pw.IntegerField(default=0)
    completion_tokens = pw.IntegerField(default=0)
    cached_tokens = pw.IntegerField(default=0)
    status = pw.IntegerField(default=200)
    latency_ms = pw.FloatField(default=0)
    streamed = pw.BooleanField(default=False)
    error_code = pw.CharField(max_length=60, default="")  # a failure's error code, '' on success (m0017)


class UsageDaily(BaseModel):
    """Raw usage_event rows of one UTC day rolled up (m0009, services/usage_rollup.py); ids 0 = none."""

    day = pw.CharField(max_length=10)  # YYYY-MM-DD (UTC)
    user_id = pw.IntegerField()
    app_id = pw.IntegerField()
    grant_id = pw.IntegerField()
    provider_kind = pw.CharField(max_length=40)
    model = pw.CharField(max_length=200)
    status = pw.IntegerField()
    requests = pw.IntegerField()
    prompt_tokens = pw.IntegerField()
    completion_tokens = pw.IntegerField()
    cached_tokens = pw.IntegerField()
    cap_refusals = pw.IntegerField(default=0)  # m0019: calls a limit refused (not the provider's 402/429)


class AuditEvent(BaseModel):
    created_at = pw.FloatField(default=now, index=True)
    actor = pw.CharField(max_length=300)  # "<kind>:<who>": user:…, cli:…, admin-tui:…, client:… (services/audit.py)
    action = pw.CharField(max_length=60, index=True)
    target = pw.CharField(max_length=300, default="")
    detail = pw.TextField(default="{}")  # JSON; never secrets
    ip = pw.CharField(max_length=64, default="")


class SchemaMigration(BaseModel):
    number = pw.IntegerField(primary_key=True)
    name = pw.CharField(max_length=100)
    applied_at = pw.FloatField(default=now)


class ServerInstance(BaseModel):
    """A running `infer0 serve`, refreshed by its keyring watcher (m0004, services/runtime.py)."""

    instance_id = pw.CharField(max_length=32, primary_key=True)
    pid = pw.IntegerField()
    host = pw.CharField(max_length=255)
    version = pw.CharField(max_length=40, default="")
    started_at = pw.FloatField(default=now)
    heartbeat_at = pw.FloatField(default=now, index=True)
    kek_ids = pw.TextField(default="[]")  # JSON list of the KEK ids this server can open with
    primary_kek = pw.CharField(max_length=64, default="")  # the KEK it seals new secrets with


class GrantLimit(BaseModel):
    """The user's caps on one grant (m0008). NULL = no limit. Spend in micro-dollars (1 USD = 10**6)."""

    grant = pw.ForeignKeyField(Grant, primary_key=True, on_delete="CASCADE", backref="limit")
    spend_per_day_micro_usd = pw.IntegerField(null=True)
    spend_per_week_micro_usd = pw.IntegerField(null=True)
    spend_per_month_micro_usd = pw.IntegerField(null=True)
    tokens_per_day = pw.IntegerField(null=True)
    requests_per_minute = pw.IntegerField(null=True)
    updated_at = pw.FloatField(default=now)


class ConnectionLimit(BaseModel):
    """Caps on a whole provider connection, across all apps (m0008). Micro-dollars; NULL = none."""

    provider = pw.ForeignKeyField(ProviderConnection, primary_key=True, on_delete="CASCADE", backref="limit")
    spend_per_day_micro_usd = pw.IntegerField(null=True)
    spend_per_week_micro_usd = pw.IntegerField(null=True)
    spend_per_month_micro_usd = pw.IntegerField(null=True)
    updated_at = pw.FloatField(default=now)


class ConnectionPrice(BaseModel):
    """Prices the user set for a connection's models, USD per million tokens ('' = any model)."""

    provider = pw.ForeignKeyField(ProviderConnection, on_delete="CASCADE", backref="prices", index=False)
    model = pw.CharField(max_length=200)
    input_usd_per_mtok = pw.FloatField()
    cached_input_usd_per_mtok = pw.FloatField(null=True)
    output_usd_per_mtok = pw.FloatField()


class LimitCounter(BaseModel):
    """Used amount of one metric in one period window (services/limit_ledger.py)."""

    scope = pw.CharField(max_length=12)  # "grant" | "connection"
    owner_id = pw.IntegerField()  # grant id or provider connection id
    metric = pw.CharField(max_length=12)  # "requests" | "tokens" | "spend" (micro-dollars)
    period = pw.CharField(max_length=8)  # "minute" | "day" | "week" | "month" (UTC)
    period_start = pw.IntegerField()  # epoch seconds
    period_end = pw.IntegerField(index=True)
    used = pw.IntegerField(default=0)


class LimitLease(BaseModel):
    """Budget one server process holds out of a counter until it reports or returns it."""

    counter = pw.ForeignKeyField(LimitCounter, on_delete="CASCADE", backref="leases", index=False)
    holder = pw.CharField(max_length=32)
    amount = pw.IntegerField()
    expires_at = pw.FloatField()


class DeviceAuthorization(BaseModel):
    """An RFC 8628 device authorization (m0012): codes stored as SHA-256 hashes only."""

    device_code_hash = pw.CharField(max_length=64, unique=True)
    user_code_hash = pw.CharField(max_length=64, unique=True)  # of the normalized code (no dash, upper)
    app = pw.ForeignKeyField(OAuthApp, on_delete="CASCADE", index=False)
    scope = pw.CharField(max_length=200)
    status = pw.CharField(max_length=10)  # "pending" | "approved" | "denied"
    user = pw.ForeignKeyField(User, null=True, on_delete="CASCADE", index=False)  # who decided
    code_hash = pw.CharField(max_length=64, null=True)  # the authorization code an approval created
    interval = pw.IntegerField()  # seconds between polls; +5 at each slow_down
    last_poll_at = pw.FloatField(null=True)
    created_at = pw.FloatField(default=now)
    expires_at = pw.FloatField(index=True)


ALL_MODELS = [User, WebSession, ProviderConnection, OAuthApp, Grant, AuthorizationCode, Token,
              UsageEvent, UsageDaily, AuditEvent, SchemaMigration, ServerInstance,
              GrantLimit, ConnectionLimit, ConnectionPrice, LimitCounter, LimitLease, GrantFallback,
              DeviceAuthorization]


# -- accounts a person can trust (issue 17 §2, m0016) -----------------------------------------
class UserTotp(BaseModel):
    """A user's TOTP secret (RFC 6238), sealed (services/two_factor.py); unconfirmed while enrolling."""

    user = pw.ForeignKeyField(User, primary_key=True, on_delete="CASCADE", backref="totp")
    secret_sealed = pw.BlobField()
    created_at = pw.FloatField(default=now)
    confirmed_at = pw.FloatField(null=True)
    last_step = pw.IntegerField(null=True)  # time step of the last accepted code: each is accepted once


class RecoveryCode(BaseModel):
    """A one-time two-factor recovery code: SHA-256 hash only."""

    user = pw.ForeignKeyField(User, on_delete="CASCADE", backref="recovery_codes")
    code_hash = pw.CharField(max_length=64, unique=True)
    created_at = pw.FloatField(default=now)
    used_at = pw.FloatField(null=True)


class PasswordReset(BaseModel):
    """A one-time, expiring password reset link an operator issued: SHA-256 hash of its token only."""

    user = pw.ForeignKeyField(User, on_delete="CASCADE", backref="password_resets")
    token_hash = pw.CharField(max_length=64, unique=True)
    created_at = pw.FloatField(default=now)
    expires_at = pw.FloatField()
    used_at = pw.FloatField(null=True)
    created_by = pw.CharField(max_length=300)  # audit actor of the operator who issued it


ALL_MODELS += [UserTotp, RecoveryCode, PasswordReset]


# -- throttles shared across processes and instances (issue 15 §3, m0018) ---------------------
class ThrottleFailure(BaseModel):
    """One counted failure of a throttle (services/throttle.py): keyed by an HMAC, never the key."""

    scope = pw.CharField(max_length=40)
    key_hash = pw.CharField(max_length=64)
    at = pw.FloatField()

    class Meta:
        indexes = ((("scope", "key_hash", "at"), False),)


class ThrottleTrust(BaseModel):
    """The last success of an (account, address) pair, for a throttle's per-account cap."""

    key_hash = pw.CharField(max_length=64, primary_key=True)
    scope = pw.CharField(max_length=40)
    at = pw.FloatField()

    class Meta:
        indexes = ((("scope", "at"), False),)


ALL_MODELS += [ThrottleFailure, ThrottleTrust]
