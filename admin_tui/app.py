"""The operator TUI: `make_admin_app(settings)` builds it; `infer0 admin` runs it."""

from __future__ import annotations

import logging

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static

from infer0app.config import Settings
from infer0app.paths import resource_path
from infer0app.store.database import StoreError
from infer0app.store.migrations import SchemaTooNew
from infer0app.vault.keyring import KeyringError

from .context import AdminContext
from .screens import SECTION_SCREENS, ProblemScreen
from .widgets.nav import SECTIONS

log = logging.getLogger("infer0.admin")


class OpeningScreen(Screen):
    """Shown for the moment it takes to open the database."""

    def compose(self) -> ComposeResult:
        yield Static("Opening the data directory…", id="opening")


class AdminApp(App):
    TITLE = "infer0 admin"
    ENABLE_COMMAND_PALETTE = False
    MODES = dict(SECTION_SCREENS)
    BINDINGS = [Binding(key, f"section('{mode}')", label, show=False) for mode, key, label in SECTIONS] + [
        Binding("q", "quit", "Quit", priority=False),
    ]

    class Opened(Message):
        def __init__(self, ctx: AdminContext | None, error: str = ""):
            super().__init__()
            self.ctx = ctx
            self.error = error

    def __init__(self, settings: Settings):
        super().__init__(css_path=str(resource_path("admin_tui", "admin.tcss")))
        self.settings = settings
        self.ctx: AdminContext | None = None

    def on_mount(self) -> None:
        self.push_screen(OpeningScreen())
        self._open()

    @work(thread=True, exit_on_error=False)
    def _open(self) -> None:
        try:
            ctx = AdminContext.open(self.settings)
        except (StoreError, KeyringError, SchemaTooNew) as exc:
            self.post_message(self.Opened(None, str(exc)))
            return
        except Exception as exc:  # unexpected, but still a readable screen rather than a traceback
            log.exception("opening the data dir failed")
            self.post_message(self.Opened(None, f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(self.Opened(ctx))

    def on_admin_app_opened(self, message: Opened) -> None:
        if message.ctx is None:
            self.switch_screen(ProblemScreen(message.error))
            return
        self.ctx = message.ctx
        self.sub_title = str(self.settings.data_dir)
        self.pop_screen()
        self.switch_mode("overview")

    def action_section(self, mode: str) -> None:
        if self.ctx is not None and mode in SECTION_SCREENS:
            self.switch_mode(mode)

    def on_unmount(self) -> None:
        if self.ctx is not None:
            self.ctx.close()


def make_admin_app(settings: Settings) -> AdminApp:
    return AdminApp(settings)


__all__ = ["AdminApp", "make_admin_app"]
