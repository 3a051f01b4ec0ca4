"""The end user's provider connections: list, add, edit, test, remove, make default."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from aiohttp import web

from .. import keys
from ..gateway.providers.kinds import DEFAULT_KIND, KINDS
from ..services import providers as svc
from ..services.audit import user_actor
from ..services.errors import ValidationError
from .confirm import confirm_page, confirmed
from .forms import field, read_form, route_id
from .render import render, url_for
from .return_path import same_origin_path
from .session import require_user

log = logging.getLogger("infer0.web")


def _conn_id(request: web.Request) -> int:
    return route_id(request)


def _form_values(form) -> dict:
    def get(name: str, limit: int = 2048) -> str:
        return field(form, name, limit)
    return {"kind": get("kind", 60), "name": get("name"), "base_url": get("base_url"),
            "model": get("model"), "api_key": get("api_key"), "api_version": get("api_version", 100)}


async def _page(request, *, status=200, **extra):
    session = request[keys.SESSION]
    store = request.config_dict[keys.STORE]
    conns = await store.run(svc.list_connections, session.user_id)
    ctx = {"connections": conns, "kinds": KINDS, "form": {"kind": DEFAULT_KIND}}
    ctx.update(extra)
    if ctx["form"].get("kind") not in KINDS:  # an unknown kind was refused: show the default's fields
        ctx["form"] = {**ctx["form"], "kind": DEFAULT_KIND}
    return render(request, "dashboard/providers.html", ctx, status=status)


def _authorize_next(request: web.Request, value) -> str | None:
    """Only a return to the OAuth consent page on this origin is honoured (never an open redirect)."""
    target = same_origin_path(value, default="")
    return target if urlsplit(target).path == url_for(request, "authorize").path else None


@require_user
async def list_page(request: web.Request):
    added = request.query.get("added")
    # ?kind= picks the add form's kind without JavaScript (its "Show its fields" button)
    return await _page(request, notice="Connection saved. Test it to load its models." if added else None,
                       next=_authorize_next(request, request.query.get("next")),
                       form={"kind": request.query.get("kind", DEFAULT_KIND)})


@require_user
async def add(request: web.Request):
    form = await read_form(request)
    values = _form_values(form)
    session = request[keys.SESSION]
    store, vault = request.config_dict[keys.STORE], request.config_dict[keys.VAULT]
    try:
        conn = await store.run(svc.add_connection, vault, session.user_id, kind=values["kind"],
                               name=values["name"], api_key=values["api_key"], base_url=values["base_url"],
                               model=values["model"], options={"api_version": values["api_version"]},
                               actor=user_actor(session.email))
    except ValidationError as exc:
        values["api_key"] = ""  # never echo a key back into the page
        return await _page(request, status=400, error=exc.message, error_field=exc.field, form=values,
                           next=_authorize_next(request, form.get("next")))
    nxt = _authorize_next(request, form.get("next"))
    if nxt:
        raise web.HTTPSeeOther(nxt)
    raise web.HTTPSeeOther(url_for(request, "providers", query={"added": str(conn.id)}, fragment=f"conn-{conn.id}"))


@require_user
async def edit_form(request: web.Request):
    session = request[keys.SESSION]
    store = request.config_dict[keys.STORE]
    conn = await store.run(svc.get_connection, session.user_id, _conn_id(request))
    return render(request, "dashboard/provider_edit.html",
                  {"conn": conn, "kind": KINDS[conn.kind], "models": conn.models, "api_version": conn.api_version})


@require_user
async def edit_submit(request: web.Request):
    form = await read_form(request)
    values = _form_values(form)
    session = request[keys.SESSION]
    store, vault = request.config_dict[keys.STORE], request.config_dict[keys.VAULT]
    cid = _conn_id(request)
    try:
        await store.run(svc.update_connection, vault, session.user_id, cid, name=values["name"],
                        base_url=values["base_url"], model=values["model"], api_key=values["api_key"] or None,
                        options={"api_version": values["api_version"]}, actor=user_actor(session.email))
    except ValidationError as exc:  # NotFound goes on to the error middleware's 404 page
        conn = await store.run(svc.get_connection, session.user_id, cid)
        return render(request, "dashboard/provider_edit.html",
                      {"conn": conn, "kind": KINDS[conn.kind], "models": conn.models, "api_version": conn.api_version,
                       "error": exc.message, "error_field": exc.field}, status=400)
    raise web.HTTPSeeOther(url_for(request, "providers", fragment=f"conn-{cid}"))


@require_user
async def delete(request: web.Request):
    session = request[keys.SESSION]
    store, cid = request.config_dict[keys.STORE], _conn_id(request)
    if not await confirmed(request):
        conn = await store.run(svc.get_connection, session.user_id, cid)  # NotFound: the 404 page
        return confirm_page(request, title=f"Remove {conn.name}?",
                            text="Its key is deleted from infer0. Apps you connected to it stop working "
                                 "until you choose another provider for them on Connected apps.",
                            button="Remove provider", cancel=url_for(request, "providers", fragment=f"conn-{cid}"))
    await store.run(svc.delete_connection, session.user_id, cid, actor=user_actor(session.email))
    raise web.HTTPSeeOther(url_for(request, "providers"))


@require_user
async def make_default(request: web.Request):
    session = request[keys.SESSION]
    await request.config_dict[keys.STORE].run(svc.set_default, session.user_id, _conn_id(request))
    raise web.HTTPSeeOther(url_for(request, "providers"))


@require_user
async def test(request: web.Request):
    """Ask the provider for its model list: proves the key and URL work, and fills the model choice."""
    from .connection_check import check_connection

    session = request[keys.SESSION]
    store, vault = request.config_dict[keys.STORE], request.config_dict[keys.VAULT]
    cid = _conn_id(request)
    try:
        target = await store.run(svc.connection_target, vault, session.user_id, cid)
    except ValidationError as exc:  # NotFound goes on to the error middleware's 404 page
        return await _page(request, status=400, test_result={"id": cid, "ok": False, "message": exc.message})
    ok, message, models = await check_connection(request.config_dict[keys.HTTP], target)
    await store.run(svc.record_test, cid, ok, models)
    return await _page(request, test_result={"id": cid, "ok": ok, "message": message})
