"""The TUI's screens are fed view dataclasses built in the services, never peewee rows."""

from __future__ import annotations

import dataclasses

import pytest

from admin_tui.screens.base import AdminScreen
from infer0app.services.views import RowLeak, check_no_rows
from infer0app.store.models import User
from tests.tui.conftest import goto, settle


def _only_views(value) -> bool:
    if value is None or isinstance(value, (int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_only_views(v) for v in value)
    return dataclasses.is_dataclass(value) and dataclasses.fields(value) and not isinstance(value, type)


async def test_every_section_shows_view_dataclasses(seeded, admin_app, monkeypatch):
    shown = []
    original = AdminScreen.on_admin_screen_loaded

    def spy(self, message):
        shown.append((self.MODE, message.data))
        return original(self, message)

    monkeypatch.setattr(AdminScreen, "on_admin_screen_loaded", spy)
    app = admin_app()
    async with app.run_test(size=(100, 30)) as pilot:
        for key in "234561":
            await goto(pilot, key)
        await settle(pilot)
    modes = {mode for mode, _ in shown}
    assert {"overview", "users", "apps", "grants", "keys", "audit"} <= modes, modes
    for mode, data in shown:
        check_no_rows(data, mode)  # nested too: no row anywhere inside
        assert _only_views(data), (mode, type(data))
        assert data, f"{mode} showed nothing: the seed should give every section data"


async def test_a_service_call_returning_a_row_is_refused(seeded, admin_app):
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        with pytest.raises(RowLeak, match="User row"):
            app.ctx.call(lambda s: [User.get(User.email == "alice@example.com")])
