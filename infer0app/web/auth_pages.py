"""Sign-up, sign-in and sign-out."""

from __future__ import annotations

from aiohttp import web

from .. import keys
from ..services import accounts
from ..services.audit import user_actor
from ..services.errors import ServiceError
from ..http_common.client_address import client_ip
from .forms import field, read_form
from .render import render, url_for
from .session import clear_session_cookie, safe_next, set_session_cookie

GENERIC_FAILURE = "That email and password did not work. Check them, or wait a few minutes and try again."
async def login_form(request: web.Request):
    if request.get(keys.SESSION):
        raise web.HTTPSeeOther(safe_next(request.query.get("next")))
    return render(request, "auth/login.html", {"next": safe_next(request.query.get("next")),
                                               "signup_open": request.config_dict[keys.SETTINGS].signup == "open"})


async def login_submit(request: web.Request):
    form = await read_form(request)
    email, password = field(form, "email"), field(form, "password")
    nxt = safe_next(field(form, "next"))
    store, throttle = request.config_dict[keys.STORE], request.config_dict[keys.THROTTLE]
    account, ip = email.strip().lower(), client_ip(request)
    user = None
    if not throttle.blocked(account, ip):
        user = await store.run(accounts.authenticate, email, password)
        if user is None:
            throttle.failed(account, ip)
    if user is None:
        return render(request, "auth/login.html",
                      {"error": GENERIC_FAILURE, "email": email, "next": nxt,
                       "signup_open": request.config_dict[keys.SETTINGS].signup == "open"}, status=400)
    throttle.succeeded(account)
    return await _signed_in(request, user, nxt)


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
    return render(request, "auth/signup.html", {"next": safe_next(request.query.get("next"))})


async def signup_submit(request: web.Request):
    if request.config_dict[keys.SETTINGS].signup != "open":
        return render(request, "auth/signup_closed.html", status=403)
    form = await read_form(request)
    email, password = field(form, "email"), field(form, "password")
    nxt = safe_next(field(form, "next"))
    if password != field(form, "password_confirm"):
        return render(request, "auth/signup.html", {"error": "The two passwords do not match.",
                                                    "email": email, "next": nxt}, status=400)
    store = request.config_dict[keys.STORE]
    try:
        user = await store.run(accounts.create_user, email, password,
                               actor=user_actor(email.strip().lower()))  # the person signing up
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
