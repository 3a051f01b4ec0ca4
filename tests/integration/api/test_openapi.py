"""/openapi.json describes what the server really answers: live responses validate against it."""

from __future__ import annotations

import base64

import aiohttp
import jsonschema
import pytest

from infer0app.api.openapi import document


def validate(doc: dict, name: str, instance) -> None:
    schema = dict(doc)
    schema["$ref"] = f"#/components/schemas/{name}"
    jsonschema.Draft202012Validator(schema).validate(instance)


async def _get_doc(url: str) -> dict:
    async with aiohttp.ClientSession() as http:
        async with http.get(url + "/openapi.json") as resp:
            assert resp.status == 200 and resp.content_type == "application/json"
            return await resp.json()


def test_document_is_openapi_31_with_security_schemes():
    doc = document("https://ai.example.com")
    assert doc["openapi"] == "3.1.0" and doc["servers"] == [{"url": "https://ai.example.com"}]
    assert {"bearerAuth", "clientSecretBasic", "oauth2"} <= set(doc["components"]["securitySchemes"])
    for name, schema in doc["components"]["schemas"].items():
        jsonschema.Draft202012Validator.check_schema(schema)


async def test_every_v1_route_is_documented(api_for):
    api = await api_for("sandbox")
    doc = await _get_doc(api.url)
    served = set()
    for resource in api.app.router.resources():
        if resource.canonical.startswith(("/v1/", "/oauth/authorize", "/.well-known", "/healthz")):
            served.add(resource.canonical)
    assert {"/v1/chat/completions", "/v1/models", "/v1/oauth/token", "/oauth/authorize"} <= served
    assert served <= set(doc["paths"]), served - set(doc["paths"])


def documented_response(doc: dict, method: str, path: str, status: int) -> dict:
    """The response /openapi.json documents for this status of this operation (or, for a path or
    method no operation serves, the unrouted components); fails when the status is undocumented."""
    operation = doc["paths"].get(path, {}).get(method.lower())
    if operation is None:
        prefix = "oauth_" if path.startswith("/v1/oauth/") else "api_"
        responses = {k.removeprefix(prefix): v for k, v in doc["components"]["responses"].items()
                     if k.startswith(prefix)}
    else:
        responses = operation["responses"]
    assert str(status) in responses, f"{method} {path} answered {status}, which /openapi.json does not document"
    return responses[str(status)]


def validate_answer(doc: dict, method: str, path: str, status: int, body) -> None:
    """Validate a live answer against what the document says this operation answers with this status."""
    schema = dict(doc)
    schema.update(documented_response(doc, method, path, status)["content"]["application/json"]["schema"])
    jsonschema.Draft202012Validator(schema).validate(body)


async def test_live_responses_match_the_schemas(api_for):
    """Every status a call really answers must be documented for its operation, and the body must
    match that status's schema (for errors: one of the documented (code, type) pairs)."""
    api = await api_for("openai")
    doc = await _get_doc(api.url)
    auth = {"Authorization": f"Bearer {api.seeded.access_token}"}
    chat = {"messages": [{"role": "user", "content": "hi"}]}
    observed: dict[tuple[str, int], str | None] = {}
    async with aiohttp.ClientSession() as http:
        async def call(method, path, status=200, **kw):
            async with http.request(method, api.url + path, **kw) as resp:
                assert resp.status == status, await resp.text()
                body = await resp.json()
            validate_answer(doc, method, path, resp.status, body)
            error = body.get("error") if isinstance(body, dict) else None
            observed[(path, resp.status)] = error.get("code") if isinstance(error, dict) else error
            return body

        await call("POST", "/v1/chat/completions", headers=auth, json=chat)
        await call("GET", "/v1/models", headers=auth)
        await call("GET", "/v1/me", headers=auth)
        await call("GET", "/v1/models", 401, headers={"Authorization": "Bearer nope"})
        await call("GET", "/v1/me", 400, params={"access_token": api.seeded.access_token})
        await call("POST", "/v1/chat/completions", 400, headers=auth, data=b"{")
        await call("GET", "/v1/nothing-here", 404, headers=auth)
        await call("DELETE", "/v1/models", 405, headers=auth)
        await call("GET", "/v1/oauth/nothing-here", 404)
        api.fake.knobs.fail_status = 503
        await call("POST", "/v1/chat/completions", 502, headers=auth, json=chat)
        api.fake.knobs.fail_status = 429
        await call("POST", "/v1/chat/completions", 429, headers=auth, json=chat)
        api.fake.knobs.fail_status = None
        api.fake.state.key = "sk-a-different-valid-key"  # the user's stored key no longer works upstream
        await call("POST", "/v1/chat/completions", 424, headers=auth, json=chat)
        await call("GET", "/.well-known/oauth-authorization-server")
        await call("GET", "/healthz")
        client = {"client_id": api.seeded.client_id, "client_secret": api.seeded.client_secret}
        tokens = await call("POST", "/v1/oauth/refresh",
                            data={"grant_type": "refresh_token", "refresh_token": api.seeded.refresh_token, **client})
        await call("POST", "/v1/oauth/introspect", data={"token": tokens["access_token"], **client})
        await call("POST", "/v1/oauth/token", 400,
                   data={"grant_type": "refresh_token", "refresh_token": "i0_rt_bogus", **client})
        await call("POST", "/v1/oauth/token", 400, data={"grant_type": "password", **client})
        # RFC 7009 §2.1: an unknown hint is ignored, and the token is revoked all the same.
        await call("POST", "/v1/oauth/revoke", 200,
                   data={"token": tokens["access_token"], "token_type_hint": "id_token", **client})
        wrong = base64.b64encode(f"{api.seeded.client_id}:wrong-secret".encode()).decode()
        await call("POST", "/v1/oauth/introspect", 401, data={"token": tokens["access_token"]},
                   headers={"Authorization": f"Basic {wrong}"})
    assert observed[("/v1/chat/completions", 424)] == "provider_auth_failed"
    assert observed[("/v1/oauth/introspect", 401)] == "invalid_client"


def test_an_undocumented_status_or_code_fails_the_live_check():
    """The check above can fail: the status the old document gave provider_auth_failed (502), and a
    code the document does not list under 424, are both refused."""
    doc = document("https://ai.example.com")
    body = {"error": {"message": "x", "type": "provider_error", "code": "provider_auth_failed", "param": None}}
    validate_answer(doc, "POST", "/v1/chat/completions", 424, body)
    with pytest.raises(jsonschema.ValidationError):
        validate_answer(doc, "POST", "/v1/chat/completions", 502, body)
    with pytest.raises(jsonschema.ValidationError):
        validate_answer(doc, "POST", "/v1/chat/completions", 424, {"error": {**body["error"], "code": "made_up"}})
    with pytest.raises(AssertionError):
        validate_answer(doc, "GET", "/v1/me", 424, body)


@pytest.mark.parametrize("path", ["/openapi.json"])
async def test_openapi_is_fetchable_cross_origin(api_for, path):
    api = await api_for("sandbox")
    async with aiohttp.ClientSession() as http:
        async with http.get(api.url + path, headers={"Origin": "https://tools.example"}) as resp:
            assert resp.headers["Access-Control-Allow-Origin"] == "*"
