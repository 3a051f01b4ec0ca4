"""The Usage section: the last 30 days by user or by app, totals on top, at 80×24."""

from __future__ import annotations

from textual.widgets import DataTable

from admin_tui.screens import UsageScreen
from tests.tui.conftest import goto, screen_text, settle


async def test_usage_by_user_then_by_app_fits_80x24(seeded, admin_app):
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "7")
        screen = app.screen
        assert isinstance(screen, UsageScreen)
        await settle(pilot)
        text = screen_text(app)
        assert "42 requests" in text and "by user" in text
        assert "alice@example.com" in text and "bob@example.com" in text
        rows = {screen.table.get_row_at(i)[0].plain: screen.table.get_row_at(i) for i in range(screen.table.row_count)}
        assert rows["alice@example.com"][1].plain == "30" and rows["alice@example.com"][4].plain == "6"
        assert "errors by code: 502: 6" in text  # the busiest row (alice) is selected, its detail shown
        await pilot.press("b")
        await settle(pilot)
        text = screen_text(app)
        assert "by app" in text and "Chat App" in text and "alice@example.com" not in text
        assert screen.table.get_row_at(0)[5].plain == "2"  # two users of Chat App
        assert "By user/app" in text.splitlines()[-1]
        for widget in screen.query("*"):
            if widget.display and widget.region.area:
                r = widget.region
                assert r.right <= 80 and r.bottom <= 24, (widget, r)
        for table in screen.query(DataTable):
            assert table.virtual_size.width <= table.scrollable_content_region.width
