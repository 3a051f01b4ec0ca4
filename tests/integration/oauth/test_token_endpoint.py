"""What every request to the token endpoints shares: client authentication, request shape,
RFC 6749 §5.2 errors, the per-client rate limit, CORS."""

from __future__ import annotations

import json

import pytest

from tests.support.oauth import basic


async def test_unknown_grant_type(world):
    client_id, secret = await world.app()
    resp, body = await world.post("/v1/oauth/token", {"grant_type": "password", "client_id": client_id,
                                                      "client_secret": secret})
    assert resp.status == 400 and body["error"] == "unsupported_grant_type"
    # RFC 6749 §5.2: a missing (or empty, §3.1) required parameter is invalid_request.
    resp, body = await world.post("/v1/oauth/token", {"client_id": client_id, "client_secret": secret})
    assert resp.status == 400 and body["error"] == "invalid_request"
    resp, body = await world.post("/v1/oauth/token", {"grant_type": "", "client_id": client_id, "client_secret": secret})
    assert resp.status == 400 and body["error"] == "invalid_request"


async def test_invalid_client_with_basic_is_401_with_www_authenticate(world):
    client_id, _ = await world.app()
    resp, body = await world.post("/v1/oauth/token", {"grant_type": "authorization_code", "code": "x"},
                                  auth=(client_id, "i0_cs_wrong"))
    assert resp.status == 401 and body["error"] == "invalid_client"
    assert resp.headers["WWW-Authenticate"].startswith("Basic ")
    resp, body = await world.post("/v1/oauth/token", {"grant_type": "authorization_code", "code": "x"},
                                  auth=("i0_ci_unknown", "whatever"))
    assert resp.status == 401 and body["error"] == "invalid_client" and "WWW-Authenticate" in resp.headers


CLIENT_ENDPOINTS = ["/v1/oauth/token", "/v1/oauth/refresh", "/v1/oauth/revoke", "/v1/oauth/introspect",
                    "/v1/oauth/device_authorization"]


@pytest.mark.parametrize("path", CLIENT_ENDPOINTS)
async def test_another_authorization_scheme_is_401_with_basic_challenge(world, path):
    # RFC 6749 §5.2: the client tried the Authorization header, so 401 and a challenge in the
    # scheme infer0 accepts (Basic); it used to be a 400 invalid_client without a challenge.
    client_id, secret = await world.app()
    form = {"grant_type": "refresh_token", "refresh_token": "x", "token": "x", "client_id": client_id}
    for header in ("Bearer x", "Digest username=x", "Token " + secret, "Bearer"):
        for data in (form, {**form, "client_secret": secret}):
            resp, body = await world.post(path, data, headers={"Authorization": header})
            assert resp.status == 401 and body["error"] == "invalid_client", (path, header, body)
            assert resp.headers["WWW-Authenticate"].startswith('Basic realm="infer0"'), header
            assert secret not in json.dumps(body)


async def test_invalid_client_without_basic_is_400_without_challenge(world):
    client_id, _ = await world.app()
    for data in ({"client_id": client_id, "client_secret": "i0_cs_wrong"},
                 {"client_id": "i0_ci_unknown", "client_secret": "x"},
                 {"client_id": client_id}, {}):
        resp, body = await world.post("/v1/oauth/token", {"grant_type": "authorization_code", "code": "x", **data})
        assert resp.status == 400 and body["error"] == "invalid_client", data
        assert "WWW-Authenticate" not in resp.headers


async def test_two_client_authentication_methods_at_once_are_refused(world):
    client_id, secret = await world.app()
    resp, body = await world.post("/v1/oauth/token", {"grant_type": "authorization_code", "code": "x",
                                                      "client_secret": secret}, auth=(client_id, secret))
    assert resp.status == 400 and body["error"] == "invalid_request"


async def test_public_client_id_cannot_hide_behind_failed_basic_auth(world):
    confidential, _ = await world.app(name="C")
    public, _ = await world.app(name="P", public=True)
    resp, body = await world.post("/v1/oauth/token", {"grant_type": "authorization_code", "code": "x",
                                                      "client_id": public}, auth=(confidential, "wrong"))
    assert resp.status == 400 and body["error"] == "invalid_request"


