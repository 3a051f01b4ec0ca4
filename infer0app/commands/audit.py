"""`infer0 audit export` — the audit log over a time range, as JSON (default) or CSV on stdout.

JSON: an array of {"id", "created_at" (ISO 8601 UTC), "actor", "action", "target", "ip", "detail"
(object)}, oldest first; CSV: the same columns with a header line, `detail` as JSON text.
"""

from __future__ import annotations

import sys

from ..services import audit_export
from .common import add_data_dir, opened, service_errors

RANGE_HELP = ("a UTC date (2025-01-31) or ISO 8601 time (2025-01-31T12:00:00Z, or with an offset); "
              "a date as --until includes that whole day")


def add_range(parser, what: str) -> None:
    """--since/--until, as `infer0 audit export` and `infer0 errors` read them."""
    parser.add_argument("--since", metavar="WHEN", help=f"First moment of {what} to include: {RANGE_HELP}.")
    parser.add_argument("--until", metavar="WHEN", help=f"End of {what} (exclusive for a time): {RANGE_HELP}.")


def register(sub) -> None:
    p = sub.add_parser("audit", help="Export the audit log (who did what, when) as JSON or CSV.")
    s = p.add_subparsers(dest="action", metavar="ACTION")
    s.required = True
    e = s.add_parser("export", help="Audit events in a time range, oldest first, on standard output.")
    add_range(e, "the log (default: from the first event)")
    e.add_argument("--format", choices=audit_export.FORMATS, default="json",
                   help="json: one array of objects; csv: a header line and one line per event.")
    e.add_argument("--action", default="", metavar="ACTION",
                   help="Only this action (app.delete), or every action with this prefix ending in a dot (app.).")
    e.add_argument("--search", default="", metavar="TEXT", help="Only events whose actor, action, target or "
                                                                "detail contains TEXT.")
    add_data_dir(e)
    e.set_defaults(func=export)


def parsed_range(args) -> tuple[float | None, float | None]:
    """(since, until) epoch seconds from --since/--until; a malformed one exits 2 before the data dir is opened."""
    with service_errors():
        return audit_export.parse_range(args.since, args.until)


def export(args) -> int:
    since, until = parsed_range(args)
    with opened(args) as (store, _vault):
        rows = audit_export.events(store, since=since, until=until, text=args.search, action=args.action)
    audit_export.write(rows, args.format, sys.stdout)
    return 0
