"""Limits and figures on Connected apps: each app's caps (editable), where it stands, what it
used this month, and notices when an app or a connection reached a cap."""

from __future__ import annotations

import datetime as dt
import time

from aiohttp import web

from .. import keys
from ..services import grant_limits, grant_views, limit_choice, limit_status, usage_report
from ..services.audit import user_actor
from ..services.errors import ValidationError
from .forms import read_form, route_id
from .limit_forms import LIMIT_FIELDS, defaults_and_maximum, posted, values_of
from .render import url_for
from .session import require_user


def month_start(now: float) -> dt.date:
    return dt.datetime.fromtimestamp(now, dt.timezone.utc).date().replace(day=1)


def limits_context(store, prices, user_id: int, grants, connections, maximum) -> dict:
    """Runs on the store's thread: the template context of the limits parts of /connections."""
    now = time.time()
    statuses = limit_status.grant_statuses(store, [(g.id, g.provider_id) for g in grants], now)
    since = month_start(now)
    items = usage_report.buckets(store, prices, since, dt.datetime.fromtimestamp(now, dt.timezone.utc).date(),
                                 user_id=user_id)
    month = {int(t.key): t for t in usage_report.group(items, lambda b: b.grant_id, str)}
    connection_caps = {c.id: limit_status.connection_caps(store, c.id, now) for c in connections}
    notices = [f"{g.app_name} reached its {c.name.replace('_', ' ')} limit; it gets refusals until "
               f"the limit resets or you raise it." for g in grants for c in statuses[g.id].caps if c.reached]
    notices += [f"Your connection {c.name} reached its {cap.name.replace('_', ' ')} limit across all apps."
                for c in connections for cap in connection_caps[c.id] if cap.reached]
    return {"limit_fields": LIMIT_FIELDS, "limit_maximum": values_of(maximum),
            "grant_limit_values": {g.id: values_of(grant_limits.get_grant_limits(store, g.id)) for g in grants},
            "grant_status": statuses, "month_usage": month, "month_since": since.isoformat(),
            "cap_notices": notices, "empty_totals": usage_report.Totals("", "")}


@require_user
async def update_limits(request: web.Request):
    """POST /connections/{id}/limits: the user changes one app's caps (the form again on bad input)."""
    from .connection_pages import _page  # the page this form lives on

    form = await read_form(request)
    session = request[keys.SESSION]
    gid = route_id(request)
    store = request.config_dict[keys.STORE]
    await store.run(grant_views.get_user_grant, session.user_id, gid)  # NotFound (404) before any form check
    try:
        limits = limit_choice.form_limits(form)
        limit_choice.check_within(limits, defaults_and_maximum(request)[1])
        await request.config_dict[keys.STORE].run(grant_limits.set_user_grant_limits, session.user_id, gid, limits,
                                                  actor=user_actor(session.email))
    except ValidationError as exc:  # NotFound goes on to the error middleware's 404 page
        return await _page(request, status=400, error=exc.message, error_id=gid, limits_error_id=gid,
                           posted_limits=posted(form))
    request.config_dict[keys.LIMITS].clear()  # this process at once; others follow the cache epoch
    raise web.HTTPSeeOther(url_for(request, "connections", query={"limits_saved": "1"}, fragment=f"grant-{gid}"))
