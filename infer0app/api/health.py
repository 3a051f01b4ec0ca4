"""GET /healthz for load balancers and systemd: database reachable, keyring loaded."""

from __future__ import annotations

from aiohttp import web

from .. import keys

async def healthz(request: web.Request) -> web.Response:
    checks = {"database": False, "keyring": False}
    try:
        checks["database"] = await request.config_dict[keys.STORE].run(lambda s: s.ping())
    except Exception:  # a health probe reports, it never raises
        checks["database"] = False
    vault = request.config_dict.get(keys.VAULT)
    checks["keyring"] = bool(vault and vault.primary in vault.keys)
    ok = all(checks.values())
    return web.json_response({"status": "ok" if ok else "unavailable", "checks": checks},
                             status=200 if ok else 503, headers={"Cache-Control": "no-store"})
