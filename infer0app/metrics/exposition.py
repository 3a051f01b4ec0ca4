"""`GET /metrics` in Prometheus' text format, built with prometheus_client at scrape time from
the plain counters (counters.py) and the state the server keeps anyway (throttles, limit
refusals, the usage writer's queue, the caches).

Setting `--metrics-token` turns it on; every scrape must send `Authorization: Bearer <token>`
(401 otherwise, compared in constant time). Without the setting there is no /metrics route.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from .. import keys
from .counters import CountingTargetCache, CountingTokenCache, Counts, counting_middleware

COUNTS: web.AppKey[Counts] = web.AppKey("metrics_counts", Counts)
REGISTRY: web.AppKey[CollectorRegistry] = web.AppKey("metrics_registry", CollectorRegistry)

#: label value -> the app key of each throttle the server keeps (services/throttle.py)
THROTTLES = {"sign_in": keys.THROTTLE, "sign_up": keys.SIGNUP_THROTTLE,
             "client_registration": keys.REGISTRATION_THROTTLE, "device_code": keys.DEVICE_THROTTLE}


class ServerCollector(Collector):
    """Reads the app's counters when Prometheus scrapes; nothing here runs per request."""

    def __init__(self, app: web.Application):
        self.app = app

    def collect(self):
        app, counts = self.app, self.app[COUNTS]
        yield _counter("infer0_http_requests", "HTTP requests answered, by route pattern, method and status.",
                       ["route", "method", "status"], counts.requests)
        yield _counter("infer0_inference_requests", "Inference calls (/v1 chat, responses, messages, "
                       "embeddings) by the provider kind that served them and the status answered.",
                       ["provider_kind", "status"], counts.inference)

        latency = HistogramMetricFamily("infer0_upstream_latency_seconds", "Duration of inference calls by "
                                        "provider kind: from the call's start to the end of its answer (a "
                                        "stream's last byte).", labels=["provider_kind"])
        for kind, hist in sorted(counts.latency.items()):
            latency.add_metric([kind], hist.cumulative(), hist.total)
        yield latency

        yield _counter("infer0_tokens", "Tokens the providers reported, by provider kind and type (prompt, "
                       "completion; cached is the part of prompt read from a prompt cache).",
                       ["provider_kind", "type"], counts.tokens)

        throttled = CounterMetricFamily("infer0_throttled", "Attempts refused by a throttle (too many "
                                        "failures or registrations from one address or for one account).",
                                        labels=["throttle"])
        for name, key in THROTTLES.items():
            throttled.add_metric([name], app[key].refused)
        throttled.add_metric(["token_endpoint"], app[keys.OAUTH_SERVER].throttle.refused)
        yield throttled

        yield _counter("infer0_limit_refusals", "Inference calls refused by a limit the user set, by its scope "
                       "(grant: one app; connection: all apps on it) and metric (requests, tokens, spend).",
                       ["scope", "metric"], app[keys.LIMITS].stats.refusals)

        recorder = app.get(keys.USAGE)
        yield GaugeMetricFamily("infer0_usage_queue_depth", "Usage records waiting for the background "
                                "writer.", value=recorder.pending if recorder is not None else 0)

        hits = CounterMetricFamily("infer0_cache_hits", "Lookups answered from memory.", labels=["cache"])
        misses = CounterMetricFamily("infer0_cache_misses", "Lookups that went to the database.",
                                     labels=["cache"])
        ratio = GaugeMetricFamily("infer0_cache_hit_ratio", "Hits / lookups since the process started "
                                  "(NaN before the first lookup).", labels=["cache"])
        for name, cache in (("bearer_token", app[keys.TOKEN_CACHE]), ("provider_target", app[keys.TARGETS])):
            h, m = getattr(cache, "hits", 0), getattr(cache, "misses", 0)
            hits.add_metric([name], h)
            misses.add_metric([name], m)
            ratio.add_metric([name], h / (h + m) if h + m else float("nan"))
        yield from (hits, misses, ratio)


def _counter(name: str, documentation: str, labels: list[str],
             counts: Mapping[tuple[str, ...], int]) -> CounterMetricFamily:
    """A counter family with one sample per key of `counts` (its label values, in `labels`'
    order), sorted by label values so scrapes list them alike."""
    family = CounterMetricFamily(name, documentation, labels=labels)
    for values, n in sorted(counts.items()):
        family.add_metric(list(values), n)
    return family


def _authorized(request: web.Request, token: str) -> bool:
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), token.encode())


async def metrics_page(request: web.Request) -> web.Response:
    """The exposition (text format 0.0.4), or 401 with a Bearer challenge (RFC 6750 §3)."""
    app = request.app
    if not _authorized(request, app[keys.SETTINGS].metrics_token):
        return web.Response(status=401, text="A bearer token is required: the server's --metrics-token.\n",
                            headers={"WWW-Authenticate": 'Bearer realm="infer0 metrics"', "Cache-Control": "no-store"})
    return web.Response(body=generate_latest(app[REGISTRY]),
                        headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"})


def setup_metrics(app: web.Application, store, vault) -> None:
    """When `--metrics-token` is set: the counting middleware (outermost), the counting caches
    (replacing the plain ones), the usage writer's observer, the registry and `GET /metrics`.
    Call at the end of create_app."""
    counts = app[COUNTS] = Counts()
    app.middlewares.insert(0, counting_middleware(counts))
    app[keys.TOKEN_CACHE] = CountingTokenCache()
    app[keys.TARGETS] = CountingTargetCache(store, vault)

    async def observe_usage(app: web.Application):  # runs after usage_recorder_ctx made the writer
        app[keys.USAGE].observe = counts.observe_usage
        yield

    app.cleanup_ctx.append(observe_usage)
    registry = app[REGISTRY] = CollectorRegistry(auto_describe=False)
    registry.register(ServerCollector(app))
    ProcessCollector(registry=registry)  # CPU seconds, resident memory, open files of this process
    app.router.add_get("/metrics", metrics_page, name="metrics")
