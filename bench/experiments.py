"""Measurement aids, not fixes: each experiment patches the running infer0 *in the bench's
own server process only* (through `bench.launch`), so a change the profile suggests can be
measured before its owner makes it for real in infer0app/. Nothing here ships.

    python -m bench --experiment serial-writes      # see EXPERIMENTS for the list
"""

from __future__ import annotations

import contextlib
import threading


def serial_writes() -> None:
    """Store.write(): take an in-process lock before BEGIN IMMEDIATE, so the store's pool
    threads queue on a Python lock (woken at once) instead of SQLite's busy handler, which
    sleeps 1, 2, 5, 10 … ms between retries."""
    from infer0app.store.database import Store

    lock = threading.RLock()
    original = Store.write

    @contextlib.contextmanager
    def write(self):
        with lock:
            with original(self):
                yield
    Store.write = write


def wal_normal() -> None:
    """synchronous=NORMAL instead of FULL (WAL: no fsync per commit; the last commits can be
    lost on power failure, never corrupted)."""
    from infer0app.store import database
    database.PRAGMAS["synchronous"] = "normal"


def _ttl_cache(fn, ttl: float = 1.0):
    """fn(store, key, *rest) cached per (key, *rest) for `ttl` seconds."""
    import time
    entries: dict = {}

    def cached(store, *args):
        now = time.monotonic()
        hit = entries.get(args)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = fn(store, *args)
        if len(entries) > 10_000:
            entries.clear()
        entries[args] = (now + ttl, value)
        return value
    return cached


def client_cache() -> None:
    """Token endpoint client authentication from memory: the app row (query_client) and the
    client-secret hash cached per client id for at most 1 s, like access tokens on /v1."""
    import time

    from infer0app.oauth import server
    from infer0app.services import apps
    from infer0app.store.models import OAuthApp

    server.apps_svc.find_app = _ttl_cache(apps.find_app)
    secrets: dict = {}

    def check_client_secret(store, client_id, secret):
        now = time.monotonic()
        hit = secrets.get(client_id)
        if hit is None or hit[0] <= now:
            row = OAuthApp.get_or_none(OAuthApp.client_id == client_id)
            hit = (now + 1.0, None if row is None or row.is_public else row.client_secret_hash)
            secrets[client_id] = hit
        return hit[1] is not None and apps.same_hash(secret or "", hit[1])
    apps.check_client_secret = check_client_secret


def usage_executemany() -> None:
    """Usage batches written with one prepared INSERT and executemany over plain tuples,
    instead of peewee's insert_many over dataclasses.asdict() (SQL built per row)."""
    from infer0app.api import usage_recorder
    from infer0app.store.models import Grant, UsageEvent

    cols = ["created_at", "user_id", "app_id", "grant_id", "provider_kind", "model", "prompt_tokens",
            "completion_tokens", "cached_tokens", "status", "latency_ms", "streamed"]
    insert = (f'INSERT INTO "{UsageEvent._meta.table_name}" ({", ".join(cols)}) '
              f'VALUES ({", ".join("?" * len(cols))})')
    touch = (f'UPDATE "{Grant._meta.table_name}" SET last_used_at = ? '
             'WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)')

    def insert_batch(store, records) -> int:
        if not records:
            return 0
        rows = [(r.created_at, r.user_id, r.app_id, r.grant_id, r.provider_kind, r.model, r.prompt_tokens,
                 r.completion_tokens, r.cached_tokens, r.status, r.latency_ms, bool(r.streamed)) for r in records]
        last_use: dict[int, float] = {}
        for r in records:
            if r.grant_id is not None and r.created_at > last_use.get(r.grant_id, 0.0):
                last_use[r.grant_id] = r.created_at
        with store.write():
            conn = store.db.connection()
            conn.executemany(insert, rows)
            conn.executemany(touch, [(ts, gid, ts) for gid, ts in last_use.items()])
        return len(records)
    usage_recorder.insert_batch = insert_batch


