"""A client id or an email with a NUL character is "no such client" or invalid input, on both
engines alike (issue 15). PostgreSQL refuses even to compare a text holding NUL (psycopg's
DataError), so before the lookups learned that no client id or email can hold one, each of these
answered 500 on PostgreSQL where SQLite answered invalid_client (and stored such an email)."""

from __future__ import annotations

from tests.support.browser import Browser

NUL_ID = "i0_ci_\x00x"


async def test_token_revocation_and_device_endpoints_answer_invalid_client(world):
    for path, form in (("/v1/oauth/token", {"grant_type": "authorization_code", "code": "x"}),
                       ("/v1/oauth/revoke", {"token": "i0_at_x"}),
                       ("/v1/oauth/device_authorization", {})):
        resp, body = await world.post(path, {**form, "client_id": NUL_ID, "client_secret": "i0_cs_x"})
        assert (resp.status, body["error"]) == (400, "invalid_client"), (path, body)
        assert body["error_description"] == "The client does not exist on this server."


async def test_authorize_shows_the_unknown_client_page(world):
    resp, html = await world.browser().get("/oauth/authorize?response_type=code&client_id=i0_ci_%00x"
                                           "&redirect_uri=https%3A%2F%2Fapp.example%2Fcb")
    assert resp.status == 400 and "<!doctype html>" in html.lower() and "server_error" not in html


async def test_sign_in_page_continuing_to_such_a_client_still_shows(world):
    resp, html = await world.browser().get("/login?next=/oauth/authorize%3Fclient_id%3Di0_ci_%2500x")
    assert resp.status == 200 and 'name="password"' in html


async def test_sign_up_and_sign_in_with_nul_in_the_email_are_invalid_input(world):
    b: Browser = world.browser()
    resp, html = await b.signup("a\x00b@example.com")
    assert resp.status == 400 and "Enter a valid email address" in html
    resp, html = await b.login("a\x00b@example.com")
    assert resp.status == 400 and "That email and password did not work" in html
