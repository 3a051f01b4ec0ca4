"""Users screen, issue 17, at 80×24: create a user, delete one (after a warning naming the apps
that go with it), issue a password reset link shown once, reset two-factor sign-in."""

from __future__ import annotations

from admin_tui.screens import ConfirmScreen, UsersScreen
from admin_tui.screens.user_forms import NewUserScreen, ShownOnceScreen
from infer0app.services import accounts, grants, passwords, two_factor
from infer0app.store.models import AuditEvent, OAuthApp, PasswordReset, ProviderConnection, User, UserTotp
from tests.tui.conftest import call, goto, screen_text, settle


def emails(app) -> list[str]:
    return [u.email for u in app.screen.table.records.values()]


async def select(pilot, email: str) -> None:
    app = pilot.app
    while app.screen.table.selected.email != email:
        await pilot.press("down")
        await settle(pilot)


async def test_create_a_user_with_a_password_and_cancel(seeded, admin_app):
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "2")
        assert "n New" in screen_text(app) and "t 2FA off" in screen_text(app)  # the footer names the keys
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, NewUserScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen) and "Cancelled." in screen_text(app)

        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"carol@example.com", "enter", *"a long password", "enter")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
        assert "carol@example.com created." in screen_text(app)
        assert "carol@example.com" in emails(app)
        assert call(app, accounts.authenticate, "carol@example.com", "a long password") is not None

        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"not-an-email", "enter", "enter")
        await settle(pilot)
        assert "Enter a valid email address" in screen_text(app)


async def test_delete_warns_about_the_apps_and_erases_the_user(seeded, admin_app):
    dev_id = seeded.users["dev@example.com"]
    alice_token = seeded.tokens[("alice@example.com", "Chat App")]
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "2")
        await select(pilot, "dev@example.com")
        await pilot.press("D")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        text = screen_text(app)
        assert "Delete dev@example.com for good?" in text and "APP(S) ARE DELETED TOO" in text
        assert "Chat App (2 other users)" in text
        await pilot.press("n")
        await settle(pilot)
        assert call(app, lambda s: User.select().where(User.id == dev_id).exists())

        await pilot.press("D")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert "dev@example.com deleted." in screen_text(app)
        assert "dev@example.com" not in emails(app)
        assert not call(app, lambda s: OAuthApp.select().where(OAuthApp.owner == dev_id).exists())
        assert call(app, grants.resolve_access_token, alice_token) is None  # alice's grant of dev's app ended
        entry = call(app, lambda s: AuditEvent.get(AuditEvent.action == "user.delete"))
        assert entry.actor.startswith("admin-tui:") and entry.target == f"user:{dev_id}"


async def test_deleting_a_user_with_keys_erases_their_connections(seeded, admin_app):
    alice_id = seeded.users["alice@example.com"]
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "2")
        await pilot.press("D")
        await settle(pilot)
        assert "Their 2 provider key(s) are erased" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        assert not call(app, lambda s: ProviderConnection.select().where(ProviderConnection.user == alice_id).exists())


async def test_reset_link_is_shown_once_and_works(seeded, admin_app):
    app = admin_app(public_url="https://ai.example.com")
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "2")
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, ShownOnceScreen)
        url = app.screen.value
        assert url.startswith("https://ai.example.com/reset-password?token=i0_pr_")
        text = screen_text(app).replace(" ", "")
        assert url.replace(" ", "")[:60] in text  # on the terminal, folded at 80 columns
        token = url.split("token=", 1)[1]
        assert call(app, passwords.reset_link_email, token) == "alice@example.com"
        assert token not in str(call(app, lambda s: [r.__data__ for r in PasswordReset.select()]))
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, UsersScreen)
        assert "Reset link issued for alice@example.com." in screen_text(app)
        assert call(app, passwords.reset_password, token, "the new password", "the new password") == "alice@example.com"
        entry = call(app, lambda s: AuditEvent.get(AuditEvent.action == "user.password_reset_issue"))
        assert entry.actor.startswith("admin-tui:") and token not in entry.detail


async def test_reset_2fa_asks_then_removes_it(seeded, admin_app):
    alice_id = seeded.users["alice@example.com"]
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "2")
        call(app, lambda s: UserTotp.create(user=alice_id, secret_sealed=b"x" * 40, confirmed_at=1.0))
        await pilot.press("t")
        await settle(pilot)
        assert "Reset two-factor sign-in of alice@example.com?" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        assert "Two-factor sign-in of alice@example.com reset." in screen_text(app)
        assert not call(app, two_factor.status, alice_id).enabled
        await pilot.press("t", "y")
        await settle(pilot)
        assert "alice@example.com had no two-factor sign-in." in screen_text(app)
