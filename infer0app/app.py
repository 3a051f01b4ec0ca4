"""The application factory: everything the server needs, built from Settings.

The front middleware (front_middleware.py) serves both halves, pages (web/) and /v1 + OAuth
(api/); the background work of a running server (caches, usage writer, housekeeping, keyring
watch) comes from runtime/, each piece a cleanup context.
"""

from __future__ import annotations

import aiohttp
import aiohttp_jinja2
import jinja2
from aiohttp import web

from . import __version__, keys
from .api.health import healthz
from .api.openapi import openapi_json
from .api.oauth_endpoints import metadata as oauth_metadata
from .api.v1 import add_v1_routes
from .config import Settings
from .front_middleware import front_middleware
from .oauth.bearer import TokenCache
from .oauth.server import AuthorizationServer
from .paths import templates_dir
from .runtime.cache_watch import cache_watch_ctx
from .runtime.keyring_watch import keyring_watch_ctx
from .runtime.limit_gate import limit_gate_ctx
from .runtime.oauth_purge import oauth_purge_ctx
from .runtime.target_cache import TargetCache
from .runtime.usage_recorder import usage_recorder_ctx
from .services.datadir import open_data_dir
from .services.limits import LimitGate
from .services.pricing import PriceTable
from .services.throttle import Throttle
from .web.filters import FILTERS as PAGE_FILTERS
from .web.routes import setup_page_routes


def create_app(settings: Settings) -> web.Application:
    """Opens the data dir now (so a bad keyring fails before we listen) and wires the app."""
    store, vault = open_data_dir(settings.data_dir)
    app = web.Application(client_max_size=1024 * 1024 * 8)
    app.middlewares.append(front_middleware(app, settings))
    app[keys.SETTINGS] = settings
    app[keys.STORE] = store
    app[keys.VAULT] = vault
    app[keys.THROTTLE] = Throttle()
    app[keys.EXTRAS] = {}
    app[keys.OAUTH_SERVER] = AuthorizationServer(store, settings)
    app[keys.TOKEN_CACHE] = TokenCache()
    # Prices load now, so a malformed prices.json in the data dir stops the start, named.
    app[keys.LIMITS] = LimitGate(store, PriceTable.load(settings.data_dir))

    env = aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(str(templates_dir())),
                               autoescape=jinja2.select_autoescape(default=True))
    env.globals["version"] = __version__
    env.filters.update(PAGE_FILTERS)
    app.cleanup_ctx.append(_store_ctx)
    app.cleanup_ctx.append(_http_ctx)
    app.cleanup_ctx.append(usage_recorder_ctx)  # after the store: flushed before it closes
    app.cleanup_ctx.append(limit_gate_ctx)  # after the store: leases reported and given back before it closes
    app.cleanup_ctx.append(cache_watch_ctx)  # token/target caches follow revocations in any process
    app[keys.TARGETS] = TargetCache(store, vault)
    app.cleanup_ctx.append(keyring_watch_ctx)  # KEK pick-up for rotation (services/runtime.py)

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/openapi.json", openapi_json)
    app.router.add_get("/.well-known/oauth-authorization-server", oauth_metadata)
    app.cleanup_ctx.append(oauth_purge_ctx)
    add_v1_routes(app)
    setup_page_routes(app)
    return app


async def _store_ctx(app: web.Application):
    yield
    app[keys.STORE].close()


async def _http_ctx(app: web.Application):
    """The one upstream ClientSession, shared by every call (never one per request)."""
    connector = aiohttp.TCPConnector(limit=0, limit_per_host=0, ttl_dns_cache=300)
    # No cookie jar: this one session carries every user's calls, so a cookie a provider sets
    # (Cloudflare's __cf_bm in front of OpenAI and Anthropic) would ride along on the next
    # call to that host, whoever's it is. (It also spares a jar lookup per call.)
    session = aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                                    timeout=aiohttp.ClientTimeout(total=None))
    app[keys.HTTP] = session
    yield
    await session.close()

