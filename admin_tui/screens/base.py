"""What every section screen shares: nav bar, footer, a status line, thread-worker loading,
service calls behind confirmations, and periodic refresh while the screen is shown."""

from __future__ import annotations

import logging
from typing import Any, Callable, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Select, Static

from infer0app.services.errors import ServiceError

from ..widgets import NavBar
from .confirm import ConfirmScreen

log = logging.getLogger("infer0.admin")


class AdminScreen(Screen):
    MODE: ClassVar[str] = ""
    REFRESH_EVERY: ClassVar[float] = 5.0
    AUTO_FOCUS = "RecordTable"  # number keys switch sections; "/" goes to the search box
    BINDINGS = [Binding("r", "reload", "Refresh"), Binding("escape", "leave_search", "Back", show=False)]

    class Loaded(Message):
        """A worker fetched this screen's data; `generation` says which reload asked for it."""

        def __init__(self, data: Any, generation: int = 0):
            super().__init__()
            self.data = data
            self.generation = generation

    class LoadFailed(Message):
        def __init__(self, text: str):
            super().__init__()
            self.text = text

    class ActionDone(Message):
        """A service action finished (ok) or was refused (not ok); `text` is for the operator."""

        def __init__(self, ok: bool, text: str):
            super().__init__()
            self.ok = ok
            self.text = text

    def compose(self) -> ComposeResult:
        yield NavBar(self.MODE)
        yield from self.compose_body()
        yield Static("", id="status")
        yield Footer()

    def compose_body(self) -> ComposeResult:  # pragma: no cover - every section overrides it
        yield from ()

    @property
    def ctx(self):
        return self.app.ctx

    # -- loading ------------------------------------------------------------------------
    def on_mount(self) -> None:
        self.set_interval(self.REFRESH_EVERY, self._tick)

    def on_screen_resume(self) -> None:
        self.reload()

    def _tick(self) -> None:
        if self.is_current:
            self.reload()

    def action_reload(self) -> None:
        self.reload()

    def action_leave_search(self) -> None:
        tables = self.query("RecordTable")
        if tables:
            tables.first().focus()

    _generation = 0

    def reload(self) -> None:
        if self.app.ctx is None:
            return
        self._generation += 1
        self._load(self.fetch_params(), self._generation)

    def fetch_params(self) -> dict:
        """Read on the UI thread (widget values), handed to `fetch` on the worker thread."""
        return {}

    def fetch(self, **params: Any) -> Any:  # pragma: no cover - every section overrides it
        raise NotImplementedError

    def show(self, data: Any) -> None:  # pragma: no cover - every section overrides it
        raise NotImplementedError

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def _load(self, params: dict, generation: int) -> None:
        try:
            data = self.fetch(**params)
        except Exception as exc:  # the operator sees it; the app keeps running
            log.exception("loading %s failed", self.MODE)
            self.post_message(self.LoadFailed(f"Could not load: {exc}"))
            return
        self.post_message(self.Loaded(data, generation))

    def on_admin_screen_loaded(self, message: Loaded) -> None:
        if message.generation == self._generation:  # an older, slower load never overwrites a newer one
            self.show(message.data)
            self.after_show()

    def after_show(self) -> None:
        """Runs after each `show` (a hook for what every screen of a kind adds to its view)."""

    def on_admin_screen_load_failed(self, message: LoadFailed) -> None:
        self.set_status(message.text, error=True)

    # -- actions ------------------------------------------------------------------------
    def set_status(self, text: str, *, error: bool = False) -> None:
        self.query_one("#status", Static).update(Text(text, style="bold red" if error else "green"))

    def confirm_then(self, question: str, detail: str, fn: Callable[..., Any], *args: Any,
                     success: str | Callable[[Any], str], yes_label: str = "Yes", **kwargs: Any) -> None:
        """Ask; on an explicit yes run `fn(store, *args, **kwargs)` in a worker and report."""

        def answered(ok: bool | None) -> None:
            if ok:
                self.run_service(fn, *args, success=success, **kwargs)
            else:
                self.set_status("Cancelled.")

        self.app.push_screen(ConfirmScreen(question, detail, yes_label=yes_label), answered)

    def run_service(self, fn: Callable[..., Any], *args: Any, success: str | Callable[[Any], str],
                    **kwargs: Any) -> None:
        self._act(fn, args, kwargs, success)

    @work(thread=True, group="action", exit_on_error=False)
    def _act(self, fn, args, kwargs, success) -> None:
        try:
            result = self.ctx.call(fn, *args, **kwargs)
        except ServiceError as exc:
            self.post_message(self.ActionDone(False, exc.message))
            return
        except Exception as exc:
            log.exception("admin action failed")
            self.post_message(self.ActionDone(False, f"Failed: {exc}"))
            return
        self.post_message(self.ActionDone(True, success(result) if callable(success) else success))

    def on_admin_screen_action_done(self, message: ActionDone) -> None:
        # The status line is the one place results go: a toast would sit on the detail pane at 80x24.
        self.set_status(message.text, error=not message.ok)
        self.reload()


class SearchableScreen(AdminScreen):
    """A section with a `#search` box over a record table: typing filters, Enter goes to the table.

    Subclasses provide `table` (their RecordTable) and handle row highlighting themselves.
    """

    table: Any

    def on_mount(self) -> None:  # Textual also runs AdminScreen.on_mount (handlers follow the MRO)
        self.mount(Static("", id="no-match", classes="no-match"), after=self.table)

    def active_filters(self) -> list[str]:
        """The filters in force, for the no-match note: the search text, and any Select's choice."""
        found = []
        text = self.query_one("#search", Input).value.strip()
        if text:
            found.append(f"“{text}”")
        for select in self.query(Select):
            if select.value is not Select.BLANK:
                found.append(f"“{select.value}”")
        return found

    def after_show(self) -> None:
        """An empty table under an active filter says so, instead of looking like an empty database."""
        note = self.query_one("#no-match", Static)
        filters = self.active_filters()
        empty = not self.table.row_count and bool(filters)
        note.display = empty
        if empty:
            note.update(Text(f"Nothing matches {' and '.join(filters)}. Clear the filter (/ then Ctrl+U) "
                             "to see everything.", style="bold yellow"))

    def on_input_changed(self, event: Input.Changed) -> None:
        self.reload()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.table.focus()

    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()
