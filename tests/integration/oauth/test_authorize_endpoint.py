"""GET/POST /oauth/authorize: validation, sign-in, consent, redirects back (RFC 6749 §4.1, RFC 9207)."""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlencode

import pytest
from yarl import URL

from infer0app.services import grant_views, grants
from infer0app.store.models import AuthorizationCode
from tests.support.browser import csrf_from
from tests.support.oauth import REDIRECT, pkce_pair, query_of

def same_request(url, path: str) -> bool:
    """The browser landed on `path` (yarl may re-encode the query; the decoded values must match)."""
    return url.path == "/oauth/authorize" and dict(url.query) == query_of(path)


BAD_REDIRECTS = [
    "https://APP.example/callback",             # case change in the host
    "https://app.example/Callback",             # case change in the path
    "HTTPS://app.example/callback",             # case change in the scheme
    "https://app.example/callback/",            # trailing slash
    "https://app.example/callback?x=1",         # extra query
    "https://app.example/callback#frag",        # fragment
    "https://app.example/callback/../callback",  # dot-dot traversal
    "https://app.example/other/../callback",
    "https://app.example/callback/%2e%2e/callback",  # encoded traversal
    "https://app.example/%2e%2e/callback",
    "https://app.example@evil.example/callback",  # userinfo: really goes to evil.example
    "https://good@app.example/callback",
    "https://app.example:8443/callback",        # other port
    "https://app.example:443/callback",         # default port spelled out
    "http://app.example/callback",              # downgrade
    "https://app.example.evil.example/callback",
    "https://evil.example/callback",
    "https://app.example/callbackx",
    " https://app.example/callback",
    "javascript:alert(1)",
]


async def test_approve_redirects_with_code_state_and_iss(world):
    browser = await world.user("u@example.com")
    client_id, _ = await world.app()
    resp = await world.consent(browser, world.authorize_path(client_id, state="xyz"))
    assert resp.status == 303
    location = resp.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    q = query_of(location)
    assert set(q) == {"code", "state", "iss"}
    assert q["state"] == "xyz" and q["iss"] == world.issuer
    assert len(q["code"]) >= 43  # 256 bits, base64url


async def test_deny_redirects_with_access_denied(world):
    browser = await world.user("u@example.com")
    client_id, _ = await world.app()
    resp = await world.consent(browser, world.authorize_path(client_id, state="s1"), decision="deny")
    assert resp.status == 303
    q = query_of(resp.headers["Location"])
    assert q["error"] == "access_denied" and q["state"] == "s1" and q["iss"] == world.issuer
    assert "code" not in q
    assert await world.store.run(lambda s: AuthorizationCode.select().count()) == 0


@pytest.mark.parametrize("bad", BAD_REDIRECTS)
async def test_unregistered_redirect_uri_never_redirects(world, bad):
    browser = await world.user("u@example.com")
    client_id, _ = await world.app()
    resp, html = await browser.get(world.authorize_path(client_id, bad, state="s"), allow_redirects=False)
    assert resp.status == 400, bad
    assert "Location" not in resp.headers
    assert "This authorization link does not work" in html
    assert "redirect_uri is not registered for Test App" in html


@pytest.mark.parametrize("bad", ["https://app.example/callback/", "https://app.example:8443/callback"])
async def test_unregistered_redirect_uri_is_refused_before_sign_in_too(world, bad):
    client_id, _ = await world.app()
    anon = world.browser()
    resp, html = await anon.get(world.authorize_path(client_id, bad), allow_redirects=False)
    assert resp.status == 400 and "Location" not in resp.headers


async def test_unknown_or_missing_client_gets_an_error_page(world):
    browser = await world.user("u@example.com")
    for path in ["/oauth/authorize?" + urlencode({"client_id": "i0_ci_nope", "redirect_uri": REDIRECT,
                                                   "response_type": "code"}),
                 "/oauth/authorize?" + urlencode({"redirect_uri": REDIRECT, "response_type": "code"}),
                 "/oauth/authorize"]:
        resp, html = await browser.get(path, allow_redirects=False)
        assert resp.status == 400 and "Location" not in resp.headers
        assert "invalid_client" in html and "client_id" in html


