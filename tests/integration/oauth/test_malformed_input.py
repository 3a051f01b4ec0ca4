"""Malformed input at every OAuth endpoint ends in the protocol's own 4xx, never a 500 (issue 12 §4).

The token family (/v1/oauth/token, refresh, revoke, introspect) must answer RFC 6749 §5.2 JSON
whose error code is one the RFCs define and whose error_description stays in §5.2's character
set; /oauth/authorize must answer the friendly page or an error redirect back to the app."""

from __future__ import annotations

import base64
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from yarl import URL

from tests.support.oauth import REDIRECT

FORM = "application/x-www-form-urlencoded"
ENDPOINTS = ["/v1/oauth/token", "/v1/oauth/refresh", "/v1/oauth/revoke", "/v1/oauth/introspect",
             "/v1/oauth/device_authorization"]
OAUTH_ERRORS = {"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type",
                "invalid_scope", "slow_down"}
DESCRIPTION_CHARS = re.compile(r"^[\x20\x21\x23-\x5b\x5d-\x7e]*$")  # RFC 6749 §5.2

# (name, body bytes, extra headers)
BODIES = [
    ("repeated non-ASCII names, escaped", b"%C3%A9=1&%C3%A9=2", {}),
    ("repeated non-ASCII names, raw", "é=1&é=2&ß=&ß=".encode(), {}),
    ("repeated names with control chars", b"%00=1&%00=2&%0A=3&%0A=4", {}),
    ("non-ASCII grant_type", b"grant_type=%C3%A9&token=%C3%A9&token_type_hint=%C3%A9", {}),
    ("invalid percent-encoding", b"grant_type=%zz&code=%&token=%G1&refresh_token=%%", {}),
    ("escaped bytes that are not UTF-8", b"grant_type=%FF%FE&token=%C3&refresh_token=%ED%A0%80", {}),
    ("raw bytes that are not UTF-8", b"grant_type=\xff\xfe&token=\xc3&refresh_token=\xed\xa0\x80", {}),
    ("NUL and newlines in values", b"grant_type=refresh_token&refresh_token=%00%0D%0A&token=%00", {}),
    ("bogus charset", b"grant_type=refresh_token&token=x", {"Content-Type": FORM + "; charset=bogus-8"}),
    ("latin-1 charset", b"grant_type=refresh_token&token=\xe9", {"Content-Type": FORM + "; charset=latin-1"}),
    ("JSON body", b'{"grant_type": "refresh_token", "token": "x"}', {"Content-Type": "application/json"}),
    ("text body", b"grant_type=refresh_token", {"Content-Type": "text/plain"}),
    ("multipart file", b"--b\r\nContent-Disposition: form-data; name=\"token\"; filename=\"t\"\r\n\r\nx\r\n--b--\r\n",
     {"Content-Type": "multipart/form-data; boundary=b"}),
    ("truncated multipart", b"--b\r\nContent-Disposition: form-da", {"Content-Type": "multipart/form-data; boundary=b"}),
    ("empty body", b"", {}),
    ("only separators", b"&&&==&=", {}),
    ("huge field", b"grant_type=refresh_token&refresh_token=" + b"a" * 900_000 + b"&token=" + b"b" * 100_000, {}),
    ("body over the size limit", b"token=" + b"a" * (9 * 1024 * 1024), {}),
    ("many fields", b"&".join(b"f%d=%d" % (i, i) for i in range(20_000)), {}),
    ("undecodable Basic", b"grant_type=refresh_token&refresh_token=x&token=x", {"Authorization": "Basic //46/w=="}),
    ("Basic that is not base64", b"grant_type=refresh_token&token=x", {"Authorization": "Basic !!!***"}),
    ("Basic without a colon", b"grant_type=refresh_token&token=x",
     {"Authorization": "Basic " + base64.b64encode(b"just-an-id").decode()}),
    ("Basic with non-ASCII id", b"grant_type=refresh_token&token=x",
     {"Authorization": "Basic " + base64.b64encode("é:ß".encode()).decode()}),
    ("empty Basic", b"grant_type=refresh_token&token=x", {"Authorization": "Basic "}),
    ("unknown auth scheme", b"grant_type=refresh_token&token=x", {"Authorization": "Digest \xe9"}),
    ("secret in a non-ASCII client_id", b"grant_type=authorization_code&code=x&client_id=%C3%A9&client_secret=%FF", {}),
    # PostgreSQL text cannot hold NUL: a lookup with one was an unhandled DataError (a 500) there
    ("NUL in client_id", b"grant_type=authorization_code&code=x&client_id=a%00b", {}),
    ("NUL in client_id with a secret", b"grant_type=refresh_token&token=x&client_id=a%00b&client_secret=x", {}),
    ("Basic with a NUL in the id", b"grant_type=refresh_token&token=x",
     {"Authorization": "Basic " + base64.b64encode(b"a\x00b:secret").decode()}),
]