def orjson_codec() -> None:
    """orjson for the gateway's JSON (request body parse, upstream payload dump, response and
    chunk parse): every `load_json` / `dump_json` / module-level `json` in infer0app.gateway
    and infer0app.api swapped for orjson-backed ones."""
    import importlib
    import json
    import pkgutil
    import types

    import orjson

    import infer0app.api
    import infer0app.gateway

    def loads(raw, **_kw):
        return orjson.loads(raw)

    def dumps(obj, **_kw):
        return orjson.dumps(obj).decode()

    def load_json(raw):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None

    def dump_json(obj):
        return orjson.dumps(obj)
    shim = types.SimpleNamespace(loads=loads, dumps=dumps, JSONDecodeError=json.JSONDecodeError)
    for pkg in (infer0app.gateway, infer0app.api):
        for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            mod = importlib.import_module(info.name)
            if getattr(mod, "json", None) is json:
                mod.json = shim
            if hasattr(mod, "load_json"):
                mod.load_json = load_json
            if hasattr(mod, "dump_json"):
                mod.dump_json = dump_json


def v1_skips_page_middlewares() -> None:
    """/v1 requests skip the HTML app's middlewares (request log, HTML errors, session, CSRF):
    measures what mounting the pages apart from /v1 (or one combined middleware) would save."""
    from aiohttp import web

    import infer0app.app as app_module

    def skipping(mw):
        @web.middleware
        async def wrapped(request, handler):
            if request.raw_path.startswith("/v1/"):
                return await handler(request)
            return await mw(request, handler)
        return wrapped
    for name in ("request_log_middleware", "html_error_middleware", "session_middleware", "csrf_middleware"):
        setattr(app_module, name, skipping(getattr(app_module, name)))


def cheap_request_id() -> None:
    """Request ids from random.getrandbits (no getrandom syscall per request)."""
    import random
    import types

    from infer0app.web import middlewares
    middlewares.secrets = types.SimpleNamespace(token_hex=lambda n=8: f"{random.getrandbits(n * 8):0{n * 2}x}")


def long_cache_ttl() -> None:
    """Access-token and provider-target caches kept 60 s instead of 1 s / 2 s: what a cache
    invalidated by a revocation epoch (polled once a second in the background) instead of
    expiring every second would save on the request path. NOT safe as is: only a measurement."""
    from infer0app.api import target_cache
    from infer0app.oauth import bearer

    bearer.TokenCache.__init__.__defaults__ = (60.0,) + bearer.TokenCache.__init__.__defaults__[1:]
    target_cache.TargetCache.__init__.__defaults__ = (60.0,) + target_cache.TargetCache.__init__.__defaults__[1:]


def count_sql() -> None:
    """Counts SQL statements (by their first words); SIGUSR1 prints the counts to the server
    log and starts over: with a known number of requests between two signals, statements
    per request."""
    import collections
    import signal
    import sys

    import peewee

    counts: collections.Counter = collections.Counter()
    original = peewee.Database.execute_sql

    def execute_sql(self, sql, params=None, *args, **kwargs):
        counts[" ".join(sql.split()[:3])[:60]] += 1
        return original(self, sql, params, *args, **kwargs)
    peewee.Database.execute_sql = execute_sql

    def dump(*_):
        print("SQL statements:", dict(counts.most_common()), file=sys.stderr, flush=True)
        counts.clear()
    signal.signal(signal.SIGUSR1, dump)


def no_usage() -> None:
    """Usage records dropped (never written): the upper bound of what cheaper usage
    accounting (aggregating rows in memory before the write, fewer indexes) could save."""
    from infer0app.api.usage_recorder import UsageRecorder
    UsageRecorder.record = lambda self, rec: None


EXPERIMENTS = {"no-usage": no_usage, "count-sql": count_sql, "long-cache-ttl": long_cache_ttl, "orjson": orjson_codec, "v1-skips-page-middlewares": v1_skips_page_middlewares,
               "cheap-request-id": cheap_request_id,
"serial-writes": serial_writes, "wal-normal": wal_normal, "client-cache": client_cache,
               "usage-executemany": usage_executemany}


def apply(names: list[str]) -> None:
    for name in names:
        EXPERIMENTS[name]()