async def test_disabled_app_cannot_start_an_authorization(world):
    from infer0app.services import apps
    browser = await world.user("u@example.com")
    client_id, _ = await world.app()
    await world.store.run(apps.set_disabled, client_id, True, actor="cli:test")
    resp, html = await browser.get(world.authorize_path(client_id), allow_redirects=False)
    assert resp.status == 400 and "Location" not in resp.headers


async def test_missing_redirect_uri_uses_the_only_registered_one(world):
    browser = await world.user("u@example.com")
    client_id, _ = await world.app()
    resp = await world.consent(browser, world.authorize_path(client_id, None))
    assert resp.status == 303 and resp.headers["Location"].startswith(REDIRECT + "?code=")


async def test_missing_redirect_uri_with_several_registered_is_an_error_page(world):
    browser = await world.user("u@example.com")
    client_id, _ = await world.app(redirect_uris=(REDIRECT, "https://app.example/other"))
    resp, html = await browser.get(world.authorize_path(client_id, None), allow_redirects=False)
    assert resp.status == 400 and "Location" not in resp.headers


async def test_registered_uri_with_its_own_query_is_kept_byte_for_byte(world):
    uri = "https://app.example/cb?tenant=a%20b&x=%2F"
    browser = await world.user("u@example.com")
    client_id, _ = await world.app(redirect_uris=(uri,))
    resp = await world.consent(browser, world.authorize_path(client_id, uri, state="s"))
    location = resp.headers["Location"]
    assert location.startswith(uri + "&code=")


@pytest.mark.parametrize("params, error", [
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"response_type": ""}, "invalid_request"),  # RFC 6749 §3.1: empty counts as missing
    ({"response_type": "\u00e9"}, "unsupported_response_type"),  # was a 500 (issue 12 §4)
    ({"scope": "admin"}, "invalid_scope"),
    ({"scope": "inference openid"}, "invalid_scope"),
    ({"code_challenge": "x" * 43, "code_challenge_method": "plain"}, "invalid_request"),
    ({"code_challenge": "x" * 43}, "invalid_request"),  # no method means plain: refused
    ({"code_challenge": "short", "code_challenge_method": "S256"}, "invalid_request"),
    ({"code_challenge_method": "S256"}, "invalid_request"),
])
async def test_other_errors_redirect_back_with_rfc6749_codes(world, params, error):
    browser = await world.user("u@example.com")
    client_id, _ = await world.app()
    query = {"client_id": client_id, "redirect_uri": REDIRECT, "response_type": "code", "state": "st"}
    query.update(params)
    resp, _ = await browser.get("/oauth/authorize?" + urlencode(query), allow_redirects=False)
    assert resp.status == 303, (params, resp.status)
    q = query_of(resp.headers["Location"])
    assert resp.headers["Location"].startswith(REDIRECT + "?")
    assert q["error"] == error and q["state"] == "st" and q["iss"] == world.issuer


async def test_public_client_must_send_a_pkce_challenge(world):
    browser = await world.user("u@example.com")
    client_id, _ = await world.app(public=True)
    resp, _ = await browser.get(world.authorize_path(client_id, state="s"), allow_redirects=False)
    assert resp.status == 303
    q = query_of(resp.headers["Location"])
    assert q["error"] == "invalid_request" and "PKCE" in q["error_description"]
    _, challenge = pkce_pair()
    resp = await world.consent(browser, world.authorize_path(client_id, code_challenge=challenge,
                                                             code_challenge_method="S256"))
    assert resp.status == 303 and "code" in query_of(resp.headers["Location"])


async def test_repeated_parameters_are_refused(world):
    browser = await world.user("u@example.com")
    client_id, _ = await world.app()
    path = world.authorize_path(client_id, state="a") + "&state=b"
    resp, html = await browser.get(path, allow_redirects=False)
    assert resp.status == 400 and "Multiple" in html


async def test_public_native_app_may_use_any_loopback_port(world):
    browser = await world.user("u@example.com")
    client_id, _ = await world.app(redirect_uris=("http://127.0.0.1/cb", "http://[::1]/cb"), public=True)
    _, challenge = pkce_pair()
    for uri in ("http://127.0.0.1:53211/cb", "http://127.0.0.1/cb", "http://[::1]:8080/cb"):
        resp = await world.consent(browser, world.authorize_path(client_id, uri, code_challenge=challenge,
                                                                 code_challenge_method="S256"))
        assert resp.status == 303 and resp.headers["Location"].startswith(uri + "?code="), uri
    for bad in ("http://127.0.0.1:53211/cb/", "http://127.0.0.1:53211/CB", "http://localhost:53211/cb",
                "http://127.0.0.1:5@evil.example/cb", "http://127.0.0.1.evil.example/cb"):
        resp, _ = await browser.get(world.authorize_path(client_id, bad, code_challenge=challenge,
                                                         code_challenge_method="S256"), allow_redirects=False)
        assert resp.status == 400 and "Location" not in resp.headers, bad


