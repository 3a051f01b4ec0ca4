"""GET/POST /oauth/authorize: sign-in if needed, then the consent page; plain HTML forms.

The request is validated before anything else: an unknown client or an unregistered
redirect URI gets an error page and never a redirect; other problems go back to the app
with an RFC 6749 error. The consent form posts to the same URL (the OAuth parameters stay
in the query string) with the CSRF token, the decision, and the user's provider and model.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from .. import keys
from ..gateway.providers.kinds import KINDS
from ..oauth.models import EndUser
from ..oauth.server import AuthorizationError, Consent, PendingAuthorization
from ..services import grant_views
from ..services import grants as grants_svc
from ..services import providers as providers_svc
from ..services.errors import ServiceError
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
    if session is None:
        raise login_redirect(request)
    if request.method != "POST":
        return await _consent_page(request, pending)
    form = await read_form(request)
    decision = field(form, "decision", 20)
    if decision == "deny":
        return await server.authorization_response(pending, None, None)
    if decision != "approve":
        return await _consent_page(request, pending, error="Choose Approve or Deny.", status=400)
    consent = Consent(provider_id=field(form, "provider", 20), model=field(form, "model", 300),
                      allow_model_choice=field(form, "allow_model_choice", 5) == "1")
    try:
        return await server.authorization_response(pending, user, consent)
    except ServiceError as exc:
        return await _consent_page(request, pending, error=exc.message, status=400,
                                   chosen={"provider": consent.provider_id, "model": consent.model})


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


async def _consent_page(request: web.Request, pending: PendingAuthorization, *, error: str | None = None,
                        status: int = 200, chosen: dict | None = None):
    session = request[keys.SESSION]
    store = request.config_dict[keys.STORE]
    app = pending.app

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
    scopes = [{"name": s, "text": grants_svc.SCOPES.get(s, s)} for s in pending.scope.split()]
    return render(request, "oauth/consent.html", {
        "app": app, "scopes": scopes, "connections": connections, "kinds": KINDS,
        "chosen_provider": chosen_provider, "chosen_model": chosen_model, "models": models[:500],
        "existing": existing, "error": error, "action": request.path_qs,
        "redirect_origin": _origin(pending.redirect_uri),
        "add_connection_url": url_for(request, "providers", query={"next": request.path_qs}),
    }, status=status)
