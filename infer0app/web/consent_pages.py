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
from ..services import grant_views, limit_choice
from ..services.connection_prices import price_map
from ..services.grant_limits import get_grant_limits
from ..services.grant_models import model_lists
from ..services import grants as grants_svc
from ..services import providers as providers_svc
from ..services.errors import ServiceError
from .forms import field, read_form
from .limit_forms import LIMIT_FIELDS, defaults_and_maximum, posted, values_of
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
    chosen = {"provider": field(form, "provider", 20), "model": field(form, "model", 300),
              "model_other": field(form, "model_other", 300),
              "embedding_model": field(form, "embedding_model", 300), "limits": posted(form)}
    try:
        defaults, maximum = defaults_and_maximum(request)
        limits = limit_choice.form_limits(form, fallback=limit_choice.clamp(defaults, maximum)[0])
        limit_choice.check_within(limits, maximum)
        consent = Consent(provider_id=chosen["provider"], model=chosen["model"],
                          allow_model_choice=field(form, "allow_model_choice", 5) == "1", limits=limits,
                          model_other=chosen["model_other"], embedding_model=chosen["embedding_model"])
        return await server.authorization_response(pending, user, consent)
    except ServiceError as exc:
        return await _consent_page(request, pending, error=exc.message, status=400,
                                   chosen={**chosen, "model": chosen["model_other"] or chosen["model"]})


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


async def _consent_page(request: web.Request, pending: PendingAuthorization, *, error: str | None = None,
                        status: int = 200, chosen: dict | None = None):
    session = request[keys.SESSION]
    store = request.config_dict[keys.STORE]
    app = pending.app

    def load(s):
        connections = providers_svc.list_connections(s, session.user_id)
        existing = grant_views.active_grant_for(s, session.user_id, app.id)
        return (connections, existing, get_grant_limits(s, existing.id) if existing else None,
                {c.id: price_map(s, c.id) for c in connections})

    connections, existing, existing_limits, own_prices = await store.run(load)
    chosen_provider = None
    chosen_model = chosen_embedding = ""
    if chosen:
        chosen_provider = str(chosen.get("provider") or "")
        chosen_model = chosen.get("model") or ""
        chosen_embedding = chosen.get("embedding_model") or ""
    elif existing is not None and existing.provider_id is not None:
        chosen_provider = str(existing.provider_id)
        chosen_model = existing.chosen_model  # as stored: '' keeps following the connection's default
        chosen_embedding = existing.chosen_embedding_model
    ids = [str(c.id) for c in connections]
    if chosen_provider not in ids:
        chosen_provider = ids[0] if ids else None  # list_connections puts the default first
    scopes = [{"name": s, "text": grants_svc.SCOPES.get(s, s)} for s in pending.scope.split()]
    limits_ctx = _limits_context(request, connections, own_prices, existing_limits, chosen)
    return render(request, "oauth/consent.html", {**limits_ctx,
        "app": app, "scopes": scopes, "connections": connections, "kinds": KINDS,
        "chosen_provider": chosen_provider, "chosen_model": chosen_model, "chosen_embedding": chosen_embedding,
        "model_lists": model_lists(connections),
        "existing": existing, "error": error, "action": request.path_qs,
        "redirect_origin": _origin(pending.redirect_uri),
        "add_connection_url": url_for(request, "providers", query={"next": request.path_qs}),
    }, status=status)


def _limits_context(request: web.Request, connections, own_prices, existing_limits, chosen: dict | None) -> dict:
    """The consent page's limits block: values to show (the form as posted, else the grant's,
    else the app's suggestion or the operator's defaults, clamped), the maximum, notes, and
    which connections' spend can be enforced (a price is known for their default model)."""
    defaults, maximum = defaults_and_maximum(request)
    suggestion, notes = limit_choice.suggested(request.query)
    start, lowered = limit_choice.initial(defaults, maximum, suggestion, existing_limits)
    if lowered and suggestion is not None:
        notes.append("The app suggested more than this server allows for "
                     f"{', '.join(n.replace('_', ' ') for n in lowered)}; it was lowered to the maximum.")
    prices = request.config_dict[keys.PRICES]
    spend = [limit_choice.enforceable(prices, c.id, c.name, c.kind,
                                      c.default_model or (KINDS[c.kind].default_model if c.kind in KINDS else ""),
                                      own_prices.get(c.id)) for c in connections]
    return {"limit_fields": LIMIT_FIELDS, "limit_values": (chosen or {}).get("limits") or values_of(start),
            "limit_maximum": values_of(maximum), "limit_notes": notes, "limit_suggested": suggestion is not None,
            "spend_enforceable": spend}
