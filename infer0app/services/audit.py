"""The audit log: who did what, when. Details are JSON and never hold secrets."""

from __future__ import annotations

import json

from ..store.models import AuditEvent


def record(store, actor: str, action: str, target: str = "", ip: str = "", **detail) -> None:
    with store.write():
        AuditEvent.create(actor=actor[:300], action=action, target=str(target)[:300],
                          detail=json.dumps(detail, default=str), ip=ip[:64])

