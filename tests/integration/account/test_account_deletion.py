"""Delete my account (issue 17 §2), over real HTTP against the real app: the warning names the
apps that go with it, the password confirms, every grant and token ends, the apps the user
registered and their users' grants go, provider keys are erased from the database file and its
WAL, and the audit keeps what happened without the person's email or addresses."""

from __future__ import annotations

import pytest

from infer0app.services import accounts, providers
from infer0app.store.models import AuditEvent, Grant, OAuthApp, ProviderConnection, Token, User, WebSession
from tests.support.account import PASSWORD, page_text
from tests.support.browser import csrf_from
from tests.support.oauth import REDIRECT, World

ALICE_KEY = "sk-alice-very-secret-key-000111222333"


@pytest.fixture
async def world(server):
    w = World(await server())
    yield w
    await w.close()


def db_bytes(world) -> bytes:
    """The database file and its WAL, as a thief copying the data dir would get them."""
    path = world.store.path
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


async def scene(world):
    """alice: a keyed connection, an app of her own that bob uses, and a token for dev's app."""
    alice = await world.user("alice@example.com")

    def add_key(store):
        user = accounts.get_user_by_email(store, "alice@example.com")
        return providers.add_connection(store, world.vault, user.id, kind="openai", name="Alice OpenAI",
                                        api_key=ALICE_KEY).id
    conn_id = await world.store.run(add_key)
    alice_app, alice_app_secret = await world.app("alice@example.com", name="Alice App")
    bob = await world.user("bob@example.com")
    code = await world.code(bob, alice_app)
    resp, bob_tokens = await world.exchange(code, alice_app, alice_app_secret)
    assert resp.status == 200
    dev_app, dev_secret = await world.app("dev@example.com", name="Dev App")
    code = await world.code(alice, dev_app)
    resp, alice_tokens = await world.exchange(code, dev_app, dev_secret)
    assert resp.status == 200
    return alice, conn_id, alice_app, bob_tokens["access_token"], alice_tokens["access_token"]


async def test_the_warning_names_the_apps_that_go_and_a_wrong_password_deletes_nothing(world):
    alice, _conn, alice_app, bob_token, alice_token = await scene(world)
    resp, html = await alice.get("/account/delete")
    text = page_text(html)
    assert resp.status == 200 and "The 1 app you registered will be deleted too." in text
    assert f"Alice App {alice_app} — 1 other user connected" in text
    resp, html = await alice.post("/account/delete", {"csrf_token": csrf_from(html), "confirm": "yes",
                                                      "password": "not the password"})
    assert resp.status == 400 and "nothing was deleted" in html
    for token in (bob_token, alice_token):
        resp, _ = await world.me(token)
        assert resp.status == 200
    assert User.select().where(User.email == "alice@example.com").exists()


async def test_deleting_ends_everything_and_erases_the_keys_from_the_files(world):
    alice, conn_id, alice_app, bob_token, alice_token = await scene(world)
    row = ProviderConnection.get_by_id(conn_id)
    sealed = [bytes(row.key_ciphertext), bytes(row.wrapped_dek)]
    before = db_bytes(world)
    assert all(part in before for part in sealed), "the sealed key should be in the files before deletion"
    alice_id = User.get(User.email == "alice@example.com").id

    _, html = await alice.get("/account/delete")
    resp, html = await alice.post("/account/delete", {"csrf_token": csrf_from(html), "confirm": "yes",
                                                      "password": PASSWORD})
    assert resp.status == 200 and "Your account is deleted" in html
    assert alice.cookie("i0_session") in (None, "")

    for token in (bob_token, alice_token):  # her own grant, and bob's grant of her app
        resp, body = await world.me(token)
        assert resp.status == 401, body
    assert not OAuthApp.select().where(OAuthApp.client_id == alice_app).exists()
    assert not Grant.select().where(Grant.user == alice_id).exists()
    assert not ProviderConnection.select().where(ProviderConnection.user == alice_id).exists()
    assert not WebSession.select().where(WebSession.user == alice_id).exists()
    assert Token.select().join(Grant).where(Grant.user == alice_id).count() == 0
    bob = User.get(User.email == "bob@example.com")
    assert not Grant.select().where(Grant.user == bob.id).exists()  # his grant of her app went with it
    assert not bob.disabled  # bob himself stays

    after = db_bytes(world)
    for part in sealed:
        assert part not in after, "a sealed key's bytes survived in the database file or WAL"
    assert b"alice@example.com" not in after  # nor her email, in any table, index or old page
    assert ALICE_KEY.encode() not in after

    events = list(AuditEvent.select())
    assert all("alice@example.com" not in f"{e.actor} {e.target} {e.detail}" for e in events)
    deleted = [e for e in events if e.action == "user.delete"]
    assert len(deleted) == 1 and deleted[0].actor == f"user:{alice_id}" and alice_app in deleted[0].detail
    assert all(e.ip == "" for e in events if e.actor == f"user:{alice_id}")
    signins = [e for e in events if e.action == "user.signin" and e.actor == f"user:{alice_id}"]
    assert signins, "her sign-ins stay in the audit, under her id"

    resp, _ = await alice.get("/account", allow_redirects=False)
    assert resp.status == 303
    fresh = world.browser()
    resp, _ = await fresh.login("alice@example.com", PASSWORD, allow_redirects=False)
    assert resp.status == 400


async def test_removing_one_connection_erases_its_key_too(world):
    alice, conn_id, *_ = await scene(world)
    row = ProviderConnection.get_by_id(conn_id)
    sealed = [bytes(row.key_ciphertext), bytes(row.wrapped_dek)]
    _, html = await alice.get("/providers")
    resp, _ = await alice.post(f"/providers/{conn_id}/delete", {"csrf_token": csrf_from(html), "confirm": "yes"})
    assert resp.status == 200
    after = db_bytes(world)
    assert not any(part in after for part in sealed)


async def test_export_is_one_json_download_without_keys(world):
    alice, conn_id, alice_app, _bob, _alice_token = await scene(world)
    async with alice.http.get(alice.url("/account/export")) as resp:
        assert resp.status == 200 and resp.content_type == "application/json"
        assert resp.headers["Content-Disposition"].startswith('attachment; filename="infer0-export-')
        raw = await resp.text()
        doc = await resp.json()
    assert doc["format"] == "infer0-account-export/1"
    assert doc["account"]["email"] == "alice@example.com" and doc["account"]["two_factor"] is False
    kinds = {c["name"]: c for c in doc["connections"]}
    assert set(kinds) == {"Sandbox", "Alice OpenAI"} and kinds["Alice OpenAI"]["has_key"] is True
    assert [a["client_id"] for a in doc["apps"]] == [alice_app]
    assert [g["app"]["name"] for g in doc["grants"]] == ["Dev App"]
    assert set(doc["usage"]) == {"requests", "daily"}
    assert any(e["action"] == "user.signin" for e in doc["audit"])
    row = ProviderConnection.get_by_id(conn_id)
    assert ALICE_KEY not in raw and ALICE_KEY[-4:] not in raw and row.key_tail not in raw
    assert "secret" not in raw.lower() or "client_secret" not in raw
