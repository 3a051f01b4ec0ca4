"""The signed-in home page: the user's providers and the apps they connected, at a glance."""

from __future__ import annotations

from aiohttp import web

from .. import keys
from ..services import grant_views
from ..services import providers as svc
from ..services import usage as usage_svc
from .render import render
from .session import require_user


@require_user
async def home(request: web.Request):
    session = request[keys.SESSION]

    def load(store):
        grants = grant_views.list_grants(store, user_id=session.user_id)
        return (svc.list_connections(store, session.user_id), grants,
                usage_svc.by_grant(store, [g.id for g in grants]))

    conns, grants, usage = await request.config_dict[keys.STORE].run(load)
    failing = {c.id for c in conns if c.last_test_ok is False}  # never tested (None) is not a failure
    return render(request, "dashboard/home.html", {
        "connections": conns, "grants": grants, "usage": usage, "failing": failing,
        "empty_usage": usage_svc.UsageTotals(), "window_days": usage_svc.WINDOW_DAYS})
