"""Dynamic client registration (RFC 7591) and its management protocol (RFC 7592).

- `parse_metadata(body)` checks a registration (or RFC 7592 update) request's JSON object and
  returns `ClientMetadata`, or raises `RegistrationError` with RFC 7591 §3.2.2's `error`
  (`invalid_redirect_uri`, `invalid_client_metadata`) and a description;
- `register(store, metadata, address=…)` creates an app with `origin="dynamic"`, no owner,
  `verified=False`; returns it with its client secret (confidential clients only) and its
  registration access token (`i0_rat_…`); both are stored only as SHA-256 hashes;
- `authorized_app(store, client_id, token)`: the app the RFC 7592 token manages, or None;
- `update(store, app, metadata, …)`, `delete(store, app)`: RFC 7592 §2.2 and §2.3;
- `client_information(app, …)`: the RFC 7591 §3.2.1 / RFC 7592 §3 response object.

Redirect URIs follow the /dev/apps rules (services/apps.py), private-use schemes for public
clients only. Other URIs (client_uri, logo_uri, policy_uri, tos_uri) must be https: users'
browsers show or follow them, the server never fetches them. Unknown metadata is ignored (RFC
7591 §2). Every client may use both grant types infer0 offers, with response type `code`, so
the answer always registers `grant_types` = authorization_code + refresh_token.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from ..store.models import OAuthApp
from . import apps as apps_svc
from . import audit
from .errors import ValidationError
from .secrets_util import new_token, same_hash, sha256_hex
from .visible_text import has_unseen

REGISTRATION_TOKEN_PREFIX = "i0_rat_"
AUTH_METHODS = ("none", "client_secret_basic", "client_secret_post")
GRANT_TYPES = ("authorization_code", "refresh_token")
RESPONSE_TYPES = ("code",)
MAX_SOFTWARE_FIELD = 100
SHOWN_URIS = (("client_uri", "client_uri"), ("logo_uri", "logo_uri"), ("policy_uri", "policy_uri"),
              ("tos_uri", "tos_uri"))


class RegistrationError(Exception):
    """A refused registration or update: `error` is RFC 7591 §3.2.2's code."""

    def __init__(self, error: str, description: str):
        super().__init__(description)
        self.error = error
        self.description = description


@dataclass(frozen=True)
class ClientMetadata:
    """The RFC 7591 §2 client metadata infer0 keeps (the rest is ignored)."""

    client_name: str
    redirect_uris: tuple[str, ...]
    token_endpoint_auth_method: str
    client_uri: str = ""
    logo_uri: str = ""
    policy_uri: str = ""
    tos_uri: str = ""
    software_id: str = ""
    software_version: str = ""

    @property
    def is_public(self) -> bool:
        return self.token_endpoint_auth_method == "none"


def _metadata_error(description: str) -> RegistrationError:
    return RegistrationError("invalid_client_metadata", description)


def _string(body: dict, name: str, limit: int) -> str:
    value = body.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _metadata_error(f"{name} must be a string.")
    value = value.strip()
    if len(value) > limit or has_unseen(value):
        raise _metadata_error(f"{name} must be at most {limit} characters, on one line.")
    return value


