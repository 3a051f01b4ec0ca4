"""Apps: search, detail (owner, type, redirect URIs, created, users, volume), disable / re-enable,
revoke every token of an app — each behind a confirmation, each in the audit log."""

from __future__ import annotations

from admin_tui.screens import AppsScreen, ConfirmScreen
from infer0app.services import admin_queries, grants
from infer0app.store.models import AuditEvent, OAuthApp
from tests.tui.conftest import call, goto, screen_text, settle


def names(app) -> list[str]:
    return [a.name for a in app.screen.table.records.values()]


async def select(pilot, name: str) -> None:
    table = pilot.app.screen.table
    table.move_cursor(row=names(pilot.app).index(name))
    await settle(pilot)


async def test_apps_list_search_and_detail(seeded, admin_app):
    chat = seeded.apps["Chat App"]
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "3")
        assert isinstance(app.screen, AppsScreen)
        assert names(app) == ["CLI Tool", "Chat App"]
        await select(pilot, "Chat App")
        row = app.screen.table.selected
        assert (row.owner_email, row.type, row.users_connected, row.requests_day) == (
            "dev@example.com", "confidential", 2, 42)
        text = screen_text(app)
        assert f"confidential client {chat.client_id}" in text
        assert "https://chat.example.com/cb" in text and "Owner dev@example.com" in text
        assert "users connected 2" in text and "requests 24h 42" in text

        await pilot.press("slash", *"tool")
        await settle(pilot)
        assert names(app) == ["CLI Tool"]
        assert "public client" in screen_text(app) and "http://127.0.0.1/cb" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.table.has_focus


async def test_disable_and_reenable_an_app(seeded, admin_app):
    chat = seeded.apps["Chat App"]
    token = seeded.tokens[("bob@example.com", "Chat App")]
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "3")
        await select(pilot, "Chat App")
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen) and "Disable the app Chat App?" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        assert call(app, lambda s: OAuthApp.get_by_id(chat.id).disabled)
        assert call(app, grants.resolve_access_token, token) is None  # its tokens stop working at once
        assert app.screen.table.selected.disabled and "App Chat App disabled." in screen_text(app)

        await pilot.press("d")
        await settle(pilot)
        assert "Re-enable the app Chat App?" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        assert not call(app, lambda s: OAuthApp.get_by_id(chat.id).disabled)
        assert call(app, grants.resolve_access_token, token) is not None
        actions = call(app, lambda s: [(e.action, e.target, e.actor.split(":")[0]) for e in
                                       AuditEvent.select().where(AuditEvent.action.startswith("app."))
                                       .order_by(AuditEvent.id)])
        assert actions[-2:] == [("app.disable", chat.client_id, "admin-tui"),
                                ("app.enable", chat.client_id, "admin-tui")]


async def test_revoke_all_tokens_of_an_app(seeded, admin_app):
    chat = seeded.apps["Chat App"]
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "3")
        await select(pilot, "Chat App")
        await pilot.press("x")
        await settle(pilot)
        assert "Revoke every token of Chat App?" in screen_text(app)
        await pilot.press("escape")  # "no"
        await settle(pilot)
        assert len(call(app, admin_queries.list_active_grants, app_id=chat.id)) == 2
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert call(app, admin_queries.list_active_grants, app_id=chat.id) == []
        for email in ("alice@example.com", "bob@example.com"):
            assert call(app, grants.resolve_access_token, seeded.tokens[(email, "Chat App")]) is None
        assert call(app, grants.resolve_access_token, seeded.tokens[("alice@example.com", "CLI Tool")]) is not None
        assert app.screen.table.selected.users_connected == 0
        assert "Revoked 2 grant(s) of Chat App." in screen_text(app)
        entry = call(app, lambda s: AuditEvent.get(AuditEvent.action == "grant.revoke_app"))
        assert entry.actor.startswith("admin-tui:") and entry.target == f"app:{chat.id}"


async def test_dynamic_app_shows_its_origin_and_can_be_verified(seeded, admin_app):
    from infer0app.services import client_registration as reg

    app = admin_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)  # the app opens its store in a worker: wait for it before using it
        metadata = reg.parse_metadata({"client_name": "Zed Notes", "redirect_uris": ["com.zed.notes:/cb"],
                                       "token_endpoint_auth_method": "none"})
        dyn, _, _ = call(app, reg.register, metadata, address="203.0.113.9")
        await goto(pilot, "3")
        assert "Zed Notes" in names(app)
        await select(pilot, "Zed Notes")
        row = app.screen.table.selected
        assert (row.origin, row.verified, row.owner_label) == ("dynamic", False, "(registered dynamically)")
        text = screen_text(app)
        assert "origin dynamic (from 203.0.113.9)" in text and "unverified" in text
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen) and "Mark Zed Notes as verified?" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        assert call(app, lambda s: OAuthApp.get_by_id(dyn.id).verified)
        assert app.screen.table.selected.verified
        await pilot.press("v")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert not call(app, lambda s: OAuthApp.get_by_id(dyn.id).verified)
        actions = call(app, lambda s: [(e.action, e.actor.split(":")[0]) for e in AuditEvent.select().where(
            AuditEvent.target == dyn.client_id).order_by(AuditEvent.id)])
        assert actions == [("app.register", "client"), ("app.verify", "admin-tui"), ("app.unverify", "admin-tui")]
