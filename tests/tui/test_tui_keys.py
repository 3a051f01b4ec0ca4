"""Keys: the keyring table, and Rotate KEK (confirmation, progress bar, verification) from the TUI."""

from __future__ import annotations

from textual.widgets import ProgressBar

from admin_tui.screens import ConfirmScreen, KeysScreen
from infer0app.services import providers
from infer0app.store.models import AuditEvent, ProviderConnection
from infer0app.vault.keyring import Vault
from tests.tui.conftest import call, goto, opened_store, screen_text, settle
from tests.tui.seed import ALICE_KEY, BOB_KEY


def kek_rows(app) -> dict[str, tuple[str, bool, int]]:
    return {k.id: (k.status, k.primary, k.secrets) for k in app.screen.table.records.values()}


async def wait_rotation(pilot, timeout: float = 10) -> None:
    import time
    deadline = time.monotonic() + timeout
    while pilot.app.screen.rotating and time.monotonic() < deadline:
        await pilot.pause(0.05)
    await settle(pilot)


async def test_keys_screen_lists_the_keyring(seeded, admin_app, data_dir):
    primary = Vault.load(data_dir / "keyring.json").primary
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "5")
        assert isinstance(app.screen, KeysScreen)
        assert kek_rows(app) == {primary: ("active", True, 2)}
        text = screen_text(app)
        assert "2 sealed provider key(s)" in text and "No running server" in text
        assert not app.screen.query_one("#rotation-bar", ProgressBar).display  # no bar until a rotation


async def test_rotate_kek_from_the_tui(seeded, admin_app, data_dir):
    old = Vault.load(data_dir / "keyring.json").primary
    seen = []
    app = admin_app()
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        await goto(pilot, "5")
        await pilot.press("R")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen) and "Rotate the key-encryption key?" in screen_text(app)
        await pilot.press("y")
        await wait_rotation(pilot)
        ring = Vault.load(data_dir / "keyring.json")
        new = ring.primary
        assert new != old
        assert kek_rows(app) == {new: ("active", True, 2), old: ("retired", False, 0)}
        bar = app.screen.query_one("#rotation-bar", ProgressBar)
        assert bar.display and bar.total == 2 and bar.progress == 2
        text = screen_text(app)
        assert f"Done: 2 secret(s) verified under {new}." in text
        assert f"Rotation complete; retired {old}." in text
        phases = [m.progress.phase for m in seen if isinstance(m, KeysScreen.RotationProgress)]
        for phase in ("add", "promote", "rewrap", "verify", "retire", "done"):
            assert phase in phases
        rewrap = [m.progress for m in seen if isinstance(m, KeysScreen.RotationProgress)
                  and m.progress.phase == "rewrap"]
        assert rewrap[-1].done == rewrap[-1].total == 2
        entry = call(app, lambda s: AuditEvent.get(AuditEvent.action == "kek.rotate"))
        assert entry.actor.startswith("admin-tui:") and entry.target == new
    # every secret opens under the new key
    with opened_store(data_dir) as (store, vault):
        conns = {c.id: c for c in ProviderConnection.select()}
        assert {c.kek_id for c in conns.values() if c.kek_id} == {new}
        assert providers.open_key(vault, conns[seeded.connections["alice/openai"]]) == ALICE_KEY
        assert providers.open_key(vault, conns[seeded.connections["bob/anthropic"]]) == BOB_KEY


async def test_rotation_cancelled_at_the_confirmation_changes_nothing(seeded, admin_app, data_dir):
    before = (data_dir / "keyring.json").read_bytes()
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "5")
        await pilot.press("R")
        await settle(pilot)
        await pilot.click("#confirm-no")
        await settle(pilot)
        assert isinstance(app.screen, KeysScreen) and not app.screen.rotating
        assert "Rotation cancelled." in screen_text(app)
    assert (data_dir / "keyring.json").read_bytes() == before


async def test_keys_screen_offers_to_finish_an_interrupted_rotation(seeded, admin_app, data_dir):
    import dataclasses
    import secrets
    import time

    from infer0app.vault.keyring import Kek

    ring = Vault.load(data_dir / "keyring.json")  # as a rotation killed right after adding its key leaves it
    ring.keys["kek-pending-1"] = Kek("kek-pending-1", secrets.token_bytes(32), time.time(), "pending")
    ring.save()
    app = admin_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await goto(pilot, "5")
        assert kek_rows(app)["kek-pending-1"] == ("pending", False, 0)
        assert "A rotation was interrupted: press R to finish it." in screen_text(app)
        await pilot.press("R")
        await settle(pilot)
        await pilot.press("y")
        await wait_rotation(pilot)
        assert kek_rows(app)["kek-pending-1"] == ("active", True, 2)  # the same key, now finished
        assert "interrupted" not in screen_text(app)
    assert dataclasses.asdict(Vault.load(data_dir / "keyring.json").keys[ring.primary])["status"] == "retired"
