"""Two-factor sign-in pages (issue 17 §2): the code step of signing in, setting TOTP up (QR
code drawn here, as inline SVG, by `segno`: the secret never leaves the server for a QR
service), recovery codes shown once, turning it off. Rules live in services/two_factor.py."""

from __future__ import annotations

import math

import segno
from aiohttp import web
from markupsafe import Markup
from yarl import URL

from .. import keys
from ..http_common.client_address import client_ip
from ..services import accounts, two_factor
from ..services.errors import NotFound, ValidationError
from ..services.throttle import minutes_text
from .account_pages import to_account
from .auth_pages import _signed_in
from .flash import drop_flash, set_flash, take_flash
from .forms import field, read_form
from .render import render, url_for
from .reauth import ReauthThrottled, password_checked
from .return_path import same_origin_path
from .session import require_user
from .signin_challenge import drop_challenge, read_challenge

CODES_SCOPE = "recovery-codes"


# -- signing in: the second step ----------------------------------------------------------------
async def second_factor_form(request: web.Request):
    if read_challenge(request) is None:
        raise web.HTTPSeeOther(url_for(request, "login"))
    return render(request, "account/login_code.html", {})


async def second_factor_submit(request: web.Request):
    """Throttled with the sign-in throttle, per (account, address): a wrong code counts as a
    wrong password would; a throttled attempt is answered 429 without checking the code."""
    challenge = read_challenge(request)
    if challenge is None:
        raise web.HTTPSeeOther(url_for(request, "login"))
    code = field(await read_form(request), "code", 64)
    store, throttle = request.config_dict[keys.STORE], request.config_dict[keys.THROTTLE]
    account, ip = f"2fa:{challenge['uid']}", client_ip(request)
    wait = await store.run(throttle.retry_after, account, ip)
    if wait:
        response = render(request, "account/login_code.html",
                          {"error": f"Too many attempts, try again in {minutes_text(wait)}."}, status=429)
        response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return response
    hmac_key = request.config_dict[keys.VAULT].hmac_key
    how = await store.run(two_factor.verify_second_factor, hmac_key, challenge["uid"], code)
    if how is None:
        await store.run(throttle.failed, account, ip)
        return render(request, "account/login_code.html", {"error": two_factor.WRONG_CODE}, status=400)
    await store.run(throttle.succeeded, account, ip)
    try:
        user = await store.run(accounts.get_user_by_email, challenge["email"])
    except NotFound:
        raise web.HTTPSeeOther(url_for(request, "login")) from None
    if user.id != challenge["uid"] or user.disabled:
        raise web.HTTPSeeOther(url_for(request, "login"))
    nxt = same_origin_path(challenge.get("next"))
    if how == "recovery":  # tell them how many are left, on the Account page
        nxt = str(url_for(request, "account", query={"done": "recovery-used"}))
    try:
        await _signed_in(request, user, nxt)
    except web.HTTPSeeOther as response:
        drop_challenge(request, response)
        raise


