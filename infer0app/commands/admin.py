"""`infer0 admin` — the operator TUI, attached to the same database and keyring as the server."""

from __future__ import annotations

from .common import CommandError, add_data_dir, settings_from


def register(sub) -> None:
    p = sub.add_parser("admin", help="Open the operator terminal UI (works while the server runs).",
                       description="Manage users, apps, grants, keys and the audit log from the terminal.")
    add_data_dir(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..services.datadir import open_configured
    from ..store.database import StoreError
    from ..store.migrations import SchemaTooNew
    from ..vault.keyring import KeyringError

    settings = settings_from(args)
    try:  # fail on the plain terminal, with one line, before taking over the screen
        store, _vault = open_configured(settings, create=False)
    except (StoreError, KeyringError, SchemaTooNew) as exc:
        raise CommandError(str(exc), 1) from None
    store.close()
    from admin_tui.app import make_admin_app

    make_admin_app(settings).run()
    return 0
