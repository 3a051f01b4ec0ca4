"""What the provider receives for a chat call: the app's own bytes when infer0 changes nothing in
them, else the fitted body, encoded by infer0 (gateway/providers/openai_compat.build_request).

Either way the provider must decode exactly the payload infer0 decided on: the grant's model,
the profile's fits, no `stream` flag on a non-streaming call."""

from __future__ import annotations

import json

MODEL = "gpt-4o-mini"


async def _call(api, **body):
    raw = await api.client().chat.completions.with_raw_response.create(**body)
    assert raw.http_response.status_code == 200
    return raw.http_request.read(), api.fake.requests[-1]


async def test_unchanged_body_goes_as_the_app_sent_it(api_for):
    api = await api_for("openai", model=MODEL)
    app_bytes, sent = await _call(api, model=MODEL, messages=[{"role": "user", "content": "Hi \u00e9\u4e16"}],
                                  max_tokens=32, temperature=0.5)
    assert sent.body == app_bytes  # byte for byte: nothing to change, nothing re-encoded
    assert sent.json == json.loads(app_bytes) and sent.json["model"] == MODEL


async def test_another_model_name_is_replaced_and_encoded_again(api_for):
    api = await api_for("openai", model=MODEL)
    app_bytes, sent = await _call(api, model="what-the-app-asked", messages=[{"role": "user", "content": "Hi"}],
                                  max_tokens=32)
    assert sent.body != app_bytes
    assert sent.json == {**json.loads(app_bytes), "model": MODEL}


async def test_a_fitted_body_is_what_the_provider_gets(api_for):
    # openai-compatible servers get `developer` messages as `system` (profiles/table.py)
    api = await api_for("openai-compatible", model=MODEL)
    app_bytes, sent = await _call(api, model=MODEL, messages=[{"role": "developer", "content": "Be brief."},
                                                              {"role": "user", "content": "Hi"}])
    assert sent.body != app_bytes
    want = json.loads(app_bytes)
    want["messages"][0]["role"] = "system"
    assert sent.json == want


async def test_an_explicit_stream_false_is_not_forwarded(api_for):
    api = await api_for("openai", model=MODEL)
    app_bytes, sent = await _call(api, model=MODEL, messages=[{"role": "user", "content": "Hi"}], stream=False)
    assert b'"stream"' in app_bytes and "stream" not in sent.json
