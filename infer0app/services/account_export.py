"""Export my data (issue 17 §2): one JSON document of what infer0 holds about a person.

Shape (times ISO 8601 UTC):
    {"format": "infer0-account-export/1", "exported_at",
     "account": {"id", "email", "created_at", "last_login_at", "disabled", "two_factor"},
     "sessions": [{"device", "user_agent", "ip", "created_at", "last_seen_at", "expires_at"}],
     "connections": [{"id", "kind", "name", "base_url", "default_model", "is_default", "has_key",
                      "models", "last_test_ok", "last_test_at", "created_at", "updated_at"}],
     "grants": [{"id", "app": {"client_id", "name"}, "connection_id", "model", "embedding_model",
                 "scope", "created_at", "last_used_at", "revoked_at"}],
     "apps": [{"client_id", "name", "homepage_url", "redirect_uris", "type", "disabled", "created_at"}],
     "usage": {"requests": [{"created_at", "client_id", "provider_kind", "model", "prompt_tokens",
                             "completion_tokens", "cached_tokens", "status", "latency_ms", "streamed"}],
               "daily": [{"day", "client_id", "provider_kind", "model", "status", "requests",
                          "prompt_tokens", "completion_tokens", "cached_tokens"}]},
     "audit": [{"created_at", "action", "target", "ip"}]}

Connections never carry their key, nor its sealed form, nor its masked hint: `has_key` says
whether one is stored. Apps never carry a secret or its hash.
"""

from __future__ import annotations

import datetime as dt
import json
import time

from ..store.models import (AuditEvent, Grant, OAuthApp, ProviderConnection, UsageDaily, UsageEvent, User,
                            UserTotp, WebSession)
from . import audit
from .sessions import device_label

FORMAT = "infer0-account-export/1"


def _iso(ts: float | None) -> str | None:
    return None if ts is None else dt.datetime.fromtimestamp(ts, dt.timezone.utc).isoformat(timespec="seconds")


def _json_list(raw: str | None) -> list:
    try:
        value = json.loads(raw or "[]")
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def export_account(store, user_id: int) -> dict:
    """The document above for `user_id` (a dict, ready for json.dumps)."""
    with store.read():
        user = User.get_by_id(user_id)
        totp = UserTotp.get_or_none(UserTotp.user == user_id)
        client_ids = {a.id: (a.client_id, a.name) for a in OAuthApp.select(OAuthApp.id, OAuthApp.client_id,
                                                                             OAuthApp.name)}
        doc = {
            "format": FORMAT,
            "exported_at": _iso(time.time()),
            "account": {"id": user.id, "email": user.email, "created_at": _iso(user.created_at),
                        "last_login_at": _iso(user.last_login_at), "disabled": bool(user.disabled),
                        "two_factor": totp is not None and totp.confirmed_at is not None},
            "sessions": [{"device": device_label(s.user_agent), "user_agent": s.user_agent, "ip": s.ip,
                          "created_at": _iso(s.created_at), "last_seen_at": _iso(s.last_seen_at),
                          "expires_at": _iso(s.expires_at)}
                         for s in WebSession.select().where(WebSession.user == user_id)],
            "connections": [{"id": c.id, "kind": c.kind, "name": c.name, "base_url": c.base_url,
                             "default_model": c.default_model, "is_default": bool(c.is_default),
                             "has_key": bool(c.key_ciphertext), "models": _json_list(c.models_json),
                             "last_test_ok": c.last_test_ok, "last_test_at": _iso(c.last_test_at),
                             "created_at": _iso(c.created_at), "updated_at": _iso(c.updated_at)}
                            for c in ProviderConnection.select().where(ProviderConnection.user == user_id)
                            .order_by(ProviderConnection.id)],
            "grants": [{"id": g.id, "app": dict(zip(("client_id", "name"), client_ids.get(g.app_id, ("", "")))),
                        "connection_id": g.provider_id, "model": g.model, "embedding_model": g.embedding_model,
                        "scope": g.scope, "created_at": _iso(g.created_at), "last_used_at": _iso(g.last_used_at),
                        "revoked_at": _iso(g.revoked_at)}
                       for g in Grant.select().where(Grant.user == user_id).order_by(Grant.id)],
            "apps": [{"client_id": a.client_id, "name": a.name, "homepage_url": a.homepage_url,
                      "redirect_uris": _json_list(a.redirect_uris), "type": "public" if a.is_public else "confidential",
                      "disabled": bool(a.disabled), "created_at": _iso(a.created_at)}
                     for a in OAuthApp.select().where(OAuthApp.owner == user_id).order_by(OAuthApp.id)],
            "usage": {
                "requests": [{"created_at": _iso(u.created_at), "client_id": client_ids.get(u.app_id, ("", ""))[0],
                              "provider_kind": u.provider_kind, "model": u.model, "prompt_tokens": u.prompt_tokens,
                              "completion_tokens": u.completion_tokens, "cached_tokens": u.cached_tokens,
                              "status": u.status, "latency_ms": u.latency_ms, "streamed": bool(u.streamed)}
                             for u in UsageEvent.select().where(UsageEvent.user_id == user_id)
                             .order_by(UsageEvent.created_at)],
                "daily": [{"day": d.day, "client_id": client_ids.get(d.app_id, ("", ""))[0],
                           "provider_kind": d.provider_kind, "model": d.model, "status": d.status,
                           "requests": d.requests, "prompt_tokens": d.prompt_tokens,
                           "completion_tokens": d.completion_tokens, "cached_tokens": d.cached_tokens}
                          for d in UsageDaily.select().where(UsageDaily.user_id == user_id).order_by(UsageDaily.day)],
            },
            "audit": [{"created_at": _iso(e.created_at), "action": e.action, "target": e.target, "ip": e.ip}
                      for e in AuditEvent.select().where(AuditEvent.actor.in_(
                          [audit.user_actor(user.email), audit.user_actor(user_id)])).order_by(AuditEvent.id)],
        }
    return doc
