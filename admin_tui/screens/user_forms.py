"""Modals of the Users screen (issue 17): a new user's email and optional password, and a
password reset link shown once."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static


class NewUserScreen(ModalScreen[tuple[str, str] | None]):
    """Dismisses with (email, password) — password '' for an account without browser sign-in —
    or None when cancelled."""

    DEFAULT_CSS = """
    NewUserScreen { align: center middle; }
    #new-user-box { width: 64; height: auto; padding: 1 2; border: thick $primary; background: $surface; }
    #new-user-box Input { margin-bottom: 1; }
    #new-user-hint { color: $text-muted; margin-bottom: 1; }
    #new-user-buttons { height: auto; align-horizontal: right; }
    #new-user-buttons Button { margin-left: 2; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(id="new-user-box"):
            yield Static(Text("New user", style="bold"))
            yield Input(placeholder="email", id="new-user-email")
            yield Input(placeholder="password (optional, 10+ characters)", password=True, id="new-user-password")
            yield Static("Without a password they cannot sign in until you send them a reset link (p).",
                         id="new-user-hint")
            with Horizontal(id="new-user-buttons"):
                yield Button("Create", variant="primary", id="new-user-create")
                yield Button("Cancel (esc)", id="new-user-cancel")

    def on_mount(self) -> None:
        self.query_one("#new-user-email", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "new-user-email":
            self.query_one("#new-user-password", Input).focus()
        else:
            self._create()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "new-user-create":
            self._create()
        else:
            self.dismiss(None)

    def _create(self) -> None:
        self.dismiss((self.query_one("#new-user-email", Input).value,
                      self.query_one("#new-user-password", Input).value))

    def action_cancel(self) -> None:
        self.dismiss(None)


class ShownOnceScreen(ModalScreen[None]):
    """A secret the operator hands over (a reset link): shown here once, never stored readable."""

    DEFAULT_CSS = """
    ShownOnceScreen { align: center middle; }
    #shown-once-box { width: 76; height: auto; padding: 1 2; border: thick $warning; background: $surface; }
    #shown-once-value { margin: 1 0; }
    #shown-once-buttons { height: auto; align-horizontal: right; }
    """
    BINDINGS = [Binding("escape,enter", "close", "Close")]

    def __init__(self, title: str, value: str, note: str):
        super().__init__()
        self.title_text, self.value, self.note = title, value, note

    def compose(self) -> ComposeResult:
        with Vertical(id="shown-once-box"):
            yield Static(Text(self.title_text, style="bold"))
            yield Static(Text(self.value, style="bold", overflow="fold"), id="shown-once-value")
            yield Static(Text(self.note, style="dim"))
            with Horizontal(id="shown-once-buttons"):
                yield Button("Close (esc)", variant="primary", id="shown-once-close")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
