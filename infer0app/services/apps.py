"""OAuth clients ("apps") that developers register: create, list, edit, rotate, disable, delete.

Client secrets (`i0_cs_…`) are shown once and stored only as SHA-256 hashes. Client ids
(`i0_ci_…`) are public. Redirect URIs are validated strictly at registration and matched
by exact string at authorization time (RFC 6749 §3.1.2, RFC 9700 §4.1.3); the only
latitude is the port of a loopback URI registered by a public (native) app (RFC 8252 §7.3).
Public apps may also register private-use URI schemes (`com.example.app:/callback`, RFC 8252
§7.1), compared exactly like every other URI.

Apps come from the dashboard or the CLI (`origin="dashboard"`, owned by a user) or from dynamic
registration (`origin="dynamic"`, RFC 7591, owned by nobody: services/client_registration.py).
Only an operator marks an app `verified`. Rotating a secret may keep the previous one valid
for an overlap of up to MAX_ROTATION_OVERLAP seconds.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass

from peewee import JOIN

from ..store.models import Grant, OAuthApp, Token, User
from . import audit
from .errors import NotFound, ValidationError
from .secrets_util import new_token, same_hash, sha256_hex
from .uri_syntax import URISyntaxError, is_private_use_candidate, parse_absolute_uri, parse_private_use_uri
from .visible_text import has_unseen

CLIENT_ID_PREFIX = "i0_ci_"
CLIENT_SECRET_PREFIX = "i0_cs_"
MAX_NAME = 100
MAX_URL = 500
MAX_REDIRECT_URIS = 10
MAX_ROTATION_OVERLAP = 7 * 24 * 3600  # seconds a rotated-out secret may keep working
LOOPBACK_HOSTS = ("127.0.0.1", "[::1]", "localhost")
# A loopback redirect URI split into (scheme+host, port, rest); rest must start at the path or query.
_LOOPBACK_RE = re.compile(r"^(http://(?:127\.0\.0\.1|\[::1\]|localhost))(?::(\d{1,5}))?((?:[/?][^#]*)?)$")
_DOT_SEGMENT_RE = re.compile(r"(^|/)(\.|%2e){1,2}(/|$)", re.IGNORECASE)


@dataclass(frozen=True)
class AppView:
    """What pages, the CLI and the OAuth layer need to know about an app (never the secret hash)."""

    id: int
    client_id: str
    name: str
    homepage_url: str
    redirect_uris: tuple[str, ...]
    is_public: bool
    disabled: bool
    owner_id: int | None  # None: registered dynamically
    owner_email: str  # "" when owner_id is None
    created_at: float
    origin: str = "dashboard"  # "dashboard" (a user's, from /dev/apps or the CLI) | "dynamic" (RFC 7591)
    verified: bool = False  # an operator vouched for it
    logo_uri: str = ""
    policy_uri: str = ""
    tos_uri: str = ""
    software_id: str = ""
    software_version: str = ""
    token_endpoint_auth_method: str = ""  # "" for dashboard apps: either secret method
    previous_secret_expires_at: float | None = None  # the rotated-out secret works until then

    @property
    def type_label(self) -> str:
        return "public" if self.is_public else "confidential"

    @property
    def auth_method(self) -> str:
        """The RFC 7591 token_endpoint_auth_method this app uses."""
        return "none" if self.is_public else (self.token_endpoint_auth_method or "client_secret_basic")


_VIEW_COLUMNS = ("id", "client_id", "name", "homepage_url", "redirect_uris", "is_public", "disabled", "owner",
                 "owner_email", "created_at", "origin", "verified", "logo_uri", "policy_uri", "tos_uri",
                 "software_id", "software_version", "token_endpoint_auth_method", "previous_secret_expires_at")


def _view(row: dict) -> AppView:
    return AppView(row["id"], row["client_id"], row["name"], row["homepage_url"],
                   tuple(json.loads(row["redirect_uris"] or "[]")), bool(row["is_public"]), bool(row["disabled"]),
                   row["owner"], row["owner_email"] or "", row["created_at"], row["origin"], bool(row["verified"]),
                   row["logo_uri"], row["policy_uri"], row["tos_uri"], row["software_id"], row["software_version"],
                   row["token_endpoint_auth_method"], row["previous_secret_expires_at"])


# -- validation ---------------------------------------------------------------------------
def validate_redirect_uri(uri: str, *, public: bool = False, number: int = 1) -> str:
    """A redirect URI we are willing to send codes to, or ValidationError saying why not.

    Only RFC 3986 URIs (services/uri_syntax.py: no fragment, no userinfo, port 1-65535), https,
    or http on a loopback host (RFC 8252 §7.3), or, for public apps only, a private-use scheme
    with a period (`com.example.app:/callback`, RFC 8252 §7.1); no wildcards, no dot-segments,
    no dangerous schemes. Surrounding whitespace is dropped, as from a pasted line. ValidationError
    names the URI by `number` (its 1-based place in the list), never by its text."""
    uri = (uri or "").strip()
    # Named by its place in the list, never quoted: the message reaches OAuth error_description
    # (RFC 6749 §5.2's character set) and pages, and client input is not echoed back.
    err = lambda msg: ValidationError(f"Redirect URI {number}: {msg}", field="redirect_uris")  # noqa: E731
    if not uri:
        raise ValidationError("Enter at least one redirect URI.", field="redirect_uris")
    if len(uri) > MAX_URL:
        raise err(f"too long (at most {MAX_URL} characters).")
    scheme = uri.split(":", 1)[0].lower() if ":" in uri else ""
    if scheme in ("javascript", "data", "file", "vbscript", "blob", "about"):
        raise err(f"the {scheme}: scheme is not allowed.")
    if "*" in uri:
        raise err("wildcards are not allowed; register each URI exactly.")
    if is_private_use_candidate(uri):
        if not public:
            raise err("private-use URI schemes are for public (native) apps only (RFC 8252 §7.1); "
                      "a confidential app uses https://.")
        try:
            native = parse_private_use_uri(uri)
        except URISyntaxError as exc:
            raise err(str(exc)) from None
        if _DOT_SEGMENT_RE.search(native.path):
            raise err("must not contain . or .. path segments.")
        return uri
    if scheme not in ("https", "http"):
        raise err("must be an https:// URL (http:// only for 127.0.0.1, [::1] or localhost)"
                  + (", or a private-use scheme with a period such as com.example.app:/callback (RFC 8252 §7.1)."
                     if public else "."))
    try:
        parts = parse_absolute_uri(uri)
    except URISyntaxError as exc:
        raise err(str(exc)) from None
    if parts.scheme not in ("https", "http"):
        raise err("must be an https:// URL (http:// only for 127.0.0.1, [::1] or localhost).")
    if parts.scheme == "http" and parts.host.lower() not in LOOPBACK_HOSTS:
        raise err("http:// is only allowed for loopback addresses (127.0.0.1, [::1], localhost); use https://.")
    if _DOT_SEGMENT_RE.search(parts.path):
        raise err("must not contain . or .. path segments.")
    return uri


def validate_redirect_uris(uris, *, public: bool = False) -> list[str]:
    """Each URI checked by validate_redirect_uri, blank lines dropped, duplicates folded; 1-10 of them."""
    if isinstance(uris, str):
        uris = uris.splitlines()
    cleaned: list[str] = []
    for number, raw in enumerate(uris, 1):
        if not (raw or "").strip():
            continue
        uri = validate_redirect_uri(raw, public=public, number=number)
        if uri not in cleaned:
            cleaned.append(uri)
    if not cleaned:
        raise ValidationError("Enter at least one redirect URI.", field="redirect_uris")
    if len(cleaned) > MAX_REDIRECT_URIS:
        raise ValidationError(f"At most {MAX_REDIRECT_URIS} redirect URIs per app.", field="redirect_uris")
    return cleaned


def clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError("Give the app a name (users see it on the consent page).", field="name")
    if len(name) > MAX_NAME or has_unseen(name):
        raise ValidationError(f"The name must be at most {MAX_NAME} characters, on one line.", field="name")
    return name


def _clean_homepage(url: str) -> str:
    """An http(s) URI shown on the consent and Connected apps pages, under the RFC 3986 rules of
    client_uri: the looser check let a bidi control or a zero-width character into the host, a
    look-alike link on the consent page."""
    url = (url or "").strip()
    if not url:
        return ""
    if len(url) > MAX_URL:
        raise ValidationError(f"The homepage is too long (at most {MAX_URL} characters).", field="homepage_url")
    try:
        parts = parse_absolute_uri(url)
    except URISyntaxError as exc:
        raise ValidationError(f"The homepage {exc}", field="homepage_url") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValidationError("The homepage must be an http(s) URL.", field="homepage_url")
    return url


def clean_https_uri(url: str, field: str, label: str) -> str:
    """An https URI shown to users (RFC 7591 client_uri, logo_uri, policy_uri, tos_uri): the
    browser may load or follow it, the server never fetches it. '' stays ''."""
    url = (url or "").strip()
    if not url:
        return ""
    if len(url) > MAX_URL:
        raise ValidationError(f"{label} is too long (at most {MAX_URL} characters).", field=field)
    try:
        parts = parse_absolute_uri(url)
    except URISyntaxError as exc:
        raise ValidationError(f"{label} {exc}", field=field) from None
    if parts.scheme.lower() != "https":
        raise ValidationError(f"{label} must be an https:// URL.", field=field)
    return url


def redirect_uri_matches(registered: tuple[str, ...] | list[str], requested: str, *, is_public: bool) -> bool:
    """Exact string match; a public (native) app's loopback URI may come back on any port."""
    if not requested:
        return False
    if requested in registered:
        return True
    if not is_public:
        return False
    want = _LOOPBACK_RE.match(requested)
    if want is None or (want.group(2) and not (want.group(2)[0] != "0" and int(want.group(2)) <= 65535)):
        return False  # ports are 1-65535, written without leading zeros
    for uri in registered:
        have = _LOOPBACK_RE.match(uri)
        if have and have.group(1) == want.group(1) and have.group(3) == want.group(3):
            return True
    return False


