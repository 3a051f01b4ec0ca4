"""Grants & tokens: active grants with last use; revoke one, all of a user's, all of an app's."""

from __future__ import annotations

from admin_tui.screens import GrantsScreen
from infer0app.services import admin_queries, grants
from infer0app.store.models import AuditEvent
from tests.tui.conftest import call, goto, screen_text, settle


def rows(app) -> list[tuple[str, str]]:
    return [(g.user_email, g.app_name) for g in app.screen.table.records.values()]


async def select(pilot, user: str, app_name: str) -> None:
    pilot.app.screen.table.move_cursor(row=rows(pilot.app).index((user, app_name)))
    await settle(pilot)


async def test_grants_list_with_last_use_and_filter(seeded, admin_app):
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "4")
        assert isinstance(app.screen, GrantsScreen)
        assert sorted(rows(app)) == [("alice@example.com", "CLI Tool"), ("alice@example.com", "Chat App"),
                                     ("bob@example.com", "Chat App")]
        await select(pilot, "bob@example.com", "Chat App")
        g = app.screen.table.selected
        assert g.provider == "anthropic/Bob Claude" and g.active_tokens == 1 and g.last_used_at is not None
        text = screen_text(app)
        assert "bob@example.com → Chat App" in text and "provider anthropic/Bob Claude" in text
        assert "last use" in text and "live tokens 1" in text

        await pilot.press("slash", *"cli tool")
        await settle(pilot)
        assert rows(app) == [("alice@example.com", "CLI Tool")]


async def test_revoke_one_grant(seeded, admin_app):
    gid = seeded.grants[("bob@example.com", "Chat App")]
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "4")
        await select(pilot, "bob@example.com", "Chat App")
        await pilot.press("x")
        await settle(pilot)
        assert f"Revoke grant {gid} (bob@example.com → Chat App)?" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        assert ("bob@example.com", "Chat App") not in rows(app) and len(rows(app)) == 2
        assert call(app, grants.resolve_access_token, seeded.tokens[("bob@example.com", "Chat App")]) is None
        assert call(app, grants.resolve_access_token, seeded.tokens[("alice@example.com", "Chat App")]) is not None
        entry = call(app, lambda s: AuditEvent.get(AuditEvent.action == "grant.revoke"))
        assert entry.target == f"grant:{gid}" and entry.actor.startswith("admin-tui:")


async def test_revoke_all_of_the_selected_users_grants(seeded, admin_app):
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "4")
        await select(pilot, "alice@example.com", "Chat App")
        await pilot.press("u")
        await settle(pilot)
        assert "Revoke every grant of alice@example.com?" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        assert rows(app) == [("bob@example.com", "Chat App")]
        assert "Revoked 2 grant(s) of alice@example.com." in screen_text(app)


async def test_revoke_all_of_the_selected_apps_grants(seeded, admin_app):
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "4")
        await select(pilot, "bob@example.com", "Chat App")
        await pilot.press("a")
        await settle(pilot)
        assert "Revoke every grant of the app Chat App?" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        assert rows(app) == [("alice@example.com", "CLI Tool")]
        assert call(app, admin_queries.list_active_grants, app_id=seeded.apps["Chat App"].id) == []
