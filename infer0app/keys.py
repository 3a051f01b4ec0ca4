"""Every piece of shared application state, as a typed aiohttp AppKey (no singletons)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

if TYPE_CHECKING:
    from .config import Settings
    from .runtime.target_cache import TargetCache
    from .runtime.usage_recorder import UsageRecorder
    from .store.database import Store
    from .vault.keyring import Vault
    from .services.throttle import Throttle
    from .services.limits import LimitGate
    from .services.pricing import PriceTable
    from .oauth.bearer import TokenCache
    from .oauth.server import AuthorizationServer

SETTINGS: web.AppKey["Settings"] = web.AppKey("settings")
STORE: web.AppKey["Store"] = web.AppKey("store")
VAULT: web.AppKey["Vault"] = web.AppKey("vault")
HTTP: web.AppKey[aiohttp.ClientSession] = web.AppKey("http")
# Sign-in failures per (account, address), address and account; sign-up conflicts per address.
THROTTLE: web.AppKey["Throttle"] = web.AppKey("throttle")
SIGNUP_THROTTLE: web.AppKey["Throttle"] = web.AppKey("signup_throttle")
# Dynamic client registrations per address (api/registration.py).
REGISTRATION_THROTTLE: web.AppKey["Throttle"] = web.AppKey("registration_throttle")
# Wrong user codes typed at /device, per sign-in session and per address (web/device_pages.py).
DEVICE_THROTTLE: web.AppKey["Throttle"] = web.AppKey("device_throttle")
# The OAuth 2.0 authorization server (authlib core + our aiohttp integration, oauth/server.py).
OAUTH_SERVER: web.AppKey["AuthorizationServer"] = web.AppKey("oauth_server")
# Resolved bearer tokens, cached for at most a second (oauth/bearer.py).
TOKEN_CACHE: web.AppKey["TokenCache"] = web.AppKey("token_cache")
# The gateway's in-memory target cache and the background usage writer (runtime/).
TARGETS: web.AppKey["TargetCache"] = web.AppKey("targets")
USAGE: web.AppKey["UsageRecorder"] = web.AppKey("usage_recorder")
# Grants' and connections' limits: reserve before a provider call, settle after (services/limits.py).
LIMITS: web.AppKey["LimitGate"] = web.AppKey("limits")
# The price table (shipped + the data dir's prices.json) for spend estimates (services/pricing.py).
PRICES: web.AppKey["PriceTable"] = web.AppKey("prices")
# The headers every /v1 answer carries (security + CORS), worked out once (front_middleware.py).
V1_HEADERS: web.AppKey[tuple] = web.AppKey("v1_headers")

# Per-request storage.
REQUEST_ID: web.RequestKey[str] = web.RequestKey("request_id", str)
SESSION: web.RequestKey[Any] = web.RequestKey("session")
NEW_PRE_COOKIE: web.RequestKey[str] = web.RequestKey("new_pre_cookie", str)