# -- reading ------------------------------------------------------------------------------
def _query():
    return (OAuthApp.select(OAuthApp.id, OAuthApp.client_id, OAuthApp.name, OAuthApp.homepage_url,
                            OAuthApp.redirect_uris, OAuthApp.is_public, OAuthApp.disabled, OAuthApp.owner,
                            User.email.alias("owner_email"), OAuthApp.created_at, OAuthApp.origin,
                            OAuthApp.verified, OAuthApp.logo_uri, OAuthApp.policy_uri, OAuthApp.tos_uri,
                            OAuthApp.software_id, OAuthApp.software_version, OAuthApp.token_endpoint_auth_method,
                            OAuthApp.previous_secret_expires_at)
            .join(User, JOIN.LEFT_OUTER, on=(OAuthApp.owner == User.id)).dicts())


def get_app(store, client_id: str) -> AppView:
    with store.read():
        row = _query().where(OAuthApp.client_id == (client_id or "")).first()
        if row is None:
            raise NotFound(f"No app with client id {client_id!r}.")
        return _view(row)


def find_app(store, client_id: str) -> AppView | None:
    try:
        return get_app(store, client_id)
    except NotFound:
        return None


@dataclass(frozen=True)
class SecretHashes:
    """What a client secret is checked against: the current hash, and during a rotation's
    overlap the previous one (valid while `previous_expires_at` is in the future)."""

    current: str | None
    previous: str | None = None
    previous_expires_at: float | None = None

    def accepts(self, secret: str, now: float) -> bool:
        ok = same_hash(secret or "", self.current)
        if self.previous and self.previous_expires_at is not None:
            # Both compared every time: how long the check takes does not say which one matched.
            ok = same_hash(secret or "", self.previous) and now < self.previous_expires_at or ok
        return ok


