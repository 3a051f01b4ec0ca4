"""Developer pages: register and manage OAuth apps (/dev/apps) and the integration guide (/dev/docs)."""

from __future__ import annotations

from aiohttp import web

from .. import keys
from ..errors import api_errors, oauth_errors
from ..errors.anthropic_errors import ANTHROPIC_TYPES
from ..services import apps as apps_svc
from ..services import grants as grants_svc
from ..services import usage as usage_svc
from ..services.audit import user_actor
from ..services.errors import ValidationError
from .forms import field, read_form
from .render import render, url_for
from .session import require_user


def _actor(request: web.Request) -> str:
    return user_actor(request[keys.SESSION].email)


def _app_form(form) -> dict:
    return {"name": field(form, "name", 200), "homepage_url": field(form, "homepage_url", 1000),
            "redirect_uris": field(form, "redirect_uris", 8000), "type": field(form, "type", 20)}


async def _apps_page(request: web.Request, *, status: int = 200, **extra):
    session = request[keys.SESSION]
    apps = await request.config_dict[keys.STORE].run(apps_svc.list_apps, session.user_id)
    ctx = {"apps": apps, "form": {"type": "confidential"}, "notice": None}
    ctx.update(extra)
    return render(request, "dev/apps.html", ctx, status=status)


@require_user
async def apps_page(request: web.Request):
    notice = "App deleted; its tokens no longer work." if request.query.get("deleted") else None
    return await _apps_page(request, notice=notice)


@require_user
async def create(request: web.Request):
    values = _app_form(await read_form(request))
    session = request[keys.SESSION]
    try:
        app, secret = await request.config_dict[keys.STORE].run(
            apps_svc.create_app, session.user_id, name=values["name"], homepage_url=values["homepage_url"],
            redirect_uris=values["redirect_uris"], public=values["type"] == "public", actor=_actor(request))
    except ValidationError as exc:
        return await _apps_page(request, status=400, error=exc.message, error_field=exc.field, form=values)
    return render(request, "dev/secret.html", {"app": app, "secret": secret, "created": True}, status=201)


async def _owned(request: web.Request) -> apps_svc.AppView:
    session = request[keys.SESSION]
    return await request.config_dict[keys.STORE].run(apps_svc.get_owned_app, session.user_id,
                                                     request.match_info["client_id"])


async def _app_page(request: web.Request, app: apps_svc.AppView, *, status: int = 200, **extra):
    def load(s):
        return (apps_svc.connected_users(s, app.id), usage_svc.for_app(s, app.id),
                usage_svc.daily_for_app(s, app.id))

    users, totals, daily = await request.config_dict[keys.STORE].run(load)
    peak = max([n for _, n, _ in daily] + [1])
    ctx = {"app": app, "users": users, "totals": totals, "daily": daily, "peak": peak,
           "form": {"name": app.name, "homepage_url": app.homepage_url,
                    "redirect_uris": "\n".join(app.redirect_uris)}, "notice": None}
    ctx.update(extra)
    return render(request, "dev/app.html", ctx, status=status)


@require_user
async def app_page(request: web.Request):
    app = await _owned(request)
    return await _app_page(request, app, notice="Saved." if request.query.get("saved") else None)


@require_user
async def update(request: web.Request):
    app = await _owned(request)
    values = _app_form(await read_form(request))
    session = request[keys.SESSION]
    try:
        await request.config_dict[keys.STORE].run(
            apps_svc.update_app, session.user_id, app.client_id, name=values["name"],
            homepage_url=values["homepage_url"], redirect_uris=values["redirect_uris"], actor=_actor(request))
    except ValidationError as exc:
        return await _app_page(request, app, status=400, error=exc.message, error_field=exc.field, form=values)
    raise web.HTTPSeeOther(url_for(request, "dev_app", client_id=app.client_id, query={"saved": "1"}))


@require_user
async def rotate(request: web.Request):
    app = await _owned(request)
    try:
        secret = await request.config_dict[keys.STORE].run(apps_svc.rotate_secret, app.client_id,
                                                           actor=_actor(request))
    except ValidationError as exc:
        return await _app_page(request, app, status=400, error=exc.message)
    return render(request, "dev/secret.html", {"app": app, "secret": secret, "created": False})


@require_user
async def delete(request: web.Request):
    app = await _owned(request)
    await request.config_dict[keys.STORE].run(apps_svc.delete_app, app.client_id, actor=_actor(request))
    request.config_dict[keys.TOKEN_CACHE].clear()
    raise web.HTTPSeeOther(url_for(request, "dev_apps", query={"deleted": "1"}))


async def docs(request: web.Request):
    """The integration guide, with this server's real URLs (public: no sign-in needed); its error
    tables are the ones the server raises from (infer0app/errors/)."""
    issuer = request.config_dict[keys.SETTINGS].issuer
    return render(request, "dev/docs.html", {
        "base": issuer, "authorize_url": f"{issuer}{url_for(request, 'authorize')}",
        "token_url": f"{issuer}/v1/oauth/token",
        "refresh_url": f"{issuer}/v1/oauth/refresh", "revoke_url": f"{issuer}/v1/oauth/revoke",
        "introspect_url": f"{issuer}/v1/oauth/introspect", "api_base": f"{issuer}/v1",
        "metadata_url": f"{issuer}/.well-known/oauth-authorization-server",
        "access_ttl": request.config_dict[keys.SETTINGS].access_token_ttl,
        "refresh_ttl": request.config_dict[keys.SETTINGS].refresh_token_ttl,
        "scopes": grants_svc.SCOPES,
        "api_errors": api_errors.for_apps(), "oauth_errors": oauth_errors.for_apps(),
        "anthropic_types": ANTHROPIC_TYPES,
    })
