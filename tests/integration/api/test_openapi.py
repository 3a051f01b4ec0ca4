"""/openapi.json describes what the server really answers: live responses validate against it."""

from __future__ import annotations

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


async def test_live_responses_match_the_schemas(api_for):
    api = await api_for("sandbox")
    doc = await _get_doc(api.url)
    auth = {"Authorization": f"Bearer {api.seeded.access_token}"}
    async with aiohttp.ClientSession() as http:
        async def call(method, path, name, status=200, **kw):
            async with http.request(method, api.url + path, **kw) as resp:
                assert resp.status == status, await resp.text()
                body = await resp.json()
            validate(doc, name, body)
            return body

        await call("POST", "/v1/chat/completions", "ChatCompletion", headers=auth,
                   json={"messages": [{"role": "user", "content": "hi"}]})
        await call("GET", "/v1/models", "ModelList", headers=auth)
        await call("GET", "/v1/me", "Me", headers=auth)
        await call("GET", "/v1/models", "OpenAIError", status=401, headers={"Authorization": "Bearer nope"})
        await call("POST", "/v1/chat/completions", "OpenAIError", status=400, headers=auth, data=b"{")
        await call("GET", "/.well-known/oauth-authorization-server", "ServerMetadata")
        await call("GET", "/healthz", "Health")
        form = {"grant_type": "refresh_token", "refresh_token": api.seeded.refresh_token,
                "client_id": api.seeded.client_id, "client_secret": api.seeded.client_secret}
        tokens = await call("POST", "/v1/oauth/refresh", "TokenResponse", data=form)
        await call("POST", "/v1/oauth/introspect", "Introspection",
                   data={"token": tokens["access_token"], "client_id": api.seeded.client_id,
                         "client_secret": api.seeded.client_secret})
        await call("POST", "/v1/oauth/token", "OAuthError", status=400,
                   data={"grant_type": "refresh_token", "refresh_token": "i0_rt_bogus",
                         "client_id": api.seeded.client_id, "client_secret": api.seeded.client_secret})
        await call("POST", "/v1/oauth/token", "OAuthError", status=400,
                   data={"grant_type": "password", "client_id": api.seeded.client_id,
                         "client_secret": api.seeded.client_secret})


@pytest.mark.parametrize("path", ["/openapi.json"])
async def test_openapi_is_fetchable_cross_origin(api_for, path):
    api = await api_for("sandbox")
    async with aiohttp.ClientSession() as http:
        async with http.get(api.url + path, headers={"Origin": "https://tools.example"}) as resp:
            assert resp.headers["Access-Control-Allow-Origin"] == "*"
