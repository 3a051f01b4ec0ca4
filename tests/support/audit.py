"""Reading the audit log back in tests."""

from __future__ import annotations

import getpass

from tests.support.backend import open_data_dir
from infer0app.store.models import AuditEvent

LOGIN = getpass.getuser()  # what cli:<login> and admin-tui:<login> name


def actors_by_action(data_dir) -> dict[str, set[str]]:
    """{action: {actor, ...}} over the whole audit log of the data dir (opened and closed here)."""
    store, _vault = open_data_dir(data_dir, create=False)
    try:
        out: dict[str, set[str]] = {}
        for e in AuditEvent.select():
            out.setdefault(e.action, set()).add(e.actor)
        return out
    finally:
        store.close()
