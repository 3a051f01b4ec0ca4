"""GET/POST /oauth/authorize: sign-in if needed, then the consent page; plain HTML forms.

The request is validated before anything else: an unknown client or an unregistered
redirect URI gets an error page and never a redirect; other problems go back to the app
with an RFC 6749 error. The consent form posts to the same URL (the OAuth parameters stay
in the query string) with the CSRF token, the decision, and the user's provider and model.

The page is skipped when the user's active grant already covers the request (same scope and
redirect URI, the app's redirect URIs unchanged: services.consent_reuse), unless the app sends
`prompt=consent`; with `prompt=none` nothing is shown and the app gets `login_required` or
`consent_required` back (OpenID Connect Core §3.1.2.1). The device flow (web/device_pages.py)
shows the same page through `consent_page` and `consent_from_form`, with its own form action.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from .. import keys
from ..gateway.providers.kinds import KINDS
from ..http_common.security_headers import CSP_WITH_APP_LOGOS
from ..oauth.models import EndUser
from ..oauth.server import AuthorizationError, Consent
from ..services import consent_reuse, grant_views
from ..services import grants as grants_svc
from ..services import providers as providers_svc
from ..services.apps import AppView
from ..services.errors import ServiceError
from .app_details import app_details
from .forms import field, read_form
from .render import render, url_for
from .session import login_redirect


async def authorize(request: web.Request):
    server = request.config_dict[keys.OAUTH_SERVER]
    session = request[keys.SESSION]
    user = EndUser(session.user_id, session.email) if session else None
    try:
        pending = await server.authorization_request(request, user)
    except AuthorizationError as exc:
        if exc.response is not None:
            return exc.response
        return render(request, "oauth/error.html", {"error": exc.error, "description": exc.description},
                      status=400)
    prompt = set(request.query.get("prompt", "").split())
    if session is None:
        if "none" in prompt:
            return server.prompt_error(pending, "login_required", "The user is not signed in to infer0.")
        raise login_redirect(request)
    if request.method != "POST":
        if "consent" not in prompt:
            grant_id = await request.config_dict[keys.STORE].run(
                consent_reuse.reusable_grant, user_id=user.id, app_id=pending.app.id, scope=pending.scope,
                redirect_uri=pending.redirect_uri)
            if grant_id is not None:
                return await server.authorization_response(pending, user, Consent(None, reuse_grant_id=grant_id))
        if "none" in prompt:
            return server.prompt_error(pending, "consent_required",
                                       "The user has not approved this app for this scope and redirect URI.")
        return await _consent_page(request, pending)
    form = await read_form(request)
    decision = field(form, "decision", 20)
    if decision == "deny":
        return await server.authorization_response(pending, None, None)
    if decision != "approve":
        return await _consent_page(request, pending, error="Choose Approve or Deny.", status=400)
    consent = consent_from_form(form)
    try:
        return await server.authorization_response(pending, user, consent)
    except ServiceError as exc:
        return await _consent_page(request, pending, error=exc.message, status=400,
                                   chosen={"provider": consent.provider_id, "model": consent.model})


def consent_from_form(form) -> Consent:
    """The user's choices from the consent form (after decision=approve)."""
    return Consent(provider_id=field(form, "provider", 20), model=field(form, "model", 300),
                   allow_model_choice=field(form, "allow_model_choice", 5) == "1")


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


async def _consent_page(request: web.Request, pending, **kw):
    return await consent_page(request, pending.app, pending.scope, action=request.path_qs,
                              redirect_origin=_origin(pending.redirect_uri), **kw)


async def consent_page(request: web.Request, app: AppView, scope: str, *, action: str, redirect_origin: str = "",
                       device_user_code: str = "", error: str | None = None, status: int = 200,
                       chosen: dict | None = None) -> web.Response:
    """The consent page for `app` asking for `scope`, its form posting to `action` (the same URL for
    /oauth/authorize, /device/consent for a device); `redirect_origin` names where a redirect goes,
    `device_user_code` the code a device shows."""
    session = request[keys.SESSION]
    store = request.config_dict[keys.STORE]

    def load(s):
        return (providers_svc.list_connections(s, session.user_id),
                grant_views.active_grant_for(s, session.user_id, app.id))

    connections, existing = await store.run(load)
    chosen_provider = None
    chosen_model = ""
    if chosen:
        chosen_provider = str(chosen.get("provider") or "")
        chosen_model = chosen.get("model") or ""
    elif existing is not None and existing.provider_id is not None:
        chosen_provider = str(existing.provider_id)
        chosen_model = existing.model
    ids = [str(c.id) for c in connections]
    if chosen_provider not in ids:
        chosen_provider = ids[0] if ids else None  # list_connections puts the default first
    models: list[str] = []
    for c in connections:
        for m in [c.default_model, *c.models]:
            if m and m not in models:
                models.append(m)
    scopes = [{"name": s, "text": grants_svc.SCOPES.get(s, s)} for s in scope.split()]
    response = render(request, "oauth/consent.html", {
        "app": app, "details": app_details(app), "scopes": scopes, "connections": connections, "kinds": KINDS,
        "chosen_provider": chosen_provider, "chosen_model": chosen_model, "models": models[:500],
        "existing": existing, "error": error, "action": action,
        "redirect_origin": redirect_origin, "device_user_code": device_user_code,
        "add_connection_url": url_for(request, "providers", query={"next": request.path_qs}),
    }, status=status)
    response.headers["Content-Security-Policy"] = CSP_WITH_APP_LOGOS
    return response
