"""Issue 17's screens and forms fit an 80×24 terminal: no widget outside it, no table that needs
sideways scrolling, every footer key visible."""

from __future__ import annotations

from textual.widgets import DataTable
from textual.widgets._footer import FooterKey

from admin_tui.screens.app_forms import AppFormScreen, RotateSecretScreen
from admin_tui.screens.audit_range import AuditExportScreen
from admin_tui.screens.errors import ErrorsScreen
from admin_tui.screens.service_modal import SecretScreen
from tests.tui.conftest import goto, settle
from tests.tui.test_tui_apps import select


def assert_fits(screen) -> None:
    for widget in screen.query("*"):
        if widget.display and widget.region.area:
            r = widget.region
            assert r.x >= 0 and r.y >= 0 and r.right <= 80 and r.bottom <= 24, (screen, widget, r)
    for table in screen.query(DataTable):
        assert table.virtual_size.width <= table.scrollable_content_region.width, (screen, table)


async def test_new_screens_fit_80x24(seeded, admin_app):
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "3")
        assert_fits(app.screen)
        assert all(k.region.right <= 80 for k in app.screen.query(FooterKey) if k.region.area)
        await select(pilot, "Chat App")
        for key, form_type in (("n", AppFormScreen), ("e", AppFormScreen), ("s", RotateSecretScreen)):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, form_type)
            assert_fits(app.screen)
            if form_type is RotateSecretScreen:
                await pilot.press("ctrl+s")
                await settle(pilot)
                assert isinstance(app.screen, SecretScreen)
                assert_fits(app.screen)
                await pilot.press("enter")
            else:
                await pilot.press("escape")
            await settle(pilot)
        await goto(pilot, "6")
        assert_fits(app.screen)
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, AuditExportScreen)
        assert_fits(app.screen)
        await pilot.press("escape")
        await goto(pilot, "1")
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, ErrorsScreen)
        assert_fits(app.screen)
