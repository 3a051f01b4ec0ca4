"""What every screen needs: the opened data dir, and a way to call a service from a worker thread."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, TypeVar

from infer0app.config import Settings
from infer0app.services.audit import operator_actor
from infer0app.services.views import check_no_rows

T = TypeVar("T")


@dataclass
class AdminContext:
    settings: Settings
    store: Any  # infer0app.store.database.Store
    actor: str

    @classmethod
    def open(cls, settings: Settings) -> "AdminContext":
        """Open the data dir (never creating one). Raises StoreError, KeyringError or SchemaTooNew.

        The keyring is loaded once here to check it is there and valid; screens read it from
        the file each time (a rotation from the CLI may rewrite it while the TUI is open).
        """
        from infer0app.services.datadir import open_configured

        store, _vault = open_configured(settings, create=False)
        store.db.close()  # this thread's connection; workers open their own
        return cls(settings, store, operator_actor("admin-tui"))

    @property
    def keyring_file(self) -> Path:
        from infer0app.services.datadir import keyring_location
        return keyring_location(self.settings.data_dir, self.settings.keyring_file)

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a service function `fn(store, ...)` on the calling (worker) thread's own connection.

        Screens get view dataclasses only: a row here raises RowLeak (services/views.py), since
        touching its foreign keys later, on the UI thread, would query the database there."""
        db = self.store.db
        if not db.is_closed():
            result = fn(self.store, *args, **kwargs)
        else:
            with db.connection_context():
                result = fn(self.store, *args, **kwargs)
        check_no_rows(result, getattr(fn, "__name__", "service call") + "()")
        return result

    def close(self) -> None:
        self.store.close()
