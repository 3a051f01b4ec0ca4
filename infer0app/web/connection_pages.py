"""/connections: the apps a user has authorized; change their provider and model, or revoke them."""

from __future__ import annotations

from aiohttp import web

from .. import keys
from ..gateway.providers.kinds import KINDS
from ..services import grant_fallbacks as fallbacks_svc
from ..services import grant_views
from ..services.grant_models import model_lists
from ..services import grants as grants_svc
from ..services import providers as providers_svc
from ..services import usage as usage_svc
from ..services.audit import user_actor
from ..services.errors import ValidationError
from .confirm import confirm_page, confirmed
from .forms import field, read_form, route_id
from .grant_limit_pages import limits_context
from .limit_forms import defaults_and_maximum
from .render import render, url_for
from .session import require_user


def _grant_id(request: web.Request) -> int:
    return route_id(request)


async def _page(request: web.Request, *, status: int = 200, **extra):
    session = request[keys.SESSION]

    prices, maximum = request.config_dict[keys.PRICES], defaults_and_maximum(request)[1]

    def load(s):
        grants = grant_views.list_grants(s, user_id=session.user_id)
        connections = providers_svc.list_connections(s, session.user_id)
        return (grants, usage_svc.by_grant(s, [g.id for g in grants]), connections,
                limits_context(s, prices, session.user_id, grants, connections, maximum),
                fallbacks_svc.list_fallbacks(s, [g.id for g in grants]))

    grants, usage, connections, limits_ctx, fallbacks = await request.config_dict[keys.STORE].run(load)
    ctx = {"grants": grants, "usage": usage, "connections": connections, "kinds": KINDS,
           "model_lists": model_lists(connections), "fallbacks": fallbacks,
           "empty_usage": usage_svc.UsageTotals(), "notice": None, "error": None, "error_id": None,
           "limits_error_id": None, "posted_limits": None, **limits_ctx}
    ctx.update(extra)
    return render(request, "dashboard/connections.html", ctx, status=status)


@require_user
async def list_page(request: web.Request):
    notice = None
    if request.query.get("revoked"):
        notice = "Access revoked. The app's tokens no longer work."
    elif request.query.get("limits_saved"):
        notice = "Limits saved. They apply to the app's next request."
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
            allow_model_choice=field(form, "allow_model_choice", 5) == "1",
            model_other=field(form, "model_other", 300), embedding_model=field(form, "embedding_model", 300))
    except ValidationError as exc:  # NotFound goes on to the error middleware's 404 page
        return await _page(request, status=400, error=exc.message, error_id=gid)
    request.config_dict[keys.TOKEN_CACHE].clear()  # the app's next request sees the new choice
    raise web.HTTPSeeOther(url_for(request, "connections", query={"saved": "1"}, fragment=f"grant-{gid}"))


@require_user
async def revoke(request: web.Request):
    session = request[keys.SESSION]
    store, gid = request.config_dict[keys.STORE], _grant_id(request)
    if not await confirmed(request):
        grant = await store.run(grant_views.get_user_grant, session.user_id, gid)  # NotFound: the 404 page
        return confirm_page(request, title=f"Revoke {grant.app_name}'s access?",
                            text="Its tokens stop working at once; it can use your providers again only if "
                                 "you approve it again.",
                            button="Revoke access", cancel=url_for(request, "connections", fragment=f"grant-{gid}"))
    await store.run(grants_svc.revoke_user_grant, session.user_id, gid, actor=user_actor(session.email))
    request.config_dict[keys.TOKEN_CACHE].clear()  # at once here; other processes within a second
    raise web.HTTPSeeOther(url_for(request, "connections", query={"revoked": "1"}))


@require_user
async def save_fallbacks(request: web.Request):
    form = await read_form(request)
    session = request[keys.SESSION]
    gid = _grant_id(request)
    try:
        await request.config_dict[keys.STORE].run(
            fallbacks_svc.set_fallbacks, session.user_id, gid,
            [v[:20] for v in form.getall("fallback", []) if isinstance(v, str)], actor=user_actor(session.email))
    except ValidationError as exc:
        return await _page(request, status=400, error=exc.message, error_id=gid)
    request.config_dict[keys.TOKEN_CACHE].clear()  # the app's next call sees the new order
    raise web.HTTPSeeOther(url_for(request, "connections", query={"saved": "1"}, fragment=f"grant-{gid}"))
