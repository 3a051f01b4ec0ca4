"""Every failure speaks OpenAI's error format and keeps the app informed."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import openai
import pytest

from infer0app import keys
from infer0app.services import grants
from infer0app.store.models import ProviderConnection, UsageEvent
from tests.support.waits import caches_caught_up


async def _post(api, body, token=None, **kw):
    headers = {"Authorization": f"Bearer {token or api.seeded.access_token}"}
    async with aiohttp.ClientSession() as http:
        async with http.post(api.url + "/v1/chat/completions", data=body, headers=headers, **kw) as resp:
            return resp.status, dict(resp.headers), await resp.json(content_type=None)


@pytest.mark.parametrize("token", ["i0_at_not-a-real-token", ""])
async def test_bad_token_is_401_with_bearer_challenge(api_for, token):
    api = await api_for("sandbox")
    status, headers, body = await _post(api, b'{"messages":[{"role":"user","content":"x"}]}', token=token or " ")
    assert status == 401
    assert headers["WWW-Authenticate"].startswith("Bearer")
    # RFC 6750 §3.1: an empty Bearer credential is no authentication information: no error code
    assert ('error="invalid_token"' in headers["WWW-Authenticate"]) is bool(token)
    assert body["error"]["code"] == "invalid_token" and body["error"]["type"]


async def test_sdk_sees_authentication_error(api_for):
    api = await api_for("sandbox")
    with pytest.raises(openai.AuthenticationError):
        await api.client("i0_at_bogus").chat.completions.create(model="x", messages=[{"role": "user", "content": "x"}])


@pytest.mark.parametrize("body,param", [(b"{not json", None), (b"[]", None), (b'{"messages": []}', "messages"),
                                        (b'{"model": "x"}', "messages")])
async def test_malformed_requests_are_400(api_for, body, param):
    api = await api_for("sandbox")
    status, _, answer = await _post(api, body)
    assert status == 400 and answer["error"]["type"] == "invalid_request_error"
    if param:
        assert answer["error"]["param"] == param


async def test_rejected_provider_key_is_provider_auth_failed(api_for):
    api = await api_for("openai")
    api.fake.state.key = "sk-a-different-valid-key"  # the user's stored key no longer works upstream
    with pytest.raises(openai.APIStatusError) as err:
        await api.client().chat.completions.create(model="x", messages=[{"role": "user", "content": "x"}])
    assert err.value.status_code == 424
    assert err.value.body["code"] == "provider_auth_failed" and "dashboard" in err.value.body["message"]
    assert api.fake.key not in str(err.value.body)


async def test_upstream_429_passes_retry_after(api_for):
    api = await api_for("anthropic")
    api.fake.knobs.fail_status, api.fake.knobs.retry_after = 429, "11"
    with pytest.raises(openai.RateLimitError) as err:
        await api.client().chat.completions.create(model="x", messages=[{"role": "user", "content": "x"}])
    assert err.value.response.headers["retry-after"] == "11"


async def test_upstream_5xx_is_502(api_for):
    api = await api_for("openai")
    api.fake.knobs.fail_status = 503
    with pytest.raises(openai.APIStatusError) as err:
        await api.client().chat.completions.create(model="x", messages=[{"role": "user", "content": "x"}])
    assert err.value.status_code == 502


async def test_upstream_timeout_is_504(api_for):
    api = await api_for("openai", settings={"upstream_timeout": 0.3})
    api.fake.knobs.delay = 2.0
    with pytest.raises(openai.APIStatusError) as err:
        await api.client().chat.completions.create(model="x", messages=[{"role": "user", "content": "x"}])
    assert err.value.status_code == 504 and err.value.body["code"] == "provider_timeout"


async def test_client_hanging_up_mid_stream_cancels_upstream(api_for):
    api = await api_for("openai", stream_delay=0.05)
    headers = {"Authorization": f"Bearer {api.seeded.access_token}"}
    body = {"messages": [{"role": "user", "content": "a long story please " * 5}], "stream": True,
            "max_tokens": 4000}
    async with aiohttp.ClientSession() as http:
        async with http.post(api.url + "/v1/chat/completions", json=body, headers=headers) as resp:
            assert resp.status == 200
            await resp.content.readline()  # first bytes arrived; now hang up
    for _ in range(100):
        if api.fake.state.disconnects:
            break
        await asyncio.sleep(0.05)
    assert api.fake.state.disconnects == 1 and api.fake.state.streams_completed == 0


async def test_revoked_token_is_rejected_within_a_second(api_for):
    api = await api_for("sandbox")
    client = api.client()
    await client.chat.completions.create(model="x", messages=[{"role": "user", "content": "x"}])  # cached now
    store = api.app[keys.STORE]
    await store.run(grants.revoke_grant, api.seeded.grant_id, "cli:test")
    revoked_at = time.monotonic()
    while True:
        try:
            await client.chat.completions.create(model="x", messages=[{"role": "user", "content": "x"}])
        except openai.AuthenticationError:
            break
        assert time.monotonic() - revoked_at < 1.0, "revocation did not bite within a second"
        await asyncio.sleep(0.05)


async def test_deleted_connection_tells_the_app_what_to_do(api_for):
    api = await api_for("sandbox")
    store = api.app[keys.STORE]
    await store.run(lambda s: ProviderConnection.delete().execute())
    await caches_caught_up(api.app)  # the delete moved the cache epoch; the server dropped its targets
    with pytest.raises(openai.APIStatusError) as err:
        await api.client().chat.completions.create(model="x", messages=[{"role": "user", "content": "x"}])
    assert err.value.status_code == 409 and err.value.body["code"] == "provider_not_configured"


async def test_every_call_records_usage_off_the_request_path(api_for):
    api = await api_for("anthropic")
    client = api.client()
    await client.chat.completions.create(model="x", messages=[{"role": "user", "content": "hello"}])
    stream = await client.chat.completions.create(model="x", messages=[{"role": "user", "content": "hi"}],
                                                  stream=True)
    async for _ in stream:
        pass
    api.fake.knobs.fail_status = 500
    with pytest.raises(openai.APIStatusError) as failed:
        await client.chat.completions.create(model="x", messages=[{"role": "user", "content": "x"}])
    store = api.app[keys.STORE]
    rows = []
    for _ in range(40):  # written in batches by the background recorder
        rows = await store.run(lambda s: list(UsageEvent.select().order_by(UsageEvent.id).dicts()))
        if len(rows) == 3:
            break
        await asyncio.sleep(0.1)
    assert [(r["streamed"], r["status"]) for r in rows] == [(False, 200), (True, 200), (False, 502)]
    # the failure's error code, as the client was answered, for the operator's "recent errors"
    assert [r["error_code"] for r in rows] == ["", "", failed.value.body["code"]] and failed.value.body["code"]
    for r in rows[:2]:
        assert r["user_id"] == api.seeded.user_id and r["app_id"] == api.seeded.app_id
        assert r["grant_id"] == api.seeded.grant_id and r["provider_kind"] == "anthropic"
        assert r["model"] == "claude-sonnet-4-5" and r["prompt_tokens"] > 0 and r["completion_tokens"] > 0
        assert r["latency_ms"] > 0


async def test_a_stored_base_url_the_url_library_refuses_is_provider_unreachable(api_for):
    """Found by probing: a host IDNA cannot encode (a bidi control), saved before the provider
    form refused such hosts, made every call a 500; now the call is the documented 502."""
    api = await api_for("openai-compatible", model="m")
    store = api.app[keys.STORE]
    await store.run(lambda s: ProviderConnection.update(base_url="http://\u202eexample.com/v1").execute())
    await caches_caught_up(api.app)
    with pytest.raises(openai.APIStatusError) as err:
        await api.client().chat.completions.create(model="x", messages=[{"role": "user", "content": "x"}])
    assert err.value.status_code == 502 and err.value.body["code"] == "provider_unreachable"
    assert not api.fake.requests
