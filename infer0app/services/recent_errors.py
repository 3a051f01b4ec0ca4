"""Failed API calls for the operator ("recent errors": the TUI's Errors section, `infer0 errors`).

One row per failed `/v1` call (HTTP status >= 400, as the Overview counts errors): when, which
app and user, which provider kind and model, the status and the error code infer0 answered
with (usage_event.error_code, m0017). Only what usage_event holds: never prompt or answer
content, never a key.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..store.models import OAuthApp, UsageEvent, User

ERROR_STATUS = 400  # the Overview's "errors" are calls answered with a status at or above this
DEFAULT_LIMIT = 500


@dataclass(frozen=True)
class ErrorRow:
    id: int
    created_at: float  # epoch seconds
    status: int  # the HTTP status infer0 answered (499: the client went away)
    error_code: str  # '' for calls recorded before m0017
    provider_kind: str
    model: str
    app_name: str  # '' if the app is gone
    client_id: str
    user_email: str  # '' if the account is gone
    latency_ms: float
    streamed: bool


def recent_errors(store, *, since: float | None = None, until: float | None = None, status: int | None = None,
                  limit: int = DEFAULT_LIMIT, now: float | None = None) -> list[ErrorRow]:
    """Failed calls with `since` <= created_at < `until` (epoch seconds; `since` defaults to one
    hour before `now`), newest first, at most `limit`. `status` keeps only that HTTP status."""
    now = time.time() if now is None else now
    since = now - 3600 if since is None else since
    with store.read():
        query = (UsageEvent.select(UsageEvent.id, UsageEvent.created_at, UsageEvent.status, UsageEvent.error_code,
                                   UsageEvent.provider_kind, UsageEvent.model, UsageEvent.user_id, UsageEvent.app_id,
                                   UsageEvent.latency_ms, UsageEvent.streamed)
                 .where((UsageEvent.created_at >= since) & (UsageEvent.status >= ERROR_STATUS))
                 .order_by(UsageEvent.created_at.desc(), UsageEvent.id.desc()).limit(limit))
        if until is not None:
            query = query.where(UsageEvent.created_at < until)
        if status is not None:
            query = query.where(UsageEvent.status == status)
        events = list(query.tuples())
        app_ids = list({e[7] for e in events if e[7] is not None}) or [0]
        user_ids = list({e[6] for e in events}) or [0]
        apps = {i: (n, c) for i, n, c in OAuthApp.select(OAuthApp.id, OAuthApp.name, OAuthApp.client_id)
                .where(OAuthApp.id.in_(app_ids)).tuples()}
        users = dict(User.select(User.id, User.email).where(User.id.in_(user_ids)).tuples())
    return [ErrorRow(i, at, st, code or "", kind, model, *apps.get(app_id, ("", "")), users.get(user_id, ""),
                     latency, bool(streamed))
            for i, at, st, code, kind, model, user_id, app_id, latency, streamed in events]
