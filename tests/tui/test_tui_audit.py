"""Audit log: who did what when, filterable by text and kind; the TUI's own actions land in it."""

from __future__ import annotations

from textual.widgets import Select

from admin_tui.screens import AuditScreen
from tests.tui.conftest import goto, screen_text, settle


def actions(app) -> list[str]:
    return [e.action for e in app.screen.table.records.values()]


async def test_audit_log_lists_events_newest_first_with_detail(seeded, admin_app):
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "6")
        assert isinstance(app.screen, AuditScreen)
        acts = actions(app)
        assert acts[0] == "user.signin"  # the newest
        for expected in ("user.create", "provider.add", "app.create", "grant.approve"):
            assert expected in acts
        text = screen_text(app)
        assert "user.signin by user:alice@example.com on alice@example.com" in text
        await pilot.press("down")  # the next event's detail
        await settle(pilot)
        assert "grant.approve by user:1 on grant:3" in screen_text(app) and "model=" in screen_text(app)


async def test_audit_filters_by_text_and_by_kind(seeded, admin_app):
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "6")
        await pilot.press("slash", *"bob@")
        await settle(pilot)
        assert set(actions(app)) == {"user.create"}
        await pilot.press("ctrl+a", "ctrl+k")  # clear the box (Input's own keys)
        await settle(pilot)
        # the kind filter, by keyboard: f focuses it, enter opens it, pick "Provider keys"
        await pilot.press("escape", "f", "enter")
        await settle(pilot)
        select = app.screen.query_one("#kind", Select)
        for _ in range(5):
            await pilot.press("down")
        await pilot.press("enter")
        await settle(pilot)
        assert select.value == "provider."
        assert actions(app) == ["provider.add"] * 3
        select.value = "app."
        await settle(pilot)
        assert actions(app) == ["app.create", "app.create"]
        select.clear()
        await settle(pilot)
        assert len(actions(app)) > 5


async def test_tui_actions_are_audited_with_the_operator(seeded, admin_app):
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "2")
        await pilot.press("down")  # bob
        await settle(pilot)
        await pilot.press("d", "y")
        await settle(pilot)
        await goto(pilot, "6")
        first = next(iter(app.screen.table.records.values()))
        assert (first.action, first.target) == ("user.disable", "bob@example.com")
        assert first.actor.startswith("admin-tui:")
        await pilot.press("slash", *"admin-tui")
        await settle(pilot)
        assert actions(app) == ["user.disable"]
