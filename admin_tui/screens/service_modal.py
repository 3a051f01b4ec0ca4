"""Modal forms that call a service, and the screen that shows a secret once.

`ServiceModal` runs its service call in a worker thread: a refusal (ServiceError: bad redirect
URI, unknown owner…) is shown inside the form so the operator can fix the input; success
dismisses the modal with the service's result. `SecretScreen` shows a new client secret once:
nothing keeps it after the screen closes.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from infer0app.services.errors import ServiceError

log = logging.getLogger("infer0.admin")

FORM_CSS = """
ServiceModal, SecretScreen {
    align: center middle;
}
.form-box {
    width: 76;
    height: auto;
    max-height: 23;
    padding: 0 1;
    border: thick $accent;
    background: $surface;
}
.form-title {
    text-style: bold;
    margin-bottom: 1;
}
.form-row {
    height: 1;
}
.form-row .form-label {
    width: 14;
}
.form-row Input, .form-row Select {
    width: 1fr;
}
.form-hint {
    color: $text-muted;
}
.form-error {
    height: auto;
    color: $error;
    text-style: bold;
}
.form-buttons {
    height: auto;
    align-horizontal: right;
}
.form-buttons Button {
    margin-left: 2;
}
"""


class ServiceModal(ModalScreen):
    """A form whose submit (ctrl+s or its Save button) runs `fn(store, …)` in a worker."""

    DEFAULT_CSS = FORM_CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "submit", "Save")]

    class Finished(Message):
        def __init__(self, ok: bool, result: Any = None, error: str = ""):
            super().__init__()
            self.ok = ok
            self.result = result
            self.error = error

    busy = False

    def buttons(self, save_label: str) -> ComposeResult:
        yield Static("", classes="form-error", id="form-error")
        with Horizontal(classes="form-buttons"):
            yield Button(f"{save_label} (ctrl+s)", variant="primary", id="form-save", compact=True)
            yield Button("Cancel (esc)", id="form-cancel", compact=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "form-save":
            self.action_submit()
        elif event.button.id == "form-cancel":
            self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_submit(self) -> None:  # pragma: no cover - every form overrides it
        raise NotImplementedError

    def show_error(self, text: str) -> None:
        self.query_one("#form-error", Static).update(Text(text))

    def submit_service(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        if self.busy:  # a second ctrl+s while the first call runs
            return
        self.busy = True
        self.show_error("")
        self._run(fn, args, kwargs)

    @work(thread=True, group="form", exit_on_error=False)
    def _run(self, fn, args, kwargs) -> None:
        try:
            result = self.app.ctx.call(fn, *args, **kwargs)
        except ServiceError as exc:
            self.post_message(self.Finished(False, error=exc.message))
            return
        except Exception as exc:  # the operator sees it; the app keeps running
            log.exception("admin form action failed")
            self.post_message(self.Finished(False, error=f"Failed: {exc}"))
            return
        self.post_message(self.Finished(True, result))

    def on_service_modal_finished(self, message: Finished) -> None:
        self.busy = False
        if message.ok:
            self.dismiss(message.result)
        else:
            self.show_error(message.error)


class SecretScreen(ModalScreen[None]):
    """A client secret, shown this once: `c` copies it to the terminal's clipboard (OSC 52)."""

    DEFAULT_CSS = FORM_CSS
    BINDINGS = [Binding("c", "copy", "Copy"), Binding("enter,escape", "close", "Done")]

    def __init__(self, title: str, client_id: str, secret: str, note: str = ""):
        super().__init__()
        self.title_text = title
        self.client_id = client_id
        self.secret = secret
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(classes="form-box", id="secret-box"):
            yield Static(self.title_text, classes="form-title")
            yield Static(Text.assemble(("client_id     ", "bold"), self.client_id))
            yield Static(Text.assemble(("client_secret ", "bold"), (self.secret, "bold yellow")), id="secret-value")
            yield Static(Text("Shown only now: infer0 keeps only its hash. Copy it into the app's configuration"
                              + (f". {self.note}" if self.note else ".")), classes="form-hint")
            with Horizontal(classes="form-buttons"):
                yield Button("Copy (c)", id="secret-copy", compact=True)
                yield Button("Done (enter)", variant="primary", id="secret-done", compact=True)

    def on_mount(self) -> None:
        self.query_one("#secret-done", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "secret-copy":
            self.action_copy()
        else:
            self.action_close()

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.secret)
        self.notify("Client secret copied to the clipboard.")

    def action_close(self) -> None:
        self.secret = ""
        self.dismiss(None)
