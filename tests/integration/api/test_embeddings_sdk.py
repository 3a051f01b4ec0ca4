"""POST /v1/embeddings with the official openai SDK against a real infer0 and faithful fakes
(issue 14 §3): float and base64 (the SDK's default), dimensions, every kind's route, kinds
without embeddings, usage and the grant's limits."""

from __future__ import annotations

import asyncio
import base64
import struct

import openai
import pytest

from infer0app import keys
from infer0app.services import grants
from infer0app.services.grant_limits import GrantLimits, set_grant_limits
from infer0app.store.models import UsageEvent

KINDS = ["openai", "gemini", "azure-openai", "sandbox"]


async def embedding_api(api_for, kind):
    api = await api_for(kind)
    if kind == "azure-openai":  # Azure has no default: the user names the deployment
        store = api.app[keys.STORE]
        await store.run(grants.update_grant_choice, api.seeded.user_id, api.seeded.grant_id,
                        provider_id=api.seeded.provider_id, model="chat-deploy", embedding_model="chat-deploy")
    return api


@pytest.mark.parametrize("kind", KINDS)
async def test_float_base64_and_dimensions(api_for, kind):
    api = await embedding_api(api_for, kind)
    client = api.client()
    floats = await client.embeddings.create(model="ignored", input=["red apple", "green pear"],
                                            encoding_format="float", dimensions=12)
    assert [d.index for d in floats.data] == [0, 1]
    assert all(len(d.embedding) == 12 and all(isinstance(x, float) for x in d.embedding) for d in floats.data)
    assert floats.data[0].embedding != floats.data[1].embedding
    assert floats.usage.prompt_tokens == 4 and floats.model != "ignored"

    raw = await client.embeddings.with_raw_response.create(model="ignored", input=["red apple", "green pear"],
                                                           dimensions=12)  # the SDK asks for base64
    decoded = raw.parse()
    assert raw.headers["x-infer0-provider"] == kind and raw.headers["x-infer0-model"] == decoded.model
    for got, want in zip(decoded.data, floats.data):  # same vectors, as float32
        assert got.embedding == pytest.approx(want.embedding, abs=1e-6)
    assert raw.http_request.read() and b'"encoding_format":"base64"' in raw.http_request.read().replace(b" ", b"")


async def test_token_inputs_and_upstream_payload(api_for):
    api = await api_for("openai")
    result = await api.client().embeddings.create(model="x", input=[[1, 2, 3], [4, 5]], encoding_format="float")
    assert len(result.data) == 2 and result.usage.prompt_tokens == 5
    sent = api.fake.requests[-1]
    assert sent.path == "/v1/embeddings" and sent.json["model"] == "text-embedding-3-small"
    assert sent.json["input"] == [[1, 2, 3], [4, 5]] and sent.headers["authorization"] == f"Bearer {api.fake.key}"


async def test_gemini_gets_floats_and_the_app_still_gets_base64(api_for):
    api = await api_for("gemini")
    raw = await api.client().embeddings.with_raw_response.create(model="x", input="hello world", user="u-1")
    vector = raw.parse().data[0].embedding
    assert len(vector) == 8
    sent = api.fake.requests[-1].json
    assert sent["encoding_format"] == "float" and "user" not in sent and sent["model"] == "gemini-embedding-001"
    assert raw.headers["x-infer0-dropped-params"] == "user"


async def test_sandbox_is_deterministic(api_for):
    api = await api_for("sandbox")
    one = await api.client().embeddings.create(model="x", input="same words", encoding_format="float")
    two = await api.client().embeddings.create(model="x", input="same words", encoding_format="float")
    assert one.data[0].embedding == two.data[0].embedding and len(one.data[0].embedding) == 16
    assert one.model == "sandbox-embed-1"
    assert sum(x * x for x in one.data[0].embedding) == pytest.approx(1.0, abs=1e-4)


async def test_a_kind_without_embeddings_answers_a_clear_400(api_for):
    api = await api_for("anthropic")
    with pytest.raises(openai.BadRequestError) as err:
        await api.client().embeddings.create(model="x", input="hello")
    assert err.value.body["code"] == "embeddings_not_supported" and "Anthropic" in err.value.body["message"]
    assert not api.fake.requests  # nothing went upstream


async def test_dimensions_are_bounded_so_the_sandbox_cannot_hold_the_server(api_for):
    """Found by probing: `dimensions: 10**30` on a sandbox grant kept infer0's event loop computing
    one vector for ever (every request of every user waited); 2048 inputs of 3072 took ~20 s."""
    api = await api_for("sandbox")
    client = api.client()
    for dims, message in ((257, "at most 256"), (16385, "from 1 to 16384"), (10**30, "from 1 to 16384")):
        with pytest.raises(openai.BadRequestError) as err:
            await client.embeddings.create(model="x", input="hello", dimensions=dims, encoding_format="float")
        assert message in err.value.body["message"]
    answer = await client.embeddings.create(model="x", input="hello", dimensions=256, encoding_format="float")
    assert len(answer.data[0].embedding) == 256


async def test_bad_input_is_a_400_naming_the_field(api_for):
    api = await api_for("sandbox")
    for kwargs, param in (({"input": []}, "input"), ({"input": "x", "dimensions": 0}, "dimensions"),
                          ({"input": "x", "encoding_format": "int8"}, "encoding_format")):
        with pytest.raises(openai.BadRequestError) as err:
            await api.client().embeddings.create(model="x", **kwargs)
        assert err.value.body["param"] == param


async def test_usage_is_recorded_and_the_token_limit_applies(api_for):
    api = await api_for("openai")
    store = api.app[keys.STORE]
    set_grant_limits(store, api.seeded.grant_id, GrantLimits(tokens_per_day=1000), actor="cli:test")
    raw = await api.client().embeddings.with_raw_response.create(model="x", input="one two three",
                                                                 encoding_format="float")
    assert raw.headers["x-ratelimit-limit-tokens"] == "1000"

    async def recorded():
        for _ in range(100):
            rows = await store.run(lambda s: list(UsageEvent.select().where(UsageEvent.grant_id == api.seeded.grant_id)))
            if rows:
                return rows
            await asyncio.sleep(0.05)
        return []

    (row,) = await recorded()
    assert (row.provider_kind, row.prompt_tokens, row.completion_tokens) == ("openai", 3, 0)
    assert row.model.startswith("text-embedding-3-small")  # the model that answered, as it named itself


def test_base64_helper_is_little_endian_float32():
    from infer0app.gateway.providers.embeddings_wire import floats_to_base64
    assert struct.unpack("<2f", base64.b64decode(floats_to_base64([0.5, -1.0]))) == (0.5, -1.0)