# Written out (not built by peewee per call): the token endpoint runs it on every exchange.
_FIND_CLIENT = ('SELECT a.id, a.client_id, a.name, a.homepage_url, a.redirect_uris, a.is_public, a.disabled, '
                'a.owner_id, u.email, a.created_at, a.origin, a.verified, a.logo_uri, a.policy_uri, a.tos_uri, '
                'a.software_id, a.software_version, a.token_endpoint_auth_method, a.previous_secret_expires_at, '
                'a.client_secret_hash, a.previous_secret_hash '
                'FROM "oauth_app" a LEFT JOIN "user" u ON u.id = a.owner_id WHERE a.client_id = ?')


def find_client(store, client_id: str) -> tuple[AppView, SecretHashes] | None:
    """The app and its client-secret hashes in one query (the token endpoint needs both)."""
    row = store.db.execute_sql(_FIND_CLIENT, (client_id or "",)).fetchone()
    if row is None:
        return None
    app = _view(dict(zip(_VIEW_COLUMNS, row)))
    return app, SecretHashes(row[-2], row[-1], app.previous_secret_expires_at)


def get_owned_app(store, owner_id: int, client_id: str) -> AppView:
    app = get_app(store, client_id)
    if app.owner_id is None or app.owner_id != owner_id:
        raise NotFound("That app does not exist (or is not yours).")
    return app


