"""Measurement aids, not fixes: each experiment patches the running infer0 *in the bench's
own server process only* (through `bench.launch`), so a change the profile suggests can be
measured before its owner makes it for real in infer0app/. Nothing here ships.

    python -m bench --experiment wal-normal      # see EXPERIMENTS for the list
"""

from __future__ import annotations


def wal_normal() -> None:
    """synchronous=NORMAL instead of FULL (WAL: no fsync per commit; the last commits can be
    lost on power failure, never corrupted)."""
    from infer0app.store import database
    database.PRAGMAS["synchronous"] = "normal"


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
    from infer0app.runtime.usage_recorder import UsageRecorder
    UsageRecorder.record = lambda self, rec: None


def gc_freeze() -> None:
    """gc.freeze() once the app is built: the ~50k objects of start-up (modules, templates,
    authlib, SQLite wrappers) move to the permanent generation, so the cyclic collector's
    older-generation passes stop re-scanning them (a full pass takes ~70 ms here). Also logs
    each collection that takes over 5 ms, to see whether that matters at all."""
    import gc
    import sys
    import time

    import infer0app.app as app_module

    original = app_module.create_app
    started: dict = {}

    def on_gc(phase, info):
        if phase == "start":
            started["t"] = time.perf_counter()
        elif "t" in started:
            ms = (time.perf_counter() - started.pop("t")) * 1000
            if ms > 5:
                print(f"gc gen{info['generation']}: {ms:.1f} ms", file=sys.stderr, flush=True)

    def create_app(settings):
        app = original(settings)
        gc.collect()
        gc.freeze()
        gc.callbacks.append(on_gc)
        return app
    app_module.create_app = create_app


def cprofile() -> None:
    """cProfile on the event loop's thread from start-up to shut-down; the stats go to
    bench/profiles/cprofile.pstats at exit. Deterministic, so it gives exact call counts per
    request (divide by the requests served); its per-call overhead inflates Python-heavy
    code against C, so read the times as relative, never as absolute."""
    import atexit
    import cProfile
    from pathlib import Path

    out = Path(__file__).resolve().parent / "profiles" / "cprofile.pstats"
    out.parent.mkdir(exist_ok=True)
    prof = cProfile.Profile()
    prof.enable()
    atexit.register(lambda: (prof.disable(), prof.dump_stats(out)))


def no_malloc_tuning() -> None:
    """glibc's adaptive malloc thresholds (the default) instead of infer0app/runtime_tuning.py's
    fixed ones: what the fix for memory kept after logins costs or saves on the hot path."""
    import infer0app.runtime_tuning
    infer0app.runtime_tuning.tune_malloc = lambda: False


def cookie_jar() -> None:
    """The upstream session with aiohttp's default CookieJar again (a cross-user leak, fixed):
    what the jar cost per call."""
    import aiohttp

    original = aiohttp.ClientSession.__init__

    def init(self, *args, **kwargs):
        kwargs.pop("cookie_jar", None)
        original(self, *args, **kwargs)
    aiohttp.ClientSession.__init__ = init


def default_gc() -> None:
    """CPython's default collector thresholds (700, 10, 10) instead of runtime_tuning.py's."""
    import infer0app.runtime_tuning
    infer0app.runtime_tuning.tune_gc = lambda: None


def log_off() -> None:
    """`--log-level warning`: no access log (the bench ran so until the access log was made
    cheap). `--compare log-off` measures what the default per-request line costs."""
    import infer0app.logs

    original = infer0app.logs.setup_logging

    def setup_logging(fmt: str = "text", level: str = "info", stream=None) -> None:
        original(fmt, "warning", stream)
    infer0app.logs.setup_logging = setup_logging


def no_reply_normaliser() -> None:
    """OpenAI-wire streams forwarded byte for byte with only usage and model read (what infer0
    did before issue 14 put `profiles.replies.StreamNormaliser` behind the translator):
    `--compare no-reply-normaliser` measures what the normaliser and its byte checks cost."""
    from infer0app.gateway.providers import openai_compat
    from infer0app.gateway.providers.base import Usage
    from infer0app.gateway.sse import encode_data

    def feed(self, event):
        data = event.data
        if self._done or self.error is not None or not data:
            return []
        if data == "[DONE]":
            self._done = True
            self._norm.feed(data)
            return []
        if self.model is None or '"usage":{' in data:
            obj = openai_compat.load_json(data.encode())
            if isinstance(obj, dict):
                self.model = self.model or obj.get("model")
                usage = Usage.from_openai(obj.get("usage"))
                if usage is not None:
                    self.usage = usage
        if '"finish_reason":"' in data:
            self._norm._open[0] = False
        self._out += 1
        return [encode_data(data)]
    openai_compat.PassthroughTranslator.feed = feed


