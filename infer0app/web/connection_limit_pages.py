"""/providers/{id}/limits: cap a whole provider connection across all its apps (spend per day,
week, month) and set prices for its models (custom or local endpoints), issue 13."""

from __future__ import annotations

import time

from aiohttp import web

from .. import keys
from ..gateway.providers.kinds import KINDS
from ..services import connection_prices, grant_limits, limit_status
from ..services import providers as providers_svc
from ..services.audit import user_actor
from ..services.errors import ValidationError
from .forms import field, read_form, route_id
from .limit_forms import CONNECTION_FIELDS, posted, values_of
from .render import render, url_for
from .session import require_user


def _conn_id(request: web.Request) -> int:
    return route_id(request)


async def _render(request: web.Request, *, status: int = 200, **extra):
    session = request[keys.SESSION]
    cid = _conn_id(request)
    prices = request.config_dict[keys.PRICES]

    def load(s):
        conn = providers_svc.get_connection(s, session.user_id, cid)  # NotFound -> 404 page
        return (conn, grant_limits.get_connection_limits(s, cid), limit_status.connection_caps(s, cid, time.time()),
                connection_prices.list_prices(s, cid))

    conn, caps, status_now, own = await request.config_dict[keys.STORE].run(load)
    model = conn.default_model or (KINDS[conn.kind].default_model if conn.kind in KINDS else "")
    table_price = prices.lookup(conn.kind, model) if model else None
    ctx = {"conn": conn, "kind_label": KINDS[conn.kind].label if conn.kind in KINDS else conn.kind,
           "limit_fields": CONNECTION_FIELDS, "limit_values": values_of(caps), "limit_maximum": {},
           "caps": status_now, "prices": own, "table_price": table_price, "table_model": model,
           "notice": None, "error": None, "error_form": None, "price_form": {}}
    ctx.update(extra)
    return render(request, "dashboard/provider_limits.html", ctx, status=status)


@require_user
async def page(request: web.Request):
    notice = {"caps": "Connection limits saved.", "price": "Price saved."}.get(request.query.get("saved", ""))
    return await _render(request, notice=notice)


@require_user
async def update_caps(request: web.Request):
    form = await read_form(request)
    session = request[keys.SESSION]
    cid = _conn_id(request)
    try:
        limits = grant_limits.connection_limits_from({k: v if v.strip().lower() != "none" else ""
                                                      for k, v in posted(form, [f for f, _, _ in CONNECTION_FIELDS]).items()})
        await request.config_dict[keys.STORE].run(grant_limits.set_user_connection_limits, session.user_id, cid,
                                                  limits, actor=user_actor(session.email))
    except ValidationError as exc:
        return await _render(request, status=400, error=exc.message, error_form="caps",
                             limit_values=posted(form, [f for f, _, _ in CONNECTION_FIELDS]))
    request.config_dict[keys.LIMITS].clear()
    raise web.HTTPSeeOther(url_for(request, "provider_limits", id=cid, query={"saved": "caps"}))


@require_user
async def update_price(request: web.Request):
    form = await read_form(request)
    session = request[keys.SESSION]
    cid = _conn_id(request)
    values = {k: field(form, k, 200) for k in ("model", "input", "output", "cached_input")}
    try:
        model, price = connection_prices.price_from(values)
        if field(form, "remove", 5) == "1":
            price = None
        await request.config_dict[keys.STORE].run(connection_prices.set_user_price, session.user_id, cid, model,
                                                  price, actor=user_actor(session.email))
    except ValidationError as exc:
        return await _render(request, status=400, error=exc.message, error_form="price", price_form=values)
    request.config_dict[keys.LIMITS].clear()
    raise web.HTTPSeeOther(url_for(request, "provider_limits", id=cid, query={"saved": "price"}))