async def test_confidential_app_loopback_uri_must_match_its_port(world):
    browser = await world.user("u@example.com")
    client_id, _ = await world.app(redirect_uris=("http://127.0.0.1:9000/cb",))
    resp, _ = await browser.get(world.authorize_path(client_id, "http://127.0.0.1:9001/cb"), allow_redirects=False)
    assert resp.status == 400 and "Location" not in resp.headers


async def test_state_of_1kb_with_special_characters_comes_back_byte_for_byte(world):
    browser = await world.user("u@example.com")
    client_id, _ = await world.app()
    state = ("%+& =?/#é" * 120)[:1024]
    assert len(state) == 1024
    resp = await world.consent(browser, world.authorize_path(client_id, state=state))
    assert query_of(resp.headers["Location"])["state"] == state
    resp = await world.consent(browser, world.authorize_path(client_id, state=state), decision="deny")
    assert query_of(resp.headers["Location"])["state"] == state


async def test_anonymous_user_signs_in_then_returns_to_the_same_request(world):
    await world.user("u@example.com")
    client_id, _ = await world.app()
    path = world.authorize_path(client_id, state="keep me")
    anon = world.browser()
    resp, _ = await anon.get(path, allow_redirects=False)
    assert resp.status == 303
    login = resp.headers["Location"]
    assert login.startswith("/login?next=") and same_request(URL(unquote(login.split("next=", 1)[1])), path)
    resp, html = await anon.get(login)
    assert 'href="/signup?next=' in html  # or create an account, same way back
    resp, html = await anon.post("/login", {"csrf_token": csrf_from(html), "email": "u@example.com",
                                           "password": "correct horse battery", "next": path})
    assert resp.status == 200 and "wants to use your AI providers" in html
    assert same_request(resp.url, path)


async def test_new_user_signs_up_from_the_authorize_link(world):
    client_id, _ = await world.app()
    path = world.authorize_path(client_id, state="s")
    anon = world.browser()
    _, html = await anon.get("/signup?next=" + quote(path, safe=""))
    resp, html = await anon.post("/signup", {"csrf_token": csrf_from(html), "email": "new@example.com",
                                            "password": "correct horse battery",
                                            "password_confirm": "correct horse battery", "next": path})
    assert resp.status == 200 and "You have no provider connection yet" in html


async def test_consent_page_names_app_developer_homepage_and_what_it_can_do(world):
    browser = await world.user("u@example.com")
    await world.connection("u@example.com", kind="openai", name="Work OpenAI", model="gpt-4o-mini")
    client_id, _ = await world.app(owner="maker@example.com", name="Acme Notes")
    resp, html = await browser.get(world.authorize_path(client_id))
    assert resp.status == 200
    assert "Acme Notes" in html and "maker@example.com" in html and "https://app.example" in html
    assert grants.SCOPES["inference"].split(",")[0] in html.replace("&#39;", "'")
    assert "Work OpenAI" in html and "Sandbox" in html and 'name="model"' in html
    assert "<script" not in html  # plain forms, no JavaScript
    assert re.search(r'<form method="post" action="/oauth/authorize\?[^"]+">', html)


async def test_approve_stores_the_chosen_connection_and_model(world):
    browser = await world.user("u@example.com")
    other = await world.connection("u@example.com", kind="openai", name="Work OpenAI", model="gpt-4o-mini")
    client_id, secret = await world.app()
    resp = await world.consent(browser, world.authorize_path(client_id), provider=other.id, model="gpt-4o")
    code = query_of(resp.headers["Location"])["code"]
    _, tok = await world.exchange(code, client_id, secret)
    _, me = await world.me(tok["access_token"])
    assert me["provider"]["kind"] == "openai" and me["model"] == "gpt-4o"


