"""A grant's limits as an app meets them: the official openai SDK against a real infer0 and a
fake OpenAI on loopback; limits set through services/grant_limits like the pages will."""

from __future__ import annotations

import asyncio
import math
import re
import sqlite3
import time
from decimal import Decimal

import jsonschema
import openai
import pytest
from openai._models import FinalRequestOptions

from infer0app import keys
from infer0app.api.openapi import document
from infer0app.services.grant_limits import GrantLimits, set_grant_limits
from tests.support.limits import LONG_REPLY, TOKEN_CAP, away_from_minute_edge, counter, fifty_at_once

HELLO = [{"role": "user", "content": "Hello there"}]
DURATION = re.compile(r"^(\d+ms|\d+s|\d+m\d+s|\d+h\d+m\d+s)$")


def limit(api, **caps) -> None:
    set_grant_limits(api.app[keys.STORE], api.seeded.grant_id, GrantLimits(**caps), actor="cli:test")


async def test_requests_per_minute_lets_exactly_n_through_and_the_sdk_sees_429_with_retry_after(api_for):
    api = await api_for("openai")
    limit(api, requests_per_minute=3, tokens_per_day=1_000_000)
    client = api.client()
    await away_from_minute_edge()
    remaining = {"requests": [], "tokens": []}
    for _ in range(3):
        raw = await client.chat.completions.with_raw_response.create(model="x", messages=HELLO, max_tokens=50)
        assert raw.parse().choices[0].message.content
        for metric in ("requests", "tokens"):
            assert DURATION.match(raw.headers[f"x-ratelimit-reset-{metric}"])
            remaining[metric].append(int(raw.headers[f"x-ratelimit-remaining-{metric}"]))
        assert raw.headers["x-ratelimit-limit-requests"] == "3"
        assert raw.headers["x-ratelimit-limit-tokens"] == "1000000"
    assert remaining["requests"] == [2, 1, 0]
    assert remaining["tokens"] == sorted(remaining["tokens"], reverse=True) and remaining["tokens"][-1] < 1_000_000

    with pytest.raises(openai.RateLimitError) as caught:
        await client.chat.completions.create(model="x", messages=HELLO, max_tokens=50)
    exc = caught.value
    retry_after = int(exc.response.headers["retry-after"])
    assert 1 <= retry_after <= 60
    assert exc.code == "grant_rate_limited" and exc.type == "rate_limit_error"
    message = exc.body["message"]
    assert "3 requests per minute" in message and "resets at" in message
    assert api.app[keys.SETTINGS].issuer + "/connections" in message
    assert len(api.fake.chat_requests()) == 3  # the refused call never reached the provider

    # The SDK's own retry logic (with retries on) would retry this answer after exactly Retry-After.
    retrying = api.client(max_retries=2)
    assert retrying._should_retry(exc.response)
    options = FinalRequestOptions.construct(method="post", url="/chat/completions")
    assert retrying._calculate_retry_timeout(2, options, exc.response.headers) == retry_after


async def test_a_spend_cap_is_reached_mid_conversation_and_the_next_call_gets_402(api_for):
    api = await api_for("openai")  # gpt-4o-mini: $0.15 in, $0.60 out per million tokens
    limit(api, spend_per_day_usd=Decimal("0.004"))
    client = api.client()
    messages, answered, refused = [], 0, None
    for turn in range(40):
        messages.append({"role": "user", "content": f"Turn {turn}: " + "lorem ipsum dolor " * 150})
        try:
            chat = await client.chat.completions.create(model="x", messages=messages, max_tokens=500)
        except openai.APIStatusError as exc:
            refused = exc
            break
        answered += 1
        messages.append({"role": "assistant", "content": chat.choices[0].message.content})
    assert refused is not None and answered >= 2
    assert refused.status_code == 402
    assert refused.code == "grant_budget_exceeded" and refused.type == "insufficient_quota"
    assert int(refused.response.headers["retry-after"]) >= 1
    message = refused.body["message"]
    assert "$0.004000 per day" in message and api.app[keys.SETTINGS].issuer + "/connections" in message

    gate = api.app[keys.LIMITS]
    await gate.flush()
    assert 0 < counter(api.app[keys.STORE], "spend") <= 4000  # micro-dollars: never beyond the cap

    me = await client.get("/me", cast_to=object)
    spend = me["limits"]["spend_per_day"]
    assert me["spend_enforced"] is True and me["limits"]["requests_per_minute"] is None
    assert spend["limit"] == 0.004 and spend["unit"] == "usd" and 0 < spend["used"] <= 0.004
    assert spend["remaining"] == pytest.approx(max(0.0, 0.004 - spend["used"] - spend["reserved"]), abs=1e-6)
    assert spend["resets_at"] > time.time()
    schema = document(api.app[keys.SETTINGS].issuer)  # /openapi.json describes what /v1/me answers
    jsonschema.Draft202012Validator({**schema, "$ref": "#/components/schemas/Me"}).validate(me)




