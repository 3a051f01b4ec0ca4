"""Sign-up, sign-in and sign-out."""

from __future__ import annotations

import math

from aiohttp import web
from yarl import URL

from .. import keys
from ..services import accounts, apps
from ..services.audit import user_actor
from ..services.errors import Conflict, ServiceError
from ..services.throttle import minutes_text
from ..http_common.client_address import client_ip
from .forms import field, read_form
from .render import render, url_for
from .return_path import same_origin_path
from .session import clear_session_cookie, set_session_cookie
from .signin_challenge import needs_second_factor, second_factor_redirect

GENERIC_FAILURE = "That email and password did not work. Check them and try again."
# Sign-up cannot hide whether it worked (there is no email round trip to hide it behind), so a
# taken email gets this, which names no reason, and such answers are throttled per address
# (SIGNUP_THROTTLE); the password is hashed before the existence check, so both cost the same.
SIGNUP_REFUSED = "That email cannot be used to create an account. If you already have one, sign in instead."


def _too_many(request: web.Request, template: str, context: dict, wait: float) -> web.Response:
    """429 with the form again: a throttle engaged, and the person is told so and for how long."""
    context = {**context, "error": f"Too many attempts, try again in {minutes_text(wait)}."}
    response = render(request, template, context, status=429)
    response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
    return response


async def continue_to(request: web.Request, nxt: str) -> str:
    """The name of the app an authorization request in `nxt` comes from, for "Sign in to continue
    to <App>" (issue 16 §4); "" for any other page or an unknown or disabled app."""
    target = URL(nxt)
    if target.path != str(url_for(request, "authorize")):
        return ""
    app = await request.config_dict[keys.STORE].run(apps.find_app, target.query.get("client_id", "")[:200])
    return app.name if app is not None and not app.disabled else ""


async def _login_page(request: web.Request, nxt: str, *, status: int = 200, **context):
    return render(request, "auth/login.html", {
        "next": nxt, "continue_to": await continue_to(request, nxt),
        "device": URL(nxt).path == str(url_for(request, "device")),
        "signup_open": request.config_dict[keys.SETTINGS].signup == "open", **context}, status=status)


async def login_form(request: web.Request):
    if request.get(keys.SESSION):
        raise web.HTTPSeeOther(same_origin_path(request.query.get("next")))
    return await _login_page(request, same_origin_path(request.query.get("next")))


async def login_submit(request: web.Request):
    """Throttled per (account, address), per address and per account (services/throttle.py); a
    throttled attempt is answered 429 without checking the password, a wrong one 400."""
    form = await read_form(request)
    email, password = field(form, "email"), field(form, "password")
    store, throttle = request.config_dict[keys.STORE], request.config_dict[keys.THROTTLE]
    account, ip = email.strip().lower(), client_ip(request)
    page = {"email": email, "next": same_origin_path(field(form, "next")),
            "signup_open": request.config_dict[keys.SETTINGS].signup == "open"}
    wait = await store.run(throttle.retry_after, account, ip)
    if wait:
        return _too_many(request, "auth/login.html", page, wait)
    user = await store.run(accounts.authenticate, email, password)
    if user is None:
        await store.run(throttle.failed, account, ip)
        return await _login_page(request, page["next"], status=400, error=GENERIC_FAILURE, email=email)
    await store.run(throttle.succeeded, account, ip)
    if await needs_second_factor(request, user.id):  # issue 17: the code page comes first
        raise second_factor_redirect(request, user.id, user.email, page["next"])
    return await _signed_in(request, user, page["next"])


async def _signed_in(request: web.Request, user, nxt: str):
    store, settings = request.config_dict[keys.STORE], request.config_dict[keys.SETTINGS]
    old = request.cookies.get("i0_session")
    if old:
        await store.run(accounts.end_session, old)
    token = await store.run(accounts.start_session, user, settings.session_lifetime,
                            ip=client_ip(request), user_agent=request.headers.get("User-Agent", ""))
    response = web.HTTPSeeOther(nxt)
    set_session_cookie(request, response, token)
    raise response


async def signup_form(request: web.Request):
    if request.config_dict[keys.SETTINGS].signup != "open":
        return render(request, "auth/signup_closed.html", status=403)
    return render(request, "auth/signup.html", {"next": same_origin_path(request.query.get("next"))})


async def signup_submit(request: web.Request):
    if request.config_dict[keys.SETTINGS].signup != "open":
        return render(request, "auth/signup_closed.html", status=403)
    form = await read_form(request)
    email, password = field(form, "email"), field(form, "password")
    nxt = same_origin_path(field(form, "next"))
    if password != field(form, "password_confirm"):
        return render(request, "auth/signup.html", {"error": "The two passwords do not match.",
                                                    "email": email, "next": nxt}, status=400)
    store, throttle = request.config_dict[keys.STORE], request.config_dict[keys.SIGNUP_THROTTLE]
    ip = client_ip(request)
    wait = await store.run(throttle.retry_after, "", ip)
    if wait:
        return _too_many(request, "auth/signup.html", {"email": email, "next": nxt}, wait)
    try:
        user = await store.run(accounts.create_user, email, password,
                               actor=user_actor(email.strip().lower()))  # the person signing up
    except Conflict:
        await store.run(throttle.failed, "", ip)
        return render(request, "auth/signup.html", {"error": SIGNUP_REFUSED, "email": email, "next": nxt},
                      status=400)
    except ServiceError as exc:
        return render(request, "auth/signup.html", {"error": exc.message, "email": email, "next": nxt},
                      status=400)
    return await _signed_in(request, user, nxt)


async def logout(request: web.Request):
    token = request.cookies.get("i0_session")
    if token:
        await request.config_dict[keys.STORE].run(accounts.end_session, token)
    response = web.HTTPSeeOther(url_for(request, "login"))
    clear_session_cookie(response)
    raise response