async def test_someone_elses_connection_cannot_be_chosen(world):
    browser = await world.user("u@example.com")
    await world.user("mallory@example.com")
    theirs = await world.connection("mallory@example.com", kind="openai", name="Mallory's")
    client_id, _ = await world.app()
    resp = await world.consent(browser, world.authorize_path(client_id), provider=theirs.id)
    assert resp.status == 400 and "Location" not in resp.headers
    assert await world.store.run(lambda s: AuthorizationCode.select().count()) == 0


async def test_no_connection_offers_to_add_one_and_returns_to_consent(world):
    browser = await world.user("u@example.com", sandbox=False)
    client_id, secret = await world.app()
    path = world.authorize_path(client_id, state="back")
    resp, html = await browser.get(path)
    assert "You have no provider connection yet" in html and 'value="approve"' not in html
    link = re.search(r'href="(/providers\?next=[^"]+)"', html).group(1)
    resp, html = await browser.get(link.replace("&amp;", "&"))
    assert resp.status == 200 and 'name="next"' in html
    resp, html = await browser.post("/providers", {"csrf_token": csrf_from(html), "kind": "sandbox",
                                                  "next": unquote(link.split("next=", 1)[1])})
    assert resp.status == 200 and same_request(resp.url, path)
    assert "wants to use your AI providers" in html and 'value="approve"' in html
    code = await world.code(browser, client_id, state="back")
    resp, _ = await world.exchange(code, client_id, secret)
    assert resp.status == 200


@pytest.mark.parametrize("csrf", ["", "foreign"])
async def test_consent_without_or_with_foreign_csrf_token_is_403_and_issues_no_code(world, csrf):
    browser = await world.user("u@example.com")
    client_id, _ = await world.app()
    token = ""
    if csrf == "foreign":
        other = await world.user("other@example.com")
        token = await other.token_for("/")
    resp = await world.consent(browser, world.authorize_path(client_id, state="s"), csrf=token)
    assert resp.status == 403 and "Location" not in resp.headers
    assert await world.store.run(lambda s: AuthorizationCode.select().count()) == 0


async def test_security_headers_on_authorize_and_consent(world):
    browser = await world.user("u@example.com")
    client_id, _ = await world.app()
    path = world.authorize_path(client_id)
    responses = []
    resp, _ = await browser.get(path)
    responses.append(resp)  # the consent page
    resp, _ = await world.browser().get(path, allow_redirects=False)
    responses.append(resp)  # the sign-in redirect
    resp, _ = await browser.get(world.authorize_path(client_id, "https://evil.example/"), allow_redirects=False)
    responses.append(resp)  # the error page
    responses.append(await world.consent(browser, path))  # the redirect with the code
    for r in responses:
        assert r.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
        assert r.headers["Referrer-Policy"] == "no-referrer"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert "Access-Control-Allow-Origin" not in r.headers
    assert responses[0].headers["Cache-Control"] == "no-store"


async def test_no_cors_on_authorize_preflight(world):
    client_id, _ = await world.app()
    async with world.http.options(world.base + world.authorize_path(client_id),
                                  headers={"Origin": "https://evil.example",
                                           "Access-Control-Request-Method": "POST"}) as resp:
        assert "Access-Control-Allow-Origin" not in resp.headers


async def test_code_is_bound_to_pkce_challenge_and_redirect_uri(world):
    browser = await world.user("u@example.com")
    client_id, _ = await world.app()
    _, challenge = pkce_pair()
    await world.code(browser, client_id, code_challenge=challenge, code_challenge_method="S256")
    row = await world.store.run(lambda s: AuthorizationCode.select().first())
    assert row.code_challenge == challenge and row.code_challenge_method == "S256"
    assert row.redirect_uri == REDIRECT
    assert 0 < row.expires_at - row.created_at <= 600


async def test_consent_can_let_the_app_choose_among_the_connections_models(world):
    browser = await world.user("chooser@example.com")
    client_id, _ = await world.app()
    _, html = await browser.get(world.authorize_path(client_id))
    assert 'name="allow_model_choice"' in html and "Let the app pick another model" in html
    resp = await world.consent(browser, world.authorize_path(client_id), allow_model_choice=True)
    assert resp.status == 303
    (grant,) = await world.store.run(grant_views.list_grants)
    assert grant.allow_model_choice is True
    resp = await world.consent(browser, world.authorize_path(client_id))  # approving again without it
    (grant,) = await world.store.run(grant_views.list_grants)
    assert grant.allow_model_choice is False
