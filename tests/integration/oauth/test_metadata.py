"""GET /.well-known/oauth-authorization-server (RFC 8414)."""

from __future__ import annotations

from authlib.oauth2.rfc8414 import AuthorizationServerMetadata


async def test_metadata_names_every_endpoint_grant_and_method(world):
    async with world.http.get(world.base + "/.well-known/oauth-authorization-server") as resp:
        assert resp.status == 200 and resp.headers["Access-Control-Allow-Origin"] == "*"
        meta = await resp.json()
    base = world.issuer
    assert meta["issuer"] == base
    assert meta["authorization_endpoint"] == f"{base}/oauth/authorize"
    assert meta["token_endpoint"] == f"{base}/v1/oauth/token"
    assert meta["revocation_endpoint"] == f"{base}/v1/oauth/revoke"
    assert meta["introspection_endpoint"] == f"{base}/v1/oauth/introspect"
    assert meta["refresh_endpoint"] == f"{base}/v1/oauth/refresh"
    assert meta["grant_types_supported"] == ["authorization_code", "refresh_token",
                                             "urn:ietf:params:oauth:grant-type:device_code"]
    assert meta["device_authorization_endpoint"] == f"{base}/v1/oauth/device_authorization"
    assert meta["response_types_supported"] == ["code"]
    assert set(meta["token_endpoint_auth_methods_supported"]) == {"client_secret_basic", "client_secret_post", "none"}
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    AuthorizationServerMetadata(meta).validate()  # authlib's own RFC 8414 checks


async def test_metadata_follows_the_public_url(server):
    srv = await server(public_url="https://ai.example.com")
    client = srv.make_url("/.well-known/oauth-authorization-server")
    import aiohttp
    async with aiohttp.ClientSession() as http, http.get(client) as resp:
        meta = await resp.json()
    assert meta["issuer"] == "https://ai.example.com"
    assert meta["token_endpoint"] == "https://ai.example.com/v1/oauth/token"


async def test_plain_http_public_url_is_refused_for_oauth(server):
    """RFC 6749 §3.1/§3.2 require TLS; only loopback http (development) is let through."""
    from tests.support.oauth import World
    w = World(await server(public_url="http://ai.lan:8080"))
    try:
        browser = await w.user("u@example.com")
        client_id, secret = await w.app()
        resp, html = await browser.get(w.authorize_path(client_id), allow_redirects=False)
        assert resp.status == 400 and "Location" not in resp.headers and "public URL" in html
        resp, body = await w.post("/v1/oauth/token", {"grant_type": "authorization_code", "code": "x",
                                                      "client_id": client_id, "client_secret": secret})
        assert resp.status == 400 and body["error"] == "insecure_transport"
    finally:
        await w.close()
