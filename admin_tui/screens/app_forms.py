"""Forms of the Apps section: register an app, edit one (name, homepage, redirect URIs), and
rotate a confidential app's secret. Each calls the same services as `infer0 apps …`."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Checkbox, Input, Select, Static, TextArea

from infer0app.services import accounts, admin_queries, apps

from .service_modal import ServiceModal

OVERLAPS = [("Stops at once", 0), ("Works 1 more hour", 3600), ("Works 1 more day", 86400),
            ("Works 7 more days", apps.MAX_ROTATION_OVERLAP)]


def create_app_for(store, owner_email: str, **fields):
    """apps.create_app for the account with this email (NotFound if there is none)."""
    owner = accounts.get_user_by_email(store, owner_email)
    return apps.create_app(store, owner.id, **fields)


def uri_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class AppFormScreen(ServiceModal):
    """Register an app (`app` None) or edit one. Dismisses with (AppView, secret or None) after a
    registration, with the AppView after an edit, None when cancelled."""

    DEFAULT_CSS = ServiceModal.DEFAULT_CSS + """
    #app-uris {
        height: 5;
    }
    """

    def __init__(self, app: admin_queries.AppRow | None = None):
        super().__init__()
        self.editing = app

    def compose(self) -> ComposeResult:
        a = self.editing
        with Vertical(classes="form-box", id="app-form"):
            yield Static(f"Edit {a.name} ({a.client_id})" if a else "Register an app", classes="form-title")
            if a is None:
                with Horizontal(classes="form-row"):
                    yield Static("Owner email", classes="form-label")
                    yield Input(placeholder="dev@example.com (an existing account)", id="app-owner", compact=True)
            with Horizontal(classes="form-row"):
                yield Static("Name", classes="form-label")
                yield Input(a.name if a else "", placeholder="shown on the consent page", id="app-name", compact=True)
            with Horizontal(classes="form-row"):
                yield Static("Homepage", classes="form-label")
                yield Input(a.homepage_url if a else "", placeholder="https://… (optional)", id="app-homepage",
                            compact=True)
            yield Static("Redirect URIs, one per line (https; plain http only on loopback):",
                         classes="form-hint")
            yield TextArea("\n".join(a.redirect_uris) if a else "", id="app-uris", compact=True,
                           show_line_numbers=False)
            if a is None:
                yield Checkbox("Public client (SPA, mobile, CLI): no secret, PKCE required", id="app-public",
                               compact=True)
            elif a.redirect_uris:
                yield Static("Changing the redirect URIs makes users consent again.", classes="form-hint")
            yield from self.buttons("Register" if a is None else "Save")

    def on_mount(self) -> None:
        self.query_one("#app-owner" if self.editing is None else "#app-name", Input).focus()

    def action_submit(self) -> None:
        name = self.query_one("#app-name", Input).value
        homepage = self.query_one("#app-homepage", Input).value
        uris = uri_lines(self.query_one("#app-uris", TextArea).text)
        actor = self.app.ctx.actor
        if self.editing is None:
            self.submit_service(create_app_for, self.query_one("#app-owner", Input).value.strip(), name=name,
                                redirect_uris=uris, homepage_url=homepage,
                                public=self.query_one("#app-public", Checkbox).value, actor=actor)
        else:
            self.submit_service(apps.operator_update_app, self.editing.client_id, name=name, homepage_url=homepage,
                                redirect_uris=uris, actor=actor)


class RotateSecretScreen(ServiceModal):
    """Choose how long the old secret keeps working, then rotate; dismisses with the new secret."""

    def __init__(self, app: admin_queries.AppRow):
        super().__init__()
        self.target = app

    def compose(self) -> ComposeResult:
        a = self.target
        with Vertical(classes="form-box", id="rotate-form"):
            yield Static(f"Rotate the client secret of {a.name}?", classes="form-title")
            yield Static("The new secret is shown once. When the old one stops, the app gets no new tokens "
                         "until it is given the new one; tokens already issued keep working.", classes="form-hint")
            with Horizontal(classes="form-row"):
                yield Static("Old secret", classes="form-label")
                yield Select(OVERLAPS, value=0, allow_blank=False, id="rotate-overlap", compact=True)
            yield from self.buttons("Rotate")

    def on_mount(self) -> None:
        self.query_one("#rotate-overlap", Select).focus()

    def action_submit(self) -> None:
        overlap = self.query_one("#rotate-overlap", Select).value
        self.submit_service(apps.rotate_secret, self.target.client_id, overlap=int(overlap), actor=self.app.ctx.actor)