@pytest.mark.parametrize("param", ["code", "client_secret", "refresh_token", "code_verifier"])
async def test_secrets_in_the_url_are_refused(world, param):
    client_id, secret = await world.app()
    resp, body = await world.post(f"/v1/oauth/token?{param}=abc", {"grant_type": "authorization_code",
                                                                   "client_id": client_id,
                                                                   "client_secret": secret})
    assert resp.status == 400 and body["error"] == "invalid_request" and "URL" in body["error_description"]


async def test_json_body_is_refused(world):
    client_id, secret = await world.app()
    resp, body = await world.post("/v1/oauth/token", raw=json.dumps({"grant_type": "authorization_code"}),
                                  headers={"Content-Type": "application/json"})
    assert resp.status == 400 and body["error"] == "invalid_request" and "form-encoded" in body["error_description"]


async def test_repeated_parameters_are_refused(world):
    client_id, secret = await world.app()
    raw = f"grant_type=authorization_code&code=a&code=b&client_id={client_id}&client_secret={secret}"
    resp, body = await world.post("/v1/oauth/token", raw=raw,
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status == 400 and body["error"] == "invalid_request" and "more than once" in body["error_description"]


async def test_get_and_unknown_paths_answer_oauth_json(world):
    async with world.http.get(world.base + "/v1/oauth/token") as resp:
        body = await resp.json()
        assert resp.status == 405 and body["error"] == "invalid_request" and "POST" in resp.headers["Allow"]
    resp, body = await world.post("/v1/oauth/nothing", {})
    assert resp.status == 404 and body["error"] == "invalid_request"


async def test_failed_client_authentication_is_rate_limited_per_client(world):
    client_id, secret = await world.app()
    other_id, other_secret = await world.app(name="Other")
    for _ in range(10):
        resp, body = await world.post("/v1/oauth/token", {"grant_type": "authorization_code", "code": "x",
                                                          "client_id": client_id, "client_secret": "i0_cs_guess"})
        assert resp.status == 400 and body["error"] == "invalid_client"
    # now even the right secret is not checked for a while
    resp, body = await world.post("/v1/oauth/token", {"grant_type": "authorization_code", "code": "x",
                                                      "client_id": client_id, "client_secret": secret})
    assert resp.status == 429 and body["error"] == "slow_down" and int(resp.headers["Retry-After"]) > 0
    resp, body = await world.post("/v1/oauth/refresh", {"refresh_token": "x", "client_id": client_id,
                                                        "client_secret": secret})
    assert resp.status == 429
    # another client is not affected
    resp, body = await world.post("/v1/oauth/token", {"grant_type": "authorization_code", "code": "x",
                                                      "client_id": other_id, "client_secret": other_secret})
    assert resp.status == 400 and body["error"] == "invalid_grant"


async def test_cors_preflight_and_headers_on_token_endpoint(world):
    async with world.http.options(world.base + "/v1/oauth/token",
                                  headers={"Origin": "https://spa.example", "Access-Control-Request-Method": "POST",
                                           "Access-Control-Request-Headers": "content-type"}) as resp:
        assert resp.status == 204
        assert resp.headers["Access-Control-Allow-Origin"] == "*"
        assert "POST" in resp.headers["Access-Control-Allow-Methods"]
        assert "content-type" in resp.headers["Access-Control-Allow-Headers"].lower()
        assert "Access-Control-Allow-Credentials" not in resp.headers
    resp, _ = await world.post("/v1/oauth/token", {"grant_type": "nope"}, headers={"Origin": "https://spa.example"})
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in resp.headers


async def test_basic_credentials_are_form_urlencoded_per_rfc6749(world):
    client_id, secret = await world.app()
    browser = await world.user("u@example.com")
    code = await world.code(browser, client_id)
    resp, body = await world.post("/v1/oauth/token", {"grant_type": "authorization_code", "code": code,
                                                      "redirect_uri": "https://app.example/callback"},
                                  headers={"Authorization": basic(client_id, secret)})
    assert resp.status == 200
