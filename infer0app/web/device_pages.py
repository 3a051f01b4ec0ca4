"""/device: where a user approves an RFC 8628 device authorization (a CLI, an editor, a TV).

The user signs in (the login page brings them back), types the code the device shows (any
case, dash optional; `verification_uri_complete` fills it in, and they still confirm it, RFC
8628 §5.4), sees the same consent page as /oauth/authorize, and approves or denies; the device's
next poll of the token endpoint gets the answer.

Guessing is throttled: DEVICE_CODE_TRIES wrong codes per sign-in session and
DEVICE_CODE_TRIES_PER_ADDRESS per address in DEVICE_CODE_WINDOW seconds; past that, codes are
not looked up at all. A wrong code, an expired one and one already used get the same answer.
"""

from __future__ import annotations

from aiohttp import web

from .. import keys
from ..http_common.client_address import client_ip
from ..oauth.models import EndUser
from ..services import apps as apps_svc
from ..services import device_codes
from ..services.errors import ServiceError
from .consent_pages import chosen_in_form, consent_from_form, consent_page
from .forms import field, read_form
from .render import render, url_for
from .session import require_user

DEVICE_CODE_TRIES = 5
DEVICE_CODE_TRIES_PER_ADDRESS = 20
DEVICE_CODE_WINDOW = 900.0
WRONG_CODE = "That code is not valid. Check the code your device shows (it expires after 15 minutes) and try again."
TOO_MANY = "Too many wrong codes. Wait 15 minutes, then try again."


def _shown(code: str) -> str:
    """A user code as the device shows it (XXXX-XXXX), or what was typed, trimmed, if it cannot be one."""
    normal = device_codes.normalize_user_code(code)
    return f"{normal[:4]}-{normal[4:]}" if normal else (code or "")[:20]


def _form(request: web.Request, user_code: str = "", *, error: str | None = None, status: int = 200):
    return render(request, "oauth/device.html", {"user_code": user_code, "error": error}, status=status)


async def _find(request: web.Request, user_code: str):
    """(pending device, app) for a typed code, or (None, error message); counts wrong codes."""
    throttle, store = request.config_dict[keys.DEVICE_THROTTLE], request.config_dict[keys.STORE]
    session, address = request[keys.SESSION], client_ip(request)
    if await store.run(throttle.blocked, session.session_hash, address):
        return None, TOO_MANY
    device = await store.run(device_codes.find_pending, user_code)
    app = await store.run(apps_svc.find_app, device.client_id) if device is not None else None
    if device is None or app is None:
        await store.run(throttle.failed, session.session_hash, address)
        return None, WRONG_CODE
    await store.run(throttle.succeeded, session.session_hash, address)
    return (device, app), None


@require_user
async def device_form(request: web.Request):
    """GET /device[?user_code=…]: the code form (filled in from verification_uri_complete)."""
    return _form(request, _shown(request.query.get("user_code", "")))


@require_user
async def device_submit(request: web.Request):
    """POST /device: look the code up; the consent page for its app, or the form again."""
    form = await read_form(request)
    user_code = field(form, "user_code", 40)
    found, error = await _find(request, user_code)
    if found is None:
        return _form(request, _shown(user_code), error=error, status=429 if error == TOO_MANY else 400)
    device, app = found
    return await _device_consent_page(request, device, app, user_code)


async def _device_consent_page(request, device, app, user_code: str, **kw):
    shown = _shown(user_code)
    return await consent_page(request, app, device.scope, device_user_code=shown,
                              action=str(url_for(request, "device_consent", query={"user_code": shown})), **kw)


@require_user
async def device_consent(request: web.Request):
    """POST /device/consent?user_code=…: the user's decision on the consent page."""
    user_code = request.query.get("user_code", "")
    form = await read_form(request)
    found, error = await _find(request, user_code)
    if found is None:
        return _form(request, _shown(user_code), error=error, status=429 if error == TOO_MANY else 400)
    device, app = found
    decision = field(form, "decision", 20)
    if decision not in ("approve", "deny"):
        return await _device_consent_page(request, device, app, user_code, error="Choose Approve or Deny.", status=400)
    session = request[keys.SESSION]
    try:
        consent = consent_from_form(request, form) if decision == "approve" else None
        await request.config_dict[keys.OAUTH_SERVER].device_decision(
            device, EndUser(session.user_id, session.email), consent)
    except device_codes.DeviceCodeGone as exc:
        return _form(request, "", error=exc.message, status=400)
    except ServiceError as exc:
        return await _device_consent_page(request, device, app, user_code, error=exc.message, status=400,
                                          chosen=chosen_in_form(form))
    return render(request, "oauth/device_done.html", {"app_name": app.name, "approved": consent is not None})
