"""The TUI attached to the data dir of a running `infer0 serve`: its revocations and disables
bite on the server's very next API calls (within the bearer cache's second)."""

from __future__ import annotations

import time

import aiohttp

from tests.tui.conftest import goto, settle


async def me_status(http: aiohttp.ClientSession, url: str, token: str) -> int:
    async with http.get(url + "/v1/me", headers={"Authorization": f"Bearer {token}"}) as resp:
        await resp.read()
        return resp.status


async def until_status(pilot, http, url, token, status: int, within: float = 1.5) -> float:
    """Seconds until /v1/me answers `status`; fails after `within` seconds."""
    start = time.monotonic()
    while True:
        got = await me_status(http, url, token)
        elapsed = time.monotonic() - start
        if got == status:
            return elapsed
        assert elapsed < within, f"/v1/me still answers {got} after {elapsed:.2f}s"
        await pilot.pause(0.05)


async def test_revocations_from_the_tui_bite_on_the_running_server(seeded, admin_app, serve_process):
    server = serve_process()
    alice_chat = seeded.tokens[("alice@example.com", "Chat App")]
    bob_chat = seeded.tokens[("bob@example.com", "Chat App")]
    alice_tool = seeded.tokens[("alice@example.com", "CLI Tool")]
    app = admin_app()
    async with aiohttp.ClientSession() as http, app.run_test(size=(80, 24)) as pilot:
        for token in (alice_chat, bob_chat, alice_tool):
            assert await me_status(http, server.url, token) == 200  # and now cached by the server

        # Grants: revoke bob's Chat App grant
        await goto(pilot, "4")
        table = app.screen.table
        keys = [k for k, g in table.records.items() if (g.user_email, g.app_name) == ("bob@example.com", "Chat App")]
        table.move_cursor(row=table.get_row_index(keys[0]))
        await settle(pilot)
        await pilot.press("x", "y")
        await settle(pilot)
        assert await until_status(pilot, http, server.url, bob_chat, 401) < 1.5
        async with http.get(server.url + "/v1/me", headers={"Authorization": f"Bearer {bob_chat}"}) as resp:
            body = await resp.json()
            assert resp.headers["WWW-Authenticate"].startswith("Bearer") and body["error"]["code"] == "invalid_token"
        assert await me_status(http, server.url, alice_chat) == 200  # nobody else is touched

        # Users: disable alice — all of her tokens stop
        await goto(pilot, "2")
        await pilot.press("d", "y")
        await settle(pilot)
        for token in (alice_chat, alice_tool):
            assert await until_status(pilot, http, server.url, token, 401) < 1.5
        await pilot.press("d", "y")  # re-enable: her grants were not revoked, so her tokens work again
        await settle(pilot)
        assert await until_status(pilot, http, server.url, alice_tool, 200) < 1.5

        # Apps: disable the CLI Tool
        await goto(pilot, "3")
        table = app.screen.table
        table.move_cursor(row=[a.name for a in table.records.values()].index("CLI Tool"))
        await settle(pilot)
        await pilot.press("d", "y")
        await settle(pilot)
        assert await until_status(pilot, http, server.url, alice_tool, 401) < 1.5
        assert await me_status(http, server.url, alice_chat) == 200


async def test_tui_sees_the_running_server_and_rotates_with_it(seeded, admin_app, serve_process, data_dir):
    from admin_tui.widgets import StatCard
    from infer0app.services import runtime
    from infer0app.vault.keyring import Vault
    from tests.tui.conftest import call, screen_text

    server = serve_process()
    old = Vault.load(data_dir / "keyring.json").primary
    app = admin_app()
    async with aiohttp.ClientSession() as http, app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        deadline = time.monotonic() + 5
        while not call(app, runtime.live_servers) and time.monotonic() < deadline:
            await pilot.pause(0.1)
        await pilot.press("r")
        await settle(pilot)
        assert app.screen.query_one("#card-servers", StatCard).value == "1"
        await goto(pilot, "5")
        assert f"pid {server.proc.pid} on" in screen_text(app)
        await pilot.press("R", "y")
        deadline = time.monotonic() + 15
        while app.screen.rotating and time.monotonic() < deadline:
            assert await me_status(http, server.url, seeded.tokens[("alice@example.com", "Chat App")]) == 200
            await pilot.pause(0.05)
        await settle(pilot)
        new = Vault.load(data_dir / "keyring.json").primary
        assert new != old and "Done: 2 secret(s) verified" in screen_text(app)
        assert [s.primary_kek for s in call(app, runtime.live_servers)] == [new]  # it picked the key up
        await pilot.press("r")
        await settle(pilot)
        assert f"seals with {new}" in screen_text(app)
