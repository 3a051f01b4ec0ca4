"""GET /healthz for load balancers and systemd: database reachable and writable, keyring loaded
and still on disk.

200 `{"status": "ok", "checks": {...}}`, or 503 `{"status": "unavailable", "checks": {...},
"reasons": {"database": "disk full", ...}}`: a reason is short and names no path (the log
has the details). A write fault is remembered by the store until a write commits again
(store/faults.py); the server's heartbeat writes every second, so the answer turns back to
200 about a second after the fault clears.
"""

from __future__ import annotations

from aiohttp import web

from .. import keys
from ..store.faults import storage_fault


async def healthz(request: web.Request) -> web.Response:
    checks = {"database": False, "keyring": False}
    reasons = {}
    store = request.config_dict[keys.STORE]
    try:
        checks["database"] = await store.run(lambda s: s.ping())
    except Exception as exc:  # a health probe reports, it never raises
        reasons["database"] = storage_fault(exc) or "database cannot be read"
    if checks["database"] and store.write_fault is not None:
        checks["database"] = False
        reasons["database"] = store.write_fault
    vault = request.config_dict.get(keys.VAULT)
    checks["keyring"] = bool(vault and vault.primary in vault.keys)
    if not checks["keyring"]:
        reasons["keyring"] = "no key-encryption key loaded"
    elif vault.file_problem is not None:
        checks["keyring"] = False
        reasons["keyring"] = vault.file_problem + " (the loaded keys still serve; the server would not restart)"
    ok = all(checks.values())
    body = {"status": "ok" if ok else "unavailable", "checks": checks}
    if reasons:
        body["reasons"] = reasons
    return web.json_response(body, status=200 if ok else 503, headers={"Cache-Control": "no-store"})
