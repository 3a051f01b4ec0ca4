"""/usage: the signed-in user's usage over the last 30 days (or ?since=&until=), per day, by app
and by model, with a spend estimate; charts drawn as SVG on the server; /usage/export gives the
same rows as CSV or JSON (their own usage only)."""

from __future__ import annotations

import csv
import io
import json

from aiohttp import web

from .. import keys
from ..services import usage_report
from ..services.errors import ValidationError
from .filters import usd
from .middlewares import error_page
from .render import render
from .session import require_user
from .svg_chart import bar_chart

EXPORT_TYPES = {"csv": "text/csv", "json": "application/json"}


def _range(request: web.Request):
    return (usage_report.parse_day(request.query.get("since"), "since"),
            usage_report.parse_day(request.query.get("until"), "until"))


def charts(report: usage_report.UsageReport) -> list:
    days = report.days
    return [
        bar_chart("Spend estimate per day (US$)", [(d.key, d.spend_micro_usd) for d in days], usd),
        bar_chart("Tokens per day (input + output)", [(d.key, d.tokens) for d in days], lambda v: f"{int(v):,} tokens"),
        bar_chart("Requests per day", [(d.key, d.requests) for d in days], lambda v: f"{int(v):,} requests"),
    ]


@require_user
async def usage_page(request: web.Request):
    session = request[keys.SESSION]
    store, prices = request.config_dict[keys.STORE], request.config_dict[keys.PRICES]
    error, status = None, 200
    try:
        since, until = _range(request)
        report = await store.run(lambda s: usage_report.report(s, prices, user_id=session.user_id,
                                                               since=since, until=until))
    except ValidationError as exc:
        error, status = exc.message, 400
        report = await store.run(lambda s: usage_report.report(s, prices, user_id=session.user_id))
    return render(request, "dashboard/usage.html", {"report": report, "charts": charts(report), "error": error},
                  status=status)


@require_user
async def export(request: web.Request):
    """GET /usage/export?format=csv|json[&since=YYYY-MM-DD&until=YYYY-MM-DD]: the user's own rows
    (usage_report.EXPORT_FIELDS), as a download."""
    session = request[keys.SESSION]
    fmt = request.query.get("format", "csv")
    if fmt not in EXPORT_TYPES:
        return error_page(request, 400, "Choose format=csv or format=json.")
    try:
        since, until = _range(request)
    except ValidationError as exc:
        return error_page(request, 400, exc.message)
    prices = request.config_dict[keys.PRICES]
    rows = await request.config_dict[keys.STORE].run(
        lambda s: usage_report.export_rows(s, prices, user_id=session.user_id, since=since, until=until))
    if fmt == "json":
        body = json.dumps({"object": "list", "data": rows}, indent=1)
    else:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=usage_report.EXPORT_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        body = out.getvalue()
    return web.Response(text=body, content_type=EXPORT_TYPES[fmt], headers={
        "Content-Disposition": f'attachment; filename="infer0-usage.{fmt}"', "Cache-Control": "no-store"})