# -- setting it up --------------------------------------------------------------------------
def qr_svg(uri: str) -> Markup:
    """The otpauth:// URI as an inline SVG QR code (no script, no external image)."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff", title="QR code for your app")
    return Markup(svg)  # segno's own markup; the URI inside is escaped by segno


def _issuer(request: web.Request) -> str:
    host = URL(request.config_dict[keys.SETTINGS].issuer).host or ""
    return f"infer0 ({host})" if host else "infer0"


async def _setup_page(request: web.Request, *, status: int = 200, error: str | None = None):
    session = request[keys.SESSION]
    store, hmac_key = request.config_dict[keys.STORE], request.config_dict[keys.VAULT].hmac_key
    enrolment = await store.run(two_factor.begin_enrolment, hmac_key, session.user_id, issuer=_issuer(request))
    grouped = " ".join(enrolment.secret[i:i + 4] for i in range(0, len(enrolment.secret), 4))
    return render(request, "account/two_factor_setup.html", {
        "qr": qr_svg(enrolment.uri), "secret": grouped, "error": error,
        "required": request.config_dict[keys.SETTINGS].require_2fa == "on",
        "next": same_origin_path(request.query.get("next"))}, status=status)


@require_user
async def setup_form(request: web.Request):
    if request[keys.SESSION].two_factor:
        raise web.HTTPSeeOther(url_for(request, "account"))
    return await _setup_page(request)


def _show_codes_next(request: web.Request, codes: list[str], nxt: str) -> web.HTTPSeeOther:
    """Post/redirect/get, as for client secrets (web/flash.py): the codes page shows them once."""
    page = url_for(request, "two_factor_codes")
    response = web.HTTPSeeOther(page)
    set_flash(request, response, CODES_SCOPE, {"codes": codes, "next": nxt}, path=page.path)
    return response


@require_user
async def setup_submit(request: web.Request):
    session = request[keys.SESSION]
    form = await read_form(request)
    store, hmac_key = request.config_dict[keys.STORE], request.config_dict[keys.VAULT].hmac_key
    try:
        codes = await store.run(two_factor.confirm_enrolment, hmac_key, session.user_id, field(form, "code", 64),
                                ip=client_ip(request))
    except ValidationError as exc:
        return await _setup_page(request, status=400, error=exc.message)
    raise _show_codes_next(request, codes, same_origin_path(field(form, "next")))


@require_user
async def codes_page(request: web.Request):
    shown = take_flash(request, CODES_SCOPE)
    if shown is None:  # a reload, or a visit: the codes were shown once already
        raise web.HTTPSeeOther(url_for(request, "account"))
    nxt = shown.get("next") or "/"
    response = render(request, "account/recovery_codes.html", {
        "codes": shown["codes"], "next": nxt if nxt != "/" else str(url_for(request, "account"))})
    drop_flash(response, path=url_for(request, "two_factor_codes").path)
    return response


@require_user
async def codes_regenerate(request: web.Request):
    session = request[keys.SESSION]
    password = field(await read_form(request), "password", accounts.MAX_PASSWORD)
    try:
        codes = await password_checked(request, "password", two_factor.regenerate_recovery_codes, session.user_id,
                                       password, ip=client_ip(request))
    except ValidationError as exc:
        error = "throttled" if isinstance(exc, ReauthThrottled) else "codes"
        raise web.HTTPSeeOther(url_for(request, "account", query={"error": error}, fragment="two-factor")) \
            from exc
    raise _show_codes_next(request, codes, "/")


@require_user
async def disable(request: web.Request):
    session = request[keys.SESSION]
    if request.config_dict[keys.SETTINGS].require_2fa == "on":
        raise web.HTTPSeeOther(url_for(request, "account", query={"error": "required"}, fragment="two-factor"))
    password = field(await read_form(request), "password", accounts.MAX_PASSWORD)
    try:
        await password_checked(request, "password", two_factor.disable, session.user_id, password,
                               ip=client_ip(request))
    except ValidationError as exc:
        error = "throttled" if isinstance(exc, ReauthThrottled) else "disable"
        raise web.HTTPSeeOther(url_for(request, "account", query={"error": error}, fragment="two-factor")) \
            from None
    raise web.HTTPSeeOther(url_for(request, "account", query={"done": "2fa-off"}, fragment="two-factor"))


def add_routes(page) -> None:
    """Registers these pages with web/routes.py's `page(path, name, get=, post=)`."""
    page("/login/code", "login_second_factor", get=second_factor_form, post=second_factor_submit)
    page("/account/two-factor", "two_factor_setup", get=setup_form, post=setup_submit)
    page("/account/two-factor/recovery-codes", "two_factor_codes", get=codes_page, post=codes_regenerate)
    page("/account/two-factor/disable", "two_factor_disable", get=to_account("two-factor"), post=disable)
