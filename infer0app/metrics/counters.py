"""The plain counters behind /metrics, and the few hooks that feed them (only built when
`--metrics-token` is set). Plain dicts and ints, not prometheus_client objects: an increment
here is a dict update with no lock (one event loop per process), and the exposition turns them
into metric families only when Prometheus scrapes."""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable

from aiohttp import web

from ..oauth.bearer import TokenCache
from ..runtime.target_cache import NOT_CACHED, TargetCache

#: Upper bounds (seconds) of the inference latency histogram: a cached answer to a long stream.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
UNMATCHED = "(unmatched)"  # a path no route serves: one label value, not one per path tried


class LatencyHistogram:
    """Cumulative-at-export histogram: per-bucket counts, their sum and count (seconds)."""

    __slots__ = ("buckets", "total", "count")

    def __init__(self) -> None:
        self.buckets = [0] * (len(LATENCY_BUCKETS) + 1)  # the last one: above every bound (+Inf)
        self.total = 0.0
        self.count = 0

    def observe(self, seconds: float) -> None:
        self.buckets[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        self.total += seconds
        self.count += 1

    def cumulative(self) -> list[tuple[str, float]]:
        """[(upper bound as Prometheus writes it, cumulative count)], ending with +Inf."""
        out, running = [], 0
        for bound, n in zip((*(repr(float(b)) for b in LATENCY_BUCKETS), "+Inf"), self.buckets):
            running += n
            out.append((bound, running))
        return out


class Counts:
    """Everything counted since the process started.

    requests: (route, method, status) -> n, every HTTP request;
    inference: (provider kind, status) -> n, every /v1 inference call the usage log recorded;
    tokens: (provider kind, "prompt" | "completion" | "cached") -> n;
    latency: provider kind -> LatencyHistogram of those calls' durations."""

    def __init__(self) -> None:
        self.requests: Counter[tuple[str, str, str]] = Counter()
        self.inference: Counter[tuple[str, str]] = Counter()
        self.tokens: Counter[tuple[str, str]] = Counter()
        self.latency: dict[str, LatencyHistogram] = {}

    def observe_usage(self, batch: Iterable) -> None:
        """A batch of UsageRecords the usage writer is about to store (off the request path)."""
        for rec in batch:
            kind = rec.provider_kind or "unknown"
            self.inference[kind, str(rec.status)] += 1
            if rec.prompt_tokens:
                self.tokens[kind, "prompt"] += rec.prompt_tokens
            if rec.completion_tokens:
                self.tokens[kind, "completion"] += rec.completion_tokens
            if rec.cached_tokens:
                self.tokens[kind, "cached"] += rec.cached_tokens
            hist = self.latency.get(kind)
            if hist is None:
                hist = self.latency[kind] = LatencyHistogram()
            hist.observe(rec.latency_ms / 1000.0)


def counting_middleware(counts: Counts):
    """The outermost middleware when metrics are on: counts each request by its route's pattern
    (`/providers/{id}`, never the path itself, so ids and probes do not grow the label set),
    method and final status (499: the client went away before the answer)."""
    requests = counts.requests

    @web.middleware
    async def count_request(request: web.Request, handler):
        status = 499
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        except Exception:
            status = 500
            raise
        finally:
            resource = request.match_info.route.resource
            route = resource.canonical if resource is not None else UNMATCHED
            requests[route, request.method, str(status)] += 1

    return count_request


class HitCounting:
    """Mixed into a cache ahead of the cache class: `hits` and `misses` (lookups answered from
    memory / that went to the database), which the exposition reads."""

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.hits = 0
        self.misses = 0

    def _tally(self, hit: bool) -> None:
        if hit:
            self.hits += 1
        else:
            self.misses += 1


class CountingTokenCache(HitCounting, TokenCache):
    """The bearer-token cache, counting hits and misses (used instead of TokenCache when metrics are on)."""

    def get(self, token_hash: str):
        found = super().get(token_hash)
        self._tally(bool(found[0]))
        return found


class CountingTargetCache(HitCounting, TargetCache):
    """The opened-connection cache, counting hits and misses (instead of TargetCache when metrics are on)."""

    def cached(self, provider_id: int, model: str):  # every lookup, `get`'s and the hot path's own
        found = super().cached(provider_id, model)
        self._tally(found is not NOT_CACHED)
        return found
