"""`infer0 usage` — usage by user and by app for the operator, JSON on stdout (or CSV rows).

JSON: {"since", "until", "total", "by_user", "by_app", "by_model", "days"}; each total is
{"key", "label", "requests", "tokens", "spend_usd" (estimate, decimal string), "spend_unknown_requests",
"errors", "errors_by_status", "users"}. CSV: one row per day, user, app, model and status
(services/usage_report.EXPORT_FIELDS plus "user"). Dates are UTC days, inclusive.
"""

from __future__ import annotations

import csv
import sys

from ..services import accounts, apps, usage_report
from ..services.errors import ValidationError
from ..services.pricing import PriceTable
from .common import CommandError, add_data_dir, emit, opened, settings_from


def register(sub) -> None:
    p = sub.add_parser("usage", help="Usage (requests, tokens, spend estimate) by user and by app; JSON by default.")
    p.add_argument("--user", metavar="EMAIL", help="Only this user's usage.")
    p.add_argument("--app", metavar="CLIENT_ID", help="Only this app's usage.")
    p.add_argument("--since", metavar="YYYY-MM-DD", help="First UTC day (default: 29 days before --until).")
    p.add_argument("--until", metavar="YYYY-MM-DD", help="Last UTC day (default: today).")
    p.add_argument("--format", choices=("json", "csv"), default="json",
                   help="json: totals by user, app, model and day; csv: one row per day, user, app, model, status.")
    add_data_dir(p)
    p.set_defaults(func=run)


def totals_dict(t: usage_report.Totals) -> dict:
    return {"key": t.key, "label": t.label, "requests": t.requests, "tokens": t.tokens,
            "spend_usd": usage_report.usd_text(t.spend_micro_usd), "spend_unknown_requests": t.spend_unknown,
            "errors": t.errors, "errors_by_status": {str(k): v for k, v in t.errors_by_status}, "users": t.users}


def run(args) -> int:
    prices = PriceTable.load(settings_from(args).data_dir)
    with opened(args) as (store, _vault):
        try:
            since = usage_report.parse_day(args.since, "--since")
            until = usage_report.parse_day(args.until, "--until")
        except ValidationError as exc:
            raise CommandError(exc.message, 2) from None
        user_id = accounts.get_user_by_email(store, args.user).id if args.user else None
        app_id = apps.get_app(store, args.app).id if args.app else None
        if args.format == "csv":
            rows = usage_report.export_rows(store, prices, user_id=user_id, app_id=app_id, since=since, until=until)
            fields = ("user",) + usage_report.EXPORT_FIELDS if user_id is None else usage_report.EXPORT_FIELDS
            writer = csv.DictWriter(sys.stdout, fieldnames=fields, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
            return 0
        r = usage_report.report(store, prices, user_id=user_id, app_id=app_id, since=since, until=until)
        emit({"since": r.since, "until": r.until, "total": totals_dict(r.total),
              "by_user": [totals_dict(t) for t in r.by_user], "by_app": [totals_dict(t) for t in r.by_app],
              "by_model": [totals_dict(t) for t in r.by_model], "days": [totals_dict(t) for t in r.days]})
    return 0
