"""The TUI records its deeds as admin-tui:<login>, the format every audit row follows (services/audit.py)."""

from __future__ import annotations

from infer0app.services import accounts
from tests.support.audit import LOGIN, actors_by_action
from tests.tui.conftest import settle


async def test_tui_actions_are_recorded_as_admin_tui_and_the_login(seeded, admin_app, data_dir):
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.ctx.actor == f"admin-tui:{LOGIN}"  # what every screen passes to the services
        app.ctx.call(accounts.set_disabled, "bob@example.com", True, actor=app.ctx.actor)
    assert actors_by_action(data_dir)["user.disable"] == {f"admin-tui:{LOGIN}"}
