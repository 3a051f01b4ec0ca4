"""Users: search; per user the providers (masked key tail only), apps authorized, last sign-in;
disable / re-enable (tokens stop working at once) and revoke all of a user's grants; create,
delete (keys erased, their apps go too), a password reset link shown once, reset two-factor
sign-in (issue 17)."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Input, Static

from infer0app.services import account_deletion, accounts, admin_queries, grants, passwords, two_factor

from ..format import ago, cell, clip, stamp
from ..widgets import RecordTable
from .base import SearchableScreen
from .user_forms import NewUserScreen, ShownOnceScreen


class UsersScreen(SearchableScreen):
    MODE = "users"
    BINDINGS = [
        # "/" is named by the search box's placeholder: the footer needs its width for the actions at 80×24
        Binding("slash", "focus_search", "Search", show=False),
        Binding("d", "toggle_disabled", "Disable"),
        Binding("x", "revoke_all", "Revoke"),
        Binding("n", "new_user", "New"),
        Binding("D", "delete_user", "Delete"),
        Binding("p", "reset_link", "Pw link"),
        Binding("t", "reset_2fa", "2FA off"),
    ]

    def compose_body(self) -> ComposeResult:
        yield Input(placeholder="Search users by email  (/)", id="search", classes="search", compact=True)
        yield RecordTable([("Email", 32), ("Status", 8), ("Providers", 9), ("Apps", 4), ("Last sign-in", 12)],
                          id="users-table")
        yield Static("", id="user-detail", classes="detail")

    @property
    def table(self) -> RecordTable:
        return self.query_one("#users-table", RecordTable)

    def fetch_params(self) -> dict:
        return {"search": self.query_one("#search", Input).value,
                "selected": self.table.selected_key}

    def fetch(self, search: str, selected: str | None) -> tuple[list, admin_queries.UserDetail | None]:
        rows = self.ctx.call(admin_queries.list_users, search)
        keep = next((r for r in rows if str(r.id) == selected), rows[0] if rows else None)
        detail = self.ctx.call(admin_queries.user_detail, keep.id) if keep else None
        return rows, detail

    def show(self, data) -> None:
        rows, detail = data
        self.table.set_records(
            (str(u.id), u, [cell(u.email), cell("disabled", "bold red") if u.disabled else cell("active"),
                            cell(u.providers), cell(u.apps), cell(ago(u.last_login_at))])
            for u in rows)
        self.show_detail(detail if detail and self.table.selected_key == str(detail.user.id) else None)

    def show_detail(self, d: admin_queries.UserDetail | None) -> None:
        box = self.query_one("#user-detail", Static)
        if d is None:
            box.update(Text("No user selected." if not self.table.row_count else "", style="dim"))
            return
        u = d.user
        text = Text.assemble((u.email, "bold"), "  ", ("DISABLED" if u.disabled else "active",
                                                        "bold red" if u.disabled else "green"),
                             f"  created {stamp(u.created_at)}  last sign-in {ago(u.last_login_at)}\n")
        text.append(f"Providers ({len(d.providers)}):", style="bold")
        # columns as wide as their longest value (capped), two spaces apart: never run together
        kind_w = max((len(p.kind) for p in d.providers), default=0)
        name_w = min(max((len(p.name) for p in d.providers), default=0), 28)
        for p in d.providers:
            text.append(f"\n  {p.kind:<{kind_w}}  {clip(p.name, name_w):<{name_w}}  key {p.key_tail or '(none)'}"
                        + ("  default" if p.is_default else ""))
        text.append(f"\nApps authorized ({len(d.apps)}):", style="bold")
        app_w = min(max((len(a.name) for a in d.apps), default=0), 28)
        for a in d.apps:
            text.append(f"\n  {clip(a.name, app_w):<{app_w}}  {a.client_id}  used {ago(a.last_used_at)}")
        box.update(text)

    # -- events -------------------------------------------------------------------------
    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        user = self.table.selected
        if user is not None:
            self._detail(user.id)

    class DetailLoaded(Message):
        def __init__(self, detail: admin_queries.UserDetail | None):
            super().__init__()
            self.detail = detail

    @work(thread=True, exclusive=True, group="detail", exit_on_error=False)
    def _detail(self, user_id: int) -> None:
        self.post_message(self.DetailLoaded(self.ctx.call(admin_queries.user_detail, user_id)))

    def on_users_screen_detail_loaded(self, message: DetailLoaded) -> None:
        if message.detail is not None and self.table.selected_key == str(message.detail.user.id):
            self.show_detail(message.detail)

    def action_toggle_disabled(self) -> None:
        user = self.table.selected
        if user is None:
            return
        if user.disabled:
            self.confirm_then(f"Re-enable {user.email}?", "They can sign in and their apps' tokens work again.",
                              accounts.set_disabled, user.email, False, actor=self.ctx.actor,
                              success=f"{user.email} re-enabled.", yes_label="Enable")
        else:
            self.confirm_then(f"Disable {user.email}?",
                              "Their dashboard sessions end and every access token of theirs stops working at once.",
                              accounts.set_disabled, user.email, True, actor=self.ctx.actor,
                              success=f"{user.email} disabled.", yes_label="Disable")

    def action_revoke_all(self) -> None:
        user = self.table.selected
        if user is None:
            return
        self.confirm_then(f"Revoke every app grant of {user.email}?",
                          "Each app they authorized loses its tokens; they must authorize it again.",
                          grants.revoke_user_grants, user.id, actor=self.ctx.actor,
                          success=lambda n: f"Revoked {n} grant(s) of {user.email}.", yes_label="Revoke")

    # -- issue 17: create, delete, reset link, reset 2FA ----------------------------------------
    def action_new_user(self) -> None:
        def answered(values: tuple[str, str] | None) -> None:
            if values is None:
                self.set_status("Cancelled.")
                return
            email, password = values
            self.run_service(accounts.create_user, email, password or None, actor=self.ctx.actor,
                             success=lambda u: f"{u.email} created.")

        self.app.push_screen(NewUserScreen(), answered)

    class Preview(Message):
        def __init__(self, preview: account_deletion.DeletionPreview, user_id: int):
            super().__init__()
            self.preview = preview
            self.user_id = user_id

    def action_delete_user(self) -> None:
        user = self.table.selected
        if user is not None:
            self._preview(user.id)

    @work(thread=True, group="action", exit_on_error=False)
    def _preview(self, user_id: int) -> None:
        self.post_message(self.Preview(self.ctx.call(account_deletion.deletion_preview, user_id), user_id))

    def on_users_screen_preview(self, message: Preview) -> None:
        p = message.preview
        apps = ", ".join(f"{a.name} ({a.other_users} other users)" for a in p.apps[:4])
        detail = (f"Their {p.connections} provider key(s) are erased and {p.live_grants} grant(s) end. "
                  + (f"THEIR {len(p.apps)} APP(S) ARE DELETED TOO: {apps}; those users lose access. " if p.apps
                     else "") + "The audit keeps the events without their email. This cannot be undone.")
        self.confirm_then(f"Delete {p.email} for good?", detail, account_deletion.delete_account, message.user_id,
                          actor=self.ctx.actor, success=f"{p.email} deleted.", yes_label="Delete")

    class LinkIssued(Message):
        def __init__(self, link: passwords.ResetLink | None, error: str = ""):
            super().__init__()
            self.link = link
            self.error = error

    def action_reset_link(self) -> None:
        user = self.table.selected
        if user is not None:
            self._issue_link(user.email)

    @work(thread=True, group="action", exit_on_error=False)
    def _issue_link(self, email: str) -> None:
        try:
            link = self.ctx.call(passwords.issue_reset_link, email, self.ctx.settings.issuer, actor=self.ctx.actor)
        except Exception as exc:  # a ServiceError's message, or the failure, for the operator
            self.post_message(self.LinkIssued(None, getattr(exc, "message", str(exc))))
            return
        self.post_message(self.LinkIssued(link))

    def on_users_screen_link_issued(self, message: LinkIssued) -> None:
        if message.link is None:
            self.set_status(message.error, error=True)
            return
        link = message.link
        self.set_status(f"Reset link issued for {link.email}.")
        self.app.push_screen(ShownOnceScreen(
            f"Password reset link for {link.email}", link.url,
            f"Works once, until {stamp(link.expires_at)}; earlier links stopped working. Hand it over "
            "yourself: it is not shown again and infer0 keeps only its hash."))

    def action_reset_2fa(self) -> None:
        user = self.table.selected
        if user is None:
            return
        self.confirm_then(f"Reset two-factor sign-in of {user.email}?",
                          "Their authenticator and recovery codes stop working; they sign in with their password "
                          "alone and can set it up again.", two_factor.operator_reset, user.email,
                          actor=self.ctx.actor, yes_label="Reset",
                          success=lambda was: f"Two-factor sign-in of {user.email} reset." if was
                          else f"{user.email} had no two-factor sign-in.")