def _string_list(body: dict, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _metadata_error(f"{name} must be an array of strings.")
    return tuple(value)


def parse_metadata(body) -> ClientMetadata:
    """RFC 7591 §2 metadata from a decoded JSON body; RegistrationError says what is wrong."""
    if not isinstance(body, dict):
        raise _metadata_error("The request body must be a JSON object of client metadata (RFC 7591 §3.1).")
    method = body.get("token_endpoint_auth_method", "client_secret_basic")  # RFC 7591 §2's default
    if method not in AUTH_METHODS:
        raise _metadata_error("token_endpoint_auth_method must be one of " + ", ".join(AUTH_METHODS)
                              + " ('none' for public clients, which must use PKCE S256).")
    grant_types = _string_list(body, "grant_types", ("authorization_code",))
    unknown = sorted(set(grant_types) - set(GRANT_TYPES))
    if unknown or "authorization_code" not in grant_types:
        raise _metadata_error("grant_types must include authorization_code and may add refresh_token; "
                              f"{len(unknown)} other grant type(s) given, which infer0 does not support.")
    response_types = _string_list(body, "response_types", RESPONSE_TYPES)
    if set(response_types) != {"code"}:
        raise _metadata_error("response_types must be [code]: the authorization code flow is the one offered.")
    try:
        name = apps_svc.clean_name(_string(body, "client_name", apps_svc.MAX_NAME))
    except ValidationError:
        raise _metadata_error("client_name is required: users see it on the consent page.") from None
    uris = body.get("redirect_uris")
    if not isinstance(uris, list) or not uris or not all(isinstance(u, str) for u in uris):
        raise RegistrationError("invalid_redirect_uri", "redirect_uris must be a non-empty array of strings.")
    try:
        cleaned = apps_svc.validate_redirect_uris(uris, public=method == "none")
    except ValidationError as exc:
        raise RegistrationError("invalid_redirect_uri", exc.message) from None
    shown = {}
    for name_in_body, _ in SHOWN_URIS:
        try:
            shown[name_in_body] = apps_svc.clean_https_uri(_string(body, name_in_body, apps_svc.MAX_URL),
                                                           name_in_body, name_in_body)
        except ValidationError as exc:
            raise _metadata_error(exc.message) from None
    return ClientMetadata(name, tuple(cleaned), method, **shown,
                          software_id=_string(body, "software_id", MAX_SOFTWARE_FIELD),
                          software_version=_string(body, "software_version", MAX_SOFTWARE_FIELD))


def _columns(metadata: ClientMetadata) -> dict:
    return {"name": metadata.client_name, "redirect_uris": json.dumps(list(metadata.redirect_uris)),
            "homepage_url": metadata.client_uri, "logo_uri": metadata.logo_uri, "policy_uri": metadata.policy_uri,
            "tos_uri": metadata.tos_uri, "software_id": metadata.software_id,
            "software_version": metadata.software_version}


def register(store, metadata: ClientMetadata, *, address: str) -> tuple[apps_svc.AppView, str | None, str]:
    """A new dynamic client: (app, client secret or None for public clients, registration access
    token). Neither secret is stored in plaintext, nor shown again."""
    secret = None if metadata.is_public else new_token(apps_svc.CLIENT_SECRET_PREFIX)
    token = new_token(REGISTRATION_TOKEN_PREFIX)
    client_id = new_token(apps_svc.CLIENT_ID_PREFIX, nbytes=16)
    with store.write():
        OAuthApp.create(client_id=client_id, client_secret_hash=sha256_hex(secret) if secret else None, owner=None,
                        is_public=metadata.is_public, origin="dynamic", verified=False,
                        token_endpoint_auth_method="" if metadata.is_public else metadata.token_endpoint_auth_method,
                        registration_token_hash=sha256_hex(token), registered_from=(address or "")[:64],
                        **_columns(metadata))
    audit.record(store, audit.client_actor(client_id), "app.register", client_id, name=metadata.client_name,
                 public=metadata.is_public, software_id=metadata.software_id, ip=address)
    return apps_svc.get_app(store, client_id), secret, token


def authorized_app(store, client_id: str, token: str) -> apps_svc.AppView | None:
    """The dynamic client `client_id` if `token` is its registration access token, else None
    (RFC 7592 §2: the caller answers 401 invalid_token either way, revealing nothing)."""
    if not token.startswith(REGISTRATION_TOKEN_PREFIX) or len(token) > 200:
        return None
    with store.read():
        row = (OAuthApp.select(OAuthApp.registration_token_hash)
               .where(OAuthApp.client_id == (client_id or "")).first())
    if row is None or not same_hash(token, row.registration_token_hash):
        return None
    return apps_svc.get_app(store, client_id)


def update(store, app: apps_svc.AppView, body, metadata: ClientMetadata) -> apps_svc.AppView:
    """RFC 7592 §2.2: the request replaces the client's metadata (omitted fields are cleared).
    The body must name the same client_id, and a client_secret in it must be the current one;
    the client cannot switch between public and confidential."""
    if body.get("client_id") != app.client_id:
        raise _metadata_error("client_id in the body must be this client's id (RFC 7592 §2.2).")
    if metadata.is_public != app.is_public:
        raise _metadata_error("token_endpoint_auth_method cannot switch between 'none' and a client secret; "
                              "register a new client instead.")
    if "client_secret" in body:
        found = apps_svc.find_client(store, app.client_id)
        if not isinstance(body["client_secret"], str) or not found or not found[1].accepts(body["client_secret"],
                                                                                              time.time()):
            raise _metadata_error("client_secret does not match the client's current secret.")
    changes = _columns(metadata)
    if not app.is_public:
        changes["token_endpoint_auth_method"] = metadata.token_endpoint_auth_method
    with store.write():
        OAuthApp.update(**changes).where(OAuthApp.id == app.id).execute()
    audit.record(store, audit.client_actor(app.client_id), "app.update", app.client_id)
    return apps_svc.get_app(store, app.client_id)


def delete(store, app: apps_svc.AppView) -> None:
    """RFC 7592 §2.3: the client, its grants and tokens are gone."""
    apps_svc.delete_app(store, app.client_id, actor=audit.client_actor(app.client_id))


def client_information(app: apps_svc.AppView, *, registration_client_uri: str, registration_access_token: str,
                       client_secret: str | None = None) -> dict:
    """The RFC 7591 §3.2.1 response (also RFC 7592 §3's read and update answers). The client
    secret appears only when just issued: infer0 keeps its hash alone."""
    out = {"client_id": app.client_id, "client_id_issued_at": int(app.created_at)}
    if client_secret:
        out["client_secret"] = client_secret
    if not app.is_public:
        out["client_secret_expires_at"] = 0  # RFC 7591 §3.2.1: 0 = does not expire
    out.update({"registration_access_token": registration_access_token,
                "registration_client_uri": registration_client_uri,
                "client_name": app.name, "redirect_uris": list(app.redirect_uris),
                "token_endpoint_auth_method": app.auth_method, "grant_types": list(GRANT_TYPES),
                "response_types": list(RESPONSE_TYPES)})
    for name, value in (("client_uri", app.homepage_url), ("logo_uri", app.logo_uri), ("policy_uri", app.policy_uri),
                        ("tos_uri", app.tos_uri), ("software_id", app.software_id),
                        ("software_version", app.software_version)):
        if value:
            out[name] = value
    return out
