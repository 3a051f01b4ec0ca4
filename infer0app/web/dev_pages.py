"""Developer pages: register and manage OAuth apps (/dev/apps) and the integration guide (/dev/docs)."""

from __future__ import annotations

import time

from aiohttp import web

from .. import keys
from ..errors import api_errors, oauth_errors
from ..errors.anthropic_errors import ANTHROPIC_TYPES
from ..services import apps as apps_svc
from ..services import grants as grants_svc
from ..services import usage as usage_svc
from ..services import usage_report
from ..services.audit import user_actor
from ..services.errors import ValidationError
from .confirm import confirm_page, confirmed
from .flash import drop_flash, set_flash, take_flash
from .forms import field, read_form
from .render import render, url_for
from .session import require_user
from .svg_chart import bar_chart

MAX_OVERLAP_HOURS = apps_svc.MAX_ROTATION_OVERLAP // 3600


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
    _show_secret_next(request, app, secret, created=True)


def _show_secret_next(request: web.Request, app: apps_svc.AppView, secret: str | None, *, created: bool):
    """Post/redirect/get: the app's page shows `secret` once (web/flash.py); a reload of the
    page, or of the POST's result, can neither show it again nor make another app or secret."""
    page = url_for(request, "dev_app", client_id=app.client_id)
    response = web.HTTPSeeOther(page)
    set_flash(request, response, f"app:{app.client_id}", {"secret": secret or "", "created": created},
              path=page.path)
    raise response


async def _owned(request: web.Request) -> apps_svc.AppView:
    session = request[keys.SESSION]
    return await request.config_dict[keys.STORE].run(apps_svc.get_owned_app, session.user_id,
                                                     request.match_info["client_id"])


def app_charts(report: usage_report.UsageReport) -> list:
    """The developer's view of an app's last days: tokens, distinct active users, errors."""
    days = report.days
    return [bar_chart("Tokens per day", [(d.key, d.tokens) for d in days], lambda v: f"{int(v):,} tokens"),
            bar_chart("Active users per day", [(d.key, d.users if d.requests else 0) for d in days],
                      lambda v: f"{int(v):,} users"),
            bar_chart("Errors per day", [(d.key, d.errors) for d in days], lambda v: f"{int(v):,} errors")]


async def _app_page(request: web.Request, app: apps_svc.AppView, *, status: int = 200, **extra):
    prices = request.config_dict[keys.PRICES]

    def load(s):
        return (apps_svc.connected_users(s, app.id), usage_svc.for_app(s, app.id),
                usage_svc.daily_for_app(s, app.id), usage_report.report(s, prices, app_id=app.id, days=14))

    users, totals, daily, report = await request.config_dict[keys.STORE].run(load)
    peak = max([n for _, n, _ in daily] + [1])
    overlap_until = app.previous_secret_expires_at if (app.previous_secret_expires_at or 0) > time.time() else None
    ctx = {"app": app, "users": users, "totals": totals, "daily": daily, "peak": peak,
           "app_report": report, "app_charts": app_charts(report),
           "overlap_until": overlap_until, "max_overlap_hours": MAX_OVERLAP_HOURS,
           "form": {"name": app.name, "homepage_url": app.homepage_url,
                    "redirect_uris": "\n".join(app.redirect_uris)}, "notice": None}
    ctx.update(extra)
    return render(request, "dev/app.html", ctx, status=status)


@require_user
async def app_page(request: web.Request):
    app = await _owned(request)
    shown = take_flash(request, f"app:{app.client_id}")
    if shown is not None:  # just created or rotated: the secret, this once
        response = render(request, "dev/secret.html", {"app": app, "secret": shown["secret"],
                                                       "created": shown["created"]})
        drop_flash(response, path=url_for(request, "dev_app", client_id=app.client_id).path)
        return response
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


def _overlap_seconds(form) -> int:
    """The rotation form's overlap, in whole hours (0-168), as seconds; ValidationError otherwise."""
    text = field(form, "overlap_hours", 10).strip() or "0"
    hours = MAX_OVERLAP_HOURS + 1
    if text.isascii() and text.isdigit():
        hours = int(text)
    if hours > MAX_OVERLAP_HOURS:
        raise ValidationError(f"Keep the old secret for 0 to {MAX_OVERLAP_HOURS} hours (7 days).",
                              field="overlap_hours")
    return hours * 3600


@require_user
async def rotate(request: web.Request):
    app = await _owned(request)
    form = await read_form(request)
    if not await confirmed(request):
        return confirm_page(request, title=f"Rotate the client secret of {app.name}?",
                            text="A new secret is made and shown once. The current secret keeps working for the "
                                 "overlap you chose, then stops: update your app's configuration before that.",
                            button="Rotate client secret", cancel=url_for(request, "dev_app", client_id=app.client_id),
                            hidden={"overlap_hours": field(form, "overlap_hours", 10)})
    try:
        secret = await request.config_dict[keys.STORE].run(apps_svc.rotate_secret, app.client_id,
                                                           overlap=_overlap_seconds(form), actor=_actor(request))
    except ValidationError as exc:
        return await _app_page(request, app, status=400, error=exc.message)
    _show_secret_next(request, app, secret, created=False)


@require_user
async def delete(request: web.Request):
    app = await _owned(request)
    if not await confirmed(request):
        return confirm_page(request, title=f"Delete {app.name}?",
                            text="Every user's authorization of it ends and all its tokens stop working at once. "
                                 "This cannot be undone.",
                            button=f"Delete {app.name}", cancel=url_for(request, "dev_app", client_id=app.client_id))
    await request.config_dict[keys.STORE].run(apps_svc.delete_app, app.client_id, actor=_actor(request))
    request.config_dict[keys.TOKEN_CACHE].clear()
    raise web.HTTPSeeOther(url_for(request, "dev_apps", query={"deleted": "1"}))


async def docs(request: web.Request):
    """The integration guide, with this server's real URLs (public: no sign-in needed); its error
    tables are the ones the server raises from (infer0app/errors/)."""
    issuer = request.config_dict[keys.SETTINGS].issuer
    return render(request, "dev/docs.html", {
        "base": issuer, "authorize_url": f"{issuer}{url_for(request, 'authorize')}",
        "token_url": f"{issuer}/v1/oauth/token", "device_url": f"{issuer}/v1/oauth/device_authorization",
        "refresh_url": f"{issuer}/v1/oauth/refresh", "revoke_url": f"{issuer}/v1/oauth/revoke",
        "introspect_url": f"{issuer}/v1/oauth/introspect", "api_base": f"{issuer}/v1",
        "metadata_url": f"{issuer}/.well-known/oauth-authorization-server",
        "resource_metadata_url": f"{issuer}/.well-known/oauth-protected-resource/v1",
        "registration_url": (f"{issuer}/v1/oauth/register"
                             if request.config_dict[keys.SETTINGS].client_registration == "open" else ""),
        "access_ttl": request.config_dict[keys.SETTINGS].access_token_ttl,
        "refresh_ttl": request.config_dict[keys.SETTINGS].refresh_token_ttl,
        "scopes": grants_svc.SCOPES,
        "api_errors": api_errors.for_apps(), "oauth_errors": oauth_errors.for_apps(),
        "anthropic_types": ANTHROPIC_TYPES,
    })
