"""`GET /metrics` (--metrics-token): the token is required, and what a Prometheus server scrapes
parses with prometheus_client's own text parser and counts what happened: requests by route and
status, inference calls, upstream latency and tokens by provider kind, throttles, limit
refusals, the usage writer's queue and the caches' hits."""

from __future__ import annotations

import asyncio

import aiohttp
import openai
from prometheus_client.parser import text_string_to_metric_families

from infer0app import keys
from infer0app.services.grant_limits import GrantLimits, set_grant_limits
from tests.support.browser import Browser
from tests.support.seed import seed_grant

TOKEN = "scrape-me-0123456789abcdef"
HELLO = [{"role": "user", "content": "Hello there"}]


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted label pairs): value} from the official parser."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[s.name, tuple(sorted(s.labels.items()))] = s.value
    return out


async def scrape(base: str, token: str | None = TOKEN) -> tuple[int, str, dict]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    async with aiohttp.ClientSession() as http:
        async with http.get(base + "/metrics", headers=headers) as resp:
            return resp.status, await resp.text(), dict(resp.headers)


async def scrape_until(base: str, ready) -> dict:
    """Scrape until `ready(samples)` (the usage writer flushes every half second)."""
    for _ in range(100):
        status, text, _ = await scrape(base)
        assert status == 200
        got = samples(text)
        if ready(got):
            return got
        await asyncio.sleep(0.1)
    raise AssertionError(f"metrics never showed the calls:\n{text}")


async def test_metrics_need_their_bearer_token(server):
    srv = await server(metrics_token=TOKEN)
    base = str(srv.make_url("")).rstrip("/")
    for token in (None, "wrong-token-0123456789abcdef", TOKEN[:-1]):
        status, text, headers = await scrape(base, token)
        assert status == 401 and headers["WWW-Authenticate"].startswith("Bearer ")
        assert "infer0_" not in text
    status, text, headers = await scrape(base)
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=")


async def test_without_the_setting_there_is_no_metrics_endpoint(server):
    srv = await server()
    status, text, _ = await scrape(str(srv.make_url("")).rstrip("/"))
    assert status == 404 and "infer0_" not in text


async def test_a_scrape_counts_requests_latency_tokens_throttles_limits_and_caches(server):
    srv = await server(metrics_token=TOKEN)
    base = str(srv.make_url("")).rstrip("/")
    store, vault = srv.app[keys.STORE], srv.app[keys.VAULT]
    free = seed_grant(store, vault, kind="sandbox")
    capped = seed_grant(store, vault, kind="sandbox")
    set_grant_limits(store, capped.grant_id, GrantLimits(tokens_per_day=1), actor="cli:test")

    client = openai.AsyncOpenAI(base_url=base + "/v1", api_key=free.access_token, max_retries=0)
    for _ in range(2):
        answer = await client.chat.completions.create(model="x", messages=HELLO)
        assert answer.usage.prompt_tokens > 0
    limited = openai.AsyncOpenAI(base_url=base + "/v1", api_key=capped.access_token, max_retries=0)
    try:
        await limited.chat.completions.create(model="x", messages=HELLO)
        raise AssertionError("the tokens_per_day=1 limit let a call through")
    except openai.APIStatusError as exc:
        assert exc.status_code == 402
    browser = Browser(base)
    try:
        await browser.signup("ada@example.com")
        for _ in range(7):  # the sign-in throttle engages after 5 failures of one account from one address
            await Browser.login(browser, "ada@example.com", "not the password")
    finally:
        await browser.close()

    def chat(status: str) -> tuple:
        return ("infer0_http_requests_total", (("method", "POST"), ("route", "/v1/chat/completions"),
                                                ("status", status)))

    got = await scrape_until(base, lambda s: s.get(("infer0_inference_requests_total",
                                                     (("provider_kind", "sandbox"), ("status", "200")))) == 2)
    assert got[chat("200")] == 2 and got[chat("402")] == 1
    assert got["infer0_inference_requests_total", (("provider_kind", "sandbox"), ("status", "402"))] == 1
    assert got["infer0_upstream_latency_seconds_count", (("provider_kind", "sandbox"),)] == 3
    assert got["infer0_upstream_latency_seconds_bucket", (("le", "+Inf"), ("provider_kind", "sandbox"))] == 3
    assert got["infer0_tokens_total", (("provider_kind", "sandbox"), ("type", "prompt"))] \
        == 2 * answer.usage.prompt_tokens
    assert got["infer0_tokens_total", (("provider_kind", "sandbox"), ("type", "completion"))] \
        == 2 * answer.usage.completion_tokens
    assert got["infer0_limit_refusals_total", (("metric", "tokens"), ("scope", "grant"))] == 1
    assert got["infer0_throttled_total", (("throttle", "sign_in"),)] >= 1
    assert got["infer0_throttled_total", (("throttle", "token_endpoint"),)] == 0
    assert got["infer0_http_requests_total", (("method", "POST"), ("route", "/login"), ("status", "429"))] >= 1
    assert ("infer0_usage_queue_depth", ()) in got
    # three calls with two tokens: each token missed once, then the free grant's second call was
    # answered from the cache unless its one-second entry had expired in between
    hits = got["infer0_cache_hits_total", (("cache", "bearer_token"),)]
    misses = got["infer0_cache_misses_total", (("cache", "bearer_token"),)]
    assert hits + misses == 3 and misses >= 2
    assert got["infer0_cache_hit_ratio", (("cache", "bearer_token"),)] == hits / 3
    # the same three calls looked their provider connection up once each (two connections)
    hits = got["infer0_cache_hits_total", (("cache", "provider_target"),)]
    misses = got["infer0_cache_misses_total", (("cache", "provider_target"),)]
    assert hits + misses == 3 and misses >= 2
    assert got["process_resident_memory_bytes", ()] > 0
    # a path no route serves is one label value, never the path itself
    async with aiohttp.ClientSession() as http:
        async with http.get(base + "/no/such/page/12345"):
            pass
    status, text, _ = await scrape(base)
    assert '/no/such/page' not in text and 'route="(unmatched)"' in text
