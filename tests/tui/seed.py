"""A real data dir populated through the services: users, provider keys, apps, grants,
tokens, usage and sign-ins — what an operator would find on a running appliance."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from infer0app.services import accounts, apps, grants, providers
from tests.support.backend import open_data_dir
from infer0app.services.secrets_util import new_token, sha256_hex
from infer0app.services.usage_log import UsageRecord, insert_batch

ALICE_KEY = "sk-alice-secret-0123456789abcdef"
BOB_KEY = "sk-ant-bob-secret-0123456789abcdef"


@dataclass
class Seeded:
    data_dir: Path
    users: dict[str, int] = field(default_factory=dict)  # email -> id
    apps: dict[str, object] = field(default_factory=dict)  # name -> AppView
    grants: dict[tuple[str, str], int] = field(default_factory=dict)  # (email, app name) -> grant id
    tokens: dict[tuple[str, str], str] = field(default_factory=dict)  # (email, app name) -> access token
    connections: dict[str, int] = field(default_factory=dict)  # "alice/openai" -> connection id


def issue_token(store, user_id: int, app, provider_id: int) -> tuple[int, str]:
    """Consent + code redemption, as the OAuth endpoints do it; returns (grant id, access token)."""
    code = grants.approve(store, user_id=user_id, app_id=app.id, provider_id=provider_id, model="",
                          scope="inference", redirect_uri=app.redirect_uris[0], code_challenge=None,
                          code_challenge_method=None)
    access = new_token(grants.ACCESS_PREFIX)
    token_id = grants.redeem_code(store, sha256_hex(code), access_token=access,
                                  refresh_token=new_token(grants.REFRESH_PREFIX), scope="inference",
                                  access_ttl=3600, refresh_ttl=86400)
    from infer0app.store.models import Token
    return Token.get_by_id(token_id).grant_id, access


def seed(data_dir: Path, *, base_url: str = "") -> Seeded:
    s = Seeded(Path(data_dir))
    store, vault = open_data_dir(data_dir)
    try:
        for email in ("alice@example.com", "bob@example.com", "dev@example.com"):
            s.users[email] = accounts.create_user(store, email, None, actor="cli:test").id
        alice, bob, dev = (s.users[e] for e in ("alice@example.com", "bob@example.com", "dev@example.com"))
        if base_url:  # an OpenAI-compatible fake the server can reach, with a real sealed key
            s.connections["alice/openai"] = providers.add_connection(
                store, vault, alice, kind="openai-compatible", name="Alice fake", api_key=ALICE_KEY,
                base_url=base_url, model="fake-model").id
        else:
            s.connections["alice/openai"] = providers.add_connection(
                store, vault, alice, kind="openai", name="Alice OpenAI", api_key=ALICE_KEY).id
        s.connections["alice/sandbox"] = providers.add_connection(store, vault, alice, kind="sandbox",
                                                                  name="Alice sandbox").id
        s.connections["bob/anthropic"] = providers.add_connection(store, vault, bob, kind="anthropic",
                                                                  name="Bob Claude", api_key=BOB_KEY).id
        chat, _secret = apps.create_app(store, dev, name="Chat App", redirect_uris=["https://chat.example.com/cb"],
                                        actor="cli:test")
        tool, _ = apps.create_app(store, dev, name="CLI Tool", redirect_uris=["http://127.0.0.1/cb"], public=True,
                                  actor="cli:test")
        s.apps = {"Chat App": chat, "CLI Tool": tool}
        for email, app, conn in (("alice@example.com", chat, "alice/openai"),
                                 ("bob@example.com", chat, "bob/anthropic"),
                                 ("alice@example.com", tool, "alice/sandbox")):
            gid, token = issue_token(store, s.users[email], app, s.connections[conn])
            s.grants[(email, app.name)] = gid
            s.tokens[(email, app.name)] = token
        now = time.time()
        records = []
        for i in range(30):  # the last half hour: one call a minute, every fifth an upstream error
            records.append(UsageRecord(alice, chat.id, s.grants[("alice@example.com", "Chat App")], "openai",
                                       "gpt-4o-mini", 502 if i % 5 == 0 else 200, 120.0, False,
                                       created_at=now - i * 60 - 5, error_code="provider_error" if i % 5 == 0 else ""))
        for i in range(12):  # earlier today
            records.append(UsageRecord(bob, chat.id, s.grants[("bob@example.com", "Chat App")], "anthropic",
                                       "claude", 200, 300.0, True, created_at=now - 5 * 3600 - i))
        insert_batch(store, records)
        accounts.start_session(store, accounts.get_user_by_email(store, "alice@example.com"), 3600)
    finally:
        store.close()
    return s