def assert_oauth_error(resp, body, what, path="/v1/oauth/token"):
    if resp.status == 200 and path.endswith(("/revoke", "/introspect")):
        # RFC 7009 §2.2 / RFC 7662 §2.2: an unknown token is not an error ({} / active: false).
        assert body in ({}, {"active": False}), (what, body)
        return
    if resp.status == 200 and path.endswith("/device_authorization"):
        assert "device_code" in body, (what, body)  # well-formed enough: unknown parameters are ignored
        return
    assert 400 <= resp.status < 500, (what, resp.status, body)
    assert resp.headers["Content-Type"].startswith("application/json"), (what, resp.headers["Content-Type"])
    assert isinstance(body, dict) and body.get("error") in OAUTH_ERRORS, (what, body)
    assert DESCRIPTION_CHARS.match(body.get("error_description", "")), (what, body)
    if resp.status == 401:
        assert "WWW-Authenticate" in resp.headers, what


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_malformed_bodies_get_rfc6749_errors(world, path):
    client_id, secret = await world.app()
    for what, body, headers in BODIES:
        for auth in (None, (client_id, secret)):
            hdrs = {"Content-Type": FORM, **headers}
            if auth and "Authorization" not in hdrs:
                hdrs["Authorization"] = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
            async with world.http.post(world.base + path, data=body, headers=hdrs) as resp:
                try:
                    answer = await resp.json(content_type=None)
                except ValueError:
                    answer = await resp.text()
            assert_oauth_error(resp, answer, (what, bool(auth)), path)


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_malformed_urls_get_rfc6749_errors(world, path):
    for query in ("%C3%A9=1&%C3%A9=2", "token=%FF", "x=%zz", "client_secret=%00"):
        async with world.http.post(URL(world.base + path + "?" + query, encoded=True), data=b"",
                                   headers={"Content-Type": FORM}) as resp:
            assert_oauth_error(resp, await resp.json(content_type=None), query)


AUTHORIZE_QUERIES = [
    "response_type=%C3%A9", "response_type=code%00", "response_type=", "response_type=token%20code",
    "response_type=code&response_type=%C3%A9", "response_type=code&client_id=x",
    "response_type=code&scope=%C3%A9", "response_type=code&scope=%zz",
    "response_type=code&code_challenge=%C3%A9&code_challenge_method=S256",
    "response_type=code&code_challenge_method=%C3%A9",
]


def assert_authorize_error(resp, html, what):
    assert resp.status < 500, (what, resp.status)
    if resp.status in (302, 303):
        location = resp.headers["Location"]
        assert location.startswith(REDIRECT + "?"), (what, location)
        q = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        assert q["error"] in {"invalid_request", "unsupported_response_type", "invalid_scope"}, (what, q)
        assert DESCRIPTION_CHARS.match(q.get("error_description", "")), (what, q)
    else:
        assert 400 <= resp.status < 500 and resp.headers["Content-Type"].startswith("text/html"), (what, resp.status)


@pytest.mark.parametrize("signed_in", [False, True])
async def test_malformed_authorization_requests_get_the_page_or_an_error_redirect(world, signed_in):
    client_id, _ = await world.app()
    browser = await world.user("u@example.com") if signed_in else world.browser()
    prefix = f"client_id={client_id}&redirect_uri={REDIRECT}&"
    for query in AUTHORIZE_QUERIES:
        url = URL(world.base + "/oauth/authorize?" + prefix + query, encoded=True)
        async with browser.http.get(url, allow_redirects=False) as resp:
            assert_authorize_error(resp, await resp.text(), query)
    # RFC 6749 §3.1: unknown parameters are ignored, whatever their names; odd bytes in state are echoed.
    for query in ("response_type=code&%C3%A9=1&%C3%A9=2&%FF=%FF", "response_type=code&state=%FF%FE%00",
                  "response_type=code&state=" + "s" * 6000):
        url = URL(world.base + "/oauth/authorize?" + prefix + query, encoded=True)
        async with browser.http.get(url, allow_redirects=False) as resp:
            assert resp.status == (200 if signed_in else 303), (query, resp.status)
    for query in ("client_id=%C3%A9&response_type=code", "client_id=%FF&redirect_uri=%FF", "%C3%A9=1&%C3%A9=2",
                  f"client_id=a%00b&redirect_uri={REDIRECT}&response_type=code",
                  f"client_id={client_id}&redirect_uri=https://app.example/%C3%A9",
                  f"client_id={client_id}&client_id=%C3%A9&response_type=code"):
        async with browser.http.get(URL(world.base + "/oauth/authorize?" + query, encoded=True),
                                    allow_redirects=False) as resp:
            assert resp.status == 400 and resp.headers["Content-Type"].startswith("text/html"), (query, resp.status)
