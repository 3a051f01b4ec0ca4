"""The Account page (issue 17 §2): change password, two-factor status, signed-in sessions with
sign-out per session and everywhere, export my data, delete my account. Plus the page behind an
operator's password reset link. Rules live in services/ (passwords, sessions, two_factor,
account_export, account_deletion)."""

from __future__ import annotations

import datetime as dt
import json

from aiohttp import web

from .. import keys
from ..http_common.client_address import client_ip
from ..services import account_deletion, account_export, passwords, sessions, two_factor
from ..services.accounts import MAX_PASSWORD
from ..services.audit import user_actor
from ..services.errors import NotFound, ValidationError
from .confirm import confirmed
from .forms import field, read_form
from .reauth import ReauthThrottled, password_checked
from .render import render, url_for
from .session import clear_session_cookie, require_user

# ?done=… and ?error=… after a redirect: fixed sentences, so a link cannot put words on the page.
NOTICES = {
    "password": "Password changed. Every other session of yours has been signed out.",
    "session": "That session has been signed out.",
    "2fa-off": "Two-factor sign-in is off.",
    "recovery-used": "You signed in with a recovery code; it cannot be used again. Make new codes below if few are left.",
}
ERRORS = {
    "codes": "Your password was not right; your recovery codes did not change.",
    "disable": "Your password was not right; two-factor sign-in is still on.",
    "required": "Your operator requires two-factor sign-in, so it cannot be turned off.",
    "throttled": "Too many wrong passwords: wait a few minutes, then try again.",
}


def _status(exc: ValidationError) -> int:
    return 429 if isinstance(exc, ReauthThrottled) else 400


async def _account_page(request: web.Request, *, status: int = 200, **extra):
    session = request[keys.SESSION]

    def load(store):
        return (sessions.list_sessions(store, session.user_id, session.session_hash),
                two_factor.status(store, session.user_id))

    listed, tfa = await request.config_dict[keys.STORE].run(load)
    ctx = {"sessions": listed, "tfa": tfa, "notice": NOTICES.get(request.query.get("done", "")),
           "error": ERRORS.get(request.query.get("error", "")), "password_error": None, "password_field": None,
           "required": request.config_dict[keys.SETTINGS].require_2fa == "on"}
    ctx.update(extra)
    return render(request, "account/account.html", ctx, status=status)


@require_user
async def account_page(request: web.Request):
    return await _account_page(request)


@require_user
async def change_password(request: web.Request):
    session = request[keys.SESSION]
    form = await read_form(request)
    try:
        await password_checked(
            request, "current_password",
            passwords.change_password, session.user_id, field(form, "current_password", MAX_PASSWORD),
            field(form, "password", MAX_PASSWORD + 1), field(form, "password_confirm", MAX_PASSWORD + 1),
            keep_session_hash=session.session_hash, ip=client_ip(request))
    except ValidationError as exc:
        return await _account_page(request, status=_status(exc), password_error=exc.message,
                                   password_field=exc.field)
    raise web.HTTPSeeOther(url_for(request, "account", query={"done": "password"}))


def _signed_out(request: web.Request) -> web.HTTPSeeOther:
    response = web.HTTPSeeOther(url_for(request, "login"))
    clear_session_cookie(response)
    return response


@require_user
async def end_session(request: web.Request):
    session = request[keys.SESSION]
    public_id = request.match_info["public_id"]
    await request.config_dict[keys.STORE].run(sessions.end_by_public_id, session.user_id, public_id,
                                              ip=client_ip(request))
    if public_id == session.public_id:
        raise _signed_out(request)
    raise web.HTTPSeeOther(url_for(request, "account", query={"done": "session"}, fragment="sessions"))


@require_user
async def end_everywhere(request: web.Request):
    session = request[keys.SESSION]
    await request.config_dict[keys.STORE].run(sessions.end_everywhere, session.user_id,
                                              actor=user_actor(session.user_id), ip=client_ip(request))
    raise _signed_out(request)


@require_user
async def export(request: web.Request):
    """GET: the JSON document of services/account_export.py, as a download."""
    session = request[keys.SESSION]
    doc = await request.config_dict[keys.STORE].run(account_export.export_account, session.user_id)
    name = f"infer0-export-{dt.datetime.now(dt.timezone.utc):%Y-%m-%d}.json"
    return web.Response(body=json.dumps(doc, indent=2).encode(), content_type="application/json", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@require_user
async def delete(request: web.Request):
    """GET (and a POST without confirm=yes): the warning, with what goes, and a password field.
    The confirmed POST with the right password deletes the account and signs out."""
    session = request[keys.SESSION]
    store = request.config_dict[keys.STORE]
    error, status = None, 200
    if await confirmed(request):
        password = field(await read_form(request), "password", MAX_PASSWORD)
        try:
            await password_checked(request, "password", account_deletion.delete_own_account, session.user_id, password)
        except ValidationError as exc:
            error, status = exc.message, _status(exc)
        else:
            request[keys.SESSION] = None  # the page that follows is an anonymous one
            response = render(request, "account/deleted.html", {})
            clear_session_cookie(response)
            return response
    preview = await store.run(account_deletion.deletion_preview, session.user_id)
    return render(request, "account/delete.html", {"preview": preview, "error": error}, status=status)


# -- the operator's reset link ------------------------------------------------------------------
async def reset_form(request: web.Request):
    token = request.query.get("token", "")[:200]
    try:
        email = await request.config_dict[keys.STORE].run(passwords.reset_link_email, token)
    except NotFound as exc:
        return render(request, "account/reset_password.html", {"dead": exc.message}, status=404)
    return render(request, "account/reset_password.html", {"token": token, "email": email})


async def reset_submit(request: web.Request):
    form = await read_form(request)
    token = field(form, "token", 200)
    store = request.config_dict[keys.STORE]
    try:
        email = await store.run(passwords.reset_password, token, field(form, "password", MAX_PASSWORD + 1),
                                field(form, "password_confirm", MAX_PASSWORD + 1), ip=client_ip(request))
    except NotFound as exc:
        return render(request, "account/reset_password.html", {"dead": exc.message}, status=404)
    except ValidationError as exc:
        email = await store.run(passwords.reset_link_email, token)
        return render(request, "account/reset_password.html", {"token": token, "email": email,
                                                               "error": exc.message}, status=400)
    response = render(request, "account/reset_password.html", {"done": True, "email": email})
    clear_session_cookie(response)  # whoever was signed in here, every session of the account ended
    return response


def to_account(fragment: str = ""):
    """A GET handler for a POST-only form target: back to the Account page (never a 405 page)."""

    async def handler(request: web.Request):
        raise web.HTTPSeeOther(url_for(request, "account", fragment=fragment))

    return handler


def add_routes(page) -> None:
    """Registers these pages with web/routes.py's `page(path, name, get=, post=)`."""
    page("/account", "account", get=account_page)
    page("/account/password", "account_password", get=to_account("password"), post=change_password)
    page("/account/sessions/{public_id:[A-Za-z0-9_-]{1,40}}/end", "account_session_end",
         get=to_account("sessions"), post=end_session)
    page("/account/sessions/end-all", "account_sessions_end_all", get=to_account("sessions"), post=end_everywhere)
    page("/account/export", "account_export", get=export)
    page("/account/delete", "account_delete", get=delete, post=delete)
    page(passwords.RESET_PATH, "reset_password", get=reset_form, post=reset_submit)
