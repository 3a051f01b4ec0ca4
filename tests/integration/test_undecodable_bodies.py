"""A body whose Content-Encoding does not decode (found by probing from outside: `Content-Encoding:
gzip` on plain bytes was a 500 on every route, pages and /v1 alike) is a 400 in each half's
own language: OpenAI's error object, Anthropic's on /v1/messages, RFC 6749 JSON on the OAuth
endpoints, the friendly page in the browser. A body that does decode still works."""

from __future__ import annotations

import gzip
import json

import aiohttp
import pytest

GZIP_LIE = {"Content-Encoding": "gzip"}


@pytest.fixture
async def base(server):
    srv = await server()
    return str(srv.make_url("")).rstrip("/")


@pytest.mark.parametrize("path, shape", [
    ("/v1/chat/completions", "openai"),
    ("/v1/embeddings", "openai"),
    ("/v1/responses", "openai"),
    ("/v1/messages", "anthropic"),
    ("/v1/oauth/token", "oauth"),
    ("/v1/oauth/register", "oauth"),
])
async def test_api_routes_answer_400_in_their_protocol(base, path, shape):
    async with aiohttp.ClientSession() as http:
        async with http.post(base + path, data=b'{"not": "gzip"}',
                             headers={**GZIP_LIE, "Content-Type": "application/json"}) as resp:
            assert resp.status == 400
            body = await resp.json()
    if shape == "openai":
        assert body["error"]["code"] == "invalid_request" and "Content-Encoding" in body["error"]["message"]
    elif shape == "anthropic":
        assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"
    else:
        assert body["error"] == "invalid_request" and "Content-Encoding" in body["error_description"]


@pytest.mark.parametrize("path", ["/login", "/signup", "/device"])
async def test_pages_answer_the_friendly_400_page(base, path):
    async with aiohttp.ClientSession() as http:
        async with http.post(base + path, data=b"email=a%40example.com",
                             headers={**GZIP_LIE, "Content-Type": "application/x-www-form-urlencoded"}) as resp:
            assert resp.status == 400 and resp.content_type == "text/html"
            assert "Content-Encoding" in await resp.text()


async def test_a_body_that_decodes_is_read(base):
    body = gzip.compress(json.dumps({"client_name": "Zipped", "redirect_uris": ["https://zip.example/cb"]}).encode())
    async with aiohttp.ClientSession() as http:
        async with http.post(base + "/v1/oauth/register", data=body,
                             headers={**GZIP_LIE, "Content-Type": "application/json"}) as resp:
            assert resp.status == 201 and (await resp.json())["client_name"] == "Zipped"