def list_apps(store, owner_id: int | None = None) -> list[AppView]:
    with store.read():
        query = _query().order_by(OAuthApp.id)
        if owner_id is not None:
            query = query.where(OAuthApp.owner == owner_id)
        return [_view(row) for row in query]


def connected_users(store, app_id: int) -> int:
    with store.read():
        return (Grant.select(Grant.user).where((Grant.app == app_id) & Grant.revoked_at.is_null())
                .distinct().count())


def connected_grants(store, app_id: int) -> int:
    """Live (unrevoked) grants of the app: what deleting or revoking it ends."""
    with store.read():
        return Grant.select().where((Grant.app == app_id) & Grant.revoked_at.is_null()).count()


# -- writing ------------------------------------------------------------------------------
def create_app(store, owner_id: int, *, name: str, redirect_uris, homepage_url: str = "",
               public: bool = False, actor: str) -> tuple[AppView, str | None]:
    """A new app and its client secret (None for public apps). The secret is never shown again."""
    name = clean_name(name)
    homepage_url = _clean_homepage(homepage_url)
    uris = validate_redirect_uris(redirect_uris, public=public)
    secret = None if public else new_token(CLIENT_SECRET_PREFIX)
    client_id = new_token(CLIENT_ID_PREFIX, nbytes=16)
    with store.write():
        owner = User.get_or_none(User.id == owner_id)
        if owner is None:
            raise NotFound("No such user.")
        row = OAuthApp.create(client_id=client_id, client_secret_hash=sha256_hex(secret) if secret else None,
                              owner=owner_id, name=name, homepage_url=homepage_url,
                              redirect_uris=json.dumps(uris), is_public=public)
    audit.record(store, actor, "app.create", client_id, name=name, public=public)
    return get_app(store, row.client_id), secret


def update_app(store, owner_id: int, client_id: str, *, name: str, homepage_url: str, redirect_uris,
               actor: str = "") -> AppView:
    """The owner edits their app (all three fields replaced)."""
    app = get_owned_app(store, owner_id, client_id)
    return _update(store, app, name, homepage_url, redirect_uris, actor or audit.user_actor(owner_id))


