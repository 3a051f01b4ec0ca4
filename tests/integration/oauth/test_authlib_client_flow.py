"""Authlib's own OAuth client against a real `infer0 serve` on loopback: the whole flow, no shortcuts.

Users, the provider connection and the app are made with the operator CLI (while the server
runs); the end user's browser is played by an HTTP client that signs in and submits the
consent form; everything the app does goes through `AsyncOAuth2Client`.
"""

from __future__ import annotations

import re

import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError

from tests.support.browser import Browser, csrf_from
from tests.support.processes import run_cli_json

PASSWORD = "correct horse battery"


def setup_accounts(data_dir, *, public: bool, redirect_uri: str) -> dict:
    for email in ("dev@example.com", "enduser@example.com"):
        run_cli_json("users", "create", "--email", email, "--password-stdin", input=PASSWORD + "\n",
                     data_dir=data_dir)
    run_cli_json("providers", "add", "--user", "enduser@example.com", "--kind", "sandbox", "--name", "Play",
                 data_dir=data_dir)
    run_cli_json("providers", "add", "--user", "enduser@example.com", "--kind", "openai", "--name", "Work",
                 "--api-key-stdin", input="sk-test-not-real-1234\n", data_dir=data_dir)
    return run_cli_json("apps", "create", "--owner", "dev@example.com", "--name", "Authlib App",
                        "--redirect-uri", redirect_uri, *(["--public"] if public else []), data_dir=data_dir)


async def sign_in_and_approve(base: str, authorize_url: str, provider_name: str, model: str) -> str:
    """The end user's browser: authorize link -> sign-in -> consent -> approve; returns the callback URL."""
    browser = Browser(base)
    try:
        path = authorize_url[len(base):]
        resp, html = await browser.get(path)  # redirected to /login?next=...
        assert "/login" in str(resp.url)
        resp, html = await browser.post("/login", {"csrf_token": csrf_from(html), "email": "enduser@example.com",
                                                  "password": PASSWORD, "next": path})
        assert "wants to use your AI providers" in html and "Authlib App" in html
        provider = re.search(r'name="provider" value="(\d+)"[^>]*>\s*<span><strong>' + provider_name, html).group(1)
        async with browser.http.post(browser.url(path), allow_redirects=False, data={
                "csrf_token": csrf_from(html), "decision": "approve", "provider": provider, "model": model}) as r:
            assert r.status == 303
            return r.headers["Location"]
    finally:
        await browser.close()


@pytest.mark.parametrize("public", [False, True], ids=["confidential", "public"])
async def test_authlib_client_runs_the_whole_flow(serve_process, data_dir, public):
    server = serve_process()
    base = server.url
    redirect_uri = "http://127.0.0.1:8765/callback"
    creds = setup_accounts(data_dir, public=public, redirect_uri=redirect_uri)
    client_id = creds["client_id"]
    assert ("client_secret" in creds) is not public

    meta_client = AsyncOAuth2Client()
    meta = (await meta_client.request("GET", base + "/.well-known/oauth-authorization-server",
                                      withhold_token=True)).json()
    await meta_client.aclose()

    client = AsyncOAuth2Client(
        client_id=client_id, client_secret=creds.get("client_secret"), redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="none" if public else "client_secret_basic")
    try:
        verifier = generate_token(64)
        url, state = client.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier)
        callback = await sign_in_and_approve(base, url, "Work", "gpt-4o")
        assert callback.startswith(redirect_uri + "?")

        token = await client.fetch_token(meta["token_endpoint"], authorization_response=callback,
                                         code_verifier=verifier)
        assert token["token_type"] == "Bearer" and token["expires_in"] == 3600 and token["scope"] == "inference"

        me = (await client.get(base + "/v1/me")).json()
        assert me["client_id"] == client_id and me["provider"]["kind"] == "openai" and me["model"] == "gpt-4o"

        first_access = token["access_token"]
        via_refresh = await client.refresh_token(meta["refresh_endpoint"])  # the brief's endpoint
        assert via_refresh["access_token"] != first_access
        via_token = await client.refresh_token(meta["token_endpoint"])  # the standard one
        assert via_token["refresh_token"] != via_refresh["refresh_token"]
        assert (await client.get(base + "/v1/me")).status_code == 200

        resp = await client.revoke_token(meta["revocation_endpoint"], token=via_token["access_token"],
                                         token_type_hint="access_token")
        assert resp.status_code == 200
        rejected = await client.get(base + "/v1/me")
        assert rejected.status_code == 401
        assert 'error="invalid_token"' in rejected.headers["www-authenticate"]
        assert rejected.json()["error"]["code"] == "invalid_token"

        # the spent refresh token from before: reuse detection ends the whole authorization
        with pytest.raises(OAuthError) as err:
            await client.refresh_token(meta["refresh_endpoint"], refresh_token=via_refresh["refresh_token"])
        assert err.value.error == "invalid_grant"
    finally:
        await client.aclose()