def normalise_every_chunk() -> None:
    """Every OpenAI-wire chunk through `StreamNormaliser` (JSON parse, and a re-serialise
    when it changed), no byte-check fast path: `--compare normalise-every-chunk` measures
    what the fast path saves."""
    from infer0app.gateway.providers import openai_compat

    openai_compat.plain_open_chunk = lambda data: False  # every chunk takes the slow path


def no_request_shape() -> None:
    """The request-shape validation skipped (`request_shape.check_chat_request`: every field's
    type and range, the messages, the depth and lone-surrogate walk); the body is still decoded
    with its own checks (duplicate names, NaN). `--compare no-request-shape` measures what the
    validation costs on the chat path."""
    from infer0app.gateway import params
    params.check_chat_request = lambda body: None


def no_profiles() -> None:
    """The provider profile pass skipped (`profiles.apply_request_rules`: renames, drops,
    clamps, stop sequences, message roles): the body goes up as the capability checks left it."""
    from infer0app.gateway import params
    from infer0app.gateway.profiles.apply import Changes

    params.apply_request_rules = lambda kind, model, body, api_version=None: (dict(body), Changes())


def no_limit_gate() -> None:
    """Every grant treated as one without limits (no reservation, no settle, no x-ratelimit
    headers): on the `limited` target, what enforcement costs in all."""
    from infer0app.services.limits import LimitGate
    LimitGate.unlimited = lambda self, grant_id, provider_id: True


def no_limit_headers() -> None:
    """Limits enforced, but no x-ratelimit-* headers on the answer."""
    from infer0app.services.limits import Reservation
    Reservation.headers = lambda self: {}


def no_egress_check() -> None:
    """The egress connector's per-call check of an address-literal host skipped (the socket
    factory still judges every new connection): what that check costs on a pooled call."""
    import aiohttp

    from infer0app.egress.connector import EgressConnector
    EgressConnector.connect = aiohttp.TCPConnector.connect


def quiet_timers() -> None:
    """Timers for valgrind's slow motion (bench/instructions.py applies this): work paid per
    second of wall time, which under valgrind (~50x slower) would land on ~50x fewer requests
    than natively. The cache-epoch poll (4 a second) and the keyring watch (2 a second, a
    heartbeat write each second) every 60 s: natively ~1 ms of CPU a second, under 0.1 % at
    bench load."""
    from infer0app.runtime import cache_watch, keyring_watch, limit_gate, usage_recorder

    cache_watch.POLL = 60.0
    keyring_watch.TICK = 60.0
    # The usage and limit flushers run every 5 s instead of 0.5 s: their per-batch work (a
    # transaction each) then spreads over more nearly as many requests as natively at bench
    # load. Not longer: a lease is renewed once 10 s old and expires at 30 s (services/limits.py).
    usage_recorder.FLUSH_INTERVAL = 5.0
    limit_gate.FLUSH_INTERVAL = 5.0


# Applied for real since (and so removed from here): serial-writes, client-cache,
# usage-executemany, v1-skips-page-middlewares, cheap-request-id, long-cache-ttl.
EXPERIMENTS = {"no-usage": no_usage, "count-sql": count_sql, "orjson": orjson_codec, "wal-normal": wal_normal,
               "gc-freeze": gc_freeze, "cprofile": cprofile, "no-malloc-tuning": no_malloc_tuning,
               "cookie-jar": cookie_jar, "default-gc": default_gc, "log-off": log_off,
               "no-reply-normaliser": no_reply_normaliser, "normalise-every-chunk": normalise_every_chunk,
               "no-request-shape": no_request_shape, "no-profiles": no_profiles, "no-limit-gate": no_limit_gate,
               "no-limit-headers": no_limit_headers, "no-egress-check": no_egress_check,
               "quiet-timers": quiet_timers}


def apply(names: list[str]) -> None:
    for name in names:
        EXPERIMENTS[name]()
