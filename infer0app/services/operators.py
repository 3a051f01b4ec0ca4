"""Who an operator action is recorded as in the audit log: the face and the OS account."""

from __future__ import annotations

import getpass
import os


def operator_actor(face: str) -> str:
    """'admin-tui:alice', 'cli:root' — the terminal face and the login that ran it."""
    try:
        who = getpass.getuser()
    except Exception:  # no passwd entry (some containers)
        who = f"uid{os.getuid()}"
    return f"{face}:{who}"[:300]
