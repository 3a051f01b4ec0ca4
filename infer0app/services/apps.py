"""OAuth clients ("apps") that developers register: create, list, edit, rotate, disable, delete.

Client secrets (`i0_cs_…`) are shown once and stored only as SHA-256 hashes. Client ids
(`i0_ci_…`) are public. Redirect URIs are validated strictly at registration and matched
by exact string at authorization time (RFC 6749 §3.1.2, RFC 9700 §4.1.3); the only
latitude is the port of a loopback URI registered by a public (native) app (RFC 8252 §7.3).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..store.models import Grant, OAuthApp, Token, User
from . import audit
from .errors import NotFound, ValidationError
from .secrets_util import new_token, same_hash, sha256_hex
from .uri_syntax import URISyntaxError, parse_absolute_uri

CLIENT_ID_PREFIX = "i0_ci_"
CLIENT_SECRET_PREFIX = "i0_cs_"
MAX_NAME = 100
MAX_URL = 500
MAX_REDIRECT_URIS = 10
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
    owner_id: int
    owner_email: str
    created_at: float

    @property
    def type_label(self) -> str:
        return "public" if self.is_public else "confidential"


def _view(row: dict) -> AppView:
    return AppView(row["id"], row["client_id"], row["name"], row["homepage_url"],
                   tuple(json.loads(row["redirect_uris"] or "[]")), bool(row["is_public"]), bool(row["disabled"]),
                   row["owner"], row["owner_email"], row["created_at"])


# -- validation ---------------------------------------------------------------------------
def validate_redirect_uri(uri: str) -> str:
    """A redirect URI we are willing to send codes to, or ValidationError saying why not.

    Only RFC 3986 URIs (services/uri_syntax.py: no fragment, no userinfo, port 1-65535), https,
    or http on a loopback host (RFC 8252 §7.3); no wildcards, no dot-segments, no dangerous
    schemes. Surrounding whitespace is dropped, as from a pasted line."""
    uri = (uri or "").strip()
    err = lambda msg: ValidationError(f"Redirect URI {uri[:80]!r}: {msg}", field="redirect_uris")  # noqa: E731
    if not uri:
        raise ValidationError("Enter at least one redirect URI.", field="redirect_uris")
    if len(uri) > MAX_URL:
        raise err(f"too long (at most {MAX_URL} characters).")
    scheme = uri.split(":", 1)[0].lower() if ":" in uri else ""
    if scheme in ("javascript", "data", "file", "vbscript", "blob", "about"):
        raise err(f"the {scheme}: scheme is not allowed.")
    if "*" in uri:
        raise err("wildcards are not allowed; register each URI exactly.")
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


def validate_redirect_uris(uris) -> list[str]:
    if isinstance(uris, str):
        uris = uris.splitlines()
    cleaned: list[str] = []
    for raw in uris:
        if not (raw or "").strip():
            continue
        uri = validate_redirect_uri(raw)
        if uri not in cleaned:
            cleaned.append(uri)
    if not cleaned:
        raise ValidationError("Enter at least one redirect URI.", field="redirect_uris")
    if len(cleaned) > MAX_REDIRECT_URIS:
        raise ValidationError(f"At most {MAX_REDIRECT_URIS} redirect URIs per app.", field="redirect_uris")
    return cleaned


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError("Give the app a name (users see it on the consent page).", field="name")
    if len(name) > MAX_NAME or any(ord(c) < 32 for c in name):
        raise ValidationError(f"The name must be at most {MAX_NAME} characters, on one line.", field="name")
    return name


def _clean_homepage(url: str) -> str:
    url = (url or "").strip()
    if not url:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if (parts is None or parts.scheme not in ("http", "https") or not parts.hostname or len(url) > MAX_URL
            or parts.username or any(ord(c) <= 32 for c in url)):
        raise ValidationError("The homepage must be an http(s) URL.", field="homepage_url")
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
                            User.email.alias("owner_email"), OAuthApp.created_at)
            .join(User, on=(OAuthApp.owner == User.id)).dicts())


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


# Written out (not built by peewee per call): the token endpoint runs it on every exchange.
_FIND_CLIENT = ('SELECT a.id, a.client_id, a.name, a.homepage_url, a.redirect_uris, a.is_public, a.disabled, '
                'a.owner_id, u.email, a.created_at, a.client_secret_hash '
                'FROM "oauth_app" a JOIN "user" u ON u.id = a.owner_id WHERE a.client_id = ?')
_VIEW_COLUMNS = ("id", "client_id", "name", "homepage_url", "redirect_uris", "is_public", "disabled", "owner",
                 "owner_email", "created_at")  # _FIND_CLIENT's columns, by the names _view reads


def find_client(store, client_id: str) -> tuple[AppView, str | None] | None:
    """The app and its client-secret hash in one query (the token endpoint needs both)."""
    row = store.db.execute_sql(_FIND_CLIENT, (client_id or "",)).fetchone()
    if row is None:
        return None
    return _view(dict(zip(_VIEW_COLUMNS, row))), row[-1]


def get_owned_app(store, owner_id: int, client_id: str) -> AppView:
    app = get_app(store, client_id)
    if app.owner_id != owner_id:
        raise NotFound("That app does not exist (or is not yours).")
    return app


def list_apps(store, owner_id: int | None = None) -> list[AppView]:
    with store.read():
        query = _query().order_by(OAuthApp.id)
        if owner_id is not None:
            query = query.where(OAuthApp.owner == owner_id)
        return [_view(row) for row in query]


def check_client_secret(store, client_id: str, secret: str) -> bool:
    with store.read():
        row = OAuthApp.get_or_none(OAuthApp.client_id == client_id)
        if row is None or row.is_public:
            return False
        return same_hash(secret or "", row.client_secret_hash)


def connected_users(store, app_id: int) -> int:
    with store.read():
        return (Grant.select(Grant.user).where((Grant.app == app_id) & Grant.revoked_at.is_null())
                .distinct().count())


# -- writing ------------------------------------------------------------------------------
def create_app(store, owner_id: int, *, name: str, redirect_uris, homepage_url: str = "",
               public: bool = False, actor: str) -> tuple[AppView, str | None]:
    """A new app and its client secret (None for public apps). The secret is never shown again."""
    name = _clean_name(name)
    homepage_url = _clean_homepage(homepage_url)
    uris = validate_redirect_uris(redirect_uris)
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
    app = get_owned_app(store, owner_id, client_id)
    changes = {"name": _clean_name(name), "homepage_url": _clean_homepage(homepage_url),
               "redirect_uris": json.dumps(validate_redirect_uris(redirect_uris))}
    with store.write():
        OAuthApp.update(**changes).where(OAuthApp.id == app.id).execute()
    audit.record(store, actor or audit.user_actor(owner_id), "app.update", client_id)
    return get_app(store, client_id)


def rotate_secret(store, client_id: str, *, actor: str) -> str:
    """A new secret; the old one stops working at once. Public apps have none to rotate."""
    app = get_app(store, client_id)
    if app.is_public:
        raise ValidationError("Public apps have no client secret (they use PKCE).")
    secret = new_token(CLIENT_SECRET_PREFIX)
    with store.write():
        OAuthApp.update(client_secret_hash=sha256_hex(secret)).where(OAuthApp.id == app.id).execute()
    audit.record(store, actor, "app.rotate_secret", client_id)
    return secret


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
