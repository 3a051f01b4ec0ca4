"""Approving an app again with another connection never keeps the old connection's model
(issue 14 §2): a real `infer0 serve`, authlib's OAuth client, and a browser that submits the
consent form exactly as rendered, changing only the connection."""

from __future__ import annotations

import html as html_lib
import re

from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client

from tests.integration.oauth.test_authlib_client_flow import PASSWORD, setup_accounts
from tests.support.browser import Browser, csrf_from

REDIRECT = "http://127.0.0.1:8765/callback"


def form_as_rendered(page: str) -> dict[str, str]:
    """The consent form's values as the browser would send them untouched."""
    selected = re.search(r'<select id="model" name="model">.*?</select>', page, re.S).group(0)
    picked = re.search(r'<option value="([^"]*)" selected>', selected)
    fields = {"csrf_token": csrf_from(page), "model": html_lib.unescape(picked.group(1)) if picked else ""}
    for name in ("model_other", "embedding_model"):
        fields[name] = html_lib.unescape(re.search(rf'name="{name}"[^>]*value="([^"]*)"', page).group(1))
    fields["provider"] = re.search(r'name="provider" value="(\d+)"[^>]*checked', page).group(1)
    return fields


async def authorize_with(base: str, client: AsyncOAuth2Client, meta: dict, provider_name: str | None) -> dict:
    """One authorization: sign in, submit the consent form (switching to `provider_name` if given), get tokens."""
    verifier = generate_token(64)
    url, _ = client.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier)
    browser = Browser(base)
    try:
        path = url[len(base):]
        _, page = await browser.get(path)
        _, page = await browser.post("/login", {"csrf_token": csrf_from(page), "email": "enduser@example.com",
                                                "password": PASSWORD, "next": path})
        data = form_as_rendered(page)
        if provider_name:
            data["provider"] = re.search(r'name="provider" value="(\d+)"[^>]*>\s*<span><strong>' + provider_name,
                                         page).group(1)
        async with browser.http.post(browser.url(path), allow_redirects=False,
                                     data={**data, "decision": "approve"}) as r:
            assert r.status == 303, await r.text()
            callback = r.headers["Location"]
    finally:
        await browser.close()
    return await client.fetch_token(meta["token_endpoint"], authorization_response=callback, code_verifier=verifier)


async def test_reconsent_with_another_connection_takes_its_default_model(serve_process, data_dir):
    server = serve_process()
    base = server.url
    creds = setup_accounts(data_dir, public=False, redirect_uri=REDIRECT)
    client = AsyncOAuth2Client(client_id=creds["client_id"], client_secret=creds["client_secret"],
                               redirect_uri=REDIRECT, code_challenge_method="S256")
    try:
        meta = (await client.request("GET", base + "/.well-known/oauth-authorization-server",
                                     withhold_token=True)).json()
        await authorize_with(base, client, meta, "Play")  # the Sandbox, no model chosen
        me = (await client.get(base + "/v1/me")).json()
        assert (me["provider"]["kind"], me["model"]) == ("sandbox", "sandbox-echo-1")

        await authorize_with(base, client, meta, "Work")  # OpenAI; nothing else touched
        me = (await client.get(base + "/v1/me")).json()
        assert (me["provider"]["kind"], me["model"]) == ("openai", "gpt-4o-mini")
    finally:
        await client.aclose()
