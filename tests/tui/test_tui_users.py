"""Users: search, per-user detail (masked key tail only), disable / re-enable behind a confirmation."""

from __future__ import annotations

import re

from admin_tui.screens import ConfirmScreen, UsersScreen
from infer0app.services import admin_queries, grants
from infer0app.store.models import AuditEvent, User
from tests.tui.conftest import call, goto, screen_text, settle
from tests.tui.seed import ALICE_KEY, BOB_KEY


def emails(app) -> list[str]:
    return [u.email for u in app.screen.table.records.values()]


async def test_users_list_search_and_detail_never_shows_a_key(seeded, admin_app):
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "2")
        assert isinstance(app.screen, UsersScreen)
        assert emails(app) == ["alice@example.com", "bob@example.com", "dev@example.com"]
        text = screen_text(app)
        # alice is selected: her providers (kind, name, masked tail), apps and last sign-in
        assert "openai Alice OpenAI key sk-…cdef default" in text
        assert "sandbox Alice sandbox key (none)" in text
        assert "Chat App" in text and "CLI Tool" in text and "Apps authorized (2)" in text
        # seeded moments ago: "0s ago", or a few seconds on a slow machine
        assert re.search(r"last sign-in \d{1,2}s ago", text)
        assert ALICE_KEY not in text and ALICE_KEY[3:20] not in text

        await pilot.press("slash")
        await pilot.press(*"bob")
        await settle(pilot)
        assert emails(app) == ["bob@example.com"]
        text = screen_text(app)
        assert "anthropic Bob Claude key sk-…cdef" in text and "last sign-in never" in text
        assert BOB_KEY not in text

        await pilot.press("enter")  # back to the table
        await pilot.press("backspace")  # the table has focus: nothing is typed
        await settle(pilot)
        assert emails(app) == ["bob@example.com"]


async def test_moving_the_cursor_shows_that_users_detail(seeded, admin_app):
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "2")
        await pilot.press("down", "down")
        await settle(pilot)
        assert app.screen.table.selected.email == "dev@example.com"
        text = screen_text(app)
        assert "dev@example.com active" in text and "Providers (0)" in text and "Apps authorized (0)" in text


async def test_disable_asks_first_and_cancel_changes_nothing(seeded, admin_app):
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "2")
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "Disable alice@example.com?" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
        assert not call(app, lambda s: User.get(User.email == "alice@example.com").disabled)
        assert "Cancelled." in screen_text(app)


async def test_disable_kills_tokens_at_once_and_reenable_restores_them(seeded, admin_app):
    alice_token = seeded.tokens[("alice@example.com", "Chat App")]
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "2")
        assert call(app, grants.resolve_access_token, alice_token) is not None
        await pilot.press("d")
        await settle(pilot)
        await pilot.click("#confirm-yes")  # the mouse works too
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
        assert call(app, lambda s: User.get(User.email == "alice@example.com").disabled)
        assert call(app, grants.resolve_access_token, alice_token) is None
        row = app.screen.table.selected
        assert row.email == "alice@example.com" and row.disabled
        assert "alice@example.com disabled." in screen_text(app)
        entry = call(app, lambda s: AuditEvent.select().where(AuditEvent.action == "user.disable").get())
        assert entry.actor.startswith("admin-tui:") and entry.target == "alice@example.com"

        await pilot.press("d")
        await settle(pilot)
        assert "Re-enable alice@example.com?" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        assert not call(app, lambda s: User.get(User.email == "alice@example.com").disabled)
        assert call(app, grants.resolve_access_token, alice_token) is not None
        assert call(app, lambda s: AuditEvent.select().where(AuditEvent.action == "user.enable").count()) == 1


async def test_revoke_all_of_a_users_grants(seeded, admin_app):
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "2")
        await pilot.press("x")
        await settle(pilot)
        assert "Revoke every app grant of alice@example.com?" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        assert call(app, admin_queries.list_active_grants, user_id=seeded.users["alice@example.com"]) == []
        assert len(call(app, admin_queries.list_active_grants)) == 1  # bob's stays
        assert call(app, grants.resolve_access_token, seeded.tokens[("alice@example.com", "CLI Tool")]) is None
        assert "Revoked 2 grant(s) of alice@example.com." in screen_text(app)
        assert app.screen.table.selected.apps == 0