async def test_fifty_concurrent_calls_against_a_budget_of_ten_never_overshoot(api_for):
    api = await api_for("openai", reply=LONG_REPLY, delay=0.2)
    limit(api, tokens_per_day=TOKEN_CAP)
    answers, refused = await fifty_at_once(api.client(timeout=60))
    assert len(answers) == 10 and len(refused) == 40
    assert {(r.status_code, r.code) for r in refused} == {(402, "grant_budget_exceeded")}
    await api.app[keys.LIMITS].flush()
    used = sum(a.usage.total_tokens for a in answers)  # settled with the real usage, not the estimate
    assert counter(api.app[keys.STORE], "tokens") == used <= TOKEN_CAP


async def test_a_stream_the_client_cuts_is_settled_with_what_was_streamed(api_for):
    api = await api_for("openai", reply=LONG_REPLY, stream_delay=0.01)
    limit(api, tokens_per_day=100_000)
    client = api.client()
    raw = await client.chat.completions.with_raw_response.create(
        model="x", messages=HELLO, max_tokens=2000, stream=True, stream_options={"include_usage": True})
    assert raw.headers["x-ratelimit-limit-tokens"] == "100000"
    prompt_estimate = math.ceil(len(raw.http_request.content) / 4)
    stream = raw.parse()
    text = ""
    async for chunk in stream:
        for choice in chunk.choices:
            text += choice.delta.content or ""
        if len(text) > 100:
            break
    await stream.close()
    await asyncio.wait_for(api.fake.state.disconnected.wait(), 30)  # infer0 hung up on the provider
    gate = api.app[keys.LIMITS]
    for _ in range(200):  # the handler settles as it unwinds; flush reports it
        await gate.flush()
        if counter(api.app[keys.STORE], "tokens"):
            break
        await asyncio.sleep(0.02)
    used = counter(api.app[keys.STORE], "tokens")
    # The prompt as estimated plus the text that went out (4 characters a token): more than
    # what the client read, far less than the 2,000 tokens reserved or the 2,000-word reply.
    assert prompt_estimate + math.ceil(len(text) / 4) <= used < prompt_estimate + 1000
    assert counter(api.app[keys.STORE], "requests") == 0  # no request cap set: no request counter


def _hold_write_lock(data_dir, backend):
    """Another process holding the database's write lock (SQLite's, or infer0's advisory lock)."""
    if backend.is_postgres:
        from infer0app.store.postgres import WRITE_LOCK, import_psycopg
        blocker = import_psycopg().connect(backend.database_url)
        blocker.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
        return blocker
    blocker = sqlite3.connect(data_dir / "infer0.sqlite3", timeout=0)
    blocker.execute("BEGIN IMMEDIATE")
    return blocker


async def test_a_locked_database_during_reserve_answers_503_not_500(api_for, data_dir, backend):
    api = await api_for("openai")
    limit(api, tokens_per_day=100_000)
    await api.app[keys.LIMITS].config(api.seeded.grant_id, api.seeded.provider_id)  # caps known, no lease yet
    blocker = _hold_write_lock(data_dir, backend)  # held past busy_timeout / lock_timeout
    try:
        with pytest.raises(openai.APIStatusError) as caught:
            await api.client().chat.completions.create(model="x", messages=HELLO)
    finally:
        blocker.rollback()
        blocker.close()
    assert caught.value.status_code == 503 and caught.value.code == "limits_unavailable"
    assert caught.value.response.headers["retry-after"] == "1"
    assert not api.fake.chat_requests()
    chat = await api.client().chat.completions.create(model="x", messages=HELLO)  # the lock is gone: served
    assert chat.choices[0].message.content


async def test_me_reports_no_limits_as_nulls_and_plain_answers_carry_no_ratelimit_headers(api_for):
    api = await api_for("openai")
    client = api.client()
    raw = await client.chat.completions.with_raw_response.create(model="x", messages=HELLO)
    assert not [h for h in raw.headers if h.startswith("x-ratelimit-")]
    me = await client.get("/me", cast_to=object)
    assert set(me["limits"]) == {"requests_per_minute", "tokens_per_day", "spend_per_day", "spend_per_week",
                                 "spend_per_month"}
    assert all(v is None for v in me["limits"].values()) and all(v is None for v in me["connection_limits"].values())


async def test_limits_changed_while_serving_apply_to_a_grant_seen_without_limits(api_for):
    api = await api_for("openai")
    client = api.client()
    for _ in range(3):  # the server now knows this grant as one without limits
        await client.chat.completions.create(model="x", messages=HELLO)
    await away_from_minute_edge()
    limit(api, requests_per_minute=1)  # as the Connected apps page will, from another request
    for _ in range(100):  # the cache watch sees the epoch move within a poll
        me = await client.get("/me", cast_to=object)
        if me["limits"]["requests_per_minute"] is not None:
            break
        await asyncio.sleep(0.05)
    assert me["limits"]["requests_per_minute"]["limit"] == 1
    await client.chat.completions.create(model="x", messages=HELLO)
    with pytest.raises(openai.RateLimitError):
        await client.chat.completions.create(model="x", messages=HELLO)
