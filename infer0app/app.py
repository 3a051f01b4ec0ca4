"""The application factory: everything the server needs, built from Settings.

The front middleware (front_middleware.py) serves both halves, pages (web/) and /v1 + OAuth
(api/); the background work of a running server (caches, usage writer, housekeeping, keyring
watch) comes from runtime/, each piece a cleanup context.
"""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
import aiohttp_jinja2
import jinja2
from aiohttp import web

from . import __version__, keys
from .api.health import healthz
from .api.openapi import openapi_json
from .api.oauth_endpoints import metadata as oauth_metadata
from .api.oauth_endpoints import resource_metadata
from .api.v1 import add_v1_routes
from .config import Settings
from .egress.connector import EgressConnector
from .front_middleware import front_middleware
from .oauth.bearer import TokenCache
from .oauth.server import AuthorizationServer
from .web.device_pages import DEVICE_CODE_TRIES, DEVICE_CODE_TRIES_PER_ADDRESS, DEVICE_CODE_WINDOW
from .paths import templates_dir
from .runtime.cache_watch import cache_watch_ctx
from .runtime.keyring_watch import keyring_watch_ctx
from .runtime.limit_gate import limit_gate_ctx
from .runtime.oauth_purge import oauth_purge_ctx
from .runtime.throttle_purge import throttle_purge_ctx
from .runtime.target_cache import TargetCache
from .runtime.usage_recorder import usage_recorder_ctx
from .runtime.usage_rollup import usage_rollup_ctx
from .services.datadir import open_configured
from .services.limits import LimitGate
from .services.pricing import PriceTable
from .services.throttle import Throttle
from .web.filters import FILTERS as PAGE_FILTERS
from .web.filters import GLOBALS as PAGE_GLOBALS
from .web.routes import setup_page_routes


MAX_BODY = 8 * 1024 * 1024  # bytes; larger bodies get 413 request_too_large
#: bytes in one header line: a 10 KB Authorization or Cookie still reaches the handlers (and gets
#: an answer in the protocol's language); aiohttp's own 8190 answered a plain-text 400.
MAX_HEADER_FIELD = 16 * 1024


def create_app(settings: Settings, *, clock: Callable[[], float] | None = None) -> web.Application:
    """Opens the data dir now (so a bad keyring fails before we listen) and wires the app.
    `clock` (seconds since the epoch; default time.time) is the token lifecycle's "now"
    (Store.clock): tests pass one they can move forward to expire codes and tokens."""
    store, vault = open_configured(settings)
    if clock is not None:
        store.clock = clock
    # handler_args reach aiohttp's connection handler under `infer0 serve` and test servers alike
    app = web.Application(client_max_size=MAX_BODY, handler_args={
        "keepalive_timeout": settings.keepalive_timeout,  # also bounds headers trickling in
        "max_field_size": MAX_HEADER_FIELD,
    })
    app.middlewares.append(front_middleware(app, settings))
    app[keys.SETTINGS] = settings
    app[keys.STORE] = store
    app[keys.VAULT] = vault
    # Counted in the database, shared by every process and instance (services/throttle.py).
    pepper = vault.hmac_key
    app[keys.THROTTLE] = Throttle("sign_in", per_pair=5, per_address=20, per_account=100, window=900.0,
                                  pepper=pepper)
    app[keys.SIGNUP_THROTTLE] = Throttle("sign_up", per_pair=None, per_address=10, window=900.0, pepper=pepper)
    app[keys.REGISTRATION_THROTTLE] = Throttle("client_registration", per_pair=None,
                                               per_address=settings.client_registration_rate, window=3600.0,
                                               pepper=pepper)
    app[keys.DEVICE_THROTTLE] = Throttle("device_code", per_pair=None, per_account=DEVICE_CODE_TRIES,
                                         per_address=DEVICE_CODE_TRIES_PER_ADDRESS, window=DEVICE_CODE_WINDOW,
                                         pepper=pepper)
    app[keys.OAUTH_SERVER] = AuthorizationServer(store, settings, throttle_pepper=pepper)
    app[keys.TOKEN_CACHE] = TokenCache()
    # Prices load now, so a malformed prices.json in the data dir stops the start, named.
    app[keys.PRICES] = PriceTable.load(settings.data_dir)
    app[keys.LIMITS] = LimitGate(store, app[keys.PRICES])

    env = aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(str(templates_dir())),
                               autoescape=jinja2.select_autoescape(default=True))
    env.globals["version"] = __version__
    env.filters.update(PAGE_FILTERS)
    env.globals.update(PAGE_GLOBALS)
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
    # RFC 9728 §3.1: the resource https://host/v1 has its metadata at …/oauth-protected-resource/v1;
    # the bare path describes the server as a whole.
    app.router.add_get("/.well-known/oauth-protected-resource", resource_metadata)
    app.router.add_get("/.well-known/oauth-protected-resource/v1", resource_metadata)
    app.cleanup_ctx.append(oauth_purge_ctx)
    app.cleanup_ctx.append(throttle_purge_ctx)  # failures past their window (services/throttle.py)
    app.cleanup_ctx.append(usage_rollup_ctx)  # raw usage rows past --usage-raw-days become daily rows
    add_v1_routes(app)
    setup_page_routes(app)
    if settings.metrics_token:  # off: no route, no middleware, the plain caches (zero cost)
        from .metrics import setup_metrics
        setup_metrics(app, store, vault)
    return app


async def _store_ctx(app: web.Application):
    yield
    app[keys.STORE].close()


async def _http_ctx(app: web.Application):
    """The one upstream ClientSession, shared by every call (never one per request), and the
    only door out to user-supplied provider URLs (DESIGN.md §3.12): its connector refuses
    loopback, private, link-local and other non-public addresses at connect time unless
    `--upstream-allow` names them. Callers pass `allow_redirects=False` (gateway/pipeline.py)."""
    connector = EgressConnector(app[keys.SETTINGS].egress_policy, limit=0, limit_per_host=0, ttl_dns_cache=300)
    # No cookie jar: this one session carries every user's calls, so a cookie a provider sets
    # (Cloudflare's __cf_bm in front of OpenAI and Anthropic) would ride along on the next
    # call to that host, whoever's it is. (It also spares a jar lookup per call.)
    session = aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                                    timeout=aiohttp.ClientTimeout(total=None))
    app[keys.HTTP] = session
    yield
    await session.close()

