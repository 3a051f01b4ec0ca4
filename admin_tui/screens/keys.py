"""Keys: the keyring's KEKs (created, status, secrets each wraps) and the running servers;
Rotate KEK behind a confirmation, with a progress bar and a final verification pass."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import ProgressBar, Static

from infer0app.services import kek_rotation
from infer0app.services.errors import ServiceError

from ..format import ago, cell, stamp
from ..widgets import RecordTable
from .base import AdminScreen


class KeysScreen(AdminScreen):
    MODE = "keys"
    BINDINGS = [Binding("R", "rotate", "Rotate KEK")]

    class RotationProgress(Message):
        def __init__(self, progress: kek_rotation.Progress):
            super().__init__()
            self.progress = progress

    class RotationFinished(Message):
        def __init__(self, result: kek_rotation.RotationResult | None, error: str = ""):
            super().__init__()
            self.result = result
            self.error = error

    def __init__(self) -> None:
        super().__init__()
        self.rotating = False

    def compose_body(self) -> ComposeResult:
        yield Static("", id="keyring-summary")
        yield RecordTable([("KEK id", 24), ("Created", 16), ("Status", 9), ("Primary", 7), ("Secrets", 7)],
                          id="keys-table")
        yield Static("", id="servers")
        yield Static("Press R to rotate the key-encryption key.", id="rotation-phase")
        bar = ProgressBar(total=None, show_eta=False, id="rotation-bar")
        bar.display = False  # shown from the first rotation on
        yield bar

    @property
    def table(self) -> RecordTable:
        return self.query_one("#keys-table", RecordTable)

    def fetch(self) -> kek_rotation.KeyringStatus:
        return self.ctx.call(kek_rotation.keyring_status, self.ctx.keyring_file)

    def show(self, st: kek_rotation.KeyringStatus) -> None:
        self.table.set_records(
            (k.id, k, [cell(k.id), cell(stamp(k.created)),
                       cell(k.status, {"pending": "bold yellow", "retired": "dim"}.get(k.status, "")),
                       cell("yes" if k.primary else ""), cell(k.secrets)])
            for k in st.keys)
        path = st.path if len(st.path) <= 66 else "…" + st.path[-65:]
        summary = Text.assemble(("Keyring ", "bold"), path, f"\n{st.secrets_total} sealed provider key(s)")
        if st.secrets_without_kek:
            summary.append(f"  ·  {st.secrets_without_kek} under a KEK missing from the keyring!", style="bold red")
        if st.rotation_in_progress and not self.rotating:
            summary.append("\nA rotation was interrupted: press R to finish it.", style="bold yellow")
        self.query_one("#keyring-summary", Static).update(summary)
        if st.servers:
            lines = [f"{s.label}: holds {len(s.kek_ids)} KEK(s), seals with {s.primary_kek}, "
                     f"heartbeat {ago(s.heartbeat_at)}" for s in st.servers]
            servers = Text("Running servers:\n  " + "\n  ".join(lines))
        else:
            servers = Text("No running server (a rotation proceeds at once).", style="dim")
        self.query_one("#servers", Static).update(servers)

    # -- rotation -----------------------------------------------------------------------
    def action_rotate(self) -> None:
        if self.rotating:
            self.set_status("A rotation is already running.", error=True)
            return
        from .confirm import ConfirmScreen

        def answered(ok: bool | None) -> None:
            if ok:
                self.start_rotation()
            else:
                self.set_status("Rotation cancelled.")

        self.app.push_screen(ConfirmScreen(
            "Rotate the key-encryption key?",
            "A new KEK is added and made primary once running servers have loaded it; every provider key is "
            "re-wrapped under it and verified; then the old KEK is retired (kept for old backups). Servers keep "
            "serving throughout, and an interrupted rotation is finished by running it again.",
            yes_label="Rotate"), answered)

    def start_rotation(self) -> None:
        self.rotating = True
        bar = self.query_one("#rotation-bar", ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = True
        self.query_one("#rotation-phase", Static).update("Starting rotation…")
        self._rotate()

    @work(thread=True, exclusive=True, group="rotation", exit_on_error=False)
    def _rotate(self) -> None:
        from textual.worker import get_current_worker

        worker = get_current_worker()
        try:
            result = self.ctx.call(kek_rotation.rotate, self.ctx.keyring_file, actor=self.ctx.actor,
                                   progress=lambda p: self.post_message(self.RotationProgress(p)),
                                   cancelled=lambda: worker.is_cancelled)
        except ServiceError as exc:
            self.post_message(self.RotationFinished(None, exc.message))
            return
        except Exception as exc:  # reported, never fatal: the rotation can be run again
            self.post_message(self.RotationFinished(None, f"Rotation failed: {exc}. Run it again to finish it."))
            return
        self.post_message(self.RotationFinished(result))

    def on_keys_screen_rotation_progress(self, message: RotationProgress) -> None:
        p = message.progress
        bar = self.query_one("#rotation-bar", ProgressBar)
        if p.total:
            bar.update(total=p.total, progress=p.done)
        elif p.phase != "done":
            bar.update(total=None)
        self.query_one("#rotation-phase", Static).update(Text(f"[{p.phase}] {p.message}"))
        if p.phase in ("promote", "rewrap", "retire"):
            self.reload()

    def on_keys_screen_rotation_finished(self, message: RotationFinished) -> None:
        self.rotating = False
        phase = self.query_one("#rotation-phase", Static)
        if message.result is None:
            phase.update(Text(message.error, style="bold red"))
            self.set_status(message.error, error=True)
        else:
            r = message.result
            bar = self.query_one("#rotation-bar", ProgressBar)
            bar.update(total=max(1, r.verified), progress=max(1, r.verified))
            phase.update(Text(f"Done: {r.verified} secret(s) verified under {r.new_kek}.", style="green"))
            self.set_status(f"Rotation complete; retired {', '.join(r.retired) or 'no key'}.")
        self.reload()
