"""Apps: search; per app the owner, origin (dashboard or dynamic registration), verified mark,
type, redirect URIs, created, users connected and request volume; register, edit (name,
homepage, redirect URIs), rotate the secret (shown once), disable / re-enable, delete; mark
verified / unverified; revoke every grant and token of an app."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input, Static

from infer0app.services import admin_queries, apps, grants

from ..format import cell, stamp
from ..widgets import RecordTable
from .app_forms import AppFormScreen, RotateSecretScreen
from .base import SearchableScreen
from .service_modal import SecretScreen


class AppsScreen(SearchableScreen):
    MODE = "apps"
    BINDINGS = [
        # Eight actions fill an 80-column footer: the search box says "(/)", and the list refreshes itself.
        Binding("slash", "focus_search", "Search", show=False),
        Binding("r", "reload", "Refresh", show=False),
        Binding("n", "new_app", "New"),
        Binding("e", "edit_app", "Edit"),
        Binding("s", "rotate_secret", "Secret"),
        Binding("d", "toggle_disabled", "Disable"),
        Binding("delete", "delete_app", "Delete", key_display="Del"),
        Binding("v", "toggle_verified", "Verify"),
        Binding("x", "revoke_all", "Revoke"),
    ]

    def compose_body(self) -> ComposeResult:
        yield Input(placeholder="Search apps by name, client id or owner  (/)", id="search", classes="search",
                    compact=True)
        yield RecordTable([("App", 16), ("Owner", 15), ("Origin", 7), ("Type", 6), ("Users", 5), ("Req 24h", 7),
                           ("Status", 8)],
                          id="apps-table")
        yield Static("", id="app-detail", classes="detail")

    @property
    def table(self) -> RecordTable:
        return self.query_one("#apps-table", RecordTable)

    def fetch_params(self) -> dict:
        return {"search": self.query_one("#search", Input).value}

    def fetch(self, search: str) -> list[admin_queries.AppRow]:
        return self.ctx.call(admin_queries.list_apps, search)

    def show(self, rows: list[admin_queries.AppRow]) -> None:
        self.table.set_records(
            (str(a.id), a, [cell(a.name + (" ✓" if a.verified else "")), cell(a.owner_label),
                            cell("dynamic", "yellow") if a.origin == "dynamic" else cell("dash."),
                            cell("public" if a.is_public else "conf."),
                            cell(a.users_connected), cell(a.requests_day),
                            cell("disabled", "bold red") if a.disabled else cell("active")])
            for a in rows)
        self.show_detail(self.table.selected)

    def show_detail(self, a: admin_queries.AppRow | None) -> None:
        box = self.query_one("#app-detail", Static)
        if a is None:
            box.update(Text("No app selected." if not self.table.row_count else "", style="dim"))
            return
        text = Text.assemble((a.name, "bold"), "  ", ("DISABLED" if a.disabled else "active",
                                                      "bold red" if a.disabled else "green"),
                             f"  {a.type} client {a.client_id}\n",
                             "  verified" if a.verified else "  unverified",
                             f"\nOwner {a.owner_label}  origin {a.origin}"
                             + (f" (from {a.registered_from})" if a.registered_from else "")
                             + f"  created {stamp(a.created_at)}\n",
                             f"users connected {a.users_connected}  requests 24h {a.requests_day}  "
                             f"all time {a.requests_total}\n",
                             f"homepage {a.homepage_url}\n" if a.homepage_url else "")
        text.append("Redirect URIs:", style="bold")
        for uri in a.redirect_uris:
            text.append(f"\n  {uri}")
        box.update(text)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail(self.table.selected)

    def action_toggle_disabled(self) -> None:
        a = self.table.selected
        if a is None:
            return
        if a.disabled:
            self.confirm_then(f"Re-enable the app {a.name}?", "It can start authorizations and its tokens work again.",
                              apps.set_disabled, a.client_id, False, actor=self.ctx.actor,
                              success=f"App {a.name} re-enabled.", yes_label="Enable")
        else:
            self.confirm_then(f"Disable the app {a.name}?",
                              "It cannot start authorizations or obtain tokens, and its tokens stop working at once.",
                              apps.set_disabled, a.client_id, True, actor=self.ctx.actor,
                              success=f"App {a.name} disabled.", yes_label="Disable")

    def action_toggle_verified(self) -> None:
        a = self.table.selected
        if a is None:
            return
        if a.verified:
            self.confirm_then(f"Withdraw the verified mark of {a.name}?", "Its consent page shows it as unverified.",
                              apps.set_verified, a.client_id, False, actor=self.ctx.actor,
                              success=f"App {a.name} is unverified.", yes_label="Unverify")
        else:
            self.confirm_then(f"Mark {a.name} as verified?",
                              "Users see on its consent page that the operator vouches for this app.",
                              apps.set_verified, a.client_id, True, actor=self.ctx.actor,
                              success=f"App {a.name} verified.", yes_label="Verify")

    def action_revoke_all(self) -> None:
        a = self.table.selected
        if a is None:
            return
        self.confirm_then(f"Revoke every token of {a.name}?",
                          f"All {a.users_connected} user grant(s) end; each user must authorize the app again.",
                          grants.revoke_app_grants, a.id, actor=self.ctx.actor,
                          success=lambda n: f"Revoked {n} grant(s) of {a.name}.", yes_label="Revoke")

    # -- register, edit, rotate, delete (issue 17) -----------------------------------------
    def action_new_app(self) -> None:
        def done(result) -> None:
            if result is None:
                return
            app, secret = result
            self.set_status(f"App {app.name} registered: {app.client_id}.")
            if secret:
                self.app.push_screen(SecretScreen(f"{app.name} registered", app.client_id, secret))
            self.reload()

        self.app.push_screen(AppFormScreen(), done)

    def action_edit_app(self) -> None:
        a = self.table.selected
        if a is None:
            return

        def done(result) -> None:
            if result is not None:
                self.set_status(f"App {result.name} saved.")
                self.reload()

        self.app.push_screen(AppFormScreen(a), done)

    def action_rotate_secret(self) -> None:
        a = self.table.selected
        if a is None:
            return
        if a.is_public:
            self.set_status(f"{a.name} is a public client: it has no secret (it uses PKCE).", error=True)
            return

        def done(secret) -> None:
            if secret is None:
                self.set_status("Cancelled.")
                return
            self.set_status(f"New client secret for {a.name} issued.")
            self.app.push_screen(SecretScreen(f"New client secret for {a.name}", a.client_id, secret))
            self.reload()

        self.app.push_screen(RotateSecretScreen(a), done)

    def action_delete_app(self) -> None:
        a = self.table.selected
        if a is None:
            return
        self.confirm_then(f"Delete the app {a.name}?",
                          f"{a.client_id} and its {a.users_connected} user grant(s) and their tokens are deleted; "
                          "the tokens stop working at once. This cannot be undone (d disables instead).",
                          apps.delete_app, a.client_id, actor=self.ctx.actor,
                          success=f"App {a.name} deleted.", yes_label="Delete")
