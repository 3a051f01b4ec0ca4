"""The signed-in home page."""

from __future__ import annotations

from aiohttp import web

from .. import keys
from ..services import providers as svc
from .render import render
from .session import require_user


@require_user
async def home(request: web.Request):
    session = request[keys.SESSION]
    conns = await request.config_dict[keys.STORE].run(svc.list_connections, session.user_id)
    return render(request, "dashboard/home.html", {"connections": conns})
