"""What happens on every signed-in page request besides resolving the session (issue 17 §2):

- "last seen" (and the address) of the session is recorded, at most once a minute
  (services/sessions.py), for the Account page's session list;
- under `--require-2fa on`, a user without two-factor sign-in is sent to set it up before any
  other page (the setup page itself, its recovery codes and signing out stay open)."""

from __future__ import annotations

import time

from aiohttp import web

from .. import keys
from ..http_common.client_address import client_ip
from ..services import sessions
from .render import url_for

# Pages a user who must enrol may still reach (route names, web/routes.py).
OPEN_WHILE_ENROLLING = ("two_factor_setup", "two_factor_codes", "logout")


async def session_upkeep(request: web.Request) -> None:
    """Call with a resolved session in request[keys.SESSION]; raises a 303 to the two-factor
    setup page when the operator requires it and the user has none."""
    session = request[keys.SESSION]
    if session.last_seen_at is None or time.time() - session.last_seen_at > sessions.TOUCH_EVERY:
        await request.config_dict[keys.STORE].run(sessions.touch, session.session_hash, client_ip(request))
    if session.two_factor or request.config_dict[keys.SETTINGS].require_2fa != "on":
        return
    if request.path in {str(url_for(request, name)) for name in OPEN_WHILE_ENROLLING}:
        return
    nxt = request.path_qs if request.method == "GET" else "/"
    raise web.HTTPSeeOther(url_for(request, "two_factor_setup", query={"next": nxt}))