def operator_update_app(store, client_id: str, *, name: str | None = None, homepage_url: str | None = None,
                        redirect_uris=None, actor: str) -> AppView:
    """An operator edits any app (CLI, TUI); a field left None keeps its value. Redirect URIs
    replace the whole list and follow the same rules as at registration (ValidationError);
    NotFound for an unknown client id. A changed list makes users consent again
    (services/consent_reuse.py compares the list they approved)."""
    app = get_app(store, client_id)
    return _update(store, app, app.name if name is None else name,
                   app.homepage_url if homepage_url is None else homepage_url,
                   app.redirect_uris if redirect_uris is None else redirect_uris, actor)


def _update(store, app: AppView, name: str, homepage_url: str, redirect_uris, actor: str) -> AppView:
    changes = {"name": clean_name(name), "homepage_url": _clean_homepage(homepage_url),
               "redirect_uris": json.dumps(validate_redirect_uris(redirect_uris, public=app.is_public))}
    with store.write():
        OAuthApp.update(**changes).where(OAuthApp.id == app.id).execute()
    audit.record(store, actor, "app.update", app.client_id)
    return get_app(store, app.client_id)


def rotate_secret(store, client_id: str, *, actor: str, overlap: int = 0, now: float | None = None) -> str:
    """A new secret (returned, never stored in plaintext). The old one keeps working for
    `overlap` seconds (0 to MAX_ROTATION_OVERLAP; 0: it stops at once), so deployed copies of
    the app can be switched over without downtime; any older secret stops now. Public apps
    have none to rotate (ValidationError)."""
    app = get_app(store, client_id)
    if app.is_public:
        raise ValidationError("Public apps have no client secret (they use PKCE).")
    if not isinstance(overlap, int) or isinstance(overlap, bool) or not 0 <= overlap <= MAX_ROTATION_OVERLAP:
        raise ValidationError(f"The overlap must be 0 to {MAX_ROTATION_OVERLAP} seconds (7 days).", field="overlap")
    secret = new_token(CLIENT_SECRET_PREFIX)
    now = time.time() if now is None else now
    with store.write():
        row = OAuthApp.get_by_id(app.id)
        keep = overlap > 0 and row.client_secret_hash is not None
        OAuthApp.update(client_secret_hash=sha256_hex(secret),
                        previous_secret_hash=row.client_secret_hash if keep else None,
                        previous_secret_expires_at=now + overlap if keep else None).where(
            OAuthApp.id == app.id).execute()
    audit.record(store, actor, "app.rotate_secret", client_id, overlap=overlap)
    return secret


def set_verified(store, client_id: str, verified: bool, *, actor: str) -> AppView:
    """An operator vouches for an app (or withdraws it); the consent page says so."""
    app = get_app(store, client_id)
    with store.write():
        OAuthApp.update(verified=verified).where(OAuthApp.id == app.id).execute()
    audit.record(store, actor, "app.verify" if verified else "app.unverify", client_id)
    return get_app(store, client_id)


def delete_app(store, client_id: str, *, actor: str) -> None:
    """Deletes the app with its grants, codes and tokens (foreign keys cascade)."""
    app = get_app(store, client_id)
    with store.write():
        # Explicit, so the tokens die even if a connection ever runs without foreign_keys=ON.
        grant_ids = Grant.select(Grant.id).where(Grant.app == app.id)
        Token.delete().where(Token.grant.in_(grant_ids)).execute()
        OAuthApp.delete().where(OAuthApp.id == app.id).execute()
    audit.record(store, actor, "app.delete", client_id, name=app.name)


def set_disabled(store, client_id: str, disabled: bool, *, actor: str) -> AppView:
    """A disabled app cannot start authorizations, obtain tokens, or use the ones it has."""
    app = get_app(store, client_id)
    with store.write():
        OAuthApp.update(disabled=disabled).where(OAuthApp.id == app.id).execute()
    audit.record(store, actor, "app.disable" if disabled else "app.enable", client_id)
    return get_app(store, client_id)
