"""Dynamic client registration (RFC 7591) and management (RFC 7592), protected-resource metadata
(RFC 9728), against the real server: an app that knows only the server's URL discovers it,
registers, runs the code flow with PKCE and calls the API with the official openai SDK."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import openai
import pytest

from infer0app.services import apps
from infer0app.store.models import AuditEvent, OAuthApp
from tests.support.oauth import World, pkce_pair, query_of

NATIVE = "com.example.notes:/oauth2redirect"


def local(world: World, url: str) -> str:
    """The test server listens on a random port; the issuer names the configured one."""
    assert url.startswith(world.issuer), url
    return world.base + url[len(world.issuer):]


async def get(world: World, url: str, **kw):
    async with world.http.get(url, **kw) as resp:
        return resp, await resp.json(content_type=None)


async def register(world: World, body, *, headers=None):
    async with world.http.post(world.base + "/v1/oauth/register", json=body, headers=headers) as resp:
        return resp, await resp.json(content_type=None)


def metadata(**extra) -> dict:
    return {"client_name": "Notes", "redirect_uris": ["https://notes.example/cb"], **extra}


async def test_an_app_knowing_only_the_server_url_registers_authorizes_and_chats(world):
    browser = await world.user("reader@example.com")
    # 1. Discovery: from the API URL (RFC 9728) to the authorization server (RFC 8414).
    async with world.http.get(world.base + "/v1/models") as resp:
        assert resp.status == 401
        challenge = resp.headers["WWW-Authenticate"]
    resource_url = challenge.split('resource_metadata="')[1].split('"')[0]
    resp, resource = await get(world, local(world, resource_url))
    assert resource["resource"] == world.issuer + "/v1"
    _, server_meta = await get(world, local(world, resource["authorization_servers"][0])
                               + "/.well-known/oauth-authorization-server")
    # 2. Registration as a public client (PKCE, no secret).
    resp, info = await register(world, metadata(token_endpoint_auth_method="none",
                                                grant_types=["authorization_code", "refresh_token"],
                                                client_uri="https://notes.example", software_id="notes-app",
                                                software_version="1.2.0", logo_uri="https://notes.example/l.png"))
    assert server_meta["registration_endpoint"] == world.issuer + "/v1/oauth/register"
    assert resp.status == 201 and resp.headers["Cache-Control"] == "no-store"
    assert info["client_id"].startswith("i0_ci_") and "client_secret" not in info
    assert info["registration_access_token"].startswith("i0_rat_")
    assert info["registration_client_uri"] == f"{world.issuer}/v1/oauth/register/{info['client_id']}"
    assert info["token_endpoint_auth_method"] == "none" and info["redirect_uris"] == ["https://notes.example/cb"]
    assert (info["software_id"], info["software_version"], info["client_uri"]) == (
        "notes-app", "1.2.0", "https://notes.example")
    assert isinstance(info["client_id_issued_at"], int)
    app = await world.store.run(apps.get_app, info["client_id"])
    assert (app.origin, app.verified, app.owner_id) == ("dynamic", False, None)
    # 3. The authorization code flow with PKCE, then the API through the openai SDK.
    verifier, challenge = pkce_pair()
    code = await world.code(browser, info["client_id"], "https://notes.example/cb", code_challenge=challenge,
                            code_challenge_method="S256")
    resp, tokens = await world.exchange(code, info["client_id"], None, "https://notes.example/cb",
                                        code_verifier=verifier)
    assert resp.status == 200, tokens
    client = openai.AsyncOpenAI(api_key=tokens["access_token"], base_url=world.base + "/v1", max_retries=0)
    try:
        chat = await client.chat.completions.create(model="any", messages=[{"role": "user", "content": "Hi"}])
    finally:
        await client.close()
    assert chat.choices[0].message.content


async def test_confidential_registration_gets_a_secret_that_authenticates(world):
    resp, info = await register(world, metadata(token_endpoint_auth_method="client_secret_post"))
    assert resp.status == 201
    assert info["client_secret"].startswith("i0_cs_") and info["client_secret_expires_at"] == 0
    row = await world.store.run(lambda s: OAuthApp.get(OAuthApp.client_id == info["client_id"]))
    assert info["client_secret"] not in str(row.__data__) and info["registration_access_token"] not in str(
        row.__data__)  # only hashes are stored
    data = {"token": "i0_at_unknown", "client_id": info["client_id"], "client_secret": info["client_secret"]}
    resp, body = await world.post("/v1/oauth/introspect", data)
    assert (resp.status, body) == (200, {"active": False})
    # It registered client_secret_post: Basic is not its method.
    resp, body = await world.post("/v1/oauth/introspect", {"token": "x"},
                                  auth=(info["client_id"], info["client_secret"]))
    assert resp.status == 401 and body["error"] == "invalid_client"


async def test_rfc7592_read_update_delete(world):
    _, info = await register(world, metadata(token_endpoint_auth_method="none"))
    url = local(world, info["registration_client_uri"])
    auth = {"Authorization": "Bearer " + info["registration_access_token"]}
    resp, read = await get(world, url, headers=auth)
    assert resp.status == 200 and read["client_name"] == "Notes"
    assert read["registration_access_token"] == info["registration_access_token"]

    update = {**metadata(client_name="Notes 2", redirect_uris=["https://notes.example/cb2", NATIVE]),
              "client_id": info["client_id"], "token_endpoint_auth_method": "none"}
    async with world.http.put(url, json=update, headers=auth) as resp:
        updated = await resp.json()
        assert resp.status == 200, updated
    assert updated["client_name"] == "Notes 2" and updated["redirect_uris"] == ["https://notes.example/cb2", NATIVE]
    app = await world.store.run(apps.get_app, info["client_id"])
    assert app.name == "Notes 2" and app.redirect_uris == ("https://notes.example/cb2", NATIVE)

    async with world.http.put(url, json={**update, "client_id": "i0_ci_other"}, headers=auth) as resp:
        assert resp.status == 400 and (await resp.json())["error"] == "invalid_client_metadata"
    async with world.http.put(url, json={**update, "redirect_uris": ["http://evil.example/cb"]},
                              headers=auth) as resp:
        assert resp.status == 400 and (await resp.json())["error"] == "invalid_redirect_uri"

    for headers in ({}, {"Authorization": "Bearer i0_rat_wrong"}):
        resp, body = await get(world, url, headers=headers)
        assert resp.status == 401 and body["error"] == "invalid_token"
        # RFC 6750 §3.1: no credentials at all, no error code in the challenge
        assert ('error="invalid_token"' in resp.headers["WWW-Authenticate"]) is bool(headers)
        assert resp.headers["WWW-Authenticate"].startswith('Bearer realm="infer0"')
    # Another client's token does not manage this one.
    _, other = await register(world, metadata())
    resp, _ = await get(world, url, headers={"Authorization": "Bearer " + other["registration_access_token"]})
    assert resp.status == 401

    async with world.http.delete(url, headers=auth) as resp:
        assert resp.status == 204
    assert await world.store.run(apps.find_app, info["client_id"]) is None
    resp, body = await get(world, url, headers=auth)
    assert resp.status == 401 and body["error"] == "invalid_token"
    actions = await world.store.run(lambda s: [(e.actor, e.action) for e in AuditEvent.select().where(
        AuditEvent.target == info["client_id"]).order_by(AuditEvent.id)])
    actor = f"client:{info['client_id']}"
    assert actions == [(actor, "app.register"), (actor, "app.update"), (actor, "app.delete")]


async def test_deleting_a_registration_ends_its_tokens(world):
    browser = await world.user("reader@example.com")
    _, info = await register(world, metadata(token_endpoint_auth_method="none"))
    verifier, challenge = pkce_pair()
    code = await world.code(browser, info["client_id"], "https://notes.example/cb", code_challenge=challenge,
                            code_challenge_method="S256")
    _, tokens = await world.exchange(code, info["client_id"], None, "https://notes.example/cb",
                                     code_verifier=verifier)
    assert (await world.me(tokens["access_token"]))[0].status == 200
    async with world.http.delete(local(world, info["registration_client_uri"]), headers={
            "Authorization": "Bearer " + info["registration_access_token"]}) as resp:
        assert resp.status == 204
    assert (await world.me(tokens["access_token"]))[0].status == 401


@pytest.mark.parametrize("body, error", [
    ({"redirect_uris": ["https://a.example/cb"]}, "invalid_client_metadata"),  # no client_name
    (metadata(redirect_uris=[]), "invalid_redirect_uri"),
    ({"client_name": "X"}, "invalid_redirect_uri"),
    (metadata(redirect_uris=["http://evil.example/cb"]), "invalid_redirect_uri"),
    (metadata(redirect_uris=["https://a.example/cb#frag"]), "invalid_redirect_uri"),
    (metadata(redirect_uris=[NATIVE]), "invalid_redirect_uri"),  # private-use scheme, confidential client
    (metadata(redirect_uris=["myapp:/cb"], token_endpoint_auth_method="none"), "invalid_redirect_uri"),
    (metadata(token_endpoint_auth_method="private_key_jwt"), "invalid_client_metadata"),
    (metadata(grant_types=["client_credentials"]), "invalid_client_metadata"),
    (metadata(grant_types=["refresh_token"]), "invalid_client_metadata"),
    (metadata(response_types=["token"]), "invalid_client_metadata"),
    (metadata(logo_uri="http://notes.example/logo.png"), "invalid_client_metadata"),
    (metadata(tos_uri="javascript:alert(1)"), "invalid_client_metadata"),
    (metadata(policy_uri=42), "invalid_client_metadata"),
    (metadata(client_name="x" * 101), "invalid_client_metadata"),
    (["not", "an", "object"], "invalid_client_metadata"),
])
async def test_invalid_metadata_is_refused_with_rfc7591_errors(world, body, error):
    resp, answer = await register(world, body)
    assert resp.status == 400 and answer["error"] == error, answer
    assert answer["error_description"]
    assert await world.store.run(lambda s: OAuthApp.select().count()) == 0


DESCRIPTION_CHARS = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*")  # RFC 6749 §5.2 error_description


@pytest.mark.parametrize("body", [
    metadata(redirect_uris=["https://notes.example/c\x00b"]),
    metadata(redirect_uris=["https://notes.example/cb", "https://notes.example/\u202ecb\\x"]),
    metadata(redirect_uris=["https://notes.example/cb#\u2026"]),
    metadata(grant_types=["authorization_code", "x\x00\"\\y"]),
    metadata(logo_uri="https://notes.example/l\x00go"),
    metadata(client_name="No\x00tes"),
    metadata(response_types=["token"]),
])
async def test_metadata_errors_stay_in_the_rfc6749_description_charset_and_echo_nothing(world, body):
    # The descriptions used to quote the input with Python escapes ('\\x00', '\\u202e') and '"'.
    resp, answer = await register(world, body)
    assert resp.status == 400 and answer["error"] in ("invalid_client_metadata", "invalid_redirect_uri")
    description = answer["error_description"]
    assert description and DESCRIPTION_CHARS.fullmatch(description), description
    assert "x00" not in description and "u202e" not in description and "notes.example" not in description


async def test_non_json_body_is_invalid_client_metadata(world):
    resp, body = await world.post("/v1/oauth/register", {"client_name": "X"})
    assert resp.status == 400 and body["error"] == "invalid_client_metadata"


async def test_metadata_nested_too_deep_for_the_decoder_is_invalid_client_metadata(world):
    """Found by probing: 20,000 nested arrays (40 KB, under the 64 KB cap) raised RecursionError: a 500."""
    deep = b'{"client_name": "X", "redirect_uris": ["https://x.example/cb"], "x": ' + b"[" * 20_000 + b"]" * 20_000 + b"}"
    async with world.http.post(world.base + "/v1/oauth/register", data=deep,
                               headers={"Content-Type": "application/json"}) as resp:
        assert resp.status == 400 and (await resp.json())["error"] == "invalid_client_metadata"


async def test_a_body_sent_after_expect_100_continue_registers(world):
    """Found by probing: with Expect: 100-continue (curl's default for large bodies; other HTTP
    clients always send it) the body arrives after the headers, the server reads it ahead, and
    the endpoint then read an empty stream: 400 "not valid UTF-8 JSON" for valid metadata."""
    async with world.http.post(world.base + "/v1/oauth/register", json=metadata(), expect100=True) as resp:
        assert resp.status == 201, await resp.text()
        assert (await resp.json())["client_name"] == "Notes"


async def test_unknown_metadata_is_ignored(world):
    resp, info = await register(world, metadata(jwks_uri="https://a.example/jwks", contacts=["a@b.c"]))
    assert resp.status == 201 and "jwks_uri" not in info


async def test_closed_registration_answers_403_and_leaves_the_metadata(server):
    world = World(await server(client_registration="closed"))
    try:
        resp, body = await register(world, metadata())
        assert resp.status == 403 and body["error"] == "access_denied"
        _, meta = await get(world, world.base + "/.well-known/oauth-authorization-server")
        assert "registration_endpoint" not in meta
    finally:
        await world.close()


async def test_registrations_are_rate_limited_per_address(server):
    world = World(await server(client_registration_rate=2))
    try:
        assert (await register(world, metadata()))[0].status == 201
        assert (await register(world, {"client_name": "bad"}))[0].status == 400  # attempts count too
        resp, body = await register(world, metadata())
        assert resp.status == 429 and body["error"] == "slow_down" and int(resp.headers["Retry-After"]) > 0
    finally:
        await world.close()


async def test_native_app_private_use_redirect_through_the_authorize_endpoint(world):
    browser = await world.user("phone@example.com")
    resp, info = await register(world, {"client_name": "Notes for Android", "redirect_uris": [NATIVE],
                                        "token_endpoint_auth_method": "none"})
    assert resp.status == 201, info
    verifier, challenge = pkce_pair()
    path = world.authorize_path(info["client_id"], NATIVE, code_challenge=challenge, code_challenge_method="S256",
                                state="s1")
    resp = await world.consent(browser, path)
    assert resp.status == 303
    location = resp.headers["Location"]
    assert location.startswith(NATIVE + "?") and query_of(location)["state"] == "s1"
    resp, tokens = await world.exchange(query_of(location)["code"], info["client_id"], None, NATIVE,
                                        code_verifier=verifier)
    assert resp.status == 200, tokens
    # Compared exactly: another path under the same scheme is not registered.
    resp, html = await browser.get(world.authorize_path(info["client_id"], NATIVE + "x",
                                                        code_challenge=challenge, code_challenge_method="S256"),
                                   allow_redirects=False)
    assert resp.status == 400 and "Location" not in resp.headers


async def test_protected_resource_metadata_both_paths(world):
    resp, v1 = await get(world, world.base + "/.well-known/oauth-protected-resource/v1")
    assert resp.status == 200
    assert v1 == {"resource": world.issuer + "/v1", "authorization_servers": [world.issuer],
                  "scopes_supported": ["inference"], "bearer_methods_supported": ["header"],
                  "resource_name": v1["resource_name"], "resource_documentation": world.issuer + "/dev/docs"}
    _, bare = await get(world, world.base + "/.well-known/oauth-protected-resource")
    assert bare["resource"] == world.issuer and bare["authorization_servers"] == [world.issuer]
    async with world.http.get(world.base + "/v1/me", headers={"Authorization": "Bearer i0_at_nope"}) as resp:
        assert resp.status == 401
        assert (f'resource_metadata="{world.issuer}/.well-known/oauth-protected-resource/v1"'
                in resp.headers["WWW-Authenticate"])
