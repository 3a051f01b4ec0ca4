"""Every piece of shared application state, as a typed aiohttp AppKey (no singletons)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

if TYPE_CHECKING:
    from .config import Settings
    from .store.database import Store
    from .vault.keyring import Vault
    from .services.throttle import Throttle

SETTINGS: web.AppKey["Settings"] = web.AppKey("settings")
STORE: web.AppKey["Store"] = web.AppKey("store")
VAULT: web.AppKey["Vault"] = web.AppKey("vault")
HTTP: web.AppKey[aiohttp.ClientSession] = web.AppKey("http")
THROTTLE: web.AppKey["Throttle"] = web.AppKey("throttle")
# Filled by later subsystems (OAuth server, gateway caches, usage recorder).
EXTRAS: web.AppKey[dict[str, Any]] = web.AppKey("extras")

# Per-request storage.
REQUEST_ID: web.RequestKey[str] = web.RequestKey("request_id", str)
SESSION: web.RequestKey[Any] = web.RequestKey("session")
NEW_PRE_COOKIE: web.RequestKey[str] = web.RequestKey("new_pre_cookie", str)
