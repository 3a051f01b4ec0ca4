"""/connections: the apps a user has authorized; change their provider and model, or revoke them."""

from __future__ import annotations

from aiohttp import web

from .. import keys
from ..gateway.providers.kinds import KINDS
from ..services import grant_views
from ..services import grants as grants_svc
from ..services import providers as providers_svc
from ..services import usage as usage_svc
from ..services.audit import user_actor
from ..services.errors import ValidationError
from .forms import field, read_form
from .render import render, url_for
from .session import require_user


def _grant_id(request: web.Request) -> int:
    return int(request.match_info["id"])  # digits: the route says {id:\d+}


async def _page(request: web.Request, *, status: int = 200, **extra):
    session = request[keys.SESSION]

    def load(s):
        grants = grant_views.list_grants(s, user_id=session.user_id)
        return (grants, usage_svc.by_grant(s, [g.id for g in grants]),
                providers_svc.list_connections(s, session.user_id))

    grants, usage, connections = await request.config_dict[keys.STORE].run(load)
    ctx = {"grants": grants, "usage": usage, "connections": connections, "kinds": KINDS,
           "empty_usage": usage_svc.UsageTotals(), "notice": None, "error": None, "error_id": None}
    ctx.update(extra)
    return render(request, "dashboard/connections.html", ctx, status=status)


@require_user
async def list_page(request: web.Request):
    notice = None
    if request.query.get("revoked"):
        notice = "Access revoked. The app's tokens no longer work."
    elif request.query.get("saved"):
        notice = "Saved. The app's next request uses your new choice."
    return await _page(request, notice=notice)


@require_user
async def update(request: web.Request):
    form = await read_form(request)
    session = request[keys.SESSION]
    gid = _grant_id(request)
    try:
        await request.config_dict[keys.STORE].run(
            grants_svc.update_grant_choice, session.user_id, gid, provider_id=field(form, "provider", 20),
            model=field(form, "model", 300), actor=user_actor(session.email),
            allow_model_choice=field(form, "allow_model_choice", 5) == "1")
    except ValidationError as exc:  # NotFound goes on to the error middleware's 404 page
        return await _page(request, status=400, error=exc.message, error_id=gid)
    request.config_dict[keys.TOKEN_CACHE].clear()  # the app's next request sees the new choice
    raise web.HTTPSeeOther(url_for(request, "connections", query={"saved": "1"}, fragment=f"grant-{gid}"))


@require_user
async def revoke(request: web.Request):
    session = request[keys.SESSION]
    await request.config_dict[keys.STORE].run(grants_svc.revoke_user_grant, session.user_id,
                                              _grant_id(request), actor=user_actor(session.email))
    request.config_dict[keys.TOKEN_CACHE].clear()  # at once here; other processes within a second
    raise web.HTTPSeeOther(url_for(request, "connections", query={"revoked": "1"}))
