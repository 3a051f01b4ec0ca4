"""A user's provider connections: kind, name, base URL, default model and the sealed key.

Callers outside services get `ConnectionView`s (frozen, built while the database is open), never
ProviderConnection rows; rows stay inside services (`target_for` and `open_key` take one, for
services/targets.py and the KEK rotation)."""

from __future__ import annotations

import ipaddress
import json
import re
import time
import uuid
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from ..gateway.providers.base import Route
from ..gateway.providers.kinds import KINDS, ProviderKind
from ..store.models import Grant, GrantFallback, ProviderConnection, User
from ..vault.envelope import Sealed, SealError, provider_aad
from .erasure import checkpoint_wal, erase_connection_keys
from . import audit
from .errors import NotFound, ValidationError
from .grant_models import embedding_fits, model_fits
from .visible_text import has_unseen

MAX_NAME = 100
MAX_KEY = 1000
MAX_MODEL = 200
MAX_URL = 500
# Options a connection may carry, per kind (free-form options are not accepted).
KIND_OPTIONS = {"azure-openai": {"api_version": "2024-10-21"}}


def mask_key(key: str) -> str:
    """A hint that identifies a key without revealing it: 'sk-…a1b2'."""
    if not key:
        return ""
    if len(key) < 12:
        return "…" + key[-2:]
    head = key[:3] if key[:3].isascii() and key[2:3] in "-_" else ""
    return f"{head}…{key[-4:]}"


def validate_base_url(url: str, kind: ProviderKind) -> str:
    url = (url or "").strip()
    if not url:
        if kind.needs_base_url:
            raise ValidationError(f"{kind.label} needs a base URL.", field="base_url")
        return ""
    if len(url) > MAX_URL:
        raise ValidationError("That base URL is too long.", field="base_url")
    try:  # an unclosed IPv6 bracket raised ValueError here: a 500 on the provider form
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("Enter the base URL as http(s)://host/path.", field="base_url")
    if has_unseen(url) or any(c.isspace() for c in url) or not _is_host(parts.hostname):
        raise ValidationError("The base URL's host is not a host name or an IP address.", field="base_url")
    if parts.username or parts.password:
        raise ValidationError("Put credentials in the API key field, not in the URL.", field="base_url")
    if parts.query or parts.fragment:
        raise ValidationError("The base URL cannot have a query string or fragment.", field="base_url")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:  # None (the scheme's default) is fine
        raise ValidationError("The base URL has an invalid port.", field="base_url")
    return url.rstrip("/")


