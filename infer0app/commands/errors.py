"""`infer0 errors` — failed API calls (the TUI's Errors section), JSON on stdout.

An array, newest first, of {"at" (ISO 8601 UTC), "status", "error_code", "app", "client_id",
"user", "provider", "model", "latency_ms", "streamed"}. Never prompt or answer content.
"""

from __future__ import annotations

from ..services import recent_errors
from .audit import add_range, parsed_range
from .common import add_data_dir, emit, iso, opened, int_between


def register(sub) -> None:
    p = sub.add_parser("errors", help="Failed API calls (time, app, user, provider, status, error code) as JSON.")
    add_range(p, "the calls (default: the last hour)")
    p.add_argument("--status", type=int_between(100, 599), metavar="CODE",
                   help="Only calls answered with this HTTP status (429, 502…).")
    p.add_argument("--limit", type=int_between(1, 1_000_000), default=recent_errors.DEFAULT_LIMIT, metavar="N",
                   help=f"At most N calls, the newest (default {recent_errors.DEFAULT_LIMIT}).")
    add_data_dir(p)
    p.set_defaults(func=run)


def run(args) -> int:
    since, until = parsed_range(args)
    with opened(args) as (store, _vault):
        rows = recent_errors.recent_errors(store, since=since, until=until, status=args.status,
                                           limit=args.limit)
    emit([{"at": iso(e.created_at), "status": e.status, "error_code": e.error_code or None, "app": e.app_name or None,
           "client_id": e.client_id or None, "user": e.user_email or None, "provider": e.provider_kind,
           "model": e.model, "latency_ms": round(e.latency_ms, 1), "streamed": e.streamed} for e in rows])
    return 0
