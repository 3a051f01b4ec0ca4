"""The audit log: who did what, when. Details are JSON and never hold secrets.

Every row names its actor in one format, `<kind>:<who>`:

- `user:<email>`: a person signed in to the pages (their own connections, apps, grants, sign-in,
  sign-up). Where a service only knows the account id it writes `user:<id>`.
- `cli:<login>`: the operator CLI (`infer0 users|apps|providers|tokens|kek ...`); <login> is the
  OS account that ran it.
- `admin-tui:<login>`: the operator TUI (`infer0 admin`), same <login>.
- `client:<client_id>`: an OAuth client acting at the token and revocation endpoints (code
  replay, refresh-token reuse, RFC 7009 revocation).

Build actors with the helpers below; `record` refuses any other shape, so a new caller cannot
drift into a third spelling.
"""

from __future__ import annotations

import getpass
import json
import os
import re

from ..store.models import AuditEvent

ACTOR_KINDS = ("user", "cli", "admin-tui", "client")
_ACTOR_RE = re.compile(r"^(?:user|cli|admin-tui|client):\S")


def user_actor(who: str | int) -> str:
    """'user:alice@example.com' (or 'user:42' when only the id is known)."""
    return f"user:{who}"[:300]


def operator_actor(face: str) -> str:
    """'cli:root', 'admin-tui:alice': an operator face ('cli' or 'admin-tui') and the OS login."""
    if face not in ("cli", "admin-tui"):
        raise ValueError(f"unknown operator face {face!r}")
    try:
        who = getpass.getuser()
    except Exception:  # no passwd entry (some containers)
        who = f"uid{os.getuid()}"
    return f"{face}:{who}"[:300]


def client_actor(client_id: str) -> str:
    """'client:i0_ci_…': an OAuth client acting on its own tokens."""
    return f"client:{client_id}"[:300]


def record(store, actor: str, action: str, target: str = "", ip: str = "", **detail) -> None:
    """One audit row. `actor` must be `<kind>:<who>` with a kind of ACTOR_KINDS (ValueError
    otherwise); `detail` becomes JSON and must never hold a secret."""
    if not _ACTOR_RE.match(actor or ""):
        raise ValueError(f"audit actor {actor!r} is not one of {', '.join(k + ':…' for k in ACTOR_KINDS)}")
    with store.write():
        AuditEvent.create(actor=actor[:300], action=action, target=str(target)[:300],
                          detail=json.dumps(detail, default=str), ip=ip[:64])
