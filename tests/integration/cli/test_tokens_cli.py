"""`infer0 tokens list|revoke` for scripts: active grants as JSON; revocations audited as the CLI."""

from __future__ import annotations

import pytest

from infer0app.services import grants
from tests.support.backend import open_data_dir
from infer0app.store.models import AuditEvent
from tests.support.processes import run_cli, run_cli_json
from tests.tui.seed import seed


@pytest.fixture
def seeded(data_dir):
    return seed(data_dir)


def resolves(data_dir, token: str) -> bool:
    store, _ = open_data_dir(data_dir, create=False)
    try:
        return grants.resolve_access_token(store, token) is not None
    finally:
        store.close()


def test_list_all_by_user_and_by_app(seeded, data_dir):
    chat = seeded.apps["Chat App"]
    rows = run_cli_json("tokens", "list", data_dir=data_dir)
    assert sorted((r["user"], r["app_name"]) for r in rows) == [
        ("alice@example.com", "CLI Tool"), ("alice@example.com", "Chat App"), ("bob@example.com", "Chat App")]
    bob = next(r for r in rows if r["user"] == "bob@example.com")
    assert bob == {"grant_id": seeded.grants[("bob@example.com", "Chat App")], "user": "bob@example.com",
                   "app": chat.client_id, "app_name": "Chat App", "provider": "anthropic/Bob Claude",
                   "model": "claude-sonnet-4-5", "scope": "inference", "created_at": bob["created_at"],
                   "last_used_at": bob["last_used_at"], "active_tokens": 1}
    assert bob["last_used_at"].endswith("+00:00")
    assert {r["app_name"] for r in run_cli_json("tokens", "list", "--user", "alice@example.com",
                                                data_dir=data_dir)} == {"Chat App", "CLI Tool"}
    assert {r["user"] for r in run_cli_json("tokens", "list", "--app", chat.client_id, data_dir=data_dir)} == {
        "alice@example.com", "bob@example.com"}
    assert run_cli_json("tokens", "list", "--user", "alice@example.com", "--app", chat.client_id,
                        data_dir=data_dir)[0]["grant_id"] == seeded.grants[("alice@example.com", "Chat App")]


def test_revoke_one_grant(seeded, data_dir):
    gid = seeded.grants[("bob@example.com", "Chat App")]
    assert run_cli_json("tokens", "revoke", "--grant", str(gid), data_dir=data_dir) == {
        "revoked_grants": 1, "grant": gid}
    assert not resolves(data_dir, seeded.tokens[("bob@example.com", "Chat App")])
    assert resolves(data_dir, seeded.tokens[("alice@example.com", "Chat App")])
    proc = run_cli("tokens", "revoke", "--grant", str(gid), data_dir=data_dir)  # already revoked
    assert proc.returncode == 1 and f"No active grant with id {gid}." in proc.stderr


def test_revoke_all_of_a_user_and_all_of_an_app(seeded, data_dir):
    assert run_cli_json("tokens", "revoke", "--user", "alice@example.com", data_dir=data_dir) == {
        "revoked_grants": 2, "user": "alice@example.com"}
    assert not resolves(data_dir, seeded.tokens[("alice@example.com", "CLI Tool")])
    chat = seeded.apps["Chat App"].client_id
    assert run_cli_json("tokens", "revoke", "--app", chat, data_dir=data_dir) == {"revoked_grants": 1, "app": chat}
    assert run_cli_json("tokens", "list", data_dir=data_dir) == []
    store, _ = open_data_dir(data_dir, create=False)
    try:
        actors = {e.action: e.actor for e in AuditEvent.select().where(AuditEvent.action.startswith("grant.revoke"))}
    finally:
        store.close()
    assert set(actors) == {"grant.revoke_user", "grant.revoke_app"}
    assert all(a.startswith("cli:") for a in actors.values())


def test_revoke_errors_are_one_line(seeded, data_dir):
    proc = run_cli("tokens", "revoke", "--user", "nobody@example.com", data_dir=data_dir)
    assert proc.returncode == 1 and proc.stderr.startswith("infer0: error: No user with email")
    proc = run_cli("tokens", "revoke", "--app", "i0_ci_nope", data_dir=data_dir)
    assert proc.returncode == 1 and "No app with client id 'i0_ci_nope'." in proc.stderr
    proc = run_cli("tokens", "revoke", data_dir=data_dir)  # say what to revoke
    assert proc.returncode == 2
    proc = run_cli("tokens", "revoke", "--user", "a@example.com", "--grant", "1", data_dir=data_dir)
    assert proc.returncode == 2 and "not allowed with argument" in proc.stderr
