"""Apps from the TUI (issue 17): register one (its secret shown once), edit its name and redirect
URIs, rotate its secret, delete it — keyboard only, at 80×24, destructive steps confirmed, each
through the same services as the CLI and written to the audit log."""

from __future__ import annotations

from textual.widgets import Input, TextArea

from admin_tui.screens import AppsScreen, ConfirmScreen
from admin_tui.screens.app_forms import AppFormScreen, RotateSecretScreen
from admin_tui.screens.service_modal import SecretScreen
from infer0app.services import apps, grants
from infer0app.services.secrets_util import sha256_hex
from infer0app.store.models import AuditEvent, OAuthApp
from tests.tui.conftest import call, goto, screen_text, settle
from tests.tui.test_tui_apps import names, select


def audit_actions(app, prefix: str = "app.") -> list[tuple[str, str]]:
    return call(app, lambda s: [(e.action, e.actor.split(":")[0]) for e in AuditEvent.select()
                                .where(AuditEvent.action.startswith(prefix)).order_by(AuditEvent.id)])


async def type_into(pilot, text: str) -> None:
    await pilot.press(*[{" ": "space", "/": "slash", ".": "full_stop", ":": "colon"}.get(ch, ch) for ch in text])


async def test_register_an_app_and_see_its_secret_once(seeded, admin_app):
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "3")
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, AppFormScreen) and "Register an app" in screen_text(app)
        await type_into(pilot, "dev@example.com")
        await pilot.press("tab")
        await type_into(pilot, "Notes")
        await pilot.press("tab", "tab")  # past the homepage, into the redirect URIs
        assert form.query_one("#app-uris", TextArea).has_focus
        await type_into(pilot, "https://notes.example/cb")
        await pilot.press("enter")
        await type_into(pilot, "http://evil.example/cb")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form and "loopback" in screen_text(app)  # refused in the form, nothing lost
        assert form.query_one("#app-name", Input).value == "Notes"
        area = form.query_one("#app-uris", TextArea)
        area.text = "https://notes.example/cb\nhttps://notes.example/cb2"
        await pilot.press("ctrl+s")
        await settle(pilot)

        shown = app.screen
        assert isinstance(shown, SecretScreen)
        secret = shown.secret
        assert secret.startswith("i0_cs_") and secret in screen_text(app) and "Shown only now" in screen_text(app)
        row = call(app, lambda s: OAuthApp.get(OAuthApp.name == "Notes"))
        assert row.client_secret_hash == sha256_hex(secret) and row.client_id in screen_text(app)
        assert row.owner_id == seeded.users["dev@example.com"]
        assert apps.get_app(app.ctx.store, row.client_id).redirect_uris == (
            "https://notes.example/cb", "https://notes.example/cb2")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AppsScreen) and secret not in screen_text(app)
        assert "Notes" in names(app) and "App Notes registered" in screen_text(app)
        assert audit_actions(app)[-1] == ("app.create", "admin-tui")


async def test_register_refuses_an_unknown_owner_and_escape_cancels(seeded, admin_app):
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "3")
        await pilot.press("n")
        await settle(pilot)
        await type_into(pilot, "ghost@example.com")
        await pilot.press("tab")
        await type_into(pilot, "X")
        app.screen.query_one("#app-uris", TextArea).text = "https://x.example/cb"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, AppFormScreen) and "ghost@example.com" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, AppsScreen) and names(app) == ["CLI Tool", "Chat App"]


async def test_edit_name_and_redirect_uris(seeded, admin_app):
    chat = seeded.apps["Chat App"]
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "3")
        await select(pilot, "Chat App")
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, AppFormScreen) and f"Edit Chat App ({chat.client_id})" in screen_text(app)
        assert form.query_one("#app-uris", TextArea).text == "https://chat.example.com/cb"
        name = form.query_one("#app-name", Input)
        assert name.has_focus
        await pilot.press("ctrl+a", "ctrl+k")
        await type_into(pilot, "Chat Two")
        form.query_one("#app-uris", TextArea).text = "https://chat.example.com/cb\nhttps://chat.example.com/v2"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, AppsScreen) and "App Chat Two saved." in screen_text(app)
        view = call(app, apps.get_app, chat.client_id)
        assert view.name == "Chat Two" and view.redirect_uris == ("https://chat.example.com/cb",
                                                                  "https://chat.example.com/v2")
        assert "https://chat.example.com/v2" in screen_text(app)  # the detail pane
        assert audit_actions(app)[-1] == ("app.update", "admin-tui")


async def test_rotate_secret_shows_the_new_one_once(seeded, admin_app):
    chat = seeded.apps["Chat App"]
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "3")
        await select(pilot, "CLI Tool")
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, AppsScreen) and "has no secret" in screen_text(app)
        await select(pilot, "Chat App")
        before = call(app, lambda s: OAuthApp.get_by_id(chat.id).client_secret_hash)
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, RotateSecretScreen)
        assert "Rotate the client secret of Chat App?" in screen_text(app)
        await pilot.press("escape")  # cancel: nothing changes
        await settle(pilot)
        assert call(app, lambda s: OAuthApp.get_by_id(chat.id).client_secret_hash) == before
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        shown = app.screen
        assert isinstance(shown, SecretScreen)
        secret = shown.secret
        row = call(app, lambda s: OAuthApp.get_by_id(chat.id))
        assert row.client_secret_hash == sha256_hex(secret) != before and row.previous_secret_hash is None
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AppsScreen) and secret not in screen_text(app)
        assert audit_actions(app)[-1] == ("app.rotate_secret", "admin-tui")


async def test_delete_an_app_after_confirmation(seeded, admin_app):
    chat = seeded.apps["Chat App"]
    token = seeded.tokens[("alice@example.com", "Chat App")]
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "3")
        await select(pilot, "Chat App")
        await pilot.press("delete")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen) and "Delete the app Chat App?" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert "Chat App" in names(app) and "Cancelled." in screen_text(app)
        await pilot.press("delete")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert names(app) == ["CLI Tool"] and "App Chat App deleted." in screen_text(app)
        assert call(app, lambda s: OAuthApp.get_or_none(OAuthApp.id == chat.id)) is None
        assert call(app, grants.resolve_access_token, token) is None
        assert audit_actions(app)[-1] == ("app.delete", "admin-tui")