# A DNS name as it goes on the wire (after IDNA): labels of 1-63 letters, digits, '-' (not at
# either end) or '_' (container and LAN names have it), at most 253 characters.
_DNS_NAME = re.compile(r"(?=.{1,253}\.?\Z)(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)*"
                       r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.?\Z")


def _is_host(host: str) -> bool:
    """True for an IP address or a host name infer0 can connect to. A name IDNA cannot encode
    (a bidi control, a label over 63 characters) was saved, and then every call to it was a
    500 (the URL library refused it on the way out)."""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    try:
        wire = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return bool(_DNS_NAME.match(wire))


def _clean_text(value: str, limit: int, field_name: str, label: str) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise ValidationError(f"{label} is too long (at most {limit} characters).", field=field_name)
    if has_unseen(value):
        raise ValidationError(f"{label} contains control characters.", field=field_name)
    return value


def _check_key(kind: ProviderKind, key: str | None, required: bool) -> str | None:
    key = (key or "").strip()
    if not key:
        if kind.needs_key and required:
            raise ValidationError(f"{kind.label} needs an API key.", field="api_key")
        return None
    if len(key) > MAX_KEY or any(ord(c) < 33 or ord(c) > 126 for c in key):
        raise ValidationError("That API key has characters no provider uses (spaces or line breaks?).",
                              field="api_key")
    return key


def _require_model(kind: ProviderKind, model: str) -> None:
    """A kind without a default model (Azure: the deployment; any other OpenAI-compatible server:
    whatever it serves) cannot answer a call without one: refuse to save it, naming the field."""
    if model or not kind.needs_model:
        return
    if kind.slug == "azure-openai":
        raise ValidationError("Azure OpenAI needs the deployment name in the model field.", field="model")
    raise ValidationError(f"{kind.label} needs a model name: the model id your server serves "
                          "(its /models list shows them; e.g. llama3.1).", field="model")


def get_kind_or_error(slug: str) -> ProviderKind:
    kind = KINDS.get((slug or "").strip())
    if kind is None:
        raise ValidationError(f"Unknown provider kind {slug!r}. Choose one of: {', '.join(KINDS)}.", field="kind")
    return kind


@dataclass(frozen=True)
class ConnectionView:
    """What pages, the CLI and the TUI show of a connection. Never the key: `key_tail` is its
    stored masked hint. Times are epoch seconds."""

    id: int
    user_id: int
    kind: str
    name: str
    base_url: str  # as entered ('' = the kind's default URL)
    default_model: str
    is_default: bool
    key_tail: str
    last_test_ok: bool | None  # None: never tested (or the key changed since)
    last_test_at: float | None
    created_at: float
    models: tuple[str, ...]  # the models its last successful test listed
    api_version: str = ""  # Azure OpenAI's api-version option ('' for other kinds)


def _view(conn: ProviderConnection) -> ConnectionView:
    try:
        api_version = str(json.loads(conn.options or "{}").get("api_version", ""))
    except (ValueError, AttributeError):
        api_version = ""
    return ConnectionView(conn.id, conn.user_id, conn.kind, conn.name, conn.base_url or "", conn.default_model or "",
                          bool(conn.is_default), conn.key_tail or "", conn.last_test_ok, conn.last_test_at,
                          conn.created_at, tuple(connection_models(conn)), api_version)


def add_connection(store, vault, user_id: int, *, kind: str, name: str = "", api_key: str | None = None,
                   base_url: str = "", model: str = "", options: dict | None = None,
                   make_default: bool | None = None, actor: str = "") -> ConnectionView:
    k = get_kind_or_error(kind)
    name = _clean_text(name, MAX_NAME, "name", "Name") or k.label
    model = _clean_text(model, MAX_MODEL, "model", "Model") or k.default_model
    base = validate_base_url(base_url, k) if k.takes_base_url else ""
    key = _check_key(k, api_key, required=True) if k.takes_key else None
    opts = dict(KIND_OPTIONS.get(k.slug, {}))
    for opt_name, value in (options or {}).items():
        if opt_name in opts and value:
            opts[opt_name] = _clean_text(str(value), 100, opt_name, opt_name)
    _require_model(k, model)
    uid = uuid.uuid4().hex
    sealed = vault.seal(key, provider_aad(uid, user_id)) if key else None
    with store.write():
        if not User.select().where(User.id == user_id).exists():
            raise NotFound("No such user.")
        has_default = (ProviderConnection.select()
                       .where(ProviderConnection.user == user_id, ProviderConnection.is_default).exists())
        default = (not has_default) if make_default is None else make_default
        if default:
            ProviderConnection.update(is_default=False).where(ProviderConnection.user == user_id).execute()
        conn = ProviderConnection.create(
            uid=uid, user=user_id, kind=k.slug, name=name, base_url=base, default_model=model,
            options=json.dumps(opts), is_default=default,
            key_ciphertext=sealed.ciphertext if sealed else None,
            wrapped_dek=sealed.wrapped_dek if sealed else None,
            kek_id=sealed.kek_id if sealed else None, key_tail=mask_key(key or ""))
    audit.record(store, actor or audit.user_actor(user_id), "provider.add", f"provider:{conn.id}", kind=k.slug)
    return _view(conn)


def list_connections(store, user_id: int) -> list[ConnectionView]:
    """The user's connections, the default first, then oldest first."""
    with store.read():
        return [_view(c) for c in ProviderConnection.select().where(ProviderConnection.user == user_id)
                .order_by(ProviderConnection.is_default.desc(), ProviderConnection.id)]


def _own_row(user_id: int, connection_id: int) -> ProviderConnection:
    conn = ProviderConnection.get_or_none((ProviderConnection.id == connection_id)
                                          & (ProviderConnection.user == user_id))
    if conn is None:
        raise NotFound("That provider connection does not exist (or is not yours).")
    return conn


def get_connection(store, user_id: int, connection_id: int) -> ConnectionView:
    """The user's own connection; NotFound if it does not exist or belongs to someone else."""
    with store.read():
        return _view(_own_row(user_id, connection_id))


def connection_target(store, vault, user_id: int, connection_id: int) -> ProviderTarget:
    """The user's own connection opened for a call (the dashboard's Test connection). NotFound if
    not theirs; ValidationError if its key cannot be decrypted."""
    with store.read():
        return target_for(vault, _own_row(user_id, connection_id))


def update_connection(store, vault, user_id: int, connection_id: int, *, name: str, base_url: str,
                      model: str, api_key: str | None = None, options: dict | None = None,
                      actor: str = "") -> ConnectionView:
    """Edit a connection. An empty `api_key` keeps the stored key."""
    conn = _own_row(user_id, connection_id)
    k = get_kind_or_error(conn.kind)
    changes = {
        "name": _clean_text(name, MAX_NAME, "name", "Name") or k.label,
        "base_url": validate_base_url(base_url, k) if k.takes_base_url else "",
        "default_model": _clean_text(model, MAX_MODEL, "model", "Model") or k.default_model,
        "updated_at": time.time(),
    }
    _require_model(k, changes["default_model"])
    if options:
        opts = json.loads(conn.options or "{}")
        for opt_name, value in options.items():
            if opt_name in KIND_OPTIONS.get(k.slug, {}) and value:
                opts[opt_name] = _clean_text(str(value), 100, opt_name, opt_name)
        changes["options"] = json.dumps(opts)
    key = _check_key(k, api_key, required=False) if k.takes_key else None
    if key:
        sealed = vault.seal(key, provider_aad(conn.uid, user_id))
        changes.update(key_ciphertext=sealed.ciphertext, wrapped_dek=sealed.wrapped_dek,
                       kek_id=sealed.kek_id, key_tail=mask_key(key), last_test_ok=None)
    with store.write():
        ProviderConnection.update(**changes).where(ProviderConnection.id == conn.id).execute()
        reconcile_grants(conn.id)
    audit.record(store, actor or audit.user_actor(user_id), "provider.update", f"provider:{conn.id}",
                 key_changed=bool(key))
    return get_connection(store, user_id, connection_id)


def delete_connection(store, user_id: int, connection_id: int, *, actor: str = "") -> None:
    conn = _own_row(user_id, connection_id)
    with store.write():
        _hand_over_grants(conn.id)
        erase_connection_keys(ProviderConnection.id == conn.id)  # the key's bytes go too (issue 17)
        ProviderConnection.delete().where(ProviderConnection.id == conn.id).execute()
        if conn.is_default:
            nxt = (ProviderConnection.select().where(ProviderConnection.user == user_id)
                   .order_by(ProviderConnection.id).first())
            if nxt is not None:
                ProviderConnection.update(is_default=True).where(ProviderConnection.id == nxt.id).execute()
    audit.record(store, actor or audit.user_actor(user_id), "provider.delete", f"provider:{conn.id}")
    checkpoint_wal(store)


def set_default(store, user_id: int, connection_id: int) -> None:
    conn = _own_row(user_id, connection_id)
    with store.write():
        ProviderConnection.update(is_default=False).where(ProviderConnection.user == user_id).execute()
        ProviderConnection.update(is_default=True).where(ProviderConnection.id == conn.id).execute()


def record_test(store, connection_id: int, ok: bool, models: list[str] | None) -> None:
    changes = {"last_test_ok": ok, "last_test_at": time.time()}
    if ok and models is not None:
        changes["models_json"] = json.dumps(sorted(set(models))[:500])
    with store.write():
        ProviderConnection.update(**changes).where(ProviderConnection.id == connection_id).execute()
        reconcile_grants(connection_id)


def reconcile_grants(connection_id: int) -> int:
    """Inside a write: reset to the connection's defaults ('') the models of its live grants that
    it can no longer serve (services/grant_models.py), after its default model, its tested model
    list or its kind changed. Returns how many grants changed."""
    conn = ProviderConnection.get_or_none(ProviderConnection.id == connection_id)
    if conn is None:
        return 0
    tested = connection_models(conn)
    changed = 0
    for grant in Grant.select().where((Grant.provider == conn.id) & Grant.revoked_at.is_null()):
        fix = {}
        if not model_fits(conn.kind, conn.default_model, tested, grant.model or ""):
            fix["model"] = ""
        if not embedding_fits(conn.kind, grant.embedding_model or ""):
            fix["embedding_model"] = ""
        if fix:
            changed += Grant.update(**fix).where(Grant.id == grant.id).execute()
    return changed


def _hand_over_grants(connection_id: int) -> None:
    """Inside a write, before a connection is deleted: each grant on it moves to its first
    fallback connection (with that one's default models), or is left without a connection (the
    app is told to send the user to /connections); either way no model of the old one stays."""
    for grant in Grant.select().where(Grant.provider == connection_id):
        nxt = (GrantFallback.select().where((GrantFallback.grant == grant.id)
                                            & (GrantFallback.provider != connection_id))
               .order_by(GrantFallback.position).first())
        Grant.update(provider=nxt.provider_id if nxt else None, model="",
                     embedding_model="").where(Grant.id == grant.id).execute()
        if nxt is not None:
            GrantFallback.delete().where(GrantFallback.id == nxt.id).execute()


def connection_models(conn: ProviderConnection) -> list[str]:
    try:
        return list(json.loads(conn.models_json or "[]"))
    except ValueError:
        return []


# -- opening a connection for use -------------------------------------------------------
@dataclass(frozen=True)
class ProviderTarget:
    """A connection opened for use: the gateway `Route` its calls take (kind, wire, base
    URL, key, options, and the model chosen for the grant) and the models it offers.
    The route holds the plaintext key: keep a target in memory only."""

    connection_id: int
    route: Route
    models: tuple[str, ...] = ()  # the connection's known models (its default first)

    def route_for(self, requested_model: Any = None, *, allow_model_choice: bool = False) -> Route:
        """The route of one call. The app's `requested_model` is ignored (the user's choice
        rules) unless the user let the app choose among this connection's models and it
        named one of them."""
        if (allow_model_choice and isinstance(requested_model, str) and requested_model != self.route.model
                and requested_model in self.models):
            return replace(self.route, model=requested_model)
        return self.route


def sealed_of(conn: ProviderConnection) -> Sealed | None:
    if not conn.key_ciphertext:
        return None
    return Sealed(conn.kek_id, bytes(conn.wrapped_dek), bytes(conn.key_ciphertext))


def open_key(vault, conn: ProviderConnection) -> str | None:
    sealed = sealed_of(conn)
    if sealed is None:
        return None
    return vault.open(sealed, provider_aad(conn.uid, conn.user_id))


def target_for(vault, conn: ProviderConnection, model: str | None = None) -> ProviderTarget:
    k = KINDS[conn.kind]
    try:
        key = open_key(vault, conn)
    except SealError:
        raise ValidationError("This connection's stored key cannot be decrypted; re-enter the API key.",
                              field="api_key") from None
    known = [m for m in [conn.default_model or k.default_model, *connection_models(conn)] if m]
    # the one place a Route is built from a stored connection; `route_for` varies only its model
    route = Route(kind=conn.kind, wire=k.wire, base_url=conn.base_url or k.base_url, api_key=key,
                  model=model or conn.default_model or k.default_model, options=json.loads(conn.options or "{}"))
    return ProviderTarget(conn.id, route, tuple(dict.fromkeys(known)))
